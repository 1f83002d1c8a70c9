"""What the input, link and value rules report, sorted out in one pass over the inputs.

Each of those rules would otherwise walk every input or link of the workflow itself.
`sort_inputs` walks them once per check, when a rule first asks (`CheckContext.facts`), and
sorts out what each rule reports (`Literals`, `LinkFacts`); every list keeps the workflow's
order, so each rule reports exactly what its own walk would.

What the pass needs of a class (its inputs' plans, its required and declared input names,
its traits) is worked out once per class and kept across checks (`SpecMemo`, `class_plan`);
`CheckContext.build` looks each class up once per check, so the per-node work is a few
dict lookups.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Collection

from ..catalog.nodes import MATCH_TYPE, InputSpec, NodeSpec, OutputSpec, types_compatible
from .convert import convert

if TYPE_CHECKING:
    from .context import CheckContext, Link, NodeView

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
        #: (node, spec, name, value) of the inputs with a fixed list of options, but for those
        #: whose value is a text among the options (nothing to report on those)
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
    """What the pass over the inputs found: the literals and the links some rule reports."""

    __slots__ = ("literals", "links")

    def __init__(self) -> None:
        self.literals = Literals()
        self.links = LinkFacts()


#: What the pass needs of an input spec, worked out once per spec (see `input_plan`): the
#: spec, its type if primitive else None, whether null is invalid, minimum, maximum, its
#: options (a set when they can be one; None: no fixed list), whether it takes a link only,
#: whether it names a file.
Plan = tuple[InputSpec, "str | None", bool, Any, Any, "Collection[Any] | None", bool, bool]


def input_plan(spec: InputSpec) -> Plan:
    primitive = spec.type if spec.is_primitive else None
    numeric = primitive in ("INT", "FLOAT")
    return (spec, primitive, primitive is None and spec.is_literal_widget,
            spec.minimum if numeric else None, spec.maximum if numeric else None,
            _option_set(spec.options), spec.takes_link_only,
            spec.model_folder is not None or spec.upload is not None)


def _option_set(options: tuple[Any, ...] | None) -> Collection[Any] | None:
    """The options to test a text against: a set (one lookup, the same answers as `in` on the
    tuple for a text), or the tuple itself when some option cannot be in a set."""
    if options is None:
        return None
    try:
        return frozenset(options)
    except TypeError:
        return options


#: What a class of the workflow may call for, as the rules ask it (`CheckContext.traits`):
#: a class marked deprecated, experimental or an API node, with V3 dynamic inputs, with a
#: MatchType input or output (or dynamic inputs, which may expand to one).
TRAITS = ("deprecated", "experimental", "api_node", "dynamic", "match_type")


#: What the pass needs of a class: input name -> plan of every input that is not hidden
#: (None for a class with V3 dynamic inputs: a node's values make its inputs), the names of
#: the required inputs, the names of all inputs, and the class's traits (`TRAITS`)
ClassPlan = tuple["dict[str, Plan] | None", frozenset[str], frozenset[str], frozenset[str]]


def _class_plan(spec: NodeSpec) -> ClassPlan:
    inputs = spec.inputs
    plans = None if spec.dynamic else {name: input_plan(s) for name, s in inputs.items() if s.section != "hidden"}
    match_type = spec.dynamic or any(o.type == MATCH_TYPE for o in spec.outputs) \
        or any(i.type == MATCH_TYPE for i in inputs.values())
    flags = (spec.deprecated, spec.experimental, spec.api_node, spec.dynamic, match_type)
    return (plans, frozenset(s.name for s in inputs.values() if s.section == "required"), frozenset(inputs),
            frozenset(name for name, flag in zip(TRAITS, flags) if flag))


#: The plans of the catalogue's classes, kept across checks.
class_plan: Callable[[NodeSpec], ClassPlan] = SpecMemo(_class_plan)


#: An entry of `CheckContext.class_plans`: a class's spec, the plans of its inputs, the names
#: of its required inputs and of all its inputs
ClassEntry = tuple["NodeSpec | None", "dict[str, Plan] | None", frozenset[str], frozenset[str]]


def sort_inputs(ctx: CheckContext) -> InputFacts:
    """One pass over every input of the workflow (in its order), sorting each literal and
    each link into what the input, link and value rules report (`CheckContext.facts`)."""
    facts = InputFacts()
    found = facts.literals
    invalid, coerced, below, above = found.invalid, found.coerced, found.below, found.above
    combos, link_only, files, irregular = found.combos, found.link_only, found.files, found.irregular
    links_found = facts.links
    dangling, out_of_range, negative, mismatched = (links_found.dangling, links_found.out_of_range,
                                                    links_found.negative, links_found.mismatched)
    nodes = ctx.nodes
    classes = ctx.class_plans
    # the plans of inputs made for one node (V3 dynamic inputs), by id(): alive throughout the pass
    dynamic_plans: dict[int, Plan] = {}
    # (source class, output index, input spec) found to fit; by id(): the specs outlive the pass
    fine: set[tuple[int, int, int]] = set()
    for view in nodes.values():
        spec_of_node = view.spec
        inputs = view.inputs
        links = view.links
        plans: dict[str, Plan] | None = None  # input name -> plan (None: the class is unknown)
        if spec_of_node is not None and inputs is not None:
            _, class_plans, required, names = classes[view.class_type]  # type: ignore[index]
            if class_plans is not None:
                plans = class_plans
                keys = inputs.keys()
                if not (required <= keys and keys <= names):
                    irregular.append(view)
            else:  # V3 dynamic inputs: the plans of the inputs this node's values make
                irregular.append(view)
                plans = {}
                for name, input_spec in view.input_specs.items():
                    if input_spec.section != "hidden":
                        plan = dynamic_plans.get(id(input_spec))
                        if plan is None:
                            plan = dynamic_plans[id(input_spec)] = input_plan(input_spec)
                        plans[name] = plan
            if len(links) != len(inputs):  # some input is no link: sort the literals
                for name, value in inputs.items():
                    if type(value) is list:
                        continue
                    plan = plans.get(name)
                    if plan is None:  # undeclared or hidden
                        continue
                    input_spec, primitive, null_invalid, low, high, options, only_link, names_file = plan
                    if names_file and isinstance(value, str):
                        files.append((view, input_spec, name, value))
                    if only_link:
                        link_only.append((view, input_spec, name, value))
                    if options is not None and not (type(value) is str and value in options):
                        combos.append((view, input_spec, name, value))
                    if primitive is None:
                        if null_invalid and value is None:
                            invalid.append((view, input_spec, name, value, None))
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
                            invalid.append((view, input_spec, name, value, result.reason))
                            continue
                        if result.coerced:
                            coerced.append((view, input_spec, name, value, result.value))
                        if primitive != "INT" and primitive != "FLOAT":
                            continue
                        number = result.value
                    if low is not None and number < low:
                        below.append((view, input_spec, name, number))
                    if high is not None and number > high:
                        above.append((view, input_spec, name, number))
        for link in links:
            index = link.index
            source = link.parent
            if source is None:
                dangling.append((view, link))
                if index < 0:
                    negative.append((view, link, None))
                continue
            source_spec = source.spec
            if index < 0:
                negative.append((view, link, source_spec))
            if source_spec is None:
                continue
            outputs = source_spec.outputs
            if index >= len(outputs) or index < -len(outputs):
                out_of_range.append((view, link, source))
                continue
            if plans is None:
                continue
            plan = plans.get(link.input)
            if plan is None:  # undeclared or hidden
                continue
            input_spec = plan[0]
            out = outputs[index]
            if out.type == input_spec.type:  # the usual case, and always a fit
                continue
            key = (id(source_spec), index, id(input_spec))
            if key in fine:
                continue
            if MATCH_TYPE in (out.type, input_spec.type) or types_compatible(out.type, input_spec.type):
                fine.add(key)
                continue
            mismatched.append((view, link, input_spec, source, out))
    return facts
