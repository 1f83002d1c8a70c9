"""The lowerer put together, its driver (parameters, statements, assignments) and the entry
points `lower` and `constant`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ...diagnostics import Diagnostic, Span
from ...graph.model import Graph, Node, OutputRef
from .. import ast
from ...rules import recipe as R
from .attachments import Attachments, Files
from .base import Frame
from .evaluate import Expressions
from .nodes import Nodes, head_call
from .scope import Scopes, defined_names, fragment_scope, pinned_ids
from .values import BAD, NO_VALUE, FragmentDef, Results, outputs_help

@dataclass
class Lowered:
    """The result of lowering: the graph, the recipe diagnostics and what the checks need."""

    graph: Graph
    diagnostics: list[Diagnostic]
    tainted: set[tuple[str, str | None]]
    call_sites: dict[str, Span]
    #: node id -> the codes its `@allow(...)` keeps as warnings
    allowed: dict[str, set[str]] = field(default_factory=dict)


def lower(module: ast.Module, params: Mapping[str, Any] | None = None, *, catalog=None, models=None,
          fragments: Mapping[str, FragmentDef] | None = None, attachments: Attachments | None = None,
          pinned: set[str] | None = None) -> Lowered:
    """Lower a parsed recipe to a Graph.

    `params` are the recipe parameter values, already of the declared types (missing ones
    take their defaults). `fragments` is the module's fragment scope (see `fragment_scope`);
    by default only the module's own fragments. `pinned` are ids reserved by `@id` anywhere
    in the program (by default those of this module).
    """
    diagnostics: list[Diagnostic] = []
    if fragments is None:
        fragments = fragment_scope(module, {}, diagnostics)
    if attachments is None:
        attachments = Attachments(Path(module.path).resolve().parent if module.path else Path.cwd())
    lowerer = Lowerer(Graph(catalog, models=models), dict(params or {}), attachments,
                       pinned if pinned is not None else pinned_ids([module]), diagnostics)
    lowerer.run(module, dict(fragments))
    return lowerer.result()


class Lowerer(Scopes, Expressions, Nodes, Files):
    """Evaluates a module top to bottom into a graph, reporting every problem it meets."""

    # -- driver -----------------------------------------------------------------------------
    def run(self, module: ast.Module, fragments: dict[str, FragmentDef]) -> None:
        later: dict[str, Span] = {}
        for stmt in module.statements:
            for ident in defined_names(stmt):
                later.setdefault(ident.name, ident.span)
        frame = Frame({}, fragments, later, module_path=module.path)
        for stmt in module.statements:
            for ident in defined_names(stmt):
                if frame.later.get(ident.name) is ident.span:
                    del frame.later[ident.name]
            if isinstance(stmt, ast.Param):
                self.param(stmt, frame)
            elif isinstance(stmt, (ast.Assign, ast.CallStmt)):
                self.statement(stmt, frame)

    def result(self) -> Lowered:
        for key, (rule, name, span, used) in self.usage.items():
            if not used and key not in self.exempt | self.early and not name.startswith("_"):
                what = "parameter" if rule is R.UNUSED_PARAMETER else "variable"
                self.diagnostics.append(rule.at(span, f"{what} `{name}` is never used",
                                                help=f"use it, remove it, or name it `_{name}`", name=name))
        if self.order:
            # `@order(n)` nodes first, by n; the others after them in id order
            from ...workflow.links import sorted_ids

            rest = [node_id for node_id in sorted_ids(self.graph.nodes) if node_id not in self.order]
            ranked = sorted(self.order, key=self.order.__getitem__) + rest
            nodes = dict(self.graph.nodes)
            self.graph.nodes.clear()
            self.graph.nodes.update((node_id, nodes[node_id]) for node_id in ranked)
            self.graph.keep_order = True
        self.graph.images.update(
            {name: b64(data) for name, data in self.attachments.data.items()})
        return Lowered(self.graph, dedupe(self.diagnostics), self.tainted, self.call_sites, self.allowed)

    def param(self, stmt: ast.Param, frame: Frame) -> None:
        name = stmt.name.name
        if name in frame.values:
            self.redefined(stmt.name, frame.values[name].span)
            return
        if name in self.params:
            value = self.params[name]
        elif stmt.default is not None:
            value = self.eval(stmt.default, frame)
            if value is not BAD:
                value = self.typed(value, stmt.type, stmt.default.span, R.INVALID_PARAMETER_VALUE,
                                   f"the default of parameter `{name}`")
        else:
            value = self.error(R.MISSING_REQUIRED_PARAMETER, stmt.span,
                               f"parameter `{name}` is required and has no value",
                               help=f"give it one with `--set {name}=...`, or add a default", name=name)
        self.bind(frame, stmt.name, value, "param")

    def statement(self, stmt: ast.Assign | ast.CallStmt, frame: Frame) -> None:
        expr = stmt.value if isinstance(stmt, ast.Assign) else stmt.call
        decor = self.decorators(stmt.decorators, frame, expr)
        title = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            title = stmt.targets[0].name if frame.prefix is None else f"{frame.prefix}.{stmt.targets[0].name}"
        head = head_call(expr)
        prefix = None
        if isinstance(stmt, ast.Assign):
            prefix = stmt.targets[0].name if len(stmt.targets) == 1 else None
        value = self.eval(expr, frame, head=head, decor=decor, title=title, prefix=prefix)
        if isinstance(stmt, ast.Assign):
            self.assign(stmt, value, frame)

    def assign(self, stmt: ast.Assign, value: Any, frame: Frame) -> None:
        targets = stmt.targets
        if len(targets) == 1:
            if isinstance(value, Results):
                value = self.error(R.WRONG_FRAGMENT_ARGUMENTS, stmt.value.span,
                                   f"fragment `{value.fragment}` returns {len(value.values)} values; "
                                   f"unpack them into as many names",
                                   help=f"write `{', '.join(f'v{i + 1}' for i in range(len(value.values)))} = ...`")
            elif value is NO_VALUE:
                value = self.error(R.INVALID_EXPRESSION, stmt.value.span, "this fragment returns no value",
                                   help="add `return ...` to the fragment, or call it without assigning")
            self.bind(frame, targets[0], value, "var")
            return
        values = self.unpack(value, len(targets), stmt.value.span)
        for ident, item in zip(targets, values):
            self.bind(frame, ident, item, "var")

    def unpack(self, value: Any, count: int, span: Span) -> tuple:
        if value is BAD:
            return (BAD,) * count
        if isinstance(value, Results):
            if len(value.values) == count:
                return value.values
            self.error(R.WRONG_FRAGMENT_ARGUMENTS, span,
                       f"fragment `{value.fragment}` returns {len(value.values)} value(s), not {count}")
            return (BAD,) * count
        if isinstance(value, Node) and value.spec is not None and len(value.spec.outputs) == count:
            return tuple(OutputRef(value, i) for i in range(count))
        if isinstance(value, Node) and value.spec is not None:
            self.error(R.INVALID_EXPRESSION, span,
                       f"`{value.class_type}` has {len(value.spec.outputs)} output(s), not {count}",
                       help=outputs_help(value))
            return (BAD,) * count
        self.error(R.INVALID_EXPRESSION, span, f"this value cannot be unpacked into {count} names",
                   help="unpack fragment results or a node's outputs")
        return (BAD,) * count


def dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for diag in diagnostics:
        span = diag.location.span
        key = (diag.code, diag.message, span.path if span else None, span.start if span else None)
        if key not in seen:
            seen.add(key)
            out.append(diag)
    return out


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def constant(expr: ast.Expr | None) -> Any:
    """The value of an expression made of literals only (for showing defaults), else None."""
    if expr is None:
        return None
    lowerer = Lowerer(None, {}, Attachments(Path.cwd()), set(), [])
    frame = Frame({}, {}, {})
    if any(isinstance(item, (ast.Name, ast.Call, ast.Attr, ast.Index)) for item in ast.walk(expr)):
        return None
    value = lowerer.eval(expr, frame)
    return None if value is BAD else value
