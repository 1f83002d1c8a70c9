"""Rules on the shape of the whole graph: cycles, output nodes, unused nodes."""

from __future__ import annotations

from typing import Iterator

import networkx as nx

from ..checks.context import CheckContext
from ..diagnostics import Diagnostic, Severity
from ..workflow.links import node_id_key
from .base import CheckRule, node_location


class DependencyCycle(CheckRule):
    """Links form a loop: a node depends, through other nodes, on itself.

    **Why is this bad?** The prompt fails. ComfyUI by version: up to 0.19 its validator
    recurses along links without cycle detection; it ends in a `RecursionError` and the prompt
    fails, usually with no `node_errors` at all, which makes the cause hard to find. From 0.20.0
    every node on the cycle gets `dependency_cycle` with the path (`3 (KSampler) -> 5
    (VAEDecode) -> 3 (KSampler)`); comfydsl names the path the same way, on every release.

    **Example:** a `VAEDecode` whose `samples` come from a `KSampler` whose `latent_image`
    comes from a `VAEEncode` of that same `VAEDecode`.

    **Use instead:** break the loop; the message names every node in it.
    """

    code = "CD601"
    name = "dependency-cycle"
    comfy_error = "prompt_outputs_failed_validation"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if ctx.is_acyclic():
            return
        graph = ctx.graph
        for component in nx.strongly_connected_components(graph):
            if len(component) == 1:
                (only,) = component
                if not graph.has_edge(only, only):
                    continue
            members = sorted(component, key=node_id_key)
            first = ctx.nodes[members[0]]
            names = " -> ".join(f"`{m}`" for m in _cycle_order(graph, members)) + f" -> `{_cycle_order(graph, members)[0]}`"
            related = tuple(node_location(ctx, m, "in the cycle") for m in members[1:])
            yield self.at(first, f"nodes form a dependency cycle: {names}", path=(),
                          help="remove one of the links so that no node depends on itself",
                          related=related, members=members)


def _cycle_order(graph: nx.DiGraph, members: list[str]) -> list[str]:
    """The members in link order, starting from the first, where one simple cycle covers them."""
    inside = set(members)
    order = [members[0]]
    seen = {members[0]}
    while True:
        nxt = next((s for s in sorted(graph.succ[order[-1]], key=node_id_key) if s in inside and s not in seen), None)
        if nxt is None:
            break
        order.append(nxt)
        seen.add(nxt)
    return order if len(order) == len(members) else members


class NoOutputNode(CheckRule):
    """The workflow has no output node (SaveImage, PreviewImage, ...).

    **Why is this bad?** ComfyUI runs only what feeds an output node; with none, the prompt
    fails with `prompt_no_outputs`.

    **Example:** a graph that ends in `VAEDecode`, with no `SaveImage` after it.

    **Use instead:** add an output node, such as `SaveImage`, fed by the final image.

    Not reported when the workflow has nodes of unknown classes (CD101): any of them may be
    the output node.
    """

    code = "CD602"
    name = "no-output-node"
    comfy_error = "prompt_no_outputs"
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if ctx.output_nodes:
            return
        if ctx.unknown_nodes:
            return  # an unknown class may well be the output node: CD101 already says what to load
        yield self.report("the workflow has no output node, so ComfyUI has nothing to run",
                          help="add an output node such as `SaveImage` or `PreviewImage`")


class UnusedNode(CheckRule):
    """A node feeds no output node.

    **Why is this bad?** ComfyUI never runs or validates it, so it is dead weight at best;
    often it is a branch that was meant to be connected.

    **Example:** a second `CLIPTextEncode` whose output no sampler uses.

    **Use instead:** connect it to an output, or remove it.

    A node of an unknown class counts as a possible output node: neither it nor what feeds it
    is reported.
    """

    code = "CD603"
    name = "unused-node"
    severity = Severity.WARNING
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if not ctx.output_nodes or ctx.live_count == len(ctx.nodes):
            return
        for node in ctx.iter_nodes():
            # (a node of an unknown class is live: `build` counts it as a possible output node)
            if not node.live and node.is_object:
                yield self.at(node, f"node `{node.id}` (`{node.class_type}`) feeds no output node", path=(),
                              help="connect it to an output node, or remove it")
