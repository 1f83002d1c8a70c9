"""Rules on link types."""

from __future__ import annotations

from typing import Iterator

from ..catalog.nodes import types_compatible
from ..checks.context import CheckContext
from ..diagnostics import Diagnostic
from .base import CheckRule, node_location


class LinkTypeMismatch(CheckRule):
    """A link feeds an input from an output of another type.

    Types are compared by name, as ComfyUI does: `*` matches anything, and a
    comma-separated type matches when it shares a name with the other side.

    **Why is this bad?** ComfyUI rejects the node (`return_type_mismatch`).

    **Example:** a CLIP output wired into a KSampler's `model`: `"model": ["4", 1]`.

    **Use instead:** link an output of the input's type; the help lists the source node's
    outputs of that type.
    """

    code = "CD301"
    name = "link-type-mismatch"
    comfy_error = "return_type_mismatch"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.iter_nodes():
            if node.spec is None:
                continue
            for link in node.links:
                spec = node.spec.inputs.get(link.input)
                source = ctx.nodes.get(link.source)
                if spec is None or spec.hidden or source is None or source.spec is None:
                    continue
                outputs = source.spec.outputs
                if not -len(outputs) <= link.index < len(outputs):
                    continue
                out = outputs[link.index]
                if types_compatible(out.type, spec.type):
                    continue
                fits = [o for o in outputs if types_compatible(o.type, spec.type)]
                if fits:
                    help = "the source has a fitting output: " + ", ".join(
                        f'["{link.source}", {o.index}] (`{o.name}`)' for o in fits)
                else:
                    help = f"link an output of type `{spec.type}` to `{link.input}`"
                what = f"of type `{out.type}`" if out.name == out.type else f"`{out.name}` of type `{out.type}`"
                yield self.at(
                    node,
                    f"input `{link.input}` expects `{spec.type}`, but output {link.index} of node "
                    f"`{link.source}` (`{source.class_type}`) is {what}",
                    input=link.input, help=help,
                    related=(node_location(ctx, link.source, f"`{out.type}` comes from here"),),
                    expected=spec.type, received=out.type)
