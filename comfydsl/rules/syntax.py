"""Workflow shape rules (CD00x): nodes, inputs and links that are not what the API format says."""

from __future__ import annotations

from typing import Any, Iterator

from ..checks.context import CheckContext
from ..diagnostics import Diagnostic, Severity, show
from ..workflow.document import json_kind
from .base import CheckRule


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
        for node in ctx.iter_misshapen():
            if not node.is_object:
                yield self.at(node, f"node `{node.id}` is {json_kind(node.raw)}, not an object",
                              help='write the node as {"class_type": "...", "inputs": {...}}')


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
        for node in ctx.iter_misshapen():
            if not node.is_object or node.inputs is not None:
                continue
            if "inputs" not in node.raw:
                yield self.at(node, f"node `{node.id}` has no `inputs`", path=(),
                              help='add "inputs": {} (an object, even when empty)')
            else:
                yield self.at(node, f"`inputs` of node `{node.id}` is {json_kind(node.raw['inputs'])}, not an object",
                              path=("inputs",), help='write the inputs as an object: {"name": value, ...}')


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
        for node, name, value in ctx.malformed_links:  # every list in `inputs` that is no well-formed link
            yield self.at(node, _link_problem(value, name), input=name, help=_link_help(value), value=value)


def _link_problem(value: list[Any], name: str) -> str:
    if len(value) != 2:
        return f"input `{name}` holds a list of {len(value)} items; a link is `[node id, output index]`"
    source, index = value
    if not isinstance(source, str):
        return f"link in `{name}` names node {show(source)}, which is {json_kind(source)}; node ids are strings"
    return f"link in `{name}` has output index {show(index)}; an output index is a whole number"


def _link_help(value: list[Any]) -> str:
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
