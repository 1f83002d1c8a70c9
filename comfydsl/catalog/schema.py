"""A JSON Schema of the `/object_info` format, and the check that gives each malformed entry a place.

A catalogue is checked before anything reads it (`read_object_info`, `NodeCatalog.add`), so a
malformed file gives one `CatalogError` naming the file, the class and the input, never a
traceback deep in a rule. The schema covers both node schemas ComfyUI emits: the V1 shapes
(`["INT", {...}]`, `[["a", "b"], {...}]`, hidden inputs as strings) and the V3 ones (`COMBO` with
`options`, DynamicCombo options with their own inputs, Autogrow and DynamicGroup templates,
MatchType templates, hidden inputs as one-element lists, `output_matchtypes`), and the entry
comfydsl reserves for what it knows about the catalogue (`__comfydsl__`, see `META_KEY`).

It is deliberately loose about keys it does not need (a newer ComfyUI adds class fields and
input options all the time) and strict about the types of those comfydsl reads.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from ..errors import CatalogError
from .nodes import META_KEY as META_KEY  # defined beside the catalogue, which reads it without this module

_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_NUMBER = {"type": "number"}
_NAME_LIST = {"type": "array", "items": {"type": "string"}}

OBJECT_INFO_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ComfyUI /object_info",
    "type": "object",
    "properties": {
        META_KEY: {
            "type": "object",
            "properties": {
                "comfyui_version": {"type": ["string", "null"]},
                "frontend_version": {"type": ["string", "null"]},
                "source": {"type": ["string", "null"]},
            },
        },
    },
    "additionalProperties": {"$ref": "#/$defs/node_class"},
    "$defs": {
        "node_class": {
            "type": "object",
            "anyOf": [{"required": ["input"]}, {"required": ["output"]}],
            "not": {"required": ["class_type"]},
            "properties": {
                "input": {"$ref": "#/$defs/sections"},
                "input_order": {"type": ["object", "null"], "additionalProperties": _NAME_LIST},
                "output": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                 {"type": "array", "items": _SCALAR}]}},
                "output_is_list": {"type": "array", "items": {"type": ["boolean", "null"]}},
                "output_name": {"type": "array", "items": {"type": ["string", "null"]}},
                "output_matchtypes": {"type": ["array", "null"], "items": {"type": ["string", "null"]}},
                "output_node": {"type": "boolean"},
                "deprecated": {"type": "boolean"},
                "experimental": {"type": "boolean"},
                "dev_only": {"type": "boolean"},
                "api_node": {"type": "boolean"},
                "is_input_list": {"type": "boolean"},
                "display_name": {"type": ["string", "null"]},
                "category": {"type": ["string", "null"]},
                "python_module": {"type": ["string", "null"]},
                "name": {"type": ["string", "null"]},
            },
        },
        "sections": {
            "type": "object",
            "properties": {
                "required": {"$ref": "#/$defs/inputs"},
                "optional": {"$ref": "#/$defs/inputs"},
                "hidden": {"type": ["object", "null"], "additionalProperties": {"anyOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "prefixItems": [{"type": "string"}]},
                ]}},
            },
        },
        "inputs": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/input"}},
        "input": {
            "type": "array",
            "minItems": 1,
            "prefixItems": [
                {"anyOf": [{"type": "string"}, {"type": "array", "items": _SCALAR}]},
                {"type": "object"},
            ],
            "allOf": [
                {"if": {"prefixItems": [{"const": "COMFY_DYNAMICCOMBO_V3"}]},
                 "then": {"prefixItems": [True, {"$ref": "#/$defs/dynamic_combo"}]},
                 "else": {"prefixItems": [True, {"$ref": "#/$defs/config"}]}},
                {"if": {"prefixItems": [{"const": "COMFY_AUTOGROW_V3"}]},
                 "then": {"prefixItems": [True, {"properties": {"template": {"$ref": "#/$defs/autogrow"}}}]}},
                {"if": {"prefixItems": [{"const": "COMFY_DYNAMICGROUP_V3"}]},
                 "then": {"prefixItems": [True, {"$ref": "#/$defs/dynamic_group"}]}},
                {"if": {"prefixItems": [{"const": "COMFY_MATCHTYPE_V3"}]},
                 "then": {"prefixItems": [True, {"properties": {"template": {"$ref": "#/$defs/matchtype"}}}]}},
                {"if": {"prefixItems": [{"const": "COMFY_DYNAMICSLOT_V3"}]},
                 "then": {"prefixItems": [True, {"properties": {"slotType": {"type": "string"},
                                                                 "inputs": {"$ref": "#/$defs/sections"}}}]}},
            ],
        },
        "config": {
            "type": "object",
            "properties": {
                "min": _NUMBER,
                "max": _NUMBER,
                "step": _NUMBER,
                "options": {"type": "array", "items": _SCALAR},
                "multiselect": {"type": "boolean"},
                "forceInput": {"type": "boolean"},
                "socketless": {"type": "boolean"},
                "model_folder": {"type": "string"},
                "virtual": {"type": "array", "items": _SCALAR},
                "remote": {"type": "object"},
                "remote_combo": {"type": "object"},
                "image_upload": {"type": "boolean"},
                "video_upload": {"type": "boolean"},
                "audio_upload": {"type": "boolean"},
                "file_upload": {"type": "boolean"},
            },
        },
        "dynamic_combo": {
            "type": "object",
            "required": ["options"],
            "properties": {
                "options": {"type": "array", "items": {
                    "type": "object",
                    "required": ["key"],
                    "properties": {"key": {"type": ["string", "number", "boolean"]},
                                   "inputs": {"$ref": "#/$defs/sections"}},
                }},
            },
        },
        "autogrow": {
            "type": "object",
            "required": ["input"],
            "properties": {
                "input": {"$ref": "#/$defs/sections"},
                "prefix": {"type": "string"},
                "names": _NAME_LIST,
                "min": {"type": "integer", "minimum": 0},
                "max": {"type": "integer", "minimum": 0},
            },
        },
        "dynamic_group": {
            "type": "object",
            "required": ["template"],
            "properties": {
                "template": {"$ref": "#/$defs/sections"},
                "min": {"type": "integer", "minimum": 0},
                "max": {"type": "integer", "minimum": 0},
            },
        },
        "matchtype": {
            "type": "object",
            "properties": {"template_id": {"type": "string"}, "allowed_types": {"type": "string"}},
        },
    },
}


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    cls = jsonschema.validators.validator_for(OBJECT_INFO_SCHEMA)
    return cls(OBJECT_INFO_SCHEMA)


def validate_object_info(raw: Any, source: str | None = None) -> None:
    """Raise `CatalogError` naming the first malformed place of a catalogue (and how many classes are bad).

    `source` (a file name or URL) starts the message. A fast walk over the data decides which
    classes are malformed (jsonschema needs seconds for a full catalogue); the JSON Schema then
    explains the first of them, with its location. The two agree: the tests hold them to it.
    """
    where = source or "catalogue"
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{where}: expected a JSON object of node classes, not {_kind(raw)}")
    bad = [name for name, entry in raw.items() if not _entry_ok(name, entry)]
    if not bad:
        return
    first = bad[0]
    entry = raw[first]
    if first != META_KEY and isinstance(entry, Mapping) and ("class_type" in entry or not ("input" in entry
                                                                                          or "output" in entry)):
        raise CatalogError(f"{where}: entry `{first}` is not a node class of an /object_info answer (no `input` "
                           "or `output`); is this a workflow file rather than a catalogue?")
    errors = sorted(_validator().iter_errors({first: raw[first]}), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        error = _deepest(errors[0])
        text = f"{where}: {describe_path(list(error.absolute_path))}: {_explain(error)}"
    else:  # the fast walk is stricter than the schema here: still name the class
        text = f"{where}: {describe_path([first])}: malformed node class"
    if len(bad) > 1:
        text += f" ({len(bad) - 1} more malformed class{'' if len(bad) == 2 else 'es'})"
    raise CatalogError(text)


def schema_errors(raw: Any) -> list[str]:
    """Every schema error of a catalogue, located (slow: for tests and tools, not for loading)."""
    return [f"{describe_path(list(e.absolute_path))}: {_explain(_deepest(e))}"
            for e in _validator().iter_errors(raw)]


# -- the fast walk: the same constraints as OBJECT_INFO_SCHEMA, in plain Python ----------------

def _is_str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _list_of(value: Any, test: Any) -> bool:
    return isinstance(value, list) and all(test(item) for item in value)


_CLASS_BOOLS = ("output_node", "deprecated", "experimental", "dev_only", "api_node", "is_input_list")
_CLASS_TEXTS = ("display_name", "category", "python_module", "name")
_CONFIG_NUMBERS = ("min", "max", "step")
_CONFIG_BOOLS = ("multiselect", "forceInput", "socketless", "image_upload", "video_upload", "audio_upload",
                 "file_upload")


def _entry_ok(name: str, entry: Any) -> bool:
    if name == META_KEY:
        return isinstance(entry, dict) and all(_is_str_or_none(entry.get(k))
                                               for k in ("comfyui_version", "frontend_version", "source"))
    if not isinstance(entry, dict) or "class_type" in entry or not ("input" in entry or "output" in entry):
        return False
    if "input" in entry and not _sections_ok(entry["input"]):
        return False
    order = entry.get("input_order")
    if order is not None and not (isinstance(order, dict) and all(_list_of(v, _is_str) for v in order.values())):
        return False
    if "output" in entry and not _list_of(entry["output"], lambda t: isinstance(t, str) or _list_of(t, _is_scalar)):
        return False
    if "output_is_list" in entry and not _list_of(entry["output_is_list"], lambda v: v is None or isinstance(v, bool)):
        return False
    if "output_name" in entry and not _list_of(entry["output_name"], _is_str_or_none):
        return False
    matchtypes = entry.get("output_matchtypes")
    if matchtypes is not None and not _list_of(matchtypes, _is_str_or_none):
        return False
    if any(k in entry and not isinstance(entry[k], bool) for k in _CLASS_BOOLS):
        return False
    return all(_is_str_or_none(entry.get(k)) for k in _CLASS_TEXTS)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _sections_ok(sections: Any) -> bool:
    if not isinstance(sections, dict):
        return False
    for section in ("required", "optional"):
        inputs = sections.get(section)
        if inputs is None:
            continue
        if not isinstance(inputs, dict) or not all(_input_ok(spec) for spec in inputs.values()):
            return False
    hidden = sections.get("hidden")
    if hidden is not None:
        if not isinstance(hidden, dict):
            return False
        for spec in hidden.values():
            if not (isinstance(spec, str) or (isinstance(spec, list) and spec and isinstance(spec[0], str))):
                return False
    return True


def _input_ok(spec: Any) -> bool:
    if not isinstance(spec, list) or not spec:
        return False
    head = spec[0]
    if not (isinstance(head, str) or _list_of(head, _is_scalar)):
        return False
    if len(spec) < 2:
        return True
    config = spec[1]
    if not isinstance(config, dict):
        return False
    if head == "COMFY_DYNAMICCOMBO_V3":
        options = config.get("options")
        return _list_of(options, lambda o: isinstance(o, dict) and "key" in o
                        and isinstance(o["key"], (str, int, float, bool)) and o["key"] is not None
                        and ("inputs" not in o or _sections_ok(o["inputs"])))
    if any(k in config and not _is_number(config[k]) for k in _CONFIG_NUMBERS):
        return False
    if any(k in config and not isinstance(config[k], bool) for k in _CONFIG_BOOLS):
        return False
    if "options" in config and not _list_of(config["options"], _is_scalar):
        return False
    if "virtual" in config and not _list_of(config["virtual"], _is_scalar):
        return False
    if "model_folder" in config and not isinstance(config["model_folder"], str):
        return False
    if any(k in config and not isinstance(config[k], dict) for k in ("remote", "remote_combo")):
        return False
    template = config.get("template")
    if head == "COMFY_AUTOGROW_V3" and "template" in config:
        return (isinstance(template, dict) and "input" in template and _sections_ok(template["input"])
                and ("prefix" not in template or isinstance(template["prefix"], str))
                and ("names" not in template or _list_of(template["names"], _is_str))
                and all(k not in template or _is_count(template[k]) for k in ("min", "max")))
    if head == "COMFY_DYNAMICGROUP_V3":
        return ("template" in config and _sections_ok(template)
                and all(k not in config or _is_count(config[k]) for k in ("min", "max")))
    if head == "COMFY_MATCHTYPE_V3" and "template" in config:
        return isinstance(template, dict) and all(k not in template or isinstance(template[k], str)
                                                  for k in ("template_id", "allowed_types"))
    if head == "COMFY_DYNAMICSLOT_V3":
        return (("slotType" not in config or isinstance(config["slotType"], str))
                and ("inputs" not in config or _sections_ok(config["inputs"])))
    return True


def _deepest(error: Any) -> Any:
    """The most specific of an error and its sub-errors (`anyOf` and `if/then` wrap the real cause)."""
    while error.context:
        error = max(error.context, key=lambda e: len(e.absolute_path))
    return error


def describe_path(path: list[Any]) -> str:
    """`["KSampler", "input", "required", "seed", 1, "min"]` -> class `KSampler`, input `seed`: `min`."""
    if not path:
        return "top level"
    parts = [f"class `{path[0]}`"] if path[0] != META_KEY else [f"`{META_KEY}`"]
    rest = path[1:]
    names: list[str] = []
    while len(rest) >= 3 and rest[0] in ("input", "inputs", "template") and rest[1] in ("required", "optional",
                                                                                        "hidden"):
        names.append(str(rest[2]))
        rest = rest[3:]
        # descend into V3 nesting: [1, "options", i, "inputs", ...] or [1, "template", "input", ...]
        if len(rest) >= 4 and rest[0] == 1 and rest[1] == "options" and rest[3] == "inputs":
            names.append(f"(option {rest[2]})")
            rest = rest[3:]
        elif len(rest) >= 3 and rest[0] == 1 and rest[1] == "template" and rest[2] == "input":
            rest = rest[2:]
        elif len(rest) >= 2 and rest[0] == 1 and rest[1] == "template":
            rest = rest[1:]
    if names:
        parts.append("input `" + ".".join(n for n in names if not n.startswith("(")) + "`")
    if rest:
        parts.append("at " + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip("."))
    return ", ".join(parts)


def _explain(error: Any) -> str:
    value = error.instance
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"expected {wanted}, found {_kind(value)}"
    if error.validator == "required":
        return error.message.replace("'", "`")
    if error.validator == "minItems":
        return "an input spec must be a non-empty list such as [\"INT\", {...}]"
    if error.validator == "anyOf" and error.schema.get("anyOf") == [{"required": ["input"]},
                                                                     {"required": ["output"]}]:
        return "not a node class of an /object_info answer (no `input` or `output`)"
    return error.message


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:29] + "…"
        return f"the string \"{shown}\""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
