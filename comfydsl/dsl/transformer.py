"""lark parse tree -> recipe AST (`ast.py`), spans included.

Methods never raise: anything that needs judging (types, names, arity) is left to
`lower.py`, which reports diagnostics instead.
"""

from __future__ import annotations

from lark import Token, Transformer, v_args

from ..diagnostics import Span
from . import ast

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b",
            "f": "\f", "0": "\0", "/": "/", "\n": ""}


def decode_string(token: str) -> str:
    """The value of a string literal; the lexer only admits valid escapes, so this never fails."""
    quote = 3 if token[:3] in ('"""', "'''") else 1
    body = token[quote:-quote]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        kind = body[i + 1]
        if kind == "u":
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif kind == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(kind, kind))
            i += 2
    return "".join(out)


class RecipeTransformer(Transformer):
    """Builds the AST. `path` is stamped on every span."""

    def __init__(self, path: str | None, source: str) -> None:
        super().__init__(visit_tokens=False)
        self.path = path
        self.source = source

    # -- spans -------------------------------------------------------------------------
    def _span(self, meta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path, 1, 1, 1, 1, 0, 0)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column,
                    meta.start_pos, meta.end_pos)

    def _tok(self, token: Token) -> Span:
        return Span(self.path, token.line, token.column, token.end_line, token.end_column,
                    token.start_pos, token.end_pos)

    # -- module and statements ---------------------------------------------------------
    @v_args(meta=True)
    def start(self, meta, children):
        end = len(self.source)
        lines = self.source.count("\n") + 1
        last = self.source.rsplit("\n", 1)[-1]
        span = Span(self.path, 1, 1, lines, len(last) + 1, 0, end)
        return ast.Module(tuple(children), self.path, self.source, span)

    @v_args(meta=True)
    def import_all(self, meta, children):
        return ast.ImportAll(children[0], self._span(meta))

    @v_args(meta=True)
    def import_from(self, meta, children):
        return ast.ImportFrom(children[0], tuple(children[1:]), self._span(meta))

    @v_args(meta=True)
    def param(self, meta, children):
        name, type_token, default = children
        return ast.Param(name, str(type_token), default, self._span(meta))

    @v_args(meta=True)
    def fragment(self, meta, children):
        name, *params, body = children
        statements, returns = body
        params = tuple(p for p in params if p is not None)
        return ast.Fragment(name, params, statements, returns, self._span(meta))

    @v_args(meta=True)
    def fragment_param(self, meta, children):
        name, type_token, default = children
        return ast.FragmentParam(name, str(type_token) if type_token is not None else None, default,
                                 self._span(meta))

    def body(self, children):
        *statements, returns = children
        return tuple(statements), returns

    @v_args(meta=True)
    def return_stmt(self, meta, children):
        return ast.ReturnStmt(tuple(children), self._span(meta))

    @v_args(meta=True)
    def assign(self, meta, children):
        decorators, *targets, value = children
        return ast.Assign(decorators, tuple(targets), value, self._span(meta))

    @v_args(meta=True)
    def call_stmt(self, meta, children):
        decorators, call = children
        return ast.CallStmt(decorators, call, self._span(meta))

    def decorators(self, children):
        return tuple(children)

    @v_args(meta=True)
    def decorator(self, meta, children):
        name, *args = children
        return ast.Decorator(name, tuple(a for a in args if a is not None), self._span(meta))

    # -- expressions ---------------------------------------------------------------------
    def ident(self, children):
        token = children[0]
        return ast.Ident(str(token), self._tok(token))

    @v_args(meta=True)
    def string(self, meta, children):
        return ast.Literal(decode_string(str(children[0])), self._span(meta))

    @v_args(meta=True)
    def name(self, meta, children):
        return ast.Name(str(children[0]), self._span(meta))

    @v_args(meta=True)
    def int(self, meta, children):
        return ast.Literal(int(children[0]), self._span(meta))

    @v_args(meta=True)
    def float(self, meta, children):
        return ast.Literal(float(children[0]), self._span(meta))

    @v_args(meta=True)
    def true(self, meta, children):
        return ast.Literal(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return ast.Literal(False, self._span(meta))

    @v_args(meta=True)
    def list(self, meta, children):
        return ast.ListExpr(tuple(c for c in children if c is not None), self._span(meta))

    @v_args(meta=True)
    def object(self, meta, children):
        return ast.ObjectExpr(tuple(c for c in children if c is not None), self._span(meta))

    @v_args(meta=True)
    def pair(self, meta, children):
        return ast.Pair(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def attr(self, meta, children):
        return ast.Attr(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def index(self, meta, children):
        return ast.Index(children[0], int(children[1]), self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        func, *args = children
        return ast.Call(func, tuple(a for a in args if a is not None), self._span(meta))

    @v_args(meta=True)
    def keyword_argument(self, meta, children):
        return ast.KeywordArgument(children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def neg(self, meta, children):
        return ast.Neg(children[0], self._span(meta))

    def _binary(op):  # noqa: N805 - a method factory used in the class body
        @v_args(meta=True)
        def method(self, meta, children):
            return ast.BinOp(op, children[0], children[1], self._span(meta))

        return method

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    floordiv = _binary("//")
    mod = _binary("%")
    del _binary
