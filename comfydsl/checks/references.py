"""Rules on node shape and references: class types, node ids, links and output indexes."""

from __future__ import annotations

import difflib
from typing import Iterator

from ..catalog import packs_defining
from ..diagnostics import Diagnostic, Severity
from ..document import json_kind
from .context import CheckContext, is_link
from .registry import CheckRule, node_location, register, show


@register
class MalformedNode(CheckRule):
    """A node entry is not a JSON object.

    **Why is this bad?** ComfyUI looks for `class_type` in it, finds none and rejects the
    whole prompt (`invalid_prompt`).

    **Example:** `"5": ["EmptyLatentImage"]`.

    **Use instead:** `"5": {"class_type": "EmptyLatentImage", "inputs": {...}}`.
    """

    code = "CD005"
    name = "malformed-node"
    comfy_error = "invalid_prompt"
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_nodes():
            if not node.is_object:
                yield self.at(node, f"node `{node.id}` is {json_kind(node.raw)}, not an object",
                              help='write the node as {"class_type": "...", "inputs": {...}}')


@register
class MalformedInputs(CheckRule):
    """A node's `inputs` is missing or is not a JSON object.

    **Why is this bad?** ComfyUI fails validating the node: a list makes every required
    input "missing", a string or `null` raises an exception (`exception_during_validation`).

    **Example:** `"inputs": ["text", "clip"]`.

    **Use instead:** `"inputs": {"text": "...", "clip": ["4", 1]}` (and `{}` for a node
    without inputs).
    """

    code = "CD006"
    name = "malformed-inputs"
    comfy_error = "exception_during_validation"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_nodes():
            if not node.is_object or node.inputs is not None:
                continue
            if "inputs" not in node.raw:
                yield self.at(node, f"node `{node.id}` has no `inputs`", path=(),
                              help='add "inputs": {} (an object, even when empty)')
            else:
                yield self.at(node, f"`inputs` of node `{node.id}` is {json_kind(node.raw['inputs'])}, not an object",
                              path=("inputs",), help='write the inputs as an object: {"name": value, ...}')


@register
class MalformedLink(CheckRule):
    """A list in `inputs` is not a well-formed link `["<node id>", <output index>]`.

    ComfyUI treats every list in `inputs` as a link, whatever the input's type.

    **Why is this bad?** A list of another length fails with `bad_linked_input`; an integer
    node id (ids are strings) or a string index raises an exception during validation.
    A list meant as a value (`[1.0, 2.0]` for a FLOAT) is read as a link too and fails.

    **Example:** `"model": [4, 0]`, `"model": ["4", "0"]`, `"model": ["4", 0, 0]`.

    **Use instead:** `"model": ["4", 0]`.
    """

    code = "CD007"
    name = "malformed-link"
    comfy_error = "bad_linked_input"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_nodes():
            if node.inputs is None:
                continue
            for name, value in node.inputs.items():
                if type(value) is not list or is_link(value):
                    continue
                yield self.at(node, _link_problem(value, name), input=name,
                              help=_link_help(value), value=value)


def _link_problem(value: list, name: str) -> str:
    if len(value) != 2:
        return f"input `{name}` holds a list of {len(value)} items; a link is `[node id, output index]`"
    source, index = value
    if not isinstance(source, str):
        return f"link in `{name}` names node {show(source)}, which is {json_kind(source)}; node ids are strings"
    return f"link in `{name}` has output index {show(index)}; an output index is a whole number"


def _link_help(value: list) -> str:
    if len(value) == 2:
        source, index = value
        if isinstance(source, (int, float)) and not isinstance(source, bool):
            source = str(source).removesuffix(".0")
        if isinstance(index, str) and index.lstrip("-").isdigit():
            index = int(index)
        if isinstance(source, str) and type(index) is int:
            return f"write the link as {show([source, index])}"
    if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return "a list in `inputs` is always read as a link; give a single value instead"
    return 'a link is ["<node id>", <output index>], e.g. ["4", 0]'


@register
class EmptyNodeId(CheckRule):
    """A node has the empty string as its id.

    **Why is this bad?** ComfyUI accepts it, but it is easy to lose in tools, logs and
    history entries, and it usually comes from a broken export.

    **Example:** `"": {"class_type": "EmptyLatentImage", ...}` linked as `["", 0]`.

    **Use instead:** a non-empty id such as `"12"`.
    """

    code = "CD008"
    name = "empty-node-id"
    severity = Severity.WARNING

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if "" in ctx.nodes:
            yield self.at(ctx.nodes[""], "a node has the empty string as its id", path=(),
                          help="give the node a non-empty id and update the links to it")


@register
class UnknownClassType(CheckRule):
    """A node's `class_type` is not a node class of the catalogue.

    ComfyUI checks class types before anything else, for every node, connected or not.

    **Why is this bad?** The whole prompt is rejected (`invalid_prompt`: "Cannot execute
    because node X does not exist"), even when the node feeds nothing.

    **Example:** `"class_type": "KSamplr"`.

    **Use instead:** the right class name (`KSampler`), or load the catalogue of the worker's
    custom nodes with `--catalog`. When a catalogue pack shipped with comfydsl defines the
    class, the help names it (`--catalog pulid_flux`).
    """

    code = "CD101"
    name = "unknown-class-type"
    comfy_error = "invalid_prompt"
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        display = None
        for node in ctx.iter_nodes():
            if node.class_type is None or node.spec is not None:
                continue
            if display is None:
                display = ctx.catalog.display_names()
            hint = _suggest(node.class_type, ctx.catalog, display)
            yield self.at(node, f"node `{node.id}` has unknown class_type `{node.class_type}`",
                          path=("class_type",), help=hint, class_type_value=node.class_type)


def _suggest(name: str, catalog, display: dict[str, str]) -> str:
    packs = packs_defining(name)
    if len(packs) == 1:
        return (f"the shipped catalogue pack `{packs[0]}` defines `{name}`: add `--catalog {packs[0]}` "
                f"(or `packs = [\"{packs[0]}\"]` in comfydsl.toml)")
    if packs:
        names = ", ".join(f"`{p}`" for p in packs)
        return f"the shipped catalogue packs {names} define `{name}`: add the worker's one with `--catalog NAME`"
    lowered = {n.lower(): n for n in catalog}
    if name.lower() in lowered:
        return f"class names are case-sensitive: use `{lowered[name.lower()]}`"
    if name in display:
        return f"`{name}` is a display name; the class is `{display[name]}`"
    close = difflib.get_close_matches(name, list(catalog), n=2, cutoff=0.75)
    if close:
        names = " or ".join(f"`{c}`" for c in close)
        return f"a node class with a similar name exists: {names}"
    return "if this class comes from a custom node pack, load the worker's catalogue with `--catalog`"


@register
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
        for node in ctx.iter_nodes():
            if not node.is_object or node.class_type is not None:
                continue
            if "class_type" in node.raw:
                msg = f"`class_type` of node `{node.id}` is {json_kind(node.raw['class_type'])}, not a string"
            else:
                msg = f"node `{node.id}` has no `class_type`"
            yield self.at(node, msg, path=("class_type",), help='set "class_type" to a node class name')


@register
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
        ids = None
        for node in ctx.iter_nodes():
            for link in node.links:
                if link.source in ctx.nodes:
                    continue
                if ids is None:
                    ids = list(ctx.nodes)
                close = difflib.get_close_matches(link.source, ids, n=1, cutoff=0.6)
                help = f"a node with a similar id exists: `{close[0]}`" if close else "link to an existing node id"
                yield self.at(node, f"input `{link.input}` links to node `{link.source}`, which does not exist",
                              input=link.input, help=help, source=link.source)


@register
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
        for node in ctx.iter_nodes():
            for link in node.links:
                source = ctx.nodes.get(link.source)
                if source is None or source.spec is None:
                    continue
                count = len(source.spec.outputs)
                if link.index >= count or link.index < -count:
                    yield self.at(
                        node,
                        f"input `{link.input}` links to output {link.index} of node `{link.source}` "
                        f"(`{source.class_type}`), which has {_outputs_text(count)}",
                        input=link.input, help=_outputs_help(source.spec),
                        related=(node_location(ctx, link.source, "the source node"),))


@register
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
        for node in ctx.iter_nodes():
            for link in node.links:
                if link.index >= 0:
                    continue
                source = ctx.nodes.get(link.source)
                spec = source.spec if source else None
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


def _outputs_help(spec) -> str:
    if not spec.outputs:
        return f"`{spec.name}` has no outputs to link from"
    listed = ", ".join(f"{o.index} `{o.name}` ({o.type})" for o in spec.outputs)
    return f"the outputs of `{spec.name}` are: {listed}"
