"""Rules on literal values: types, conversions, ranges and options.

ComfyUI converts literals before it checks them; `checks.convert` mirrors that, and the one
pass over the inputs (`CheckContext.facts`, `checks.facts.sort_inputs`) sorts every literal into
what these rules report, so they agree with what ComfyUI accepts.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..catalog.names import SEARCH_LIMIT, NearMiss
from ..catalog.nodes import InputSpec
from ..checks.context import CheckContext
from ..checks.facts import SpecMemo
from ..diagnostics import Diagnostic, Severity, show
from .base import CheckRule


class InvalidValueType(CheckRule):
    """A literal cannot be converted to its input's type.

    **Why is this bad?** ComfyUI rejects the node (`invalid_input_type`) for values `int()`
    or `float()` cannot convert. An object given to a STRING input passes ComfyUI's check
    (it is turned into text such as `{'text': 'hello'}`), but the node then runs with that
    text; comfydsl reports it as an error too.

    A literal widget type of the V3 schema (`COLOR`, `WEBCAM`, `BOUNDING_BOX`, `CURVE`, ...)
    takes whatever JSON its widget writes and ComfyUI passes it on unchecked, but `null` is no
    widget's value: the node gets `None` and fails when it runs, so comfydsl reports it.

    **Example:** `"height": "abc"`, `"batch_size": null`, `"filename_prefix": {"text": "x"}`,
    `"image": null` on a `WebcamCapture`.

    **Use instead:** a value of the input's type: `"height": 512`.
    """

    code = "CD401"
    name = "invalid-value-type"
    comfy_error = "invalid_input_type"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, spec, name, value, reason in ctx.facts.literals.invalid:
            if reason is None:
                yield self.at(node, f"input `{name}` is a `{spec.type}` widget, but holds null", input=name,
                              help=f"give the value its widget writes, or remove `{name}` from the workflow "
                                   "if it is optional", value=value, expected=spec.type)
            else:
                yield self.at(node, f"input `{name}` expects `{spec.type}`: {reason}", input=name,
                              help=_type_help(spec), value=value, expected=spec.type)


def _type_help(spec: InputSpec) -> str:
    example = {"INT": "a whole number", "FLOAT": "a number", "STRING": "a string", "BOOLEAN": "true or false"}
    text = f"give {example.get(spec.type, spec.type)}"
    if spec.default is not None:
        text += f" (the default is {show(spec.default)})"
    return text


class CoercedValue(CheckRule):
    """A literal has the wrong JSON type, and ComfyUI silently converts it.

    **Why is this bad?** The value that runs is not the one written: `20.7` for an INT runs
    as `20`, `true` as `1`, the string `"false"` for a BOOLEAN as `true`.

    **Example:** `"steps": "20"`, `"seed": 20.7`, `"denoise": "0.5"`.

    **Use instead:** a value of the input's own type: `"steps": 20`.
    """

    code = "CD402"
    name = "coerced-value"
    severity = Severity.WARNING

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, spec, name, value, converted in ctx.facts.literals.coerced:
            yield self.at(node, f"input `{name}` expects `{spec.type}`; {show(value)} is converted to "
                                f"{show(converted)}", input=name,
                          help=f"write {show(converted)} to say what runs", value=value, converted=converted)


class ValueBelowMin(CheckRule):
    """A number is smaller than its input's minimum.

    **Why is this bad?** ComfyUI rejects the node (`value_smaller_than_min`).

    **Example:** `"steps": 0` (the minimum is 1).

    **Use instead:** a value within the range the message gives.
    """

    code = "CD403"
    name = "value-below-min"
    comfy_error = "value_smaller_than_min"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, spec, name, value in ctx.facts.literals.below:
            low = spec.minimum
            yield self.at(node, f"input `{name}` is {show(value)}, below the minimum {show(low)}",
                          input=name, help=_range_help(spec), value=value, minimum=low)


class ValueAboveMax(CheckRule):
    """A number is larger than its input's maximum.

    **Why is this bad?** ComfyUI rejects the node (`value_bigger_than_max`).

    **Example:** `"cfg": 101` (the maximum is 100).

    **Use instead:** a value within the range the message gives.
    """

    code = "CD404"
    name = "value-above-max"
    comfy_error = "value_bigger_than_max"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        for node, spec, name, value in ctx.facts.literals.above:
            high = spec.maximum
            yield self.at(node, f"input `{name}` is {show(value)}, above the maximum {show(high)}",
                          input=name, help=_range_help(spec), value=value, maximum=high)


def _range_help(spec: InputSpec) -> str:
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return f"`{spec.name}` takes values from {show(low)} to {show(high)}"
    if low is not None:
        return f"`{spec.name}` takes values of at least {show(low)}"
    return f"`{spec.name}` takes values of at most {show(high)}"


class ValueNotInOptions(CheckRule):
    """A combo input holds a value that is not among its options.

    **Why is this bad?** ComfyUI rejects the node (`value_not_in_list`), or the node fails
    when it runs.

    ComfyUI by version: every release checks list-form combos (`[["a", "b"], {...}]`).
    `COMBO`-form inputs (`["COMBO", {"options": [...]}]`, the V3 schema) are checked from 0.8.0
    on; 0.3.64 to 0.7 pass any value and the node fails at run time. Multiselect combos take
    `{"__value__": ["a", "b"]}`: from 0.21.0 on each element must be an option (the message
    names the bad ones); before, a list value always fails. comfydsl checks all of these, as
    the newest ComfyUI does, whatever the catalogue's version. A DynamicCombo selector must be
    one of its option keys (ComfyUI silently drops an unknown one and the node fails when it
    runs). Inputs whose options the browser fetches (`remote`, `remote_combo`) are not checked:
    their options are not in the catalogue.

    **Example:** `"sampler_name": "euler_a"`, `"scheduler": "Karras"`.

    **Use instead:** one of the options; the help names the closest ones.
    """

    code = "CD405"
    name = "value-not-in-options"
    comfy_error = "value_not_in_list"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        combos = ctx.facts.literals.combos
        if not combos:
            return
        version = getattr(ctx.catalog, "comfyui_version", None)
        budget = [SEARCH_LIMIT]  # near-miss searches for this workflow
        for node, spec, name, value in combos:
            options = spec.options
            assert options is not None  # `combos` holds inputs with options only
            if isinstance(value, dict) and "__value__" in value:
                value = value["__value__"]
            if spec.multiselect and isinstance(value, list):
                bad = [v for v in value if not _is_option(v, options)]
                if bad:
                    listed = ", ".join(show(v) for v in bad)
                    yield self.at(node, f"input `{name}` holds {listed}, not among its options", input=name,
                                  help=_options_help(name, spec, bad[0], budget), value=value,
                                  notes=_version_notes(spec, version, multi=True))
                continue
            if _is_option(value, options):
                continue
            yield self.at(node, f"input `{name}` is {show(value)}, which is not one of its options",
                          input=name, help=_options_help(name, spec, value, budget), value=value,
                          notes=_version_notes(spec, version))


def _is_option(value: Any, options: tuple[Any, ...]) -> bool:
    try:
        return value in options
    except TypeError:  # an unhashable or uncomparable value is no option
        return False


#: The near-miss index of each combo input's text options (as `difflib.get_close_matches`
#: finds them, with answers remembered), kept across checks.
_option_names = SpecMemo(lambda spec: NearMiss([o for o in spec.options or () if isinstance(o, str)], n=3,
                                               cutoff=0.5))


def _options_help(name: str, spec: InputSpec, value: Any, budget: list[int]) -> str:
    assert spec.options is not None
    close = _option_names(spec).suggest_within(str(value), budget)
    if close:
        return "the closest options are: " + ", ".join(f"`{c}`" for c in close)
    if not spec.options:
        return f"`{name}` has no options in this catalogue"
    if len(spec.options) <= 20:
        return "the options are: " + ", ".join(f"`{o}`" for o in spec.options)
    return f"`{name}` has {len(spec.options)} options; `comfydsl schema` lists them"


def _version_notes(spec: InputSpec, version: str | None, multi: bool = False) -> tuple[str, ...]:
    """What the catalogue's own ComfyUI release makes of the value, when it is older than the check."""
    parsed = parse_version(version)
    if parsed is None:
        return ()
    if multi and parsed < (0, 21, 0):
        return (f"ComfyUI {version} (this catalogue's server) rejects any list value; 0.21.0 and later check "
                "each element",)
    if spec.combo_form == "combo" and parsed < (0, 8, 0):
        return (f"ComfyUI {version} (this catalogue's server) does not check `COMBO`-form values; the node "
                "fails when it runs (0.8.0 and later reject it at once)",)
    return ()


def parse_version(version: str | None) -> tuple[int, ...] | None:
    """`"0.8.2"` -> (0, 8, 2); None for a missing or unreadable version."""
    if not isinstance(version, str):
        return None
    parts = []
    for piece in version.strip().lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) if parts else None
