"""The workflow as the checks see it: a networkx DiGraph of nodes and links.

Building the context never fails on malformed input; what cannot be understood is kept
so that the rules can report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import networkx as nx

from ..catalog.dynamic import Expansion, expand_inputs
from ..catalog.models import ModelCatalog
from ..catalog.nodes import InputSpec, NodeCatalog, NodeSpec
from ..workflow.links import is_link


@dataclass(slots=True)
class Link:
    """A well-formed link `[source, index]` held by `target.inputs[input]`."""

    target: str
    input: str
    source: str
    index: int


@dataclass(slots=True)
class NodeView:
    """One node of the workflow, as far as it could be read."""

    id: str
    raw: Any
    class_type: str | None = None
    spec: NodeSpec | None = None
    inputs: dict[str, Any] | None = None
    links: list[Link] = field(default_factory=list)
    _expansion: Expansion | None = None

    @property
    def is_object(self) -> bool:
        return isinstance(self.raw, dict)

    @property
    def expansion(self) -> Expansion:
        """The node's inputs given its values (V3 dynamic inputs expanded); needs `spec`."""
        if self._expansion is None:
            assert self.spec is not None
            self._expansion = expand_inputs(self.spec, self.inputs)
        return self._expansion

    @property
    def input_specs(self) -> dict[str, InputSpec]:
        """Input name (dotted for V3 dynamic inputs) -> spec, for the values this node holds."""
        return self.expansion.inputs


@dataclass
class CheckContext:
    """Everything a rule may look at."""

    workflow: dict[str, Any]
    catalog: NodeCatalog
    models: ModelCatalog | None = None
    input_files: set[str] | None = None
    duplicates: dict[str, int] = field(default_factory=dict)
    nodes: dict[str, NodeView] = field(default_factory=dict)
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    output_nodes: list[str] = field(default_factory=list)
    live: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, workflow: dict[str, Any], catalog: NodeCatalog, *, models: ModelCatalog | None = None,
              input_files: set[str] | None = None, duplicates: dict[str, int] | None = None) -> CheckContext:
        ctx = cls(workflow, catalog, models, input_files, dict(duplicates or {}))
        graph = ctx.graph
        for node_id, raw in workflow.items():
            view = NodeView(str(node_id), raw)
            if isinstance(raw, dict):
                cls_name = raw.get("class_type")
                if isinstance(cls_name, str):
                    view.class_type = cls_name
                    view.spec = catalog.get(cls_name)
                inputs = raw.get("inputs")
                if isinstance(inputs, dict):
                    view.inputs = inputs
            ctx.nodes[view.id] = view
            graph.add_node(view.id)
        for view in ctx.nodes.values():
            if view.inputs is None:
                continue
            for name, value in view.inputs.items():
                if is_link(value):
                    link = Link(view.id, name, value[0], value[1])
                    view.links.append(link)
                    if link.source in ctx.nodes:
                        if graph.has_edge(link.source, view.id):
                            graph.edges[link.source, view.id]["inputs"].append(name)
                        else:
                            graph.add_edge(link.source, view.id, inputs=[name])
        ctx.output_nodes = [v.id for v in ctx.nodes.values() if v.spec is not None and v.spec.output_node]
        # a node of an unknown class may be an output node: what feeds it counts as used
        unknown = [v.id for v in ctx.nodes.values() if v.class_type is not None and v.spec is None]
        ctx.live = upstream(graph, ctx.output_nodes + unknown)
        return ctx

    def iter_nodes(self) -> Iterator[NodeView]:
        return iter(self.nodes.values())


def upstream(graph: nx.DiGraph, sources: list[str]) -> set[str]:
    """The given nodes and every node they depend on (iterative, no recursion limit)."""
    seen = set(sources)
    stack = list(sources)
    pred = graph.pred
    while stack:
        node = stack.pop()
        for parent in pred[node]:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen
