"""Rules on which inputs a node is given."""

from __future__ import annotations

from typing import Iterator

from ..catalog.names import SEARCH_LIMIT, near_miss_index
from ..checks.context import CheckContext
from ..diagnostics import Diagnostic, Severity
from .base import CheckRule, show


class MissingRequiredInput(CheckRule):
    """A node lacks one of its class's required inputs.

    **Why is this bad?** ComfyUI rejects the node (`required_input_missing`) and with it
    every output that depends on it.

    **Example:** a `KSampler` without `seed`.

    **Use instead:** set the input, or link an output of the right type to it.
    """

    code = "CD201"
    name = "missing-required-input"
    comfy_error = "required_input_missing"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_nodes():
            if node.spec is None or node.inputs is None:
                continue
            for spec in node.spec.inputs.values():
                if spec.section != "required" or spec.name in node.inputs:
                    continue
                if spec.is_primitive and not spec.force_input:
                    default = spec.default
                    hint = f"set `{spec.name}=`" + (f" (the default is {show(default)})" if default is not None else "")
                    hint += f" or link an output of type `{spec.type}` to it"
                elif spec.is_combo:
                    hint = f"set `{spec.name}` to one of its options"
                else:
                    hint = f"link an output of type `{spec.type}` to `{spec.name}`"
                yield self.at(node, f"node `{node.id}` (`{node.class_type}`) is missing required input `{spec.name}`",
                              input=spec.name, path=("inputs",), help=hint, type=spec.type)


class UnknownInput(CheckRule):
    """A node is given an input its class does not declare.

    **Why is this bad?** ComfyUI silently ignores it, so a misspelt input (`denoize`) does
    nothing and the real input keeps its value or is reported missing.

    **Example:** `"KSampler": {"inputs": {"sead": 5, ...}}`.

    **Use instead:** the declared name; the help names the closest one.
    """

    code = "CD202"
    name = "unknown-input"
    severity = Severity.WARNING

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        names, budget = None, [SEARCH_LIMIT]
        for node in ctx.iter_nodes():
            if node.spec is None or node.inputs is None:
                continue
            declared = node.spec.inputs
            for name in node.inputs:
                if name in declared:
                    continue
                names = names or near_miss_index(ctx.catalog)
                close = names.inputs(node.spec).suggest_within(name, budget)
                if close:
                    help = f"an input with a similar name exists: `{close[0]}`"
                else:
                    help = f"`{node.class_type}` takes: " + names.input_listing(node.spec)
                yield self.at(node, f"`{node.class_type}` has no input `{name}`; ComfyUI ignores it",
                              input=name, help=help)


class LiteralForLinkInput(CheckRule):
    """An input that only a link can feed (MODEL, IMAGE, LATENT, ...) holds a literal value.

    **Why is this bad?** ComfyUI's validator passes literals on such inputs unchecked, and
    the node then fails at run time, on a paid GPU, when it gets a number instead of a model.

    **Example:** `"model": 0` on a `KSampler`.

    **Use instead:** a link to an output of that type, `"model": ["4", 0]`.
    """

    code = "CD203"
    name = "literal-for-link-input"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_nodes():
            if node.spec is None or node.inputs is None:
                continue
            for name, value in node.inputs.items():
                spec = node.spec.inputs.get(name)
                if spec is None or spec.hidden or not spec.takes_link_only or type(value) is list:
                    continue
                yield self.at(node, f"input `{name}` takes a `{spec.type}` link, but holds the value {show(value)}",
                              input=name, help=f"link an output of type `{spec.type}` to `{name}`",
                              value=value)
