"""Text -> recipe AST. The only module that touches lark's exceptions.

The grammar ships inside the wheel as `comfydsl/grammars/comfy.lark`; in a source checkout
it is read from the repository's `grammars/` folder.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..diagnostics import Span
from ..errors import LiteralTooLong, ParseError
from ..workflow.gcpause import gc_paused
from . import ast
from .syntax import describe_types

if TYPE_CHECKING:
    from lark import Token

GRAMMAR = "comfy.lark"

#: How expected terminals are named in messages.
_WORDS = {
    "NAME": "a name",
    "STRING": "a string",
    "LONG_STRING": "a string",
    "INT": "a number",
    "FLOAT": "a number",
    "TYPE": f"a type ({describe_types()})",
    "$END": "the end of the file",
}
_MAX_EXPECTED = 8
#: How deep the AST of one statement may nest: far more than any real recipe needs, and
#: shallow enough for the recursive stages after parsing (lowering, the formatter) to stay
#: well inside Python's recursion limit.
MAX_DEPTH = 200

#: The parser's transformer holds the path and text of the parse in progress.
_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _parser():
    """The LALR parser; it builds the AST as it parses (see `transformer.py`).

    Analysing the grammar takes ~100 ms, a cold `comfydsl` run's largest cost, so the
    analysed parser is kept in the user's cache folder (see `_cache_file`) and loaded from
    there (~10 ms) while the grammar, lark and Python stay the same.
    """
    from lark import Lark
    from lark.exceptions import ConfigurationError

    from .transformer import RecipeTransformer

    grammar = _grammar_text()
    options = {"parser": "lalr", "maybe_placeholders": True, "keep_all_tokens": True,
               "transformer": RecipeTransformer()}
    cache = _cache_file(grammar)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            # lark checks the file against the grammar and options, builds the parser when
            # the file is missing, stale or unreadable, and writes it back (a failure to
            # write is ignored); `cache_grammar` keeps `.grammar`, which hypothesis draws from
            return Lark(grammar, cache=str(cache), cache_grammar=True, **options)
        except (OSError, ConfigurationError):  # no cache folder; a lark without `cache_grammar`
            pass
    return Lark(grammar, **options)


def _grammar_text() -> str:
    import pkgutil

    try:
        data = pkgutil.get_data("comfydsl", f"grammars/{GRAMMAR}")
    except OSError:
        data = None
    if data is None:  # a source checkout: the grammar is beside the package
        data = (Path(__file__).resolve().parents[2] / "grammars" / GRAMMAR).read_bytes()
    return data.decode("utf-8")


def _cache_file(grammar: str) -> Path | None:
    """Where the analysed parser is kept: `$XDG_CACHE_HOME/comfydsl/` (or `~/.cache/comfydsl/`),
    under a name that changes with the grammar, lark and Python; None when the cache is
    turned off (`COMFYDSL_NO_CACHE=1`) or there is no home folder."""
    import hashlib
    import os
    import sys

    import lark

    if os.environ.get("COMFYDSL_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    key = f"{grammar}\0{lark.__version__}\0{sys.version_info[:2]}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    return Path(base) / "comfydsl" / f"parser-{digest}.lark"


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
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the recipe text as a str, not {type(text).__name__}")
    if path is not None and not isinstance(path, str):
        raise TypeError(f"parse() takes `path` as a str or None, not {type(path).__name__}")
    from lark.exceptions import UnexpectedInput

    from ..errors import KeywordAsName

    parser = _parser()
    try:
        with _LOCK, gc_paused():
            parser.options.transformer.begin(path, text)
            module = parser.parse(text)
    except UnexpectedInput as exc:
        raise _parse_error(exc, text, path) from None
    except LiteralTooLong as exc:
        raise located(str(exc), exc.span, text) from None
    except KeywordAsName as exc:
        raise located(str(exc), exc.span, text, ("a name",)) from None
    _check_depth(module.statements, text)
    _check_one_per_line(module.statements, text)
    for fragment in module.fragments:
        _check_one_per_line((*fragment.body, *((fragment.returns,) if fragment.returns else ())), text)
    return module


def tokens(text: str, path: str | None = None) -> Iterator[Token]:
    """The tokens of recipe text as the grammar's terminals read them, comments and
    whitespace included (`Token.type` names the terminal; ignored ones are in `IGNORED`).
    Raises ParseError at a character no terminal matches."""
    from lark.exceptions import UnexpectedCharacters

    stream = _parser().lex(text, dont_ignore=True)
    while True:
        try:
            token = next(stream)
        except StopIteration:
            return
        except UnexpectedCharacters as exc:
            pos = exc.pos_in_stream or 0
            span = Span(path, exc.line, exc.column, exc.line, exc.column + 1, pos, pos + 1)
            raise located(f"unexpected {_character(text, pos)}", span, text) from None
        yield token


@functools.lru_cache(maxsize=1)
def ignored_terminals() -> frozenset[str]:
    """The terminals the parser skips (whitespace and `COMMENT`)."""
    return frozenset(_parser().lexer_conf.ignore)


def _check_depth(statements, text: str) -> None:
    """Reject a statement whose expressions nest more than MAX_DEPTH levels deep. Each level
    adds text, so only statements longer than MAX_DEPTH characters need counting."""
    for stmt in statements:
        span = stmt.span
        if isinstance(stmt, ast.Fragment) and span.end - span.start > MAX_DEPTH:  # point inside it if it can
            _check_depth((*stmt.body, *((stmt.returns,) if stmt.returns else ())), text)
        if span.end - span.start > MAX_DEPTH and max(_depth(stmt), _bracket_depth(text, span)) > MAX_DEPTH:
            raise located("the recipe nests too deeply",
                          Span(span.path, span.line, span.column, start=span.start, end=span.start), text)


def _depth(node) -> int:
    """How many AST nodes deep `node` reaches (itself included)."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        for name in item.__dataclass_fields__:
            child = getattr(item, name)
            if isinstance(child, tuple):
                stack.extend((c, depth + 1) for c in child if hasattr(c, "__dataclass_fields__"))
            elif name != "span" and hasattr(child, "__dataclass_fields__"):
                stack.append((child, depth + 1))
    return deepest


@functools.lru_cache(maxsize=1)
def _bracket_scanner():
    """A pattern that steps over strings and comments (as the grammar's terminals read them)
    and captures opening (`open`) and closing (`close`) brackets."""
    import re

    patterns = {t.name: t.pattern.to_regexp() for t in _parser().terminals}
    skip = "|".join(f"(?:{patterns[name]})" for name in ("LONG_STRING", "STRING", "COMMENT") if name in patterns)
    return re.compile(f"{skip}|(?P<open>[(\\[{{])|(?P<close>[)\\]}}])")


def _bracket_depth(text: str, span: Span) -> int:
    """How deeply brackets nest in the statement at `span`. Parentheses make no AST node of
    their own, yet the formatter nests on every bracket: they count toward MAX_DEPTH too."""
    depth = deepest = 0
    for match in _bracket_scanner().finditer(text, span.start, span.end):
        if match.group("open"):
            depth += 1
            deepest = max(deepest, depth)
        elif match.group("close"):
            depth -= 1
    return deepest


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
        pos = exc.pos_in_stream or 0
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
    return ParseError(f"{where}: {message}", span=span, source=source, expected=expected, detail=message)


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
