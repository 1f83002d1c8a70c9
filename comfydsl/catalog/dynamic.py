"""The inputs a V3 node really has, given the values it holds.

V3 nodes (ComfyUI 0.4.0 and later) declare dynamic inputs whose keys in an API prompt depend on
the node's own values, as ComfyUI's `get_finalized_class_inputs` works them out (0.8.0 and later):

- **DynamicCombo** (`COMFY_DYNAMICCOMBO_V3`): a selector at the bare name (`resize_type`) whose
  chosen option brings its own inputs at dotted names (`resize_type.multiplier`), nested as deep
  as options nest (`codec.encoding.crf`).
- **Autogrow** (`COMFY_AUTOGROW_V3`): numbered slots from a template, `images.image0`,
  `images.image1`, ... (prefix template) or `values.a`, `values.b`, ... (names template). Slot `i`
  is required only when `i < min` and the template's input is in its `required` section.
- **DynamicGroup** (`COMFY_DYNAMICGROUP_V3`): rows of fields, `loras.0.name`, `loras.0.strength`;
  a key that is not `<row>.<field>` with a known field and a row below `max`, or a row count out
  of `[min, max]`, is ComfyUI's `invalid_dynamic_input`.
- **DynamicSlot** (`COMFY_DYNAMICSLOT_V3`): a socket that, once given, brings sub-inputs `x.<sub>`.

`expand_inputs(spec, values)` returns the effective inputs (name -> InputSpec, dotted names
included), the problems of DynamicGroup keys, and a hint for each key that belongs to a dynamic
input but is not one of its inputs now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from .nodes import (AUTOGROW, DYNAMIC_COMBO, DYNAMIC_GROUP, DYNAMIC_SLOT, InputSpec, NodeSpec, parse_input)

_ROW = re.compile(r"(0|[1-9][0-9]*)\.([^.]+)$")
#: ComfyUI caps Autogrow at 100 slots and DynamicGroup at 20 rows
AUTOGROW_LIMIT = 100
GROUP_LIMIT = 20


@dataclass
class Expansion:
    """The inputs of one node given its values."""

    inputs: dict[str, InputSpec]
    #: (key or group name, explanation) for each DynamicGroup problem (`invalid_dynamic_input`)
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: key -> why it is not an input now (a sub-input of another option, a slot past `max`, ...)
    hints: dict[str, str] = field(default_factory=dict)


def expand_inputs(spec: NodeSpec, values: Mapping[str, Any] | None) -> Expansion:
    """The effective inputs of a node of class `spec` holding `values` (its `inputs` object)."""
    if not spec.dynamic:
        return Expansion(spec.inputs)  # type: ignore[arg-type]  # shared, never written to
    values = values if isinstance(values, Mapping) else {}
    result = Expansion({})
    for name, input_spec in spec.inputs.items():
        _expand(input_spec, values, result)
    return result


def _expand(spec: InputSpec, values: Mapping[str, Any], out: Expansion) -> None:
    kind = spec.type
    if kind == DYNAMIC_COMBO:
        _dynamic_combo(spec, values, out)
    elif kind == AUTOGROW:
        _autogrow(spec, values, out)
    elif kind == DYNAMIC_GROUP:
        _dynamic_group(spec, values, out)
    elif kind == DYNAMIC_SLOT:
        _dynamic_slot(spec, values, out)
    else:
        out.inputs[spec.name] = spec


def _section_inputs(sections: Any, prefix: str) -> list[InputSpec]:
    """The inputs of an `{"required": {...}, "optional": {...}}` object, named `prefix + name`."""
    found: list[InputSpec] = []
    if not isinstance(sections, Mapping):
        return found
    for section in ("required", "optional"):
        for name, raw in (sections.get(section) or {}).items():
            found.append(parse_input(prefix + str(name), raw, section))
    return found


def _dynamic_combo(spec: InputSpec, values: Mapping[str, Any], out: Expansion) -> None:
    options = [o for o in spec.config.get("options") or () if isinstance(o, Mapping) and "key" in o]
    keys = tuple(o["key"] for o in options)
    config = {k: v for k, v in spec.config.items() if k != "options"}
    out.inputs[spec.name] = InputSpec(spec.name, "COMBO", spec.section, keys, "dynamic", None, None, config)
    chosen = values.get(spec.name)
    prefix = spec.name + "."
    for option in options:
        if type(chosen) is not list and option["key"] == chosen:
            for sub in _section_inputs(option.get("inputs"), prefix):
                _expand(sub, values, out)
            break
    for key in values:
        if key.startswith(prefix) and key not in out.inputs:
            out.hints.setdefault(key, f"`{key}` is not an input while `{spec.name}` is {_shown(chosen)}")


def _template_input(sections: Any) -> tuple[str, Any, str] | None:
    """(name, raw spec, section) of the one input of an Autogrow template (first non-empty section)."""
    if not isinstance(sections, Mapping):
        return None
    for section in ("required", "optional"):
        entries = sections.get(section) or {}
        for name, raw in entries.items():
            return str(name), raw, section
    return None


def autogrow_slots(spec: InputSpec) -> list[str]:
    """The slot names of an Autogrow input, without its own name: `image0`, `image1`, ... or `a`, `b`, ..."""
    template = spec.config.get("template") or {}
    names = template.get("names")
    limit = template.get("max")
    if isinstance(names, list):
        count = len(names) if not isinstance(limit, int) else min(limit, len(names))
        return [str(n) for n in names[:min(count, AUTOGROW_LIMIT)]]
    prefix = str(template.get("prefix") or "")
    count = limit if isinstance(limit, int) else AUTOGROW_LIMIT
    return [f"{prefix}{i}" for i in range(min(count, AUTOGROW_LIMIT))]


def _autogrow(spec: InputSpec, values: Mapping[str, Any], out: Expansion) -> None:
    template = spec.config.get("template") or {}
    found = _template_input(template.get("input"))
    if found is None:
        return
    _, raw, section = found
    low = template.get("min")
    minimum: int = low if isinstance(low, int) else 0
    slots = autogrow_slots(spec)
    for i, slot in enumerate(slots):
        key = f"{spec.name}.{slot}"
        slot_section = "required" if section == "required" and i < minimum else "optional"
        if slot_section == "optional" and key not in values:
            continue
        _expand(parse_input(key, raw, slot_section), values, out)
    shown = ", ".join(f"`{spec.name}.{s}`" for s in slots[:3]) + (", ..." if len(slots) > 3 else "")
    for key in values:
        if key == spec.name:
            out.hints[key] = f"`{spec.name}` grows: give each slot its own key ({shown})"
        elif key.startswith(spec.name + ".") and key not in out.inputs:
            out.hints.setdefault(key, f"`{spec.name}` has {len(slots)} slot(s): {shown}")


def _dynamic_slot(spec: InputSpec, values: Mapping[str, Any], out: Expansion) -> None:
    slot_type = str(spec.config.get("slotType") or "*")
    config = {**spec.config, "forceInput": True}
    out.inputs[spec.name] = InputSpec(spec.name, slot_type, spec.section, None, None, None, None, config)
    prefix = spec.name + "."
    if spec.name in values:
        for sub in _section_inputs(spec.config.get("inputs"), prefix):
            _expand(sub, values, out)
    for key in values:
        if key.startswith(prefix) and key not in out.inputs:
            out.hints.setdefault(key, f"`{key}` is an input only when `{spec.name}` is given" if spec.name not in values
                                 else f"`{spec.name}` has no sub-input `{key[len(prefix):]}`")


def _dynamic_group(spec: InputSpec, values: Mapping[str, Any], out: Expansion) -> None:
    fields = {s.name: s for s in _section_inputs(spec.config.get("template"), "")}
    low, high = spec.config.get("min"), spec.config.get("max")
    minimum: int = low if isinstance(low, int) else 0
    maximum: int = high if isinstance(high, int) else GROUP_LIMIT
    prefix = spec.name + "."
    rows: set[int] = set()
    for key in values:
        if not key.startswith(prefix):
            if key == spec.name:
                out.problems.append((key, f"`{spec.name}` takes keys `{spec.name}.<row>.<field>`, not a bare value"))
            continue
        match = _ROW.match(key[len(prefix):])
        if match is None:
            out.problems.append((key, f"`{key}` is not `{spec.name}.<row>.<field>` with a row number"))
            continue
        row, name = int(match.group(1)), match.group(2)
        if name not in fields:
            known = ", ".join(f"`{f}`" for f in fields)
            out.problems.append((key, f"`{spec.name}` rows have no field `{name}` (fields: {known})"))
        elif row >= maximum:
            out.problems.append((key, f"row {row} of `{spec.name}` is past its last row {maximum - 1}"))
        else:
            rows.add(row)
    if not minimum <= len(rows) <= maximum:
        out.problems.append((spec.name, f"`{spec.name}` has {len(rows)} row(s); it takes {minimum} to {maximum}"))
    for row in sorted(rows):
        for name, field_spec in fields.items():
            key = f"{spec.name}.{row}.{name}"
            out.inputs[key] = InputSpec(key, field_spec.type, field_spec.section, field_spec.options,
                                        field_spec.combo_form, field_spec.model_folder, field_spec.upload,
                                        field_spec.config)
    for key in values:
        if key.startswith(prefix) and key not in out.inputs:
            out.hints.setdefault(key, f"`{key}` is not a field of a row of `{spec.name}`")


def _shown(value: Any) -> str:
    return f"`{value}`" if isinstance(value, (str, int, float)) and not isinstance(value, bool) else "not set"
