"""Walks over the links that several rules share, done once per check.

Each link rule used to walk every link of the workflow itself; `link_facts` walks them once
and sorts out what each rule reports, in workflow order, so that each rule reports exactly
what its own walk would.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from ..catalog.nodes import MATCH_TYPE, InputSpec, NodeSpec, OutputSpec, types_compatible
from ..checks.context import CheckContext, Link, NodeView


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


def link_facts(ctx: CheckContext) -> LinkFacts:
    """The links some rule reports (walked once per check)."""
    return ctx.shared(link_facts, _walk_links)


def _walk_links(ctx: CheckContext) -> LinkFacts:
    facts = LinkFacts()
    dangling, out_of_range, negative, mismatched = (facts.dangling, facts.out_of_range, facts.negative,
                                                    facts.mismatched)
    nodes = ctx.nodes
    # (source class, output index, input spec) found to fit; by id(): the specs outlive the walk
    fine: set[tuple[int, int, int]] = set()
    for node in nodes.values():
        links = node.links
        if not links:
            continue
        specs: Any = node.input_specs if node.spec is not None else None
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
            if specs is None:
                continue
            spec = specs.get(link.input)
            if spec is None:
                continue
            key = (id(source_spec), index, id(spec))
            if key in fine or spec.section == "hidden":
                continue
            out = outputs[index]
            if MATCH_TYPE in (out.type, spec.type) or types_compatible(out.type, spec.type):
                fine.add(key)
                continue
            mismatched.append((node, link, spec, source, out))
    return facts
