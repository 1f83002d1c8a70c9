"""Rules on link types."""

from __future__ import annotations

from typing import Iterator

from ..catalog.nodes import MATCH_TYPE, types_compatible
from ..checks.context import CheckContext, NodeView
from ..diagnostics import Diagnostic, Location, Severity
from .base import CheckRule, node_location


class LinkTypeMismatch(CheckRule):
    """A link feeds an input from an output of another type.

    Types are compared by name, as ComfyUI does: `*` matches anything, and a
    comma-separated type matches when it shares a name with the other side.

    **Why is this bad?** ComfyUI rejects the node (`return_type_mismatch`).

    **Example:** a CLIP output wired into a KSampler's `model`: `"model": ["4", 1]`.

    **Use instead:** link an output of the input's type; the help lists the source node's
    outputs of that type.

    Links into or out of a V3 MatchType socket (`COMFY_MATCHTYPE_V3`) pass ComfyUI's server
    check whatever their types (only the browser checks them); comfydsl checks them as CD302
    instead.
    """

    code = "CD301"
    name = "link-type-mismatch"
    comfy_error = "return_type_mismatch"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, link, spec, source, out in ctx.facts.links.mismatched:
            assert source.spec is not None
            outputs = source.spec.outputs
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


class MatchTypes:
    """Works out the concrete type of V3 MatchType sockets from what is linked to them.

    A MatchType template (`template_id`) takes the type of the first linked input that uses it
    and resolved to a real type; an output listed in `output_matchtypes` carries its template's
    type. Chains of MatchType nodes resolve through each other; loops resolve to nothing.
    """

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self._templates: dict[tuple[str, str], str | None] = {}

    def output_type(self, node: NodeView, index: int) -> str:
        """The type of output `index` of `node`, resolved when it is a MatchType output."""
        assert node.spec is not None
        out = node.spec.outputs[index]
        if out.type != MATCH_TYPE or not out.matchtype:
            return out.type
        return self.template_type(node, out.matchtype) or MATCH_TYPE

    def template_type(self, node: NodeView, template_id: str) -> str | None:
        key = (node.id, template_id)
        if key in self._templates:
            return self._templates[key]
        self._templates[key] = None  # guards against loops while resolving
        found = None
        for link, spec, source in self.linked(node):
            if spec.match_template and spec.match_template[0] == template_id:
                kind = self.output_type(source, link.index)
                allowed = spec.match_template[1]
                # a type the template does not allow is reported on the input, not carried on
                if kind != MATCH_TYPE and (allowed == "*" or types_compatible(kind, allowed)):
                    found = kind
                    break
        self._templates[key] = found
        return found

    def linked(self, node: NodeView):  # type: ignore[no-untyped-def]
        """(link, input spec, source node) of each well-formed link into `node` from a known class."""
        specs = node.input_specs
        for link in node.links:
            spec = specs.get(link.input)
            source = self.ctx.nodes.get(link.source)
            if spec is None or spec.hidden or source is None or source.spec is None:
                continue
            if not -len(source.spec.outputs) <= link.index < len(source.spec.outputs):
                continue
            yield link, spec, source


class MatchTypeMismatch(CheckRule):
    """A link into or out of a V3 MatchType socket has a type that does not fit.

    A MatchType input (`["COMFY_MATCHTYPE_V3", {"template": {"template_id": "T",
    "allowed_types": "IMAGE,MASK"}}]`) takes any of its allowed types, and every input of the
    same template must get the same type; the node's outputs listed in `output_matchtypes` then
    carry that type. comfydsl works the type out from what is linked and checks all three.

    **Why is this bad?** The node gets data of a type it was not written for and fails, or
    passes the wrong type on. ComfyUI's server accepts any link into or out of a MatchType
    socket (it leaves the check to the browser's editor, from 0.4.0 when MatchType appeared to
    the newest release), so this is a warning.

    **Example:** a `LATENT` linked to `ResizeImageMaskNode.input` (allowed: `IMAGE,MASK`), or
    its `resized` output, fed an `IMAGE`, linked to a `VAEDecode`'s `samples`.

    **Use instead:** link a type the template allows.
    """

    code = "CD302"
    name = "match-type-mismatch"
    severity = Severity.WARNING

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if "match_type" not in ctx.traits:  # no MatchType socket, nor dynamic inputs that may make one
            return
        types = MatchTypes(ctx)
        for node in ctx.iter_nodes():
            if node.spec is None:
                continue
            chosen: dict[str, tuple[str, str]] = {}
            for link, spec, source in types.linked(node):
                kind = types.output_type(source, link.index)
                raw_out = source.spec.outputs[link.index]
                template = spec.match_template
                if template is not None and kind != MATCH_TYPE:
                    template_id, allowed = template
                    if allowed != "*" and not types_compatible(kind, allowed):
                        yield self.at(node, f"input `{link.input}` takes `{allowed}`, but node `{link.source}` "
                                            f"(`{source.class_type}`) gives it `{kind}`", input=link.input,
                                      help=f"link an output of type {_either(allowed)}", related=_from(ctx, link.source, kind),
                                      expected=allowed, received=kind)
                    elif template_id in chosen and not types_compatible(kind, chosen[template_id][1]):
                        other, other_kind = chosen[template_id]
                        yield self.at(node, f"input `{link.input}` gets `{kind}`, but `{other}` of the same "
                                            f"match type gets `{other_kind}`", input=link.input,
                                      help=f"link `{other_kind}` to both, or `{kind}` to both", related=_from(ctx, link.source, kind),
                                      expected=other_kind, received=kind)
                    else:
                        chosen.setdefault(template_id, (link.input, kind))
                elif template is None and raw_out.type == MATCH_TYPE and kind != MATCH_TYPE \
                        and not types_compatible(kind, spec.type):
                    yield self.at(node, f"input `{link.input}` expects `{spec.type}`, but output {link.index} of "
                                        f"node `{link.source}` (`{source.class_type}`) is `{kind}` here (it takes "
                                        f"the type linked to that node)", input=link.input,
                                  help=f"link an output of type `{spec.type}` to `{link.input}`", related=_from(ctx, link.source, kind),
                                  expected=spec.type, received=kind)


def _from(ctx: CheckContext, source: str, kind: str) -> tuple[Location, ...]:
    """Where a link's type comes from (built only for a finding)."""
    return (node_location(ctx, source, f"`{kind}` comes from here"),)


def _either(types: str) -> str:
    names = [t.strip() for t in types.split(",") if t.strip()]
    return " or ".join(f"`{n}`" for n in names)
