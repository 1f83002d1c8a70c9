"""Names and fragments: which fragments a module sees, binding and looking up names (with
unused-name and used-before-definition reports), the ids `@id` pins, and expanding a
fragment call: binding its arguments to its parameters and lowering its body."""

from __future__ import annotations

import difflib
from typing import Any, Iterator, Mapping

from ...diagnostics import Diagnostic, Location, Span
from ...graph.model import Node
from .. import ast
from ...rules import recipe as R
from ..syntax import DECORATOR_ID
from .base import Binding, Frame, LowererBase
from .values import BAD, NO_VALUE, FragmentDef, Results


#: Bounds on what fragment calls may expand to in one recipe (issue 11): far beyond any real
#: workflow (ComfyUI graphs run to hundreds of nodes), and reached in well under a second.
MAX_EXPANDED_NODES = 100_000
MAX_EXPANSIONS = 100_000

#: Python's spellings of the constants, and what a recipe writes instead.
PYTHON_WORDS = {
    "True": "the recipe language writes booleans in lower case: `true`",
    "False": "the recipe language writes booleans in lower case: `false`",
    "None": "the recipe language writes JSON's null as `null`; leave the input out to use its default",
}


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


def pinned_ids(modules: list[ast.Module]) -> set[str]:
    """The ids that literal `@id(...)` decorators pin, anywhere in the modules."""
    found: set[str] = set()
    for module in modules:
        for stmt in node_statements(module):
            for deco in stmt.decorators:
                if (deco.name.name == DECORATOR_ID and len(deco.args) == 1 and isinstance(deco.args[0], ast.Literal)
                        and not isinstance(deco.args[0].value, bool)):
                    found.add(str(deco.args[0].value))
    return found


def node_statements(module: ast.Module) -> Iterator[ast.Assign | ast.CallStmt]:
    """The statements that can carry decorators: node statements of the module and of its
    fragments (the grammar allows decorators nowhere else)."""
    for stmt in module.statements:
        if isinstance(stmt, ast.Fragment):
            yield from stmt.body
        elif isinstance(stmt, (ast.Assign, ast.CallStmt)):
            yield stmt


def defined_names(stmt: object) -> tuple[ast.Ident, ...]:
    """The names a statement defines (a parameter, the targets of an assignment)."""
    if isinstance(stmt, ast.Param):
        return (stmt.name,)
    if isinstance(stmt, ast.Assign):
        return stmt.targets
    return ()


class Scopes(LowererBase):
    """Binding and looking up names; fragment calls."""

    def bind(self, frame: Frame, ident: ast.Ident, value: Any, kind: str) -> None:
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
        frame.values[name] = Binding(value, ident.span, kind, key)

    def redefined(self, ident: ast.Ident, first: Span, what: str = "") -> None:
        label = f" as {what}" if what else ""
        self.error(R.REDEFINED_NAME, ident.span, f"`{ident.name}` is already defined{label}",
                   related=(Location(span=first, label="first defined here"),),
                   help="variables are assigned once; pick a new name", name=ident.name)

    def lookup(self, expr: ast.Name, frame: Frame) -> Any:
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
        if name in PYTHON_WORDS:
            return self.error(R.UNDEFINED_NAME, expr.span, f"name `{name}` is not defined", help=PYTHON_WORDS[name],
                              name=name)
        known = [*frame.values, *frame.fragments, *frame.later]
        close = difflib.get_close_matches(name, known, n=2)
        hint = ("a name with a similar spelling exists: " + " or ".join(f"`{c}`" for c in close)) if close else None
        if hint is None and frame.stack:
            hint = "a fragment sees only its parameters and its own variables; pass the value as an argument"
        return self.error(R.UNDEFINED_NAME, expr.span, f"name `{name}` is not defined", help=hint, name=name)

    # -- fragments ------------------------------------------------------------------------------
    def expand(self, fdef: FragmentDef, call: ast.Call, frame: Frame, prefix: str | None) -> Any:
        if fdef in frame.stack:
            for arg in call.args:  # count the uses in the arguments
                self.eval(arg.value if isinstance(arg, ast.KeywordArgument) else arg, frame)
            chain = " -> ".join(f"`{f.name}`" for f in (*frame.stack[frame.stack.index(fdef):], fdef))
            return self.error(R.RECURSIVE_FRAGMENT, call.func.span, f"fragment `{fdef.name}` calls itself: {chain}")
        if self._expansion_too_big(fdef, call):
            return BAD
        fragment = fdef.fragment
        label = prefix or fdef.name
        inner = Frame({}, fdef.scope, {}, label if frame.prefix is None else f"{frame.prefix}.{label}",
                       fragment.span.path, (*frame.stack, fdef), frame.call_span or call.span)
        if not self.bind_arguments(fdef, call, frame, inner):
            self.early.update(b.key for b in inner.values.values() if b.key is not None)  # the body was not run: no unused warnings
            return BAD
        later = {i.name: i.span for s in fragment.body for i in defined_names(s)}
        inner.later = later
        for stmt in fragment.body:
            for ident in defined_names(stmt):
                if inner.later.get(ident.name) is ident.span:
                    del inner.later[ident.name]
            self.statement(stmt, inner)
        if fragment.returns is None:
            return NO_VALUE
        values = tuple(self.eval(v, inner) for v in fragment.returns.values)
        if len(values) == 1:
            return values[0]
        return Results(values, fdef.name)

    def _expansion_too_big(self, fdef: FragmentDef, call: ast.Call) -> bool:
        """True once fragment calls have made more than MAX_EXPANDED_NODES nodes or
        MAX_EXPANSIONS expansions (fragments that call others several times grow
        exponentially); the error is reported once, at the call that crossed the bound."""
        self.expansions = getattr(self, "expansions", 0) + 1
        nodes = len(self._graph.nodes) if self._graph is not None else 0
        if nodes <= MAX_EXPANDED_NODES and self.expansions <= MAX_EXPANSIONS:
            return False
        if not getattr(self, "expansion_reported", False):
            self.expansion_reported = True
            what = (f"{nodes} nodes" if nodes > MAX_EXPANDED_NODES else f"{self.expansions} fragment calls")
            self.error(R.RECURSIVE_FRAGMENT, call.func.span,
                       f"expanding fragment `{fdef.name}` goes past {what}; the limit is "
                       f"{MAX_EXPANDED_NODES} nodes and {MAX_EXPANSIONS} fragment calls per recipe",
                       help="fragments that call other fragments several times grow exponentially; "
                            "call them fewer times")
        return True

    def bind_arguments(self, fdef: FragmentDef, call: ast.Call, frame: Frame, inner: Frame) -> bool:
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
                   inner: Frame) -> bool:
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
