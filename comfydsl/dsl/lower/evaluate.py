"""Evaluating expressions: literals, names, outputs picked from nodes (`.NAME`, `[i]`),
compile-time arithmetic, lists and objects, and checking values against declared types."""

from __future__ import annotations

import difflib
import math
from typing import Any, Callable

from ...diagnostics import Span
from ...graph.model import Node, OutputRef
from .. import ast
from ...rules import recipe as R
from ..syntax import as_type
from .base import Frame, LowererBase
from .values import BAD, describe, is_number, outputs_help

ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
}


class Expressions(LowererBase):
    """Expression evaluation."""

    def eval(self, expr: ast.Expr, frame: Frame, **node_options: Any) -> Any:
        if isinstance(expr, ast.Literal):
            return expr.value
        if isinstance(expr, ast.Name):
            return self.lookup(expr, frame)
        if isinstance(expr, ast.Call):
            if node_options.get("head") is not expr:
                node_options = {}
            return self.call(expr, frame, **node_options)
        if isinstance(expr, ast.Attr):
            return self.output(expr, self.eval(expr.value, frame, **node_options), expr.attr.name, expr.attr.span)
        if isinstance(expr, ast.Index):
            return self.output(expr, self.eval(expr.value, frame, **node_options), expr.index, expr.span)
        if isinstance(expr, ast.BinOp):
            return self.binop(expr, self.eval(expr.left, frame), self.eval(expr.right, frame))
        if isinstance(expr, ast.Neg):
            return self.negate(expr, self.eval(expr.operand, frame))
        if isinstance(expr, ast.ListExpr):
            items = [self.plain(self.eval(item, frame), item.span) for item in expr.items]
            return BAD if any(i is BAD for i in items) else items
        if isinstance(expr, ast.ObjectExpr):
            pairs = {p.key.value: self.plain(self.eval(p.value, frame), p.value.span) for p in expr.pairs}
            return BAD if any(v is BAD for v in pairs.values()) else pairs
        raise TypeError(f"unknown expression {expr!r}")  # pragma: no cover - the AST is closed

    def plain(self, value: Any, span: Span) -> Any:
        """A value that goes inside a list or object: literals only."""
        if value is None or value is BAD or isinstance(value, (str, int, float, bool, list, dict)):
            return value
        return self.error(R.INVALID_EXPRESSION, span, "lists and objects hold literal values only, not links",
                          help="link the output to a node input directly")

    def output(self, expr: ast.Attr | ast.Index, value: Any, key: str | int, span: Span) -> Any:
        if value is BAD:
            return BAD
        if not isinstance(value, Node):
            what = "an output" if isinstance(value, OutputRef) else describe(value)
            return self.error(R.INVALID_EXPRESSION, span, f"outputs can be picked from a node only, not from {what}")
        spec = value.spec
        if spec is None:
            if isinstance(key, int):
                return OutputRef(value, key)
            return BAD  # the unknown class is reported by CD101
        try:
            out = spec.output(key)
        except KeyError:
            close = difflib.get_close_matches(str(key), [o.name for o in spec.outputs], n=1) if isinstance(key, str) else []
            shown = f"`{key}`" if isinstance(key, str) else str(key)
            return self.error(R.UNKNOWN_OUTPUT, span, f"`{value.class_type}` has no output {shown}",
                              help=outputs_help(value) + (f"; a similar name exists: `{close[0]}`" if close else ""),
                              outputs=[o.name for o in spec.outputs])
        if isinstance(key, int) and key < 0:
            return OutputRef(value, key)  # `[-1]`: ComfyUI counts from the end; the link keeps -1
        return OutputRef(value, out.index)

    def binop(self, expr: ast.BinOp, left: Any, right: Any) -> Any:
        if left is BAD or right is BAD:
            return BAD
        op = expr.op
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        if is_number(left) and is_number(right):
            if op in ("/", "//", "%") and right == 0:
                return self.error(R.INVALID_EXPRESSION, expr.span, "division by zero")
            try:
                result = ARITH[op](left, right)
            except OverflowError:
                return self.error(R.INVALID_EXPRESSION, expr.span, "the result is too large")
            if isinstance(result, float) and not math.isfinite(result):
                return self.error(R.INVALID_EXPRESSION, expr.span, "the result is not a finite number")
            return result
        hint = None
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            hint = "`+` joins two strings or adds two numbers; numbers are not turned into text"
        return self.error(R.INVALID_EXPRESSION, expr.span,
                          f"cannot apply `{op}` to {describe(left)} and {describe(right)}",
                          help=hint or "arithmetic works on numbers (and `+` on strings) known at compile time")

    def negate(self, expr: ast.Neg, value: Any) -> Any:
        if value is BAD:
            return BAD
        if is_number(value):
            return -value
        return self.error(R.INVALID_EXPRESSION, expr.span, f"cannot negate {describe(value)}")

    def typed(self, value: Any, type_name: str, span: Span, rule: R.RecipeRule, what: str) -> Any:
        """Check a value against a declared type (`float` accepts integers and makes them floats)."""
        try:
            return as_type(value, type_name)
        except ValueError:
            return self.error(rule, span, f"{what} must be of type `{type_name}`, not {describe(value)}",
                              expected=type_name)
