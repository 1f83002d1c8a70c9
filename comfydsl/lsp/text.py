"""Text positions and a forgiving lexer for the language server.

The editor counts columns in UTF-16 code units (the protocol's default), the recipe
compiler in characters; `SourceText` converts between the two. `lex` splits a recipe into
tokens without ever failing, so that half-typed text (an unterminated string, a stray
character) still gets completion and highlighting.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ..dsl import syntax as _syntax

# The language's words, from its one home (`comfydsl.dsl.syntax`).
#: Words of the language that are not names (statement keywords, booleans, `null`).
KEYWORDS = _syntax.KEYWORDS
#: Parameter types.
TYPES = frozenset(_syntax.PARAM_TYPES)
#: Built-in functions of recipes.
BUILTINS = tuple(_syntax.BUILTINS)
#: Decorators of node statements (`@id`, `@title`, `@order`, `@allow`, `@keys`).
DECORATORS = _syntax.DECORATORS

_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|"(?!"")|\\.)*(?:\"\"\"|\Z)|'''(?:[^'\\]|'(?!'')|\\.)*(?:'''|\Z)
              |"(?:[^"\\\n]|\\.)*(?:"|(?=\n)|\Z)|'(?:[^'\\\n]|\\.)*(?:'|(?=\n)|\Z))
  | (?P<number>[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>//|[-+*/%=.,:()\[\]{}@])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    """A token: its kind (`name`, `string`, `number`, `comment`, `op`, `other`), text and
    character offsets."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def closed(self) -> bool:
        """For a string token: whether it has its closing quote."""
        quote = self.text[:3] if self.text[:3] in ('"""', "'''") else self.text[:1]
        return len(self.text) >= 2 * len(quote) and self.text.endswith(quote)


def lex(text: str) -> list[Token]:
    """The tokens of `text`, whitespace left out; never raises."""
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind != "space":
            out.append(Token(kind, match.group(), match.start(), match.end()))
    return out


class SourceText:
    """A document's text with line starts, for converting offsets and LSP positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_text(self, line: int) -> str:
        """Line `line` (0-based), without its newline."""
        if line >= len(self.starts):
            return ""
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[line]:end]

    def position(self, offset: int) -> tuple[int, int]:
        """(line, UTF-16 column), 0-based, of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self.starts, offset) - 1
        chars = self.text[self.starts[line]:offset]
        return line, _utf16_len(chars)

    def offset(self, line: int, character: int) -> int:
        """The character offset of a 0-based (line, UTF-16 column) position."""
        if line >= len(self.starts):
            return len(self.text)
        line_text = self.line_text(line)
        units = 0
        for index, char in enumerate(line_text):
            if units >= character:
                return self.starts[line] + index
            units += 2 if ord(char) > 0xFFFF else 1
        return self.starts[line] + len(line_text)

    def span_offsets(self, span) -> tuple[int, int]:
        """Character offsets of a compiler `Span` (1-based lines and columns)."""
        if span.start is not None and span.end is not None:
            return span.start, span.end
        start = self._from_line_column(span.line, span.column)
        end_line = span.end_line if span.end_line is not None else span.line
        end_column = span.end_column if span.end_column is not None else span.column
        end = self._from_line_column(end_line, end_column)
        return start, max(start, end)

    def _from_line_column(self, line: int, column: int) -> int:
        line = max(1, line)
        if line - 1 >= len(self.starts):
            return len(self.text)
        return min(self.starts[line - 1] + max(0, column - 1), len(self.text))


def _utf16_len(chars: str) -> int:
    return len(chars) + sum(1 for c in chars if ord(c) > 0xFFFF)
