"""What ComfyUI's `POST /prompt` would answer for a workflow, built from comfydsl diagnostics.

ComfyUI validates a prompt in two stages. First every node must have a known
`class_type` (else `invalid_prompt`, naming the first bad node) and at least one node
must be an output node (else `prompt_no_outputs`). Then each output node is validated
with everything upstream of it; the prompt is queued if at least one output passes, and
the errors of the failed branches come back as `node_errors`:
`{node_id: {"errors": [...], "dependent_outputs": [...], "class_type": ...}}`.

`prompt_verdict` replays that over comfydsl's diagnostics, so a dry run fails (and
succeeds) where ComfyUI would, with the error types and texts ComfyUI uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from ..workflow.links import node_id_key

#: ComfyUI's message per error type; `{}` fields are filled from the diagnostic.
MESSAGES = {
    "required_input_missing": "Required input is missing",
    "value_not_in_list": "Value not in list",
    "return_type_mismatch": "Return type mismatch between linked nodes",
    "bad_linked_input": "Bad linked input, must be a length-2 list of [node_id, slot_index]",
    "custom_validation_failed": "Custom validation failed for node",
    "exception_during_inner_validation": "Exception when validating inner node",
    "exception_during_validation": "Exception when validating node",
}


@dataclass
class PromptVerdict:
    """ComfyUI's answer to `POST /prompt`: accepted outputs, or the HTTP 400 body."""

    outputs: list[str] = field(default_factory=list)
    error: dict[str, Any] | None = None
    node_errors: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.error is None

    def body(self) -> dict[str, Any]:
        """The JSON body ComfyUI sends with HTTP 400."""
        return {"error": self.error, "node_errors": self.node_errors}




def _invalid_prompt(message: str, node_id: str) -> dict[str, Any]:
    return {"type": "invalid_prompt", "message": message, "details": f"Node ID '#{node_id}'", "extra_info": {}}


def prompt_verdict(workflow: Mapping[str, Any], diagnostics: list, catalog, models=None) -> PromptVerdict:
    """Replay ComfyUI's prompt validation over the error diagnostics of `workflow`."""
    from ..checks.context import CheckContext, upstream

    for node_id, node in workflow.items():
        if not isinstance(node, dict) or "class_type" not in node:
            return PromptVerdict(error=_invalid_prompt(
                "Cannot execute because a node is missing the class_type property.", node_id))
        class_type = node["class_type"]
        if not isinstance(class_type, str) or class_type not in catalog:
            return PromptVerdict(error=_invalid_prompt(
                f"Cannot execute because node {class_type} does not exist.", node_id))
    ctx = CheckContext.build(dict(workflow), catalog)
    outputs = sorted(ctx.output_nodes, key=node_id_key)
    if not outputs:
        return PromptVerdict(error={"type": "prompt_no_outputs", "message": "Prompt has no outputs",
                                    "details": "", "extra_info": {}})
    errors = [d for d in diagnostics if d.is_error]
    by_node: dict[str, list[dict[str, Any]]] = {}
    unplaced = []
    for diag in errors:
        if _comfy_type(diag) == "prompt_outputs_failed_validation":
            unplaced.append(diag)  # ComfyUI names no node for these (a dependency cycle)
        elif diag.node_id is not None and diag.node_id in ctx.nodes:
            by_node.setdefault(diag.node_id, []).append(
                node_error(diag, workflow, catalog, models, is_output=diag.node_id in ctx.output_nodes))
        else:
            unplaced.append(diag)
    verdict = PromptVerdict()
    failed_details: list[str] = []
    for out in outputs:
        bad = sorted((n for n in upstream(ctx.graph, [out]) if n in by_node), key=node_id_key)
        if not bad and not unplaced:
            verdict.outputs.append(out)
            continue
        failed_details += [f"{e['message']}: {e['details']}" for e in by_node.get(out, [])]
        for node_id in bad:
            entry = verdict.node_errors.setdefault(node_id, {
                "errors": by_node[node_id], "dependent_outputs": [],
                "class_type": workflow[node_id].get("class_type")})
            entry["dependent_outputs"].append(out)
    if not verdict.outputs:
        failed_details += [d.message for d in unplaced if _comfy_type(d) != "prompt_outputs_failed_validation"]
        verdict.error = {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                         "details": "\n".join(failed_details), "extra_info": {}}
    verdict.node_errors = dict(sorted(verdict.node_errors.items(), key=lambda kv: node_id_key(kv[0])))
    return verdict


def node_error(diag, workflow: Mapping[str, Any], catalog, models=None, *, is_output: bool = False) -> dict[str, Any]:
    """One entry of ComfyUI's `node_errors[id]["errors"]` for a diagnostic.

    ComfyUI reports an exception raised while validating an output node itself as
    `exception_during_validation`, and one raised below it as `..._inner_validation`.
    """
    kind = _comfy_type(diag)
    name = diag.input
    message = MESSAGES.get(kind, diag.message)
    details = name or ""
    value = _value(workflow, diag.node_id, name)
    if kind == "value_not_in_list":
        details = f"{name}: '{value}' not in {_list_info(diag, catalog, models)}"
    elif kind == "return_type_mismatch":
        details = f"{name}, received_type({diag.ctx.get('received')}) mismatch input_type({diag.ctx.get('expected')})"
    elif kind == "invalid_input_type":
        expected = diag.ctx.get("expected", "")
        message = f"Failed to convert an input value to a {expected} value"
        details = f"{name}, {value}, {_conversion_error(expected, value)}"
    elif kind == "value_smaller_than_min":
        message = f"Value {diag.ctx.get('value')} smaller than min of {diag.ctx.get('minimum')}"
    elif kind == "value_bigger_than_max":
        message = f"Value {diag.ctx.get('value')} bigger than max of {diag.ctx.get('maximum')}"
    elif kind == "custom_validation_failed":
        details = f"{name} - Invalid image file: {value}" if diag.code == "CD502" else f"{name} - {diag.message}"
    elif diag.code == "CD007" and isinstance(value, list) and len(value) == 2:
        kind, message = "exception_during_inner_validation", MESSAGES["exception_during_inner_validation"]
        details = str(value[0]) if not isinstance(value[0], str) else \
            f"tuple indices must be integers or slices, not {type(value[1]).__name__}"
    elif kind == "exception_during_inner_validation":
        details = _inner_exception(diag, workflow)
    elif diag.code == "CD006":
        raw = workflow.get(diag.node_id)
        inputs = raw.get("inputs", KeyError) if isinstance(raw, dict) else None
        kind = "exception_during_inner_validation"
        details = "'inputs'" if inputs is KeyError else \
            "string indices must be integers, not 'str'" if isinstance(inputs, str) else ""
    elif kind not in MESSAGES:
        message = diag.message
    if kind == "exception_during_inner_validation" and is_output:
        kind = "exception_during_validation"
    message = MESSAGES.get(kind, message) if kind.startswith("exception_during") else message
    return {"type": kind, "message": message, "details": details,
            "extra_info": {"input_name": name} if name else {}}


@lru_cache(maxsize=1)
def _comfy_errors() -> dict[str, str | None]:
    from ..rules.codes import all_rules

    return {rule.code: rule.comfy_error for rule in all_rules()}


def _comfy_type(diag) -> str:
    """ComfyUI's error type for a diagnostic, or the rule's name for comfydsl-only rules."""
    comfy = _comfy_errors().get(diag.code)
    if comfy and comfy != "invalid_prompt":
        return comfy
    return diag.name.replace("-", "_")


def _value(workflow: Mapping[str, Any], node_id: str | None, name: str | None) -> Any:
    node = workflow.get(node_id) if node_id is not None else None
    inputs = node.get("inputs") if isinstance(node, dict) else None
    value = inputs.get(name) if isinstance(inputs, dict) and name else None
    if isinstance(value, dict) and "__value__" in value:
        value = value["__value__"]
    return value


def _list_info(diag, catalog, models) -> str:
    options: list[Any] = []
    folder = diag.ctx.get("folder")
    if folder and models is not None:
        options = models.files(folder)
    else:
        spec = catalog.get(diag.class_type) if diag.class_type else None
        input_spec = spec.inputs.get(diag.input) if spec is not None and diag.input else None
        if input_spec is not None and input_spec.options is not None:
            options = list(input_spec.options)
    return f"(list of length {len(options)})" if len(options) > 20 else str(options)


def _conversion_error(type_name: str, value: Any) -> str:
    convert = {"INT": int, "FLOAT": float, "STRING": str, "BOOLEAN": bool}.get(type_name)
    if convert is None:
        return "unsupported type"
    try:
        convert(value)
    except Exception as exc:  # the text of ComfyUI's own exception
        return str(exc)
    return f"{value!r} is not a valid {type_name}"


def _inner_exception(diag, workflow: Mapping[str, Any]) -> str:
    link = _value(workflow, diag.node_id, diag.input)
    if diag.code == "CD103" and isinstance(link, list) and link:
        return repr(link[0])
    if diag.code == "CD104":
        return "tuple index out of range"
    return diag.message
