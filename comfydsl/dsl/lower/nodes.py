"""Node calls: what a call names (a fragment, a built-in, a node class), the `node()`
built-in, the inputs of a node, the decorators (`@id`, `@title`, `@order`, `@allow`,
`@keys`), and node ids."""

from __future__ import annotations

from typing import Any

from ...diagnostics import Location, Span
from ...graph.model import Node, OutputRef
from .. import ast
from ...rules import recipe as R
from ...workflow.links import NODE_KEYS
from ..syntax import (ALLOWABLE, DECORATOR_ALLOW, DECORATOR_ID, DECORATOR_KEYS, DECORATOR_ORDER, DECORATOR_TITLE,
                      DECORATORS, FILE, NODE, NODE_KEYS_REQUIRED)
from .base import Frame, LowererBase
from .values import BAD, Results, describe, outputs_help

def head_call(expr: ast.Expr) -> ast.Call | None:
    """The call at the head of `a(...).OUT[0]`, if any."""
    while isinstance(expr, (ast.Attr, ast.Index)):
        expr = expr.value
    return expr if isinstance(expr, ast.Call) else None


class Nodes(LowererBase):
    """Node calls and decorators."""

    def decorators(self, decorators: tuple[ast.Decorator, ...], frame: Frame, expr: ast.Expr) -> dict:
        found: dict[str, Any] = {}
        for deco in decorators:
            name = deco.name.name
            if name not in DECORATORS:
                self.error(R.INVALID_DECORATOR, deco.name.span, f"unknown decorator `@{name}`",
                           help="the decorators are `@id(\"9\")`, `@title(\"text\")`, `@order(1)`, "
                                "`@allow(\"coerced-value\")` and `@keys(\"inputs\", \"class_type\")`")
                continue
            if name in found:
                self.error(R.INVALID_DECORATOR, deco.span, f"`@{name}` is given twice")
                continue
            if name == DECORATOR_ALLOW:
                codes = set()
                for arg in deco.args:
                    value = self.eval(arg, frame)
                    if value is BAD:
                        continue
                    if value not in ALLOWABLE:
                        names = " and ".join(f'"{n}"' for n in ALLOWABLE)
                        self.error(R.INVALID_DECORATOR, arg.span, f"`@{name}` takes the rule names {names}")
                        continue
                    codes.add(ALLOWABLE[value])
                if not deco.args:
                    self.error(R.INVALID_DECORATOR, deco.span, f"`@{name}` takes one or more rule names")
                found[name] = (codes, deco.span)
                continue
            if name == DECORATOR_KEYS:
                keys = self.node_keys(deco, frame)
                if keys is not None:
                    found[name] = (keys, deco.span)
                continue
            if name == DECORATOR_TITLE and not deco.args:
                found[name] = (None, deco.span)  # `@title()`: the node has no title
                continue
            if len(deco.args) != 1:
                what = "one argument" if name == DECORATOR_ID else "one argument, or none for no title"
                self.error(R.INVALID_DECORATOR, deco.span, f"`@{name}` takes {what}")
                continue
            value = self.eval(deco.args[0], frame)
            if name == DECORATOR_ORDER:
                if value is not BAD and (type(value) is not int or value < 1):
                    self.error(R.INVALID_DECORATOR, deco.args[0].span, f"`@{name}` takes a positive integer")
                elif value is not BAD:
                    found[name] = (value, deco.span)
                continue
            ok = isinstance(value, str) or (name == DECORATOR_ID and isinstance(value, int) and not isinstance(value, bool))
            if value is not BAD and not ok:
                kind = "a string or an integer" if name == DECORATOR_ID else "a string"
                self.error(R.INVALID_DECORATOR, deco.args[0].span, f"`@{name}` takes {kind}")
                continue
            if value is not BAD:
                found[name] = (str(value), deco.span)
        if found and not self.is_node_call(head_call(expr), frame):
            self.error(R.INVALID_DECORATOR, decorators[0].span, "decorators apply to node calls only",
                       help="put `@id`/`@title` on a statement whose value is a node call")
            return {}
        return found

    def node_keys(self, deco: ast.Decorator, frame: Frame) -> tuple[str, ...] | None:
        """The key order `@keys(...)` names, or None (after reporting) when it is not one."""
        keys: list[str] = []
        ok = True
        for arg in deco.args:
            value = self.eval(arg, frame)
            if value is BAD:
                ok = False
            elif not isinstance(value, str) or value not in NODE_KEYS:
                self.error(R.INVALID_DECORATOR, arg.span,
                           f"`@{DECORATOR_KEYS}` takes the node keys " + ", ".join(f'"{k}"' for k in NODE_KEYS),
                           help="name them in the order this node writes them, e.g. "
                                "`@keys(\"inputs\", \"class_type\", \"_meta\")`")
                ok = False
            elif value in keys:
                self.error(R.INVALID_DECORATOR, arg.span, f"`@{DECORATOR_KEYS}` names \"{value}\" twice")
                ok = False
            else:
                keys.append(value)
        if ok and not all(key in keys for key in NODE_KEYS_REQUIRED):
            self.error(R.INVALID_DECORATOR, deco.span,
                       f"`@{DECORATOR_KEYS}` must name both \"class_type\" and \"inputs\"",
                       help="e.g. `@keys(\"inputs\", \"class_type\")`; \"_meta\" may be left out (it then goes last)")
            ok = False
        return tuple(keys) if ok else None

    def is_node_call(self, call: ast.Call | None, frame: Frame) -> bool:
        if call is None:
            return False
        name = call.func.name
        return name not in frame.fragments and name != FILE and name not in frame.values

    def call(self, call: ast.Call, frame: Frame, *, head: ast.Call | None = None, decor: dict[str, Any] | None = None,
             title: str | None = None, prefix: str | None = None) -> Any:
        name = call.func.name
        if name in frame.fragments:
            return self.expand(frame.fragments[name], call, frame, prefix)
        if name == FILE:
            return self.file(call, frame)
        if name in frame.values:
            frame_value = self.lookup(ast.Name(name, call.func.span), frame)
            return self.error(R.INVALID_EXPRESSION, call.func.span,
                              f"`{name}` is {describe(frame_value)}, not a node class or fragment")
        if name == NODE:
            return self.builtin_node(call, frame, decor or {}, title)
        return self.make_node(name, call, call.args, frame, decor or {}, title)

    def builtin_node(self, call: ast.Call, frame: Frame, decor: dict, title: str | None) -> Any:
        args = call.args
        if not args or isinstance(args[0], ast.KeywordArgument):
            return self.error(R.INVALID_EXPRESSION, call.span,
                              "`node(...)` takes the class name first: `node(\"Class Name\", input=...)`")
        class_type = self.eval(args[0], frame)
        if class_type is BAD:
            return BAD
        if not isinstance(class_type, str) or not class_type:
            return self.error(R.INVALID_EXPRESSION, args[0].span, "the class name of `node(...)` must be a string")
        return self.make_node(class_type, call, args[1:], frame, decor, title)

    def make_node(self, class_type: str, call: ast.Call, args, frame: Frame, decor: dict,
                  title: str | None) -> Any:
        inputs: dict[str, Any] = {}
        spans: dict[str, Span] = {}
        bad: list[str] = []
        for arg in args:
            if not isinstance(arg, ast.KeywordArgument):
                self.eval(arg, frame)  # for its uses and its own problems
                self.error(R.INVALID_EXPRESSION, arg.span, f"node class `{class_type}` takes keyword arguments only",
                           help="write `input_name=value`")
                continue
            key = arg.name.name
            if key in spans:
                self.error(R.INVALID_EXPRESSION, arg.name.span, f"input `{key}` is given twice",
                           related=(Location(span=spans[key], label="first given here"),))
                continue
            spans[key] = arg.span
            value = self.input_value(self.eval(arg.value, frame), arg.value.span)
            if value is BAD:
                bad.append(key)
            else:
                inputs[key] = value
        node = self.new_node(class_type, call, frame, decor, decor.get(DECORATOR_TITLE, (title,))[0])
        if decor.get(DECORATOR_ALLOW):
            self.allowed[node.id] = decor[DECORATOR_ALLOW][0]
        if DECORATOR_ORDER in decor:
            self.order[node.id] = decor[DECORATOR_ORDER][0]
        if DECORATOR_KEYS in decor:
            node.keys = decor[DECORATOR_KEYS][0]
        node.inputs.update(inputs)
        node.input_spans.update(spans)
        self.tainted.update((node.id, key) for key in bad)
        return node

    def new_node(self, class_type: str, call: ast.Call, frame: Frame, decor: dict, title: str | None) -> Node:
        node_id = None
        if DECORATOR_ID in decor:
            wanted, span = decor[DECORATOR_ID]
            if wanted in self.graph.nodes:
                other = self.graph.nodes[wanted]
                self.error(R.INVALID_DECORATOR, span, f"node id `{wanted}` is already used by `{other.class_type}`",
                           related=(Location(node_id=wanted, span=other.span, label="first used here"),),
                           help="pin each id once; a fragment with `@id` can be called once only")
            else:
                node_id = wanted
        if node_id is None:
            node_id = self.take_id()
        node = self.graph.node(class_type, id=node_id, title=title, span=call.func.span)
        if frame.call_span is not None:
            self.call_sites[node.id] = frame.call_span
        return node

    def take_id(self) -> str:
        while str(self.next_id) in self.pinned or str(self.next_id) in self.graph.nodes:
            self.next_id += 1
        self.next_id += 1
        return str(self.next_id - 1)

    def input_value(self, value: Any, span: Span) -> Any:
        """A value as a node input: nodes become their single output."""
        if value is None or value is BAD or isinstance(value, (str, int, float, bool, list, dict, OutputRef)):
            return value
        if isinstance(value, Node):
            spec = value.spec
            if spec is None or len(spec.outputs) == 1:
                return OutputRef(value, 0)
            if not spec.outputs:
                return self.error(R.INVALID_EXPRESSION, span, f"`{value.class_type}` has no outputs to link from")
            return self.error(R.AMBIGUOUS_OUTPUT, span,
                              f"`{value.class_type}` has {len(spec.outputs)} outputs; pick one",
                              help=outputs_help(value) + f"; e.g. `.{spec.outputs[0].name}` or `[0]`",
                              outputs=[o.name for o in spec.outputs])
        if isinstance(value, Results):
            return self.error(R.WRONG_FRAGMENT_ARGUMENTS, span,
                              f"fragment `{value.fragment}` returns {len(value.values)} values; unpack them first",
                              help="write `a, b = fragment(...)` and use the names")
        return self.error(R.INVALID_EXPRESSION, span, f"{describe(value)} cannot be used as a value")
