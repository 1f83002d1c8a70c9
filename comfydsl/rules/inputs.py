"""Rules on which inputs a node is given."""

from __future__ import annotations

from typing import Iterator

from ..catalog.names import SEARCH_LIMIT, near_miss_index
from ..checks.context import CheckContext
from ..diagnostics import Diagnostic, Severity, show
from .base import CheckRule


class MissingRequiredInput(CheckRule):
    """A node lacks one of its class's required inputs.

    **Why is this bad?** ComfyUI rejects the node (`required_input_missing`) and with it
    every output that depends on it.

    **Example:** a `KSampler` without `seed`.

    **Use instead:** set the input, or link an output of the right type to it.

    V3 dynamic inputs are checked as ComfyUI 0.8.0 and later expands them from the node's values:
    the required inputs of the chosen DynamicCombo option (`resize_type.multiplier`), the
    Autogrow slots below `min` of a `required` template (`images.image0`), the required fields
    of each DynamicGroup row. The Autogrow or DynamicGroup itself (`images`) is never an input
    of its own. ComfyUI drops a DynamicCombo whose selector is missing without a word (the node
    then fails when it runs); comfydsl reports the missing selector.
    """

    code = "CD201"
    name = "missing-required-input"
    comfy_error = "required_input_missing"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node in ctx.facts.literals.irregular:  # the others have every required input
            assert node.spec is not None and node.inputs is not None
            for spec in node.input_specs.values():
                if spec.section != "required" or spec.name in node.inputs:
                    continue
                if spec.combo_form == "dynamic":
                    hint = f"set `{spec.name}` to one of: " + ", ".join(f"`{o}`" for o in spec.options or ())
                elif spec.is_primitive and not spec.force_input:
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

    Dotted keys of V3 dynamic inputs are inputs when the node's values make them so
    (`resize_type.multiplier` while `resize_type` is `scale by multiplier`, `variables.a` of an
    Autogrow); otherwise the help says why not (another option's input, a slot past `max`).
    """

    code = "CD202"
    name = "unknown-input"
    severity = Severity.WARNING

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        names, budget = None, [SEARCH_LIMIT]
        for node in ctx.facts.literals.irregular:  # the others declare every input they hold
            assert node.spec is not None and node.inputs is not None
            expansion = node.expansion
            declared = expansion.inputs
            flagged = {key for key, _ in expansion.problems}
            for name in node.inputs:
                if name in declared or name in flagged:
                    continue
                if name in expansion.hints:
                    yield self.at(node, f"`{node.class_type}` has no input `{name}` here; ComfyUI ignores it",
                                  input=name, help=expansion.hints[name])
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

    Widget types that hold a literal (`COLOR`, `BOUNDING_BOX`, `CURVE`, `RANGE`, `WEBCAM`,
    `LOAD_3D`, ..., and any input marked `socketless` or with a `widgetType`), MatchType inputs
    and DynamicCombo selectors take literals and are not reported.
    """

    code = "CD203"
    name = "literal-for-link-input"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, spec, name, value in ctx.facts.literals.link_only:
            yield self.at(node, f"input `{name}` takes a `{spec.type}` link, but holds the value {show(value)}",
                          input=name, help=f"link an output of type `{spec.type}` to `{name}`", value=value)


class InvalidDynamicInput(CheckRule):
    """The keys of a V3 DynamicGroup do not fit it.

    A DynamicGroup (`COMFY_DYNAMICGROUP_V3`) takes rows of fields as `<group>.<row>.<field>`
    keys (`loras.0.name`, `loras.0.strength`): rows numbered from 0 without leading zeros and
    below the group's `max`, fields its template declares, and between `min` and `max` rows.

    **Why is this bad?** ComfyUI (releases after 0.33) rejects the node with
    `invalid_dynamic_input` and reports nothing else about it. Older releases do not know
    DynamicGroup at all.

    **Example:** `"loras.00.name"`, `"loras.0.weight"` (no such field), `"loras.5.name"` with `max` 3.

    **Use instead:** the keys the help describes.
    """

    code = "CD204"
    name = "invalid-dynamic-input"
    comfy_error = "invalid_dynamic_input"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if "dynamic" not in ctx.traits:
            return
        for node in ctx.iter_nodes():
            if node.spec is None or node.inputs is None or not node.spec.dynamic:
                continue
            for key, why in node.expansion.problems:
                yield self.at(node, f"invalid dynamic input `{key}` on `{node.class_type}`: {why}",
                              input=key if key in node.inputs else None, path=("inputs",) if key not in node.inputs
                              else None, help="write each row's fields as `<group>.<row>.<field>`")
