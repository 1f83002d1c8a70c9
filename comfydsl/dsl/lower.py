"""Recipe AST -> `comfydsl.graph.Graph`.

Lowering evaluates the recipe top to bottom: parameters take their values, node calls
become graph nodes (ids 1, 2, 3... in evaluation order, skipping ids pinned with `@id`),
fragment calls expand their bodies in place, and compile-time arithmetic is folded. Every
problem becomes a diagnostic of `rules.py`; lowering goes on after a problem, so one run
reports them all. Node spans are copied onto the graph (`node.span`, `node.input_spans`)
so that the workflow checks locate their findings in the recipe.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..diagnostics import Diagnostic, Location, Span
from ..graph.model import Graph, Node, OutputRef
from . import ast
from ..rules import recipe as R

#: Names that call built-ins when no fragment of that name exists.
BUILTINS = ("file", "node")
PARAM_TYPES = ("str", "int", "float", "bool")


class _Bad:
    """The value of an expression that failed; its problem is already reported."""

    def __repr__(self) -> str:
        return "<bad>"


BAD = _Bad()


class _NoValue:
    """What a fragment without `return` gives."""


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class FragmentDef:
    """A fragment and the fragments visible from its file (its own and imported ones)."""

    fragment: ast.Fragment
    scope: dict[str, FragmentDef] = field(compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return self.fragment.name.name

    def signature(self) -> str:
        parts = []
        for p in self.fragment.params:
            text = p.name.name + (f": {p.type}" if p.type else "")
            parts.append(text + (" = …" if p.default is not None else ""))
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class Results:
    """The several results of a fragment call, to be unpacked: `a, b = frag(...)`."""

    values: tuple[Any, ...]
    fragment: str


@dataclass
class _Binding:
    value: Any
    span: Span
    kind: str  # "param", "var", "fparam"
    key: tuple | None = None  # usage key, for unused warnings


@dataclass
class _Frame:
    values: dict[str, _Binding]
    fragments: dict[str, FragmentDef]
    later: dict[str, Span]
    prefix: str | None = None
    module_path: str | None = None
    stack: tuple[FragmentDef, ...] = ()
    call_span: Span | None = None


@dataclass
class Lowered:
    """The result of lowering: the graph, the recipe diagnostics and what the checks need."""

    graph: Graph
    diagnostics: list[Diagnostic]
    tainted: set[tuple[str, str | None]]
    call_sites: dict[str, Span]


def fragment_scope(module: ast.Module, imported: Mapping[str, tuple[FragmentDef, Span]],
                   diagnostics: list[Diagnostic]) -> dict[str, FragmentDef]:
    """The fragments visible in `module`: imported ones (name -> (def, import span)) plus its own."""
    scope: dict[str, FragmentDef] = {name: fdef for name, (fdef, _) in imported.items()}
    for fragment in module.fragments:
        name = fragment.name.name
        if name in scope:
            first = imported[name][1] if name in imported else scope[name].fragment.name.span
            diagnostics.append(R.REDEFINED_NAME.at(
                fragment.name.span, f"fragment `{name}` is already defined",
                related=(Location(span=first, label="first defined here"),),
                help="rename one of the fragments", name=name))
            continue
        scope[name] = FragmentDef(fragment, scope)
    return scope


class Attachments:
    """Files uploaded with the job (`file("...")`), confined to the recipe's folder tree."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.names: dict[Path, str] = {}
        self.data: dict[str, bytes] = {}
        #: where each attachment is first named in the recipe
        self.spans: dict[str, Span] = {}

    def add(self, base: str | None, relative: str, span: Span) -> str | Diagnostic:
        """The upload name of a file, or the diagnostic that says why it cannot be attached."""
        folder = Path(base).parent if base else Path.cwd()
        target = resolve_path(folder, relative)
        if target is None:
            return R.ATTACHMENT_NOT_FOUND.at(span, f"`{_short(relative)}` is not a usable file path",
                                             help="give a path relative to the recipe file")
        if not target.is_relative_to(self.root):
            return R.PATH_OUTSIDE_TREE.at(span, f"attachment `{relative}` is outside the recipe's folder",
                                          help=f"attachments must be inside `{self.root}`")
        if target in self.names:
            return self.names[target]
        try:
            data = target.read_bytes()
        except OSError as exc:
            reason = "it does not exist" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
            return R.ATTACHMENT_NOT_FOUND.at(span, f"cannot read attachment `{relative}`: {reason}",
                                             help="give a path relative to the recipe file")
        name = self._unique(target.name)
        self.names[target] = name
        self.data[name] = data
        self.spans[name] = span
        return name

    def _unique(self, name: str) -> str:
        if name not in self.data:
            return name
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 2
        while f"{stem}-{n}{dot}{ext}" in self.data:
            n += 1
        return f"{stem}-{n}{dot}{ext}"


def resolve_path(folder: Path, relative: str) -> Path | None:
    """`folder / relative` with symlinks resolved, or None when it cannot be a path
    (a NUL character, a symlink loop)."""
    if "\0" in relative:
        return None
    try:
        return (folder / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def _short(text: str, limit: int = 60) -> str:
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    lowerer = _Lowerer(Graph(catalog, models=models), dict(params or {}), attachments,
                       pinned if pinned is not None else pinned_ids([module]), diagnostics)
    lowerer.run(module, dict(fragments))
    return lowerer.result()


def pinned_ids(modules) -> set[str]:
    """The ids that literal `@id(...)` decorators pin, anywhere in the modules."""
    found = set()
    for module in modules:
        for stmt in _node_statements(module):
            for deco in stmt.decorators:
                if (deco.name.name == "id" and len(deco.args) == 1 and isinstance(deco.args[0], ast.Literal)
                        and not isinstance(deco.args[0].value, bool)):
                    found.add(str(deco.args[0].value))
    return found


def _node_statements(module: ast.Module):
    """The statements that can carry decorators: node statements of the module and of its
    fragments (the grammar allows decorators nowhere else)."""
    for stmt in module.statements:
        if isinstance(stmt, ast.Fragment):
            yield from stmt.body
        elif isinstance(stmt, (ast.Assign, ast.CallStmt)):
            yield stmt


class _Lowerer:
    def __init__(self, graph: Graph | None, params: dict[str, Any], attachments: Attachments, pinned: set[str],
                 diagnostics: list[Diagnostic]) -> None:
        self.graph = graph
        self.params = params
        self.attachments = attachments
        self.pinned = pinned
        self.diagnostics = diagnostics
        self.tainted: set[tuple[str, str | None]] = set()
        self.call_sites: dict[str, Span] = {}
        self.next_id = 1
        #: usage key -> [rule, name, span, used]
        self.usage: dict[tuple, list] = {}
        self.exempt: set[tuple] = set()
        #: definitions used (too early) before them: not reported as unused
        self.early: set[tuple] = set()

    # -- driver --------------------------------------------------------------------------
    def run(self, module: ast.Module, fragments: dict[str, FragmentDef]) -> None:
        later = {}
        for stmt in module.statements:
            for ident in _defined_names(stmt):
                later.setdefault(ident.name, ident.span)
        frame = _Frame({}, fragments, later, module_path=module.path)
        for stmt in module.statements:
            for ident in _defined_names(stmt):
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
        self.graph.images.update(
            {name: _b64(data) for name, data in self.attachments.data.items()})
        return Lowered(self.graph, _dedupe(self.diagnostics), self.tainted, self.call_sites)

    def error(self, rule: R.RecipeRule, span: Span | None, message: str, **kwargs: Any) -> _Bad:
        self.diagnostics.append(rule.at(span, message, **kwargs))
        return BAD

    # -- statements ------------------------------------------------------------------------
    def param(self, stmt: ast.Param, frame: _Frame) -> None:
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

    def statement(self, stmt: ast.Assign | ast.CallStmt, frame: _Frame) -> None:
        expr = stmt.value if isinstance(stmt, ast.Assign) else stmt.call
        decor = self.decorators(stmt.decorators, frame, expr)
        title = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            title = stmt.targets[0].name if frame.prefix is None else f"{frame.prefix}.{stmt.targets[0].name}"
        head = _head_call(expr)
        prefix = None
        if isinstance(stmt, ast.Assign):
            prefix = stmt.targets[0].name if len(stmt.targets) == 1 else None
        value = self.eval(expr, frame, head=head, decor=decor, title=title, prefix=prefix)
        if isinstance(stmt, ast.Assign):
            self.assign(stmt, value, frame)

    def assign(self, stmt: ast.Assign, value: Any, frame: _Frame) -> None:
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
                       help=_outputs_help(value))
            return (BAD,) * count
        self.error(R.INVALID_EXPRESSION, span, f"this value cannot be unpacked into {count} names",
                   help="unpack fragment results or a node's outputs")
        return (BAD,) * count

    def bind(self, frame: _Frame, ident: ast.Ident, value: Any, kind: str) -> None:
        name = ident.name
        if name in frame.values:
            self.redefined(ident, frame.values[name].span)
            return
        if name in frame.fragments and kind != "fparam":
            self.redefined(ident, frame.fragments[name].fragment.name.span, what="a fragment")
        key = ("use", ident.span.path, ident.span.start, ident.span.line, ident.span.column)
        rule = R.UNUSED_VARIABLE if kind == "var" else R.UNUSED_PARAMETER
        self.usage.setdefault(key, [rule, name, ident.span, False])
        if isinstance(value, Node) and value.spec is not None and value.spec.output_node:
            self.exempt.add(key)
        frame.values[name] = _Binding(value, ident.span, kind, key)

    def redefined(self, ident: ast.Ident, first: Span, what: str = "") -> None:
        label = f" as {what}" if what else ""
        self.error(R.REDEFINED_NAME, ident.span, f"`{ident.name}` is already defined{label}",
                   related=(Location(span=first, label="first defined here"),),
                   help="variables are assigned once; pick a new name", name=ident.name)

    def decorators(self, decorators: tuple[ast.Decorator, ...], frame: _Frame, expr: ast.Expr) -> dict:
        found: dict[str, Any] = {}
        for deco in decorators:
            name = deco.name.name
            if name not in ("id", "title"):
                self.error(R.INVALID_DECORATOR, deco.name.span, f"unknown decorator `@{name}`",
                           help="the decorators are `@id(\"9\")` and `@title(\"text\")`")
                continue
            if name in found:
                self.error(R.INVALID_DECORATOR, deco.span, f"`@{name}` is given twice")
                continue
            if len(deco.args) != 1:
                self.error(R.INVALID_DECORATOR, deco.span, f"`@{name}` takes one argument")
                continue
            value = self.eval(deco.args[0], frame)
            ok = isinstance(value, str) or (name == "id" and isinstance(value, int) and not isinstance(value, bool))
            if value is not BAD and (not ok or str(value) == ""):
                kind = "a non-empty string or an integer" if name == "id" else "a string"
                self.error(R.INVALID_DECORATOR, deco.args[0].span, f"`@{name}` takes {kind}")
                continue
            if value is not BAD:
                found[name] = (str(value), deco.span)
        if found and not self.is_node_call(_head_call(expr), frame):
            self.error(R.INVALID_DECORATOR, decorators[0].span, "decorators apply to node calls only",
                       help="put `@id`/`@title` on a statement whose value is a node call")
            return {}
        return found

    def is_node_call(self, call: ast.Call | None, frame: _Frame) -> bool:
        if call is None:
            return False
        name = call.func.name
        return name not in frame.fragments and name != "file" and name not in frame.values

    # -- expressions ------------------------------------------------------------------------
    def eval(self, expr: ast.Expr, frame: _Frame, **node_options: Any) -> Any:
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

    def lookup(self, expr: ast.Name, frame: _Frame) -> Any:
        name = expr.name
        binding = frame.values.get(name)
        if binding is not None:
            if binding.key in self.usage:
                self.usage[binding.key][3] = True
            return binding.value
        if name in frame.fragments:
            return frame.fragments[name]
        if name in frame.later:
            span = frame.later[name]
            self.early.add(("use", span.path, span.start, span.line, span.column))
            return self.error(R.USED_BEFORE_DEFINITION, expr.span, f"`{name}` is used before it is defined",
                              related=(Location(span=frame.later[name], label="defined here"),),
                              help="move the definition above this line", name=name)
        known = [*frame.values, *frame.fragments, *frame.later]
        close = difflib.get_close_matches(name, known, n=2)
        hint = ("a name with a similar spelling exists: " + " or ".join(f"`{c}`" for c in close)) if close else None
        if hint is None and frame.stack:
            hint = "a fragment sees only its parameters and its own variables; pass the value as an argument"
        return self.error(R.UNDEFINED_NAME, expr.span, f"name `{name}` is not defined", help=hint, name=name)

    def plain(self, value: Any, span: Span) -> Any:
        """A value that goes inside a list or object: literals only."""
        if value is BAD or isinstance(value, (str, int, float, bool, list, dict)):
            return value
        return self.error(R.INVALID_EXPRESSION, span, "lists and objects hold literal values only, not links",
                          help="link the output to a node input directly")

    def output(self, expr: ast.Attr | ast.Index, value: Any, key: str | int, span: Span) -> Any:
        if value is BAD:
            return BAD
        if not isinstance(value, Node):
            what = "an output" if isinstance(value, OutputRef) else _kind(value)
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
                              help=_outputs_help(value) + (f"; a similar name exists: `{close[0]}`" if close else ""),
                              outputs=[o.name for o in spec.outputs])
        return OutputRef(value, out.index)

    def binop(self, expr: ast.BinOp, left: Any, right: Any) -> Any:
        if left is BAD or right is BAD:
            return BAD
        op = expr.op
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        if _is_number(left) and _is_number(right):
            if op in ("/", "//", "%") and right == 0:
                return self.error(R.INVALID_EXPRESSION, expr.span, "division by zero")
            try:
                result = _ARITH[op](left, right)
            except OverflowError:
                return self.error(R.INVALID_EXPRESSION, expr.span, "the result is too large")
            if isinstance(result, float) and not math.isfinite(result):
                return self.error(R.INVALID_EXPRESSION, expr.span, "the result is not a finite number")
            return result
        hint = None
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            hint = "`+` joins two strings or adds two numbers; numbers are not turned into text"
        return self.error(R.INVALID_EXPRESSION, expr.span,
                          f"cannot apply `{op}` to {_kind(left)} and {_kind(right)}",
                          help=hint or "arithmetic works on numbers (and `+` on strings) known at compile time")

    def negate(self, expr: ast.Neg, value: Any) -> Any:
        if value is BAD:
            return BAD
        if _is_number(value):
            return -value
        return self.error(R.INVALID_EXPRESSION, expr.span, f"cannot negate {_kind(value)}")

    # -- calls ------------------------------------------------------------------------------
    def call(self, call: ast.Call, frame: _Frame, *, head=None, decor=None, title=None, prefix=None) -> Any:
        name = call.func.name
        if name in frame.fragments:
            return self.expand(frame.fragments[name], call, frame, prefix)
        if name == "file":
            return self.file(call, frame)
        if name in frame.values:
            frame_value = self.lookup(ast.Name(name, call.func.span), frame)
            return self.error(R.INVALID_EXPRESSION, call.func.span,
                              f"`{name}` is {_kind(frame_value)}, not a node class or fragment")
        if name == "node":
            return self.builtin_node(call, frame, decor or {}, title)
        return self.make_node(name, call, call.args, frame, decor or {}, title)

    def builtin_node(self, call: ast.Call, frame: _Frame, decor: dict, title: str | None) -> Any:
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

    def make_node(self, class_type: str, call: ast.Call, args, frame: _Frame, decor: dict,
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
        node = self.new_node(class_type, call, frame, decor, decor.get("title", (title,))[0])
        node.inputs.update(inputs)
        node.input_spans.update(spans)
        self.tainted.update((node.id, key) for key in bad)
        return node

    def new_node(self, class_type: str, call: ast.Call, frame: _Frame, decor: dict, title: str | None) -> Node:
        node_id = None
        if "id" in decor:
            wanted, span = decor["id"]
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
        if value is BAD or isinstance(value, (str, int, float, bool, list, dict, OutputRef)):
            return value
        if isinstance(value, Node):
            spec = value.spec
            if spec is None or len(spec.outputs) == 1:
                return OutputRef(value, 0)
            if not spec.outputs:
                return self.error(R.INVALID_EXPRESSION, span, f"`{value.class_type}` has no outputs to link from")
            return self.error(R.AMBIGUOUS_OUTPUT, span,
                              f"`{value.class_type}` has {len(spec.outputs)} outputs; pick one",
                              help=_outputs_help(value) + f"; e.g. `.{spec.outputs[0].name}` or `[0]`",
                              outputs=[o.name for o in spec.outputs])
        if isinstance(value, Results):
            return self.error(R.WRONG_FRAGMENT_ARGUMENTS, span,
                              f"fragment `{value.fragment}` returns {len(value.values)} values; unpack them first",
                              help="write `a, b = fragment(...)` and use the names")
        return self.error(R.INVALID_EXPRESSION, span, f"{_kind(value)} cannot be used as a value")

    def file(self, call: ast.Call, frame: _Frame) -> Any:
        if len(call.args) != 1 or isinstance(call.args[0], ast.KeywordArgument):
            return self.error(R.INVALID_EXPRESSION, call.span, "`file(...)` takes one path: `file(\"faces/me.jpg\")`")
        path = self.eval(call.args[0], frame)
        if path is BAD:
            return BAD
        if not isinstance(path, str) or not path:
            return self.error(R.INVALID_EXPRESSION, call.args[0].span, "the path of `file(...)` must be a string")
        found = self.attachments.add(frame.module_path, path, call.span)
        if isinstance(found, Diagnostic):
            self.diagnostics.append(found)
            return BAD
        return found

    # -- fragments ------------------------------------------------------------------------------
    def expand(self, fdef: FragmentDef, call: ast.Call, frame: _Frame, prefix: str | None) -> Any:
        if fdef in frame.stack:
            for arg in call.args:  # count the uses in the arguments
                self.eval(arg.value if isinstance(arg, ast.KeywordArgument) else arg, frame)
            chain = " -> ".join(f"`{f.name}`" for f in (*frame.stack[frame.stack.index(fdef):], fdef))
            return self.error(R.RECURSIVE_FRAGMENT, call.func.span, f"fragment `{fdef.name}` calls itself: {chain}")
        fragment = fdef.fragment
        label = prefix or fdef.name
        inner = _Frame({}, fdef.scope, {}, label if frame.prefix is None else f"{frame.prefix}.{label}",
                       fragment.span.path, (*frame.stack, fdef), frame.call_span or call.span)
        if not self.bind_arguments(fdef, call, frame, inner):
            self.early.update(b.key for b in inner.values.values())  # the body was not run: no unused warnings
            return BAD
        later = {i.name: i.span for s in fragment.body for i in _defined_names(s)}
        inner.later = later
        for stmt in fragment.body:
            for ident in _defined_names(stmt):
                if inner.later.get(ident.name) is ident.span:
                    del inner.later[ident.name]
            self.statement(stmt, inner)
        if fragment.returns is None:
            return NO_VALUE
        values = tuple(self.eval(v, inner) for v in fragment.returns.values)
        if len(values) == 1:
            return values[0]
        return Results(values, fdef.name)

    def bind_arguments(self, fdef: FragmentDef, call: ast.Call, frame: _Frame, inner: _Frame) -> bool:
        params = fdef.fragment.params
        by_name = {p.name.name: p for p in params}
        given: dict[str, tuple[Any, Span]] = {}
        ok = True
        positional = call.positional
        first_keyword = next((i for i, a in enumerate(call.args) if isinstance(a, ast.KeywordArgument)), None)
        late = [a for a in call.args[first_keyword:] if not isinstance(a, ast.KeywordArgument)] \
            if first_keyword is not None else []
        if late:
            self.error(R.WRONG_FRAGMENT_ARGUMENTS, late[0].span, "a positional argument follows keyword arguments",
                       help="put positional arguments first")
            ok = False
        if len(positional) > len(params):
            self.error(R.WRONG_FRAGMENT_ARGUMENTS, positional[len(params)].span,
                       f"fragment `{fdef.name}` takes {len(params)} argument(s), got {len(positional)}",
                       help=f"its signature is `{fdef.signature()}`")
            ok = False
        for param, arg in zip(params, positional):
            given[param.name.name] = (self.eval(arg, frame), arg.span)
        for kw in call.keywords:
            key = kw.name.name
            if key not in by_name:
                close = difflib.get_close_matches(key, list(by_name), n=1)
                self.error(R.WRONG_FRAGMENT_ARGUMENTS, kw.name.span, f"fragment `{fdef.name}` has no parameter `{key}`",
                           help=(f"a similar name exists: `{close[0]}`; " if close else "")
                           + f"its signature is `{fdef.signature()}`")
                ok = False
                continue
            if key in given:
                self.error(R.WRONG_FRAGMENT_ARGUMENTS, kw.name.span, f"argument `{key}` is given twice")
                ok = False
                continue
            given[key] = (self.eval(kw.value, frame), kw.value.span)
        for param in params:
            ok = self.bind_param(fdef, param, given, call, inner) and ok
        return ok

    def bind_param(self, fdef: FragmentDef, param: ast.FragmentParam, given: dict, call: ast.Call,
                   inner: _Frame) -> bool:
        name = param.name.name
        if name in given:
            value, span = given[name]
        elif param.default is not None:
            value, span = self.eval(param.default, inner), param.default.span
        else:
            self.error(R.WRONG_FRAGMENT_ARGUMENTS, call.span, f"fragment `{fdef.name}` is missing argument `{name}`",
                       help=f"its signature is `{fdef.signature()}`")
            return False
        if param.type is not None and value is not BAD:
            value = self.typed(value, param.type, span, R.WRONG_FRAGMENT_ARGUMENTS,
                               f"argument `{name}` of fragment `{fdef.name}`")
        elif isinstance(value, (FragmentDef, Results)) or value is NO_VALUE:
            value = self.input_value(value, span)
        self.bind(inner, param.name, value, "fparam")
        return True

    def typed(self, value: Any, type_name: str, span: Span, rule: R.RecipeRule, what: str) -> Any:
        """Check a value against a declared type (`float` accepts integers and makes them floats)."""
        if type_name == "float" and _is_number(value):
            return float(value)
        if type_name == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if type_name == "str" and isinstance(value, str):
            return value
        if type_name == "bool" and isinstance(value, bool):
            return value
        return self.error(rule, span, f"{what} must be of type `{type_name}`, not {_kind(value)}",
                          expected=type_name)


_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (Node, OutputRef)):
        return "a node output (a link)"
    if isinstance(value, FragmentDef):
        return f"fragment `{value.name}`"
    if isinstance(value, Results):
        return "several fragment results"
    return "no value"


def _outputs_help(node: Node) -> str:
    spec = node.spec
    if spec is None or not spec.outputs:
        return f"`{node.class_type}` has no outputs"
    return f"`{node.class_type}` outputs " + ", ".join(f"{o.index} `{o.name}`" for o in spec.outputs)


def _head_call(expr: ast.Expr) -> ast.Call | None:
    while isinstance(expr, (ast.Attr, ast.Index)):
        expr = expr.value
    return expr if isinstance(expr, ast.Call) else None


def _defined_names(stmt) -> tuple[ast.Ident, ...]:
    if isinstance(stmt, ast.Param):
        return (stmt.name,)
    if isinstance(stmt, ast.Assign):
        return stmt.targets
    return ()


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for diag in diagnostics:
        span = diag.location.span
        key = (diag.code, diag.message, span.path if span else None, span.start if span else None)
        if key not in seen:
            seen.add(key)
            out.append(diag)
    return out


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def constant(expr: ast.Expr | None) -> Any:
    """The value of an expression made of literals only (for showing defaults), else None."""
    if expr is None:
        return None
    lowerer = _Lowerer(None, {}, Attachments(Path.cwd()), set(), [])
    frame = _Frame({}, {}, {})
    if any(isinstance(item, (ast.Name, ast.Call, ast.Attr, ast.Index)) for item in ast.walk(expr)):
        return None
    value = lowerer.eval(expr, frame)
    return None if value is BAD else value
