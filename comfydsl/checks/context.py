"""The workflow as the checks see it: its nodes and their links, the classes they name,
which nodes feed an output, and (on demand) a networkx DiGraph of nodes and links and the
facts the input, link and value rules report (`checks.facts`).

Building the context never fails on malformed input; what cannot be understood is kept
so that the rules can report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Reversible, Sequence

import networkx as nx

from ..catalog.dynamic import Expansion, expand_inputs
from ..catalog.models import ModelCatalog
from ..catalog.nodes import InputSpec, NodeCatalog, NodeSpec
from .facts import ClassEntry, InputFacts, class_plan, sort_inputs

_NO_NAMES: frozenset[str] = frozenset()


@dataclass(slots=True)
class Link:
    """A well-formed link `[source, index]` held by `inputs[input]` of the node whose
    `links` it is in."""

    input: str
    source: str
    index: int
    #: the source node's view (None: the workflow has no node `source`), set by `build`: the
    #: passes along the links follow it rather than looking the id up again. (The views of a
    #: workflow with a cycle hold each other so: the cyclic collector frees them.)
    parent: NodeView | None = None


@dataclass(slots=True)
class NodeView:
    """One node of the workflow, as far as it could be read."""

    id: str
    raw: Any
    class_type: str | None = None
    spec: NodeSpec | None = None
    inputs: dict[str, Any] | None = None
    #: the node's well-formed links, in input order (an empty tuple when it has none: one
    #: shared object rather than a list per node)
    links: Sequence[Link] = ()
    _expansion: Expansion | None = None
    #: whether the node is a JSON object (`raw` is a dict)
    is_object: bool = False
    #: whether the node feeds an output node or a node of an unknown class (or is one), set
    #: by `build` (`CheckContext.live`)
    live: bool = False

    @property
    def expansion(self) -> Expansion:
        """The node's inputs given its values (V3 dynamic inputs expanded); needs `spec`."""
        if self._expansion is None:
            assert self.spec is not None
            self._expansion = expand_inputs(self.spec, self.inputs)
        return self._expansion

    @property
    def input_specs(self) -> dict[str, InputSpec]:
        """Input name (dotted for V3 dynamic inputs) -> spec, for the values this node holds
        (read only: for a class without dynamic inputs it is the class's own table)."""
        spec = self.spec
        assert spec is not None
        if not spec.dynamic:
            return spec.inputs  # type: ignore[return-value]
        return self.expansion.inputs


@dataclass
class CheckContext:
    """Everything a rule may look at. Made by `build`, which fills every field below from the
    workflow (the rules rely on that: a context made field by field knows no node)."""

    workflow: dict[str, Any]
    catalog: NodeCatalog
    models: ModelCatalog | None = None
    input_files: set[str] | None = None
    duplicates: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, NodeView] = field(default_factory=dict)
    output_nodes: list[str] = field(default_factory=list)
    #: how many nodes feed an output node or a node of an unknown class (`NodeView.live`)
    live_count: int = 0

    #: class name -> (spec, the plans of its inputs, the names of its required inputs, of all
    #: its inputs) of every class the workflow names: no spec for a class the catalogue lacks,
    #: no plans for one with V3 dynamic inputs (see `facts.class_plan`)
    class_plans: dict[str, ClassEntry] = field(default_factory=dict)
    #: the traits (`facts.TRAITS`) of the workflow's classes, together: a rule about classes
    #: of some kind has nothing to say unless the kind is here
    traits: set[str] = field(default_factory=set)
    #: Whether every link runs from a node written earlier in the workflow to one written
    #: later: then the workflow's own order is a topological order and no cycle can exist.
    links_ordered: bool = False
    #: Whether no node depends on itself through links
    acyclic: bool = True
    #: (node, input name, value) of every list in `inputs` that is not a well-formed link, in
    #: workflow order
    malformed_links: list[tuple[NodeView, str, Any]] = field(default_factory=list)
    #: the ids of the nodes of a class the catalogue lacks, in workflow order
    unknown_nodes: list[str] = field(default_factory=list)
    #: the nodes that are no object, or lack a string `class_type` or an `inputs` object, in
    #: workflow order
    misshapen: list[NodeView] = field(default_factory=list)
    _graph: nx.DiGraph | None = field(default=None, repr=False)
    _facts: InputFacts | None = field(default=None, repr=False)

    @property
    def live(self) -> set[str]:
        """The ids of the nodes that feed an output node or a node of an unknown class (or
        are one): the nodes whose `live` flag `build` set."""
        return {key for key, view in self.nodes.items() if view.live}

    @property
    def graph(self) -> nx.DiGraph:
        """The workflow as a networkx DiGraph: a node per workflow node, an edge per linked
        pair (source -> target). Built in bulk on first use: the cycle checks need it only
        when the links do not follow the workflow's order."""
        if self._graph is None:
            nodes = self.nodes
            graph = nx.DiGraph()
            graph.add_nodes_from(nodes)
            # The edges are handed over as they are read off the links, never held in a list
            # at once (peak memory); a pair linked twice is one edge, as networkx merges repeats.
            graph.add_edges_from((link.source, view.id) for view in nodes.values()
                                 for link in view.links if link.parent is not None)
            self._graph = graph
        return self._graph

    @classmethod
    def build(cls, workflow: dict[str, Any], catalog: NodeCatalog, *, models: ModelCatalog | None = None,
              input_files: set[str] | None = None, duplicates: dict[str, int] | None = None) -> CheckContext:
        """Read the workflow in one pass over its nodes: the node views, their links, the
        classes met and whether the links follow the file's order. What the input, link and
        value rules report is sorted out when a rule first asks (`facts`); the networkx graph
        is built from the links when a check first needs it (`graph`).

        The per-node work is plain dict and list operations; class lookups are made once per
        class and check, and what the checks need of a class once per class (`facts.class_plan`).
        """
        builder = ContextBuilder(catalog)
        builder.add(workflow)
        return builder.finish(workflow, models=models, input_files=input_files, duplicates=duplicates)

    @property
    def facts(self) -> InputFacts:
        """What the input, link and value rules report, sorted out in one pass over every
        input on first use (`facts.sort_inputs`)."""
        if self._facts is None:
            self._facts = sort_inputs(self)
        return self._facts

    def is_acyclic(self) -> bool:
        """Whether no node depends on itself through links (found by `build`)."""
        return self.acyclic

    def iter_nodes(self) -> Iterator[NodeView]:
        return iter(self.nodes.values())

    def iter_misshapen(self) -> Iterator[NodeView]:
        """The nodes that are no object or lack a string `class_type` or an `inputs` object."""
        return iter(self.misshapen)

    def class_specs(self) -> dict[str, NodeSpec | None]:
        """Class name -> spec (None: not in the catalogue) of every class the workflow names."""
        return {name: entry[0] for name, entry in self.class_plans.items()}


class ContextBuilder:
    """`CheckContext.build` in steps: the nodes given in parts (`add`), in the workflow's
    order, then `finish` with the whole workflow. A long workflow that reading decodes part
    by part (`workflow.document.read_document`) is so taken in while each part is still in
    the processor's caches, rather than read again from memory once all of it is decoded.
    """

    __slots__ = ("ctx", "_ahead")

    def __init__(self, catalog: NodeCatalog) -> None:
        self.ctx = CheckContext({}, catalog)
        # Sources not yet read when a link to them was: if any of them is a node (written
        # later, or the linking node itself), the links do not follow the file's order.
        self._ahead: set[str] = set()

    def add(self, part: dict[str, Any]) -> None:
        """Take in the nodes of `part`: the workflow's next nodes, none of them given before."""
        ctx = self.ctx
        nodes = ctx.nodes
        classes = ctx.class_plans
        traits = ctx.traits
        lookup = ctx.catalog.get
        outputs = ctx.output_nodes
        unknown = ctx.unknown_nodes  # nodes of an unknown class
        malformed = ctx.malformed_links
        misshapen = ctx.misshapen
        ahead = self._ahead
        for node_id, raw in part.items():
            key = node_id if type(node_id) is str else str(node_id)
            if not isinstance(raw, dict):
                misshapen.append(NodeView(key, raw, None, None, None, ()))
                nodes[key] = misshapen[-1]
                continue
            cls_name = raw.get("class_type")
            if type(cls_name) is str or isinstance(cls_name, str):
                known = classes.get(cls_name)
                if known is None:
                    found_spec = lookup(cls_name)
                    if found_spec is None:
                        known = classes[cls_name] = (None, None, _NO_NAMES, _NO_NAMES)
                    else:
                        class_plans, required, names, class_traits = class_plan(found_spec)
                        known = classes[cls_name] = (found_spec, class_plans, required, names)
                        traits.update(class_traits)
                spec = known[0]
                # a node of an unknown class may be an output node: what feeds it counts as used
                live = True
                if spec is None:
                    unknown.append(key)
                elif spec.output_node:
                    outputs.append(key)
                else:
                    live = False
            else:
                cls_name = spec = None
                live = False
            inputs = raw.get("inputs")
            if not isinstance(inputs, dict):
                misshapen.append(NodeView(key, raw, cls_name, spec, None, (), None, True, live))
                nodes[key] = misshapen[-1]
                continue
            view = nodes[key] = NodeView(key, raw, cls_name, spec, inputs, (), None, True, live)
            if cls_name is None:
                misshapen.append(view)
            links: list[Link] | None = None
            for name, value in inputs.items():
                # is_link(), inlined: this loop runs once per input of the workflow
                if type(value) is not list:
                    continue
                if len(value) != 2:
                    malformed.append((view, name, value))
                    continue
                source, index = value
                if not isinstance(source, str) or type(index) is not int:
                    malformed.append((view, name, value))
                    continue
                parent = nodes.get(source)
                if parent is None or parent is view:
                    ahead.add(source)
                if links is None:  # a list of one, not the four slots `append` would reserve
                    links = view.links = [Link(name, source, index, parent)]
                else:
                    links.append(Link(name, source, index, parent))

    def finish(self, workflow: dict[str, Any], *, models: ModelCatalog | None = None,
               input_files: set[str] | None = None, duplicates: dict[str, int] | None = None) -> CheckContext:
        """The context of `workflow`, whose nodes are those given to `add`, in that order."""
        ctx = self.ctx
        nodes = ctx.nodes
        if len(nodes) != len(workflow):
            # ids that collide once made strings (`1` and `"1"`): JSON has string keys only, so
            # this is a workflow built in code. Read it again as the one it stands for, with
            # the last node of each id (what a JSON reader would make of the same text).
            again = CheckContext.build({str(k): v for k, v in workflow.items()}, ctx.catalog, models=models,
                                       input_files=input_files, duplicates=duplicates)
            again.workflow = workflow
            return again
        ctx.workflow = workflow
        ctx.models = models
        ctx.input_files = input_files
        ctx.duplicates = dict(duplicates or {})
        ordered = self._ahead.isdisjoint(nodes)
        if not ordered:  # links to nodes written later (or to the node itself): their parents
            for view in nodes.values():
                for link in view.links:
                    if link.parent is None:
                        link.parent = nodes.get(link.source)
        ctx.links_ordered = ordered
        # The file's order is a topological order when the links follow it; otherwise one
        # depth-first walk finds one, or finds that a cycle exists.
        order = nodes.values() if ordered else _topological_order(nodes)
        ctx.acyclic = order is not None
        ctx.live_count = _mark_live(nodes, order)
        return ctx


def _topological_order(nodes: dict[str, NodeView]) -> list[NodeView] | None:
    """The nodes in an order where each comes after every node it links from, or None when
    some node depends on itself through links.

    A depth-first walk along the links' parents, iterative (no recursion limit): each node
    and each link is looked at once. Links to ids the workflow lacks are passed over.
    """
    order: list[NodeView] = []
    done: dict[str, bool] = {}  # False: on the walk's current path; True: placed in `order`
    for view in nodes.values():
        if view.id in done:
            continue
        done[view.id] = False
        stack = [(view, iter(view.links))]
        while stack:
            current, pending = stack[-1]
            for link in pending:
                parent = link.parent
                if parent is None:  # a dangling link
                    continue
                state = done.get(parent.id)
                if state is None:
                    done[parent.id] = False
                    stack.append((parent, iter(parent.links)))
                    break
                if state is False:  # back on the current path: a cycle
                    return None
            else:
                done[current.id] = True
                order.append(current)
                stack.pop()
    return order


def _mark_live(nodes: dict[str, NodeView], order: Reversible[NodeView] | None = None) -> int:
    """Set `live` on every node that the nodes already marked live (output nodes, nodes of
    an unknown class) depend on, as `upstream` would find them, but read off the links'
    parents rather than the graph (an edge exists exactly for each link whose source is a
    node of the workflow); return how many nodes are live.

    `order`: the nodes in topological order (each after every node it links from); then one
    pass from last to first finds them all, as each node is reached after everything it feeds.
    """
    count = 0
    if order is not None:
        for view in reversed(order):
            if view.live:
                count += 1
                for link in view.links:
                    parent = link.parent
                    if parent is not None:
                        parent.live = True
        return count
    stack = [view for view in nodes.values() if view.live]
    count = len(stack)
    while stack:
        for link in stack.pop().links:
            parent = link.parent
            if parent is not None and not parent.live:
                parent.live = True
                count += 1
                stack.append(parent)
    return count


def upstream(graph: nx.DiGraph, sources: list[str]) -> set[str]:
    """The given nodes and every node they depend on (iterative, no recursion limit)."""
    seen = set(sources)
    stack = list(sources)
    pred = graph._pred  # the predecessor dicts themselves: no view object per visit
    while stack:
        node = stack.pop()
        for parent in pred[node]:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen
