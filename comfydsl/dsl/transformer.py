"""Recipe AST (`ast.py`) built while lark parses, spans included.

`RecipeTransformer` is an *inline* transformer: `parser.py` hands it to `Lark(transformer=...)`
together with `keep_all_tokens=True`, so no parse tree is built. Each method gets the
children of one grammar rule as they were reduced: tokens (punctuation and keywords
included) and the results of the rules below it, with `None` for an optional part that is
absent. A node's span runs from the start of its first child to the end of its last one,
which is what lark's `propagate_positions` computed: a parenthesised expression keeps its
own span, but counts with its parentheses when it starts or ends a larger construct.

Methods never raise: anything that needs judging (types, names, arity) is left to
`lower.py`, which reports diagnostics instead. Two exceptions, which `parser.py` turns into
located syntax errors: an integer literal longer than Python converts
(`sys.get_int_max_str_digits()`), `LiteralTooLong`; and a keyword where the recipe binds or
refers to a name of its own, `KeywordAsName`.

Why keywords are refused there: the parser's lexer is contextual, so a keyword where only a
name can follow (`from "x.comfy" import fragment`, `x, param = f()`, `y = return`) reads as a
name, yet a reader (and the formatter, which finds statement boundaries from the words) takes
it for the start of a statement. Keywords stay allowed where a name comes from the node
catalogue, not from the recipe: an output after `.` and an input before `=` in a call.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from lark import Token

from ..diagnostics import Span
from ..errors import KeywordAsName, LiteralTooLong
from . import ast
from .syntax import KEYWORDS, decode_string


def _own_name(ident):
    """`ident` (an `ast.Ident` or `ast.Name`) unless it is a keyword."""
    if ident.name in KEYWORDS:
        raise KeywordAsName(f"`{ident.name}` is a keyword, it cannot be used as a name", ident.span)
    return ident


class _Parens:
    """`( expr )` while it is being parsed: the expression, and the span with its parentheses."""

    __slots__ = ("expr", "span")

    def __init__(self, expr, span: Span) -> None:
        self.expr = expr
        self.span = span


class _Body:
    """A fragment body while it is being parsed: its statements, its return and its span."""

    __slots__ = ("statements", "returns", "span")

    def __init__(self, statements: tuple, returns, span: Span) -> None:
        self.statements = statements
        self.returns = returns
        self.span = span


def _expr(child):
    return child.expr if type(child) is _Parens else child


def _items(children) -> tuple:
    """The rule results among `children`: tokens and absent optional parts dropped."""
    return tuple(c.expr if type(c) is _Parens else c for c in children
                 if c is not None and type(c) is not Token)


def _binary(op: str) -> Callable[[RecipeTransformer, list[Any]], ast.BinOp]:
    """The transformer method of a binary operator rule."""

    def method(self: RecipeTransformer, c: list[Any]) -> ast.BinOp:
        left, _, right = c
        return ast.BinOp(op, _expr(left), _expr(right), self._span(left, right))

    return method


class RecipeTransformer:
    """Builds the AST during the parse. `path` is stamped on every span; `parser.py` sets
    `path` and `source` (with `begin`) before each parse."""

    def __init__(self, path: str | None = None, source: str = "") -> None:
        self.path = path
        self.source = source

    def begin(self, path: str | None, source: str) -> None:
        """Get ready to build the AST of `source`, read from `path`."""
        self.path = path
        self.source = source

    # -- spans -------------------------------------------------------------------------
    def _span(self, first, last) -> Span:
        """From the start of `first` to the end of `last` (each a token or has a `.span`)."""
        if type(first) is Token:
            line, column, start = first.line or 0, first.column or 0, first.start_pos
        else:
            head = first.span
            line, column, start = head.line, head.column, head.start
        if type(last) is Token:
            return Span(self.path, line, column, last.end_line, last.end_column, start, last.end_pos)
        tail = last.span
        return Span(self.path, line, column, tail.end_line, tail.end_column, start, tail.end)

    def _tok(self, token: Token) -> Span:
        return Span(self.path, token.line or 0, token.column or 0, token.end_line, token.end_column,
                    token.start_pos, token.end_pos)

    # -- module and statements ---------------------------------------------------------
    def start(self, children):
        end = len(self.source)
        lines = self.source.count("\n") + 1
        last = self.source.rsplit("\n", 1)[-1]
        span = Span(self.path, 1, 1, lines, len(last) + 1, 0, end)
        return ast.Module(tuple(children), self.path, self.source, span)

    def import_all(self, c):
        return ast.ImportAll(c[1], self._span(c[0], c[1]))

    def import_from(self, c):
        return ast.ImportFrom(c[1], tuple(_own_name(n) for n in c[3::2]), self._span(c[0], c[-1]))

    def param(self, c):
        keyword, name, _, type_token, _, default = c
        return ast.Param(_own_name(name), str(type_token), _expr(default),
                         self._span(keyword, type_token if default is None else default))

    def fragment(self, c):
        body = c[-1]
        return ast.Fragment(_own_name(c[1]), _items(c[3:-2]), body.statements, body.returns, self._span(c[0], body))

    def fragment_param(self, c):
        name, _, type_token, _, default = c
        last = default if default is not None else type_token if type_token is not None else name
        return ast.FragmentParam(_own_name(name), str(type_token) if type_token is not None else None, _expr(default),
                                 self._span(name, last))

    def body(self, c):
        return _Body(tuple(c[1:-2]), c[-2], self._span(c[0], c[-1]))

    def return_stmt(self, c):
        return ast.ReturnStmt(_items(c[1::2]), self._span(c[0], c[-1]))

    def assign(self, c):
        decorators = c[0]
        targets = tuple(_own_name(t) for t in c[1:-2:2])
        return ast.Assign(decorators, targets, _expr(c[-1]),
                          self._span(decorators[0] if decorators else targets[0], c[-1]))

    def call_stmt(self, c):
        decorators, call = c
        return ast.CallStmt(decorators, call, self._span(decorators[0] if decorators else call, call))

    def decorators(self, c):
        return tuple(c)

    def decorator(self, c):
        return ast.Decorator(_own_name(c[1]), _items(c[3:-1]), self._span(c[0], c[-1]))

    # -- expressions ---------------------------------------------------------------------
    def ident(self, c):
        token = c[0]
        return ast.Ident(str(token), self._tok(token))

    def string(self, c):
        token = c[0]
        return ast.Literal(decode_string(str(token)), self._tok(token))

    def name(self, c):
        token = c[0]
        return _own_name(ast.Name(str(token), self._tok(token)))

    def int(self, c):
        token = c[0]
        try:
            value = int(token)
        except ValueError:
            raise LiteralTooLong(f"the number has {len(token)} digits, more than a recipe can hold "
                                 f"({sys.get_int_max_str_digits()})", self._tok(token)) from None
        return ast.Literal(value, self._tok(token))

    def float(self, c):
        token = c[0]
        return ast.Literal(float(token), self._tok(token))

    def true(self, c):
        return ast.Literal(True, self._tok(c[0]))

    def false(self, c):
        return ast.Literal(False, self._tok(c[0]))

    def null(self, c):
        return ast.Literal(None, self._tok(c[0]))

    def atom(self, c):  # only `( expr )` reaches here; other atoms are single children
        return _Parens(_expr(c[1]), self._span(c[0], c[2]))

    def list(self, c):
        return ast.ListExpr(_items(c[1:-1]), self._span(c[0], c[-1]))

    def object(self, c):
        return ast.ObjectExpr(_items(c[1:-1]), self._span(c[0], c[-1]))

    def pair(self, c):
        return ast.Pair(c[0], _expr(c[2]), self._span(c[0], c[2]))

    def attr(self, c):
        return ast.Attr(_expr(c[0]), c[2], self._span(c[0], c[2]))

    def index(self, c):
        return ast.Index(_expr(c[0]), int(c[2]), self._span(c[0], c[3]))

    def neg_index(self, c):
        return ast.Index(_expr(c[0]), -int(c[3]), self._span(c[0], c[4]))

    def call(self, c):
        return ast.Call(_own_name(c[0]), _items(c[2:-1]), self._span(c[0], c[-1]))

    def keyword_argument(self, c):
        name = c[0]
        if isinstance(name, ast.Literal):  # a quoted name: `"input_blocks.0."=1.0`
            name = ast.Ident(name.value, name.span)
        return ast.KeywordArgument(name, _expr(c[2]), self._span(c[0], c[2]))

    def neg(self, c):
        return ast.Neg(_expr(c[1]), self._span(c[0], c[1]))

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    floordiv = _binary("//")
    mod = _binary("%")
