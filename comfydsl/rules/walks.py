"""The one walk over a workflow's inputs that the input, link and value rules share.

Each of those rules used to walk every input or link of the workflow itself. `walk_inputs`
walks them once per check and sorts out what each rule reports (`literals`, `link_facts`);
every list keeps the workflow's order, so each rule reports exactly what its own walk would.

What the walk needs of a class (its inputs' plans, its required input names) is worked out
once per class and kept across checks (`SpecMemo`), so the per-node work is a few dict
lookups.
"""

from __future__ import annotations

import math
from typing import Any, Callable, TypeVar

from ..catalog.nodes import MATCH_TYPE, InputSpec, NodeSpec, OutputSpec, types_compatible
from ..checks.context import CheckContext, Link, NodeView
from .convert import convert

S = TypeVar("S")
T = TypeVar("T")

#: Most entries `SpecMemo` keeps before it starts afresh (a long-lived server may load many
#: catalogues; each class and input is a handful of entries).
SPEC_MEMO_LIMIT = 50_000


class SpecMemo:
    """What a rule works out from a class or input spec alone, kept across checks.

    Entries are keyed by `id(spec)` and hold the spec itself, so an id is never reused while
    its entry exists; an entry is used only for that very object.
    """

    __slots__ = ("compute", "entries")

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        self.compute = compute
        self.entries: dict[int, tuple[Any, Any]] = {}

    def __call__(self, spec: Any) -> Any:
        entry = self.entries.get(id(spec))
        if entry is not None and entry[0] is spec:
            return entry[1]
        if len(self.entries) >= SPEC_MEMO_LIMIT:
            self.entries.clear()
        value = self.compute(spec)
        self.entries[id(spec)] = (spec, value)
        return value


class LinkFacts:
    """The links of a workflow that some rule reports."""

    __slots__ = ("dangling", "out_of_range", "negative", "mismatched")

    def __init__(self) -> None:
        #: (node, link) of links to a node id the workflow lacks (`dangling-link`)
        self.dangling: list[tuple[NodeView, Link]] = []
        #: (node, link, source) of links past the source class's outputs
        self.out_of_range: list[tuple[NodeView, Link, NodeView]] = []
        #: (node, link, source class or None) of links with a negative output index
        self.negative: list[tuple[NodeView, Link, NodeSpec | None]] = []
        #: (node, link, input spec, source, output) of links whose types do not fit
        self.mismatched: list[tuple[NodeView, Link, InputSpec, NodeView, OutputSpec]] = []


class Literals:
    """Every literal input of the workflow, classified once for all the value rules.

    Each literal is converted at most once (as `convert` does) and sorted into what each
    rule reports.
    """

    __slots__ = ("invalid", "coerced", "below", "above", "combos", "link_only", "files", "irregular")

    def __init__(self) -> None:
        #: (node, spec, name, value, reason); reason None: a literal widget holding null
        self.invalid: list[tuple[Any, InputSpec, str, Any, str | None]] = []
        #: (node, spec, name, value, converted)
        self.coerced: list[tuple[Any, InputSpec, str, Any, Any]] = []
        #: (node, spec, name, number): numbers outside their input's range
        self.below: list[tuple[Any, InputSpec, str, Any]] = []
        self.above: list[tuple[Any, InputSpec, str, Any]] = []
        #: (node, spec, name, value) of every input with a fixed list of options
        self.combos: list[tuple[Any, InputSpec, str, Any]] = []
        #: (node, spec, name, value) of literals on inputs only a link can feed
        self.link_only: list[tuple[Any, InputSpec, str, Any]] = []
        #: (node, spec, name, value) of text on inputs that name a model file or an uploaded file
        self.files: list[tuple[Any, InputSpec, str, str]] = []
        #: the nodes (of a known class, with an `inputs` object) that may lack a required input
        #: or hold an undeclared one: those with V3 dynamic inputs, and those whose input names
        #: differ from their class's; the rest need no closer look by those rules
        self.irregular: list[Any] = []


class InputFacts:
    """What the walk over the inputs found: the literals and the links some rule reports."""

    __slots__ = ("literals", "links")

    def __init__(self) -> None:
        self.literals = Literals()
        self.links = LinkFacts()


def literals(ctx: CheckContext) -> Literals:
    """The literal inputs of the workflow, classified (walked once per check)."""
    return walk_inputs(ctx).literals


def link_facts(ctx: CheckContext) -> LinkFacts:
    """The links some rule reports (walked once per check)."""
    return walk_inputs(ctx).links


def walk_inputs(ctx: CheckContext) -> InputFacts:
    """The facts of one walk over every input of the workflow (once per check)."""
    return ctx.shared(walk_inputs, _walk)


#: What the walk needs of an input spec, worked out once per spec (see `_plan`): the spec,
#: its type if primitive else None, whether null is invalid, minimum, maximum, whether it has
#: options, takes a link only, names a file.
_Plan = tuple[InputSpec, "str | None", bool, Any, Any, bool, bool, bool]


def _plan(spec: InputSpec) -> _Plan:
    primitive = spec.type if spec.is_primitive else None
    numeric = primitive in ("INT", "FLOAT")
    return (spec, primitive, primitive is None and spec.is_literal_widget,
            spec.minimum if numeric else None, spec.maximum if numeric else None,
            spec.options is not None, spec.takes_link_only,
            spec.model_folder is not None or spec.upload is not None)


#: (input name -> plan of every input that is not hidden, names of the required inputs, names
#: of all inputs) of a class without V3 dynamic inputs
_ClassPlan = tuple[dict[str, _Plan], frozenset[str], frozenset[str]]


def _class_plan(spec: NodeSpec) -> _ClassPlan:
    inputs = spec.inputs
    return ({name: _plan(s) for name, s in inputs.items() if s.section != "hidden"},
            frozenset(s.name for s in inputs.values() if s.section == "required"), frozenset(inputs))


#: The plans of the catalogue's classes without V3 dynamic inputs, kept across checks.
_class_plans = SpecMemo(_class_plan)


def _walk(ctx: CheckContext) -> InputFacts:
    facts = InputFacts()
    found = facts.literals
    invalid, coerced, below, above = found.invalid, found.coerced, found.below, found.above
    combos, link_only, files, irregular = found.combos, found.link_only, found.files, found.irregular
    links_found = facts.links
    dangling, out_of_range, negative, mismatched = (links_found.dangling, links_found.out_of_range,
                                                    links_found.negative, links_found.mismatched)
    nodes = ctx.nodes
    # the plans of the classes met, by id(): the specs are alive throughout the walk
    by_class: dict[int, _ClassPlan] = {}
    # the plans of inputs made for one node (V3 dynamic inputs), by id(): alive throughout the walk
    dynamic_plans: dict[int, _Plan] = {}
    # (source class, output index, input spec) found to fit; by id(): the specs outlive the walk
    fine: set[tuple[int, int, int]] = set()
    for node in nodes.values():
        spec_of_node = node.spec
        links = node.links
        inputs = node.inputs
        plans: Any = None  # input name -> plan (None: the node's class is unknown)
        if spec_of_node is not None and inputs is not None:
            if spec_of_node.dynamic:
                irregular.append(node)
                plans = {}
                for name, spec in node.input_specs.items():
                    if spec.section != "hidden":
                        plan = dynamic_plans.get(id(spec))
                        if plan is None:
                            plan = dynamic_plans[id(spec)] = _plan(spec)
                        plans[name] = plan
            else:
                class_plan = by_class.get(id(spec_of_node))
                if class_plan is None:
                    class_plan = by_class[id(spec_of_node)] = _class_plans(spec_of_node)
                plans, required, names = class_plan
                keys = inputs.keys()
                if not (required <= keys and keys <= names):
                    irregular.append(node)
            if len(links) != len(inputs):  # some input is no link: sort the literals
                for name, value in inputs.items():
                    if type(value) is list:
                        continue
                    plan = plans.get(name)
                    if plan is None:
                        continue
                    spec, primitive, null_invalid, low, high, has_options, only_link, names_file = plan
                    if names_file and isinstance(value, str):
                        files.append((node, spec, name, value))
                    if only_link:
                        link_only.append((node, spec, name, value))
                    if has_options:
                        combos.append((node, spec, name, value))
                    if primitive is None:
                        if null_invalid and value is None:
                            invalid.append((node, spec, name, value, None))
                        continue
                    # the common cases of `convert`, inlined: a value already of the input's type
                    kind = type(value)
                    if primitive == "INT" and kind is int:
                        number = value
                    elif primitive == "FLOAT" and (kind is int or (kind is float and math.isfinite(value))):
                        number = value
                    elif (primitive == "STRING" and kind is str) or (primitive == "BOOLEAN" and kind is bool):
                        continue
                    else:
                        result = convert(primitive, value)
                        if not result.ok:
                            invalid.append((node, spec, name, value, result.reason))
                            continue
                        if result.coerced:
                            coerced.append((node, spec, name, value, result.value))
                        if primitive != "INT" and primitive != "FLOAT":
                            continue
                        number = result.value
                    if low is not None and number < low:
                        below.append((node, spec, name, number))
                    if high is not None and number > high:
                        above.append((node, spec, name, number))
        for link in links:
            index = link.index
            source = nodes.get(link.source)
            if source is None:
                dangling.append((node, link))
                if index < 0:
                    negative.append((node, link, None))
                continue
            source_spec = source.spec
            if index < 0:
                negative.append((node, link, source_spec))
            if source_spec is None:
                continue
            outputs = source_spec.outputs
            if index >= len(outputs) or index < -len(outputs):
                out_of_range.append((node, link, source))
                continue
            if plans is None:
                continue
            plan = plans.get(link.input)
            if plan is None:  # undeclared or hidden
                continue
            spec = plan[0]
            key = (id(source_spec), index, id(spec))
            if key in fine:
                continue
            out = outputs[index]
            if MATCH_TYPE in (out.type, spec.type) or types_compatible(out.type, spec.type):
                fine.add(key)
                continue
            mismatched.append((node, link, spec, source, out))
    return facts
