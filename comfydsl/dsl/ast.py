"""The recipe syntax tree: frozen dataclasses, each with the `Span` it came from.

Class names are the CamelCase of the grammar rules in `grammars/comfy.lark`. The tree holds
no lark objects, so later stages (lowering, the formatter) never see lark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from ..diagnostics import Span


@dataclass(frozen=True, slots=True)
class Ident:
    """A name as written, with its own span."""

    name: str
    span: Span


# -- expressions -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Literal:
    """A string, integer, float or boolean literal; `value` is the Python value."""

    value: str | int | float | bool
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    """A reference to a parameter, a variable or a fragment parameter."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class ListExpr:
    """`[a, b, ...]`."""

    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Pair:
    """One `"key": value` entry of an object."""

    key: Literal
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    """`{"key": value, ...}`, for custom nodes that take JSON objects."""

    pairs: tuple[Pair, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Attr:
    """An output by name: `ckpt.MODEL`."""

    value: Expr
    attr: Ident
    span: Span


@dataclass(frozen=True, slots=True)
class Index:
    """An output by index: `ckpt[1]`."""

    value: Expr
    index: int
    span: Span


@dataclass(frozen=True, slots=True)
class KeywordArgument:
    """`name=value` in a call."""

    name: Ident
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    """A node class, fragment or built-in (`file`, `node`) applied to arguments."""

    func: Ident
    args: tuple[Expr | KeywordArgument, ...]
    span: Span

    @property
    def positional(self) -> tuple[Expr, ...]:
        return tuple(a for a in self.args if not isinstance(a, KeywordArgument))

    @property
    def keywords(self) -> tuple[KeywordArgument, ...]:
        return tuple(a for a in self.args if isinstance(a, KeywordArgument))


@dataclass(frozen=True, slots=True)
class BinOp:
    """Compile-time arithmetic: `op` is one of `+ - * / // %`."""

    op: str
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: Expr
    span: Span


Expr = Union[Literal, Name, ListExpr, ObjectExpr, Attr, Index, Call, BinOp, Neg]


# -- statements ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Decorator:
    """`@id("9")` or `@title("...")` before a node statement."""

    name: Ident
    args: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Assign:
    """`a = expr` or `a, b = fragment(...)`."""

    decorators: tuple[Decorator, ...]
    targets: tuple[Ident, ...]
    value: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class CallStmt:
    """A bare call, for output nodes: `SaveImage(images=img)`."""

    decorators: tuple[Decorator, ...]
    call: Call
    span: Span


@dataclass(frozen=True, slots=True)
class ReturnStmt:
    """`return a, b` at the end of a fragment body."""

    values: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Param:
    """`param name: type = default`; `default` is None for a required parameter."""

    name: Ident
    type: str
    default: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class FragmentParam:
    """One parameter of a fragment; `type` is None for an untyped one (links or values)."""

    name: Ident
    type: str | None
    default: Expr | None
    span: Span


@dataclass(frozen=True, slots=True)
class Fragment:
    """`fragment name(params) { statements; return ... }`."""

    name: Ident
    params: tuple[FragmentParam, ...]
    body: tuple[Assign | CallStmt, ...]
    returns: ReturnStmt | None
    span: Span


@dataclass(frozen=True, slots=True)
class ImportAll:
    """`import "path.comfy"`: every fragment of that file."""

    path: Literal
    span: Span


@dataclass(frozen=True, slots=True)
class ImportFrom:
    """`from "path.comfy" import a, b`."""

    path: Literal
    names: tuple[Ident, ...]
    span: Span


Statement = Union[ImportAll, ImportFrom, Param, Fragment, Assign, CallStmt]


@dataclass(frozen=True, slots=True)
class Module:
    """A whole `.comfy` file."""

    statements: tuple[Statement, ...]
    path: str | None
    source: str
    span: Span

    @property
    def imports(self) -> tuple[ImportAll | ImportFrom, ...]:
        return tuple(s for s in self.statements if isinstance(s, (ImportAll, ImportFrom)))

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(s for s in self.statements if isinstance(s, Param))

    @property
    def fragments(self) -> tuple[Fragment, ...]:
        return tuple(s for s in self.statements if isinstance(s, Fragment))

    @property
    def is_library(self) -> bool:
        """A file of fragments (and imports) only: nothing to run on its own."""
        return bool(self.fragments) and all(
            isinstance(s, (Fragment, ImportAll, ImportFrom)) for s in self.statements)


def walk(node: Any):
    """Every AST node below (and including) `node`, depth first, in source order."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(reversed(item))
            continue
        if not hasattr(item, "__dataclass_fields__"):
            continue
        yield item
        children = [getattr(item, f) for f in item.__dataclass_fields__ if f != "span"]
        stack.extend(reversed([c for c in children if c is not None]))
