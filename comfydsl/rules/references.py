"""Reference rules (CD1xx): unknown or missing class types, links to missing nodes or outputs."""

from __future__ import annotations

from typing import Iterator

from ..catalog import packs_defining
from ..catalog.names import SEARCH_LIMIT, CatalogNames, NearMiss, near_miss_index
from ..catalog.nodes import NodeSpec
from ..checks.context import CheckContext
from ..diagnostics import Diagnostic, show
from ..workflow.document import json_kind
from .base import CheckRule, node_location


class UnknownClassType(CheckRule):
    """A node's `class_type` is not a node class of the catalogue.

    ComfyUI checks class types before anything else, for every node, connected or not.

    **Why is this bad?** The whole prompt is rejected (`invalid_prompt`: "Cannot execute
    because node X does not exist"), even when the node feeds nothing.

    **Example:** `"class_type": "KSamplr"`.

    **Use instead:** the right class name (`KSampler`), or load the catalogue of the worker's
    custom nodes with `--catalog`. When a catalogue pack shipped with comfydsl defines the
    class, the help names it (`--catalog pulid_flux`). A near-miss suggestion comes with the
    `--catalog` hint, never instead of it: the class may be a custom node after all.

    One finding per node of an unknown class, and no knock-on findings: the class may be an
    output node, so nothing is reported as feeding no output because of it.

    ComfyUI by version: up to 0.11 the error is `invalid_prompt` ("Cannot execute because node
    X does not exist"); from 0.12.0 it is `missing_node_type` ("Node 'X' not found. The custom
    node may not be installed."). From 0.14.0, POST /prompt first maps a few retired core
    classes to their replacements (`GET /node_replacements`); comfydsl does not.
    """

    code = "CD101"
    name = "unknown-class-type"
    comfy_error = "invalid_prompt"
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if not ctx.unknown_nodes:
            return  # every class is known
        hints: dict[str, str] = {}  # one search per unknown name, however many nodes use it
        budget = [SEARCH_LIMIT]
        for node_id in ctx.unknown_nodes:
            node = ctx.nodes[node_id]
            assert node.class_type is not None
            hint = hints.get(node.class_type)
            if hint is None:
                hint = hints[node.class_type] = _suggest(node.class_type, near_miss_index(ctx.catalog), budget)
            notes: tuple[str, ...] = ()
            if hint != _CATALOG_HINT and not packs_defining(node.class_type):
                notes = (_CATALOG_HINT,)
            yield self.at(node, f"node `{node.id}` has unknown class_type `{node.class_type}`",
                          path=("class_type",), help=hint, notes=notes, class_type_value=node.class_type)


_CATALOG_HINT = "if this class comes from a custom node pack, load the worker's catalogue with `--catalog`"


def _suggest(name: str, index: CatalogNames, budget: list[int]) -> str:
    packs = packs_defining(name)
    if len(packs) == 1:
        return (f"the shipped catalogue pack `{packs[0]}` defines `{name}`: add `--catalog {packs[0]}` "
                f"(or `packs = [\"{packs[0]}\"]` in comfydsl.toml)")
    if packs:
        names = ", ".join(f"`{p}`" for p in packs)
        return f"the shipped catalogue packs {names} define `{name}`: add the worker's one with `--catalog NAME`"
    lowered = index.lowered
    if name.lower() in lowered:
        return f"class names are case-sensitive: use `{lowered[name.lower()]}`"
    if name in index.display:
        return f"`{name}` is a display name; the class is `{index.display[name]}`"
    close = index.classes.suggest_within(name, budget)
    if close:
        names = " or ".join(f"`{c}`" for c in close)
        return f"a node class with a similar name exists: {names}"
    return _CATALOG_HINT


class MissingClassType(CheckRule):
    """A node has no `class_type`, or it is not a string.

    **Why is this bad?** ComfyUI rejects the whole prompt (`invalid_prompt`: "does not have
    a class_type property"), even when the node feeds nothing.

    **Example:** `"5": {"inputs": {"width": 512}}`.

    **Use instead:** `"class_type": "<NodeClass>"`.
    """

    code = "CD102"
    name = "missing-class-type"
    comfy_error = "invalid_prompt"
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_misshapen():
            if not node.is_object or node.class_type is not None:
                continue
            if "class_type" in node.raw:
                msg = f"`class_type` of node `{node.id}` is {json_kind(node.raw['class_type'])}, not a string"
            else:
                msg = f"node `{node.id}` has no `class_type`"
            yield self.at(node, msg, path=("class_type",), help='set "class_type" to a node class name')


class DanglingLink(CheckRule):
    """A link points at a node id that is not in the workflow.

    **Why is this bad?** ComfyUI fails with an exception while validating the node
    (`exception_during_inner_validation`).

    **Example:** `"vae": ["40", 2]` where no node `40` exists.

    **Use instead:** link to an existing node.
    """

    code = "CD103"
    name = "dangling-link"
    comfy_error = "exception_during_inner_validation"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        ids, budget = None, []
        for node, link in ctx.facts.links.dangling:
            if ids is None:
                ids, budget = NearMiss(ctx.nodes, n=1, cutoff=0.6), [SEARCH_LIMIT]
            close = ids.suggest_within(link.source, budget)
            help = f"a node with a similar id exists: `{close[0]}`" if close else "link to an existing node id"
            yield self.at(node, f"input `{link.input}` links to node `{link.source}`, which does not exist",
                          input=link.input, help=help, source=link.source)


class OutputIndexOutOfRange(CheckRule):
    """A link names an output index the source node does not have.

    **Why is this bad?** ComfyUI fails with an `IndexError` while validating the node
    (`exception_during_inner_validation`).

    **Example:** `["4", 3]` where node `4` is a `CheckpointLoaderSimple` with outputs 0-2.

    **Use instead:** an index within range; the message lists the outputs.
    """

    code = "CD104"
    name = "output-index-out-of-range"
    comfy_error = "exception_during_inner_validation"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, link, source in ctx.facts.links.out_of_range:
            assert source.spec is not None
            count = len(source.spec.outputs)
            yield self.at(
                node,
                f"input `{link.input}` links to output {link.index} of node `{link.source}` "
                f"(`{source.class_type}`), which has {_outputs_text(count)}",
                input=link.input, help=_outputs_help(source.spec),
                related=(node_location(ctx, link.source, "the source node"),))


class NegativeOutputIndex(CheckRule):
    """A link uses a negative output index.

    ComfyUI indexes outputs as a Python list, so `-1` quietly means "the last output".

    **Why is this bad?** It only works by accident: the meaning changes when a node gains
    an output, and other tools reject it.

    **Example:** `["4", -1]`.

    **Use instead:** the output's real index, `["4", 2]`.
    """

    code = "CD105"
    name = "negative-output-index"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, link, spec in ctx.facts.links.negative:
            help = "use the output's index counted from 0"
            if spec is not None and -len(spec.outputs) <= link.index < 0:
                real = spec.outputs[link.index]
                help = f"output {link.index} is `{real.name}`; write it as {show([link.source, real.index])}"
            yield self.at(node, f"input `{link.input}` uses negative output index {link.index}",
                          input=link.input, help=help)


def _outputs_text(count: int) -> str:
    if count == 0:
        return "no outputs"
    return "1 output (index 0)" if count == 1 else f"{count} outputs (indexes 0-{count - 1})"


def _outputs_help(spec: NodeSpec) -> str:
    if not spec.outputs:
        return f"`{spec.name}` has no outputs to link from"
    listed = ", ".join(f"{o.index} `{o.name}` ({o.type})" for o in spec.outputs)
    return f"the outputs of `{spec.name}` are: {listed}"
