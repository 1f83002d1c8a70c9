"""The worker-comfyui 5.x handler: what a RunPod worker does with one job's input.

`handle_job` follows worker-comfyui 5.8.5 step by step (validate the input, upload the
images, queue the workflow, wait, collect the images) against a `ComfySession`, which is
either a real ComfyUI reached over HTTP or the in-process dry run. It returns what the
handler returns: `{"images": [...]}` (maybe with `errors`), `{"status":
"success_no_images", "images": []}`, or `{"error": "...", "details"?: [...]}` for a failure.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ComfyCommunicationError, HandlerError, QueueRejected





@dataclass
class PromptResult:
    """What waiting for a prompt found: its history entry (if any) and execution errors."""

    history: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)


class ComfySession(Protocol):
    """One job's conversation with a ComfyUI server (real or simulated); `host` is its
    `host:port` as worker-comfyui names it in errors."""

    host: str

    def reachable(self) -> bool: ...

    def upload_image(self, name: str, data: bytes) -> None: ...

    def queue_prompt(self, workflow: Any, client_id: str, api_key_comfy_org: str | None) -> str: ...

    def wait(self, prompt_id: str, cancelled: threading.Event) -> PromptResult: ...

    def fetch_image(self, filename: str, subfolder: str, image_type: str) -> bytes | None: ...

    def available_checkpoints(self) -> list[str]: ...


def validate_input(job_input: Any) -> tuple[dict[str, Any] | None, str | None]:
    """worker-comfyui's `validate_input`: the usable input, or its error text."""
    if job_input is None:
        return None, "Please provide input"
    if isinstance(job_input, str):
        try:
            job_input = json.loads(job_input)
        except json.JSONDecodeError:
            return None, "Invalid JSON format in input"
    if not isinstance(job_input, dict):
        return None, "Missing 'workflow' parameter"
    workflow = job_input.get("workflow")
    if workflow is None:
        return None, "Missing 'workflow' parameter"
    images = job_input.get("images")
    if images is not None:
        if not isinstance(images, list) or not all(
                isinstance(image, dict) and "name" in image and "image" in image for image in images):
            return None, "'images' must be a list of objects with 'name' and 'image' keys"
    return {"workflow": workflow, "images": images,
            "comfy_org_api_key": job_input.get("comfy_org_api_key")}, None


def decode_image(data: Any) -> bytes:
    """Base64 image data, with or without a `data:...;base64,` prefix (everything after
    the first comma is used, as worker-comfyui does)."""
    if not isinstance(data, str):
        raise ValueError(f"expected a base64 string, got {type(data).__name__}")
    if "," in data:
        data = data.split(",", 1)[1]
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from None


def validation_failure_text(rejected: QueueRejected, session: ComfySession) -> str:
    """The job error worker-comfyui 5.8.5 builds from ComfyUI's HTTP 400 to `POST /prompt`."""
    try:
        data = json.loads(rejected.text)
        if not isinstance(data, dict):
            raise KeyError("body")
    except (json.JSONDecodeError, KeyError):
        return f"ComfyUI validation failed (could not parse error response): {rejected.text}"
    message = "Workflow validation failed"
    details: list[str] = []
    if "error" in data:
        info = data["error"]
        if isinstance(info, dict):
            message = info.get("message", message)
            if info.get("type") == "prompt_outputs_failed_validation":
                message = "Workflow validation failed"
        else:
            message = str(info)
    for node_id, node_error in (data.get("node_errors") or {}).items():
        if isinstance(node_error, dict):
            details += [f"Node {node_id} ({key}): {value}" for key, value in node_error.items()]
        else:
            details.append(f"Node {node_id}: {node_error}")
    if data.get("type") == "prompt_outputs_failed_validation":
        message = data.get("message", "Workflow validation failed")
        return message + _checkpoint_hint(session, "\n\nThis usually means a required model or parameter is not available.")
    if details:
        text = f"{message}:\n" + "\n".join(f"• {d}" for d in details)
        if any("not in list" in d and "ckpt_name" in d for d in details):
            text += _checkpoint_hint(session, "")
        return text
    return f"{message}. Raw response: {rejected.text}"


def _checkpoint_hint(session: ComfySession, lead: str) -> str:
    """worker-comfyui's note on available checkpoints; `lead` is the sentence before it."""
    checkpoints = session.available_checkpoints()
    sep = "\n" if lead else "\n\n"
    if checkpoints:
        return f"{lead}{sep}Available checkpoint models: {', '.join(checkpoints)}"
    return f"{lead}{sep}No checkpoint models appear to be available. Please check your model installation."


#: Output shapes: worker-comfyui 5.x (`images` list), or 2.0-4.0 (one image as `message`).
WORKER_VERSIONS = ("5", "3")


def handle_job(job_input: Any, session: ComfySession, cancelled: threading.Event, *,
               worker_version: str = "5") -> dict[str, Any]:
    """Run one job the way worker-comfyui's `handler` does and return its result dict.

    `worker_version="3"` answers as worker-comfyui 2.0-4.0 did: `{"status": "success",
    "message": "<base64>"}` with the last image, `{"status": "error", "message": ...}` when
    there is none, and "Error queuing workflow: HTTP Error 400: Bad Request" for a rejected
    workflow.
    """
    if worker_version not in WORKER_VERSIONS:
        raise ValueError(f"unknown worker-comfyui version `{worker_version}`; use one of {WORKER_VERSIONS}")
    legacy = worker_version == "3"
    result = _handle(job_input, session, cancelled, legacy)
    return legacy_output(result) if legacy else result


def legacy_output(result: dict[str, Any]) -> dict[str, Any]:
    """A 5.x result in the 2.0-4.0 shape; failures stay as they are."""
    if "error" in result:
        return result
    images = result.get("images") or []
    if images:
        return {"status": "success", "message": images[-1]["data"]}
    return {"status": "error", "message": "the image does not exist in the specified output folder: /comfyui/output"}


def _handle(job_input: Any, session: ComfySession, cancelled: threading.Event, legacy: bool) -> dict[str, Any]:
    validated, problem = validate_input(job_input)
    if problem:
        return {"error": problem}
    assert validated is not None  # validate_input gives the input or a problem
    if not session.reachable():
        host = getattr(session, "host", "127.0.0.1:8188")
        return {"error": f"ComfyUI server ({host}) not reachable after multiple retries."}
    upload_errors = _upload(validated["images"] or [], session)
    if upload_errors:
        return {"error": "Failed to upload one or more input images", "details": upload_errors}
    try:
        prompt_id = session.queue_prompt(validated["workflow"], str(uuid.uuid4()),
                                         validated["comfy_org_api_key"] or None)
    except QueueRejected as rejected:
        if legacy:
            return {"error": f"Error queuing workflow: HTTP Error {rejected.status_code}: "
                             f"{_reason(rejected.status_code)}"}
        if rejected.status_code == 400:
            return {"error": validation_failure_text(rejected, session)}
        reason = "Client Error" if rejected.status_code < 500 else "Server Error"
        return {"error": f"Error queuing workflow: {rejected.status_code} {reason}: "
                         f"{_reason(rejected.status_code)} for url: {rejected.url}"}
    except ComfyCommunicationError as exc:
        return {"error": f"Error queuing workflow: {exc}"}
    except HandlerError as exc:
        return {"error": str(exc)}
    try:
        result = session.wait(prompt_id, cancelled)
    except ComfyCommunicationError as exc:
        return {"error": f"HTTP communication error with ComfyUI: {exc}"}
    return _collect(prompt_id, result, session)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _upload(images: list[dict[str, Any]], session: ComfySession) -> list[str]:
    errors = []
    for image in images:
        name = image.get("name", "unknown")
        try:
            blob = decode_image(image["image"])
        except ValueError as exc:
            errors.append(f"Error decoding base64 for {name}: {exc}")
            continue
        try:
            session.upload_image(str(name), blob)
        except ComfyCommunicationError as exc:
            errors.append(f"Error uploading {name}: {exc}")
    return errors


def _collect(prompt_id: str, result: PromptResult, session: ComfySession) -> dict[str, Any]:
    errors = list(result.errors)
    history = result.history
    if history is None:
        message = f"Prompt ID {prompt_id} not found in history after execution."
        if not errors:
            return {"error": message}
        return {"error": "Job processing failed, prompt ID not found in history.", "details": errors + [message]}
    outputs = history.get("outputs") or {}
    if not outputs and not errors:
        errors.append(f"No outputs found in history for prompt {prompt_id}.")
    images = []
    for node_id, node_output in outputs.items():
        for info in node_output.get("images", []) if isinstance(node_output, dict) else []:
            filename, image_type = info.get("filename"), info.get("type")
            if image_type == "temp":
                continue
            if not filename:
                errors.append(f"Skipping image in node {node_id} due to missing filename: {info}")
                continue
            data = session.fetch_image(filename, info.get("subfolder", ""), image_type)
            if data:
                images.append({"filename": filename, "type": "base64",
                               "data": base64.b64encode(data).decode("ascii")})
            else:
                errors.append(f"Failed to fetch image data for {filename} from /view endpoint.")
    final: dict[str, Any] = {}
    if images:
        final["images"] = images
    if errors:
        final["errors"] = errors
    if not images and errors:
        return {"error": "Job processing failed", "details": errors}
    if not images:
        final["status"] = "success_no_images"
        final["images"] = []
    return final

