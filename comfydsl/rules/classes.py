"""Rules on what a node's class says about itself: deprecated, experimental, a paid API node.

These come from class fields of the catalogue (`deprecated`, `experimental`, `api_node`), which
ComfyUI emits for V1 nodes when true and for V3 nodes always. None of them makes ComfyUI reject
a prompt, so none is an error.
"""

from __future__ import annotations

from typing import Iterator

from ..checks.context import CheckContext
from ..diagnostics import Diagnostic, Severity
from .base import CheckRule


class DeprecatedNode(CheckRule):
    """A node's class is marked deprecated in the catalogue.

    **Why is this bad?** ComfyUI still runs it, but hides it from the node search and may
    remove it (or map it to a replacement, from 0.14.0 on) in a later release; the workflow
    then stops working when the worker is upgraded.

    **Example:** a node whose catalogue entry has `"deprecated": true`.

    **Use instead:** the class that replaces it (see its description in ComfyUI).
    """

    code = "CD106"
    name = "deprecated-node"
    severity = Severity.WARNING
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if "deprecated" not in ctx.traits:
            return
        for node in ctx.iter_nodes():
            if node.spec is not None and node.spec.deprecated:
                yield self.at(node, f"node `{node.id}` uses `{node.class_type}`, which is deprecated",
                              path=("class_type",), help="use the class that replaces it; deprecated classes "
                              "may disappear when the worker's ComfyUI is upgraded")


class ExperimentalNode(CheckRule):
    """A node's class is marked experimental in the catalogue.

    **Why is this bad?** Its inputs and behaviour may change in any ComfyUI release, so a
    workflow that works today may fail after the worker is upgraded.

    **Example:** a node whose catalogue entry has `"experimental": true`.

    **Use instead:** pin the worker's ComfyUI version, or a stable class that does the same.
    """

    code = "CD107"
    name = "experimental-node"
    severity = Severity.WARNING
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if "experimental" not in ctx.traits:
            return
        for node in ctx.iter_nodes():
            if node.spec is not None and node.spec.experimental:
                yield self.at(node, f"node `{node.id}` uses `{node.class_type}`, which is experimental",
                              path=("class_type",), help="its inputs may change in a later ComfyUI release; "
                              "pin the worker's version")


class ApiNode(CheckRule):
    """A node calls a paid Comfy.org API (an "API node": `api_node: true`).

    **Why is this bad?** It is not: but it runs only with a Comfy.org API key, and each run
    is billed to that account. Without the key the node fails when it runs (ComfyUI's
    validation does not check for it). worker-comfyui (5.5.0 and later) takes the key per
    request as `comfy_org_api_key` in the job's `input`.

    **Example:** `OpenAIDalle3`, `FluxProUltraImageNode`.

    **Use instead:** send `comfy_org_api_key` with the job (or set it on the worker).
    """

    code = "CD108"
    name = "api-node"
    severity = Severity.NOTE
    lenient_when_unused = False

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if "api_node" not in ctx.traits:
            return
        for node in ctx.iter_nodes():
            if node.spec is not None and node.spec.api_node:
                yield self.at(node, f"node `{node.id}` (`{node.class_type}`) calls a paid Comfy.org API and "
                                    "needs a Comfy.org API key", path=("class_type",),
                              help="send the key with the job: `comfy_org_api_key` in the RunPod request's "
                                   "`input` (worker-comfyui 5.5.0 and later)")
