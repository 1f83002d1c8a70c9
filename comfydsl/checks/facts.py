"""What the one pass over a workflow's inputs finds for the input, link and value rules.

`CheckContext.build` reads every input of every node once. On the way it sorts each
literal and each link into the lists below (`Literals`, `LinkFacts`), so that each rule
reads its own list instead of walking the workflow again. Every list is in the workflow's
order as far as a rule can tell: literals by node and input; links by node and input,
except that a link to a node written later in the file is looked at once every node is
read (the findings are sorted by position in the end).

What the pass needs of a class (its inputs' plans, its required input names) is worked
out once per class and kept across checks (`SpecMemo`, `class_plan`), so the per-node work
is a few dict lookups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Collection

from ..catalog.nodes import MATCH_TYPE, InputSpec, NodeSpec, OutputSpec, types_compatible

if TYPE_CHECKING:
    from .context import Link, NodeView

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
        #: (node, link) of links to a node id the workflow lacks (`dangling-link`), in
        #: workflow order
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


def sort_link(found: LinkFacts, node: NodeView, link: Link, source: NodeView, plans: dict[str, Plan] | None,
              fine: set[tuple[int, int, int]]) -> None:
    """Sort a link whose source node exists into what the link rules report.

    `plans`: the plans of the linking node's inputs (None: its class is unknown). `fine`:
    (source class, output index, input spec) found to fit before, by id(); the specs
    outlive the check, so the ids stay theirs.
    """
    index = link.index
    source_spec = source.spec
    if index < 0:
        found.negative.append((node, link, source_spec))
    if source_spec is None:
        return
    outputs = source_spec.outputs
    if index >= len(outputs) or index < -len(outputs):
        found.out_of_range.append((node, link, source))
        return
    if plans is None:
        return
    plan = plans.get(link.input)
    if plan is None:  # undeclared or hidden
        return
    spec = plan[0]
    key = (id(source_spec), index, id(spec))
    if key in fine:
        return
    out = outputs[index]
    if MATCH_TYPE in (out.type, spec.type) or types_compatible(out.type, spec.type):
        fine.add(key)
        return
    found.mismatched.append((node, link, spec, source, out))
