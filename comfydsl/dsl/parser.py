"""Text -> recipe AST. The only module that touches lark's exceptions.

The grammar ships inside the wheel as `comfydsl/grammars/comfy.lark`; in a source checkout
it is read from the repository's `grammars/` folder.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..diagnostics import Span
from ..errors import ParseError
from . import ast

GRAMMAR = "comfy.lark"

#: How expected terminals are named in messages.
_WORDS = {
    "NAME": "a name",
    "STRING": "a string",
    "LONG_STRING": "a string",
    "INT": "a number",
    "FLOAT": "a number",
    "TYPE": "a type (`str`, `int`, `float` or `bool`)",
    "$END": "the end of the file",
}
_MAX_EXPECTED = 8


@functools.lru_cache(maxsize=1)
def _parser():
    from lark import Lark

    options = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": True}
    try:
        return Lark.open_from_package("comfydsl", GRAMMAR, ("grammars",), **options)
    except (FileNotFoundError, OSError, ModuleNotFoundError):
        source = Path(__file__).resolve().parents[2] / "grammars" / GRAMMAR
        return Lark.open(str(source), **options)


@functools.lru_cache(maxsize=1)
def _terminal_words() -> dict[str, str]:
    from lark.lexer import PatternStr

    words = dict(_WORDS)
    for terminal in _parser().terminals:
        if isinstance(terminal.pattern, PatternStr) and terminal.name not in words:
            words[terminal.name] = f"`{terminal.pattern.value}`"
    return words


def parse(text: str, path: str | None = None) -> ast.Module:
    """Parse recipe text into a Module; raises ParseError (with a span) on bad syntax."""
    from lark.exceptions import UnexpectedInput, VisitError

    from .transformer import RecipeTransformer

    try:
        tree = _parser().parse(text)
        module = RecipeTransformer(path, text).transform(tree)
    except UnexpectedInput as exc:
        raise _parse_error(exc, text, path) from None
    except (VisitError, RecursionError) as exc:
        if isinstance(getattr(exc, "orig_exc", exc), RecursionError):
            raise located("the recipe nests too deeply", Span(path, 1, 1), text) from None
        raise  # pragma: no cover - a transformer bug, not a user error
    _check_one_per_line(module.statements, text)
    for fragment in module.fragments:
        _check_one_per_line((*fragment.body, *((fragment.returns,) if fragment.returns else ())), text)
    return module


def _check_one_per_line(statements, text: str) -> None:
    for before, after in zip(statements, statements[1:]):
        if after.span.line <= (before.span.end_line or before.span.line):
            raise located("expected a new line before the next statement", after.span, text, ("a new line",))


def _parse_error(exc, text: str, path: str | None) -> ParseError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    words = _terminal_words()
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = _describe(exc.expected, words)
        if token.type == "$END":
            span = _end_span(text, path)
            found = "end of file"
        else:
            span = Span(path, token.line, token.column, token.end_line, token.end_column,
                        token.start_pos, token.end_pos)
            found = f"`{_short(str(token))}`"
    elif isinstance(exc, UnexpectedCharacters):
        expected = _describe(exc.allowed or (), words)
        pos = exc.pos_in_stream
        span = Span(path, exc.line, exc.column, exc.line, exc.column + 1, pos, pos + 1)
        found = _character(text, pos)
        if text[pos:pos + 1] in ('"', "'"):
            expected = ()
    else:  # pragma: no cover - other UnexpectedInput kinds do not occur with LALR
        span, expected, found = _end_span(text, path), (), "input"
    message = f"unexpected {found}"
    if expected:
        message += "; expected " + _join(expected)
    return located(message, span, text, expected)


def located(message: str, span: Span, source: str, expected: tuple[str, ...] = ()) -> ParseError:
    """A ParseError whose text starts with `file:line:col`; `.detail` holds the bare message."""
    where = f"{span.path or '<recipe>'}:{span.line}:{span.column}"
    exc = ParseError(f"{where}: {message}", span=span, source=source, expected=expected)
    exc.detail = message
    return exc


#: Terminals that can start an expression; when all the main ones are expected, say "an expression".
_EXPRESSION_START = {"NAME", "INT", "FLOAT", "STRING", "LONG_STRING", "LPAR", "LSQB", "LBRACE", "MINUS",
                     "TRUE", "FALSE"}


def _describe(names, words: dict[str, str]) -> tuple[str, ...]:
    names = set(names)
    extra: set[str] = set()
    if {"NAME", "INT", "STRING"} <= names:
        names -= _EXPRESSION_START
        extra.add("an expression")
    found = sorted(extra | {words.get(name, f"`{name.lower()}`") for name in names})
    if len(found) > _MAX_EXPECTED:
        found = found[:_MAX_EXPECTED] + ["…"]
    return tuple(found)


def _join(items: tuple[str, ...]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _short(text: str, limit: int = 30) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _character(text: str, pos: int) -> str:
    char = text[pos] if 0 <= pos < len(text) else ""
    if char in ('"', "'"):
        return ("string: it is not closed on its line or holds an unknown escape "
                "(use triple quotes for several lines, `\\\\` for a backslash)")
    if char == "\\":
        return "`\\` outside a string"
    if not char.isprintable():
        return f"character U+{ord(char):04X}" if char else "the end of the file"
    return f"character `{char}`"


def _end_span(text: str, path: str | None) -> Span:
    """The end of the text (where the missing thing was due)."""
    line = text.count("\n") + 1
    column = len(text) - (text.rfind("\n") + 1) + 1
    return Span(path, line, column, line, column, len(text), len(text))
