"""Reading worker-comfyui's "Workflow validation failed" text back into per-node diagnostics.

worker-comfyui (5.1 and later) flattens ComfyUI's `node_errors` into one string, the
job's `error`:

```
Workflow validation failed:
• Node 4 (errors): [{'type': 'value_not_in_list', 'message': 'Value not in list', 'details': "ckpt_name: ...", 'extra_info': {'input_name': 'ckpt_name'}}]
• Node 4 (dependent_outputs): ['9']
• Node 4 (class_type): CheckpointLoaderSimple

Available checkpoint models: sd_xl_base_1.0.safetensors
```

The values are Python reprs; they are read with `ast.literal_eval` (never `eval`). Lines
that cannot be read still give a diagnostic with the raw text, so nothing is lost.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ..diagnostics import Diagnostic
from ..rules.worker import WorkerRejectedWorkflow

_HEAD = re.compile(r"^(?:Error queuing workflow: )?Workflow validation failed\b", re.M)
_LINE = re.compile(r"^\s*[•*-]\s*Node (?P<id>[^\s(:]+)(?: \((?P<key>[^)]*)\))?: ?(?P<value>.*)$")


REJECTED = WorkerRejectedWorkflow()
_HELP = ("check against the worker's own catalogue and model files (`--catalog http://worker:8188`, "
         "`--models`) so that such errors show before submitting")


def is_validation_failure(text: str | None) -> bool:
    """Whether a job error is worker-comfyui's validation-failure text."""
    return text is not None and _HEAD.search(text) is not None


def parse_worker_error(text: str | None) -> list[Diagnostic]:
    """Per-node diagnostics from a validation-failure text; [] for any other error."""
    if text is None or not is_validation_failure(text):
        return []
    nodes: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    notes: list[str] = []
    for line in text.splitlines()[1:]:
        match = _LINE.match(line)
        if match is None:
            if line.strip():
                notes.append(line.strip())
            continue
        node_id, key, value = match["id"], match["key"] or "errors", match["value"]
        if node_id not in nodes:
            nodes[node_id] = {}
            order.append(node_id)
        nodes[node_id][key] = _literal(value)
    found: list[Diagnostic] = []
    for node_id in order:
        found.extend(_node_diagnostics(node_id, nodes[node_id], tuple(notes)))
    for diag in found:
        diag.help = _HELP
    if not found:
        first = text.splitlines()[0].strip().rstrip(":")
        found.append(REJECTED.report(f"the worker refused the workflow: {first[0].lower() + first[1:]}",
                                     notes=tuple(notes), help=_HELP))
    return found


def _literal(value: str) -> Any:
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return value


def _node_diagnostics(node_id: str, data: dict[str, Any], notes: tuple[str, ...]) -> list[Diagnostic]:
    class_type = data.get("class_type") if isinstance(data.get("class_type"), str) else None
    label = f"node `{node_id}`" + (f" (`{class_type}`)" if class_type else "")
    errors = data.get("errors")
    if not isinstance(errors, list) or not errors:
        text = errors if isinstance(errors, str) and errors else "refused by the worker"
        return [REJECTED.report(f"{label}: {text}", node_id=node_id, class_type=class_type, notes=notes)]
    found = []
    for err in errors:
        if not isinstance(err, dict):
            found.append(REJECTED.report(f"{label}: {err}", node_id=node_id, class_type=class_type, notes=notes))
            continue
        extra_info = err.get("extra_info")
        extra: dict[str, Any] = extra_info if isinstance(extra_info, dict) else {}
        input_name = extra.get("input_name") if isinstance(extra.get("input_name"), str) else None
        message = str(err.get("message") or err.get("type") or "error")
        details = err.get("details")
        text = f"{label}: {message[0].lower() + message[1:] if message else message}"
        if details:
            text += f": {details}"
        found.append(REJECTED.report(text, node_id=node_id, class_type=class_type, input=input_name, notes=notes,
                                     comfy_type=err.get("type"), comfy_details=details))
    return found
