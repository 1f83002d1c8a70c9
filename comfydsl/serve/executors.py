"""Executors: what runs a job's input. `DryExecutor` checks the workflow with comfydsl and
makes placeholder images; `ComfyUIExecutor` drives a real ComfyUI server over HTTP.

Both hand a per-job `ComfySession` to `worker.handle_job`, so the worker-comfyui
behaviour (input checks, error texts, output shape) is the same for both.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import deque
from typing import Any, Mapping

from ..errors import ComfyCommunicationError, HandlerError, QueueRejected
from ..workflow.envelopes import prompt_body
from ..workflow.links import is_link
from .png import colour_for, placeholder_png
from .worker import PromptResult, handle_job

#: How deep `batch_size` is looked for upstream of an image output.
_MAX_IMAGES = 64


class Executor:
    """Base of executors: `run(job_input, cancelled)` returns the handler's result dict."""

    name = "executor"
    #: The worker-comfyui output shape: "5" (default) or "3" (see `worker.handle_job`).
    worker_version = "5"

    def session(self):
        raise NotImplementedError

    def run(self, job_input: Any, cancelled: threading.Event) -> dict[str, Any]:
        """Run one job the worker-comfyui way; never raises for bad input."""
        return handle_job(job_input, self.session(), cancelled, worker_version=self.worker_version)

    def close(self) -> None:
        """Release connections; the executor is not used afterwards."""


class DryExecutor(Executor):
    """Validate with comfydsl, then 'run' for `run_seconds` and return placeholder PNGs.

    A workflow with error diagnostics fails with the text worker-comfyui builds from
    ComfyUI's HTTP 400 (the diagnostics replayed as ComfyUI's `node_errors`). Otherwise every
    image output node of the outputs ComfyUI would run gets one PNG per image of its batch;
    `PreviewImage`-like nodes make `temp` images, which worker-comfyui leaves out.
    """

    name = "dry"

    def __init__(self, *, catalog=None, models=None, run_seconds: float = 0.0, image_size: int = 8,
                 worker_version: str = "5") -> None:
        from ..catalog import builtin_catalog
        from .worker import WORKER_VERSIONS

        if worker_version not in WORKER_VERSIONS:
            raise ValueError(f"unknown worker-comfyui version `{worker_version}`; use one of {WORKER_VERSIONS}")
        self.worker_version = worker_version
        self.catalog = catalog if catalog is not None else builtin_catalog()
        self.models = models
        self.run_seconds = run_seconds
        self.image_size = image_size
        self._counters: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def session(self) -> DrySession:
        return DrySession(self)

    def next_counter(self, subfolder: str, base: str) -> int:
        with self._lock:
            value = self._counters.get((subfolder, base), 0) + 1
            self._counters[(subfolder, base)] = value
            return value


class DrySession:
    """One job on the dry executor."""

    host = "127.0.0.1:8188"

    def __init__(self, executor: DryExecutor) -> None:
        self.executor = executor
        self.uploaded: dict[str, bytes] = {}
        self.outputs: dict[str, Any] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}

    def reachable(self) -> bool:
        return True

    def upload_image(self, name: str, data: bytes) -> None:
        self.uploaded[name] = data

    def queue_prompt(self, workflow: Any, client_id: str, api_key_comfy_org: str | None) -> str:
        from ..validate import check_workflow
        from .nodeerrors import prompt_verdict

        if not isinstance(workflow, dict):
            raise QueueRejected(500, "500 Internal Server Error\n\nServer got itself in trouble")
        ex = self.executor
        diagnostics = check_workflow(workflow, catalog=ex.catalog, models=ex.models, input_files=set(self.uploaded))
        verdict = prompt_verdict(workflow, diagnostics, ex.catalog, ex.models)
        if not verdict.accepted:
            raise QueueRejected(400, json.dumps(verdict.body()))
        for node_id in verdict.outputs:
            self.outputs[node_id] = self._make_outputs(workflow, node_id)
        return str(uuid.uuid4())

    def _make_outputs(self, workflow: Mapping[str, Any], node_id: str) -> dict[str, Any]:
        node = workflow[node_id]
        spec = self.executor.catalog.get(node["class_type"])
        images_spec = spec.inputs.get("images") if spec is not None else None
        if images_spec is None or images_spec.type != "IMAGE":
            return {}
        temp = node["class_type"].startswith("Preview")
        prefix = node.get("inputs", {}).get("filename_prefix", "ComfyUI")
        prefix = "ComfyUI_temp" if temp else (prefix if isinstance(prefix, str) and prefix else "ComfyUI")
        subfolder, base = os.path.split(prefix.replace("\\", "/"))
        count = batch_size(workflow, node_id)
        images = []
        for _ in range(count):
            number = self.executor.next_counter(subfolder, base)
            filename = f"{base}_{number:05}_.png"
            kind = "temp" if temp else "output"
            size = self.executor.image_size
            self.files[(filename, subfolder, kind)] = placeholder_png(size, size, colour_for(number))
            images.append({"filename": filename, "subfolder": subfolder, "type": kind})
        return {"images": images}

    def wait(self, prompt_id: str, cancelled: threading.Event) -> PromptResult:
        if cancelled.wait(self.executor.run_seconds):
            return PromptResult(None)
        outputs = {k: v for k, v in self.outputs.items() if v}
        return PromptResult({"outputs": outputs, "status": {"status_str": "success", "completed": True,
                                                              "messages": []}})

    def fetch_image(self, filename: str, subfolder: str, image_type: str) -> bytes | None:
        return self.files.get((filename, subfolder, image_type))

    def available_checkpoints(self) -> list[str]:
        ex = self.executor
        if ex.models is not None:
            return ex.models.files("checkpoints")
        spec = ex.catalog.get("CheckpointLoaderSimple")
        options = spec.inputs["ckpt_name"].options if spec is not None and "ckpt_name" in spec.inputs else None
        return [o for o in options or () if isinstance(o, str)]


def batch_size(workflow: Mapping[str, Any], node_id: str) -> int:
    """The number of images an output node receives: the first literal `batch_size` found
    upstream of it (breadth first), else 1."""
    seen = {node_id}
    todo = deque([node_id])
    while todo:
        current = workflow.get(todo.popleft())
        inputs = current.get("inputs") if isinstance(current, dict) else None
        if not isinstance(inputs, dict):
            continue
        value = inputs.get("batch_size")
        if type(value) is int and current is not workflow.get(node_id):
            return max(1, min(value, _MAX_IMAGES))
        for item in inputs.values():
            if is_link(item) and item[0] not in seen:
                seen.add(item[0])
                todo.append(item[0])
    return 1


class ComfyUIExecutor(Executor):
    """Drive a real ComfyUI server: upload, `POST /prompt`, poll `/history`, fetch `/view`.

    Before each job it waits for `GET /` to answer 200, trying `startup_retries` times
    `startup_interval` seconds apart (worker-comfyui 5.7's 500 x 50 ms by default).
    """

    name = "comfyui"

    def __init__(self, url: str, *, poll_interval: float = 0.25, timeout: float = 30.0,
                 startup_retries: int = 500, startup_interval: float = 0.05,
                 comfy_org_api_key: str | None = None, worker_version: str = "5") -> None:
        import httpx

        from .worker import WORKER_VERSIONS

        if worker_version not in WORKER_VERSIONS:
            raise ValueError(f"unknown worker-comfyui version `{worker_version}`; use one of {WORKER_VERSIONS}")
        self.worker_version = worker_version
        self.url = url.rstrip("/")
        self.poll_interval = poll_interval
        self.startup_retries = startup_retries
        self.startup_interval = startup_interval
        self.comfy_org_api_key = comfy_org_api_key
        self.client = httpx.Client(base_url=self.url, timeout=timeout)

    def session(self) -> ComfyUISession:
        return ComfyUISession(self)

    def close(self) -> None:
        self.client.close()


class ComfyUISession:
    """One job's conversation with a ComfyUI server."""

    def __init__(self, executor: ComfyUIExecutor) -> None:
        from urllib.parse import urlsplit

        self.ex = executor
        self.client = executor.client
        self.host = urlsplit(executor.url).netloc

    def _request(self, method: str, path: str, **kwargs: Any):
        import httpx

        try:
            return self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ComfyCommunicationError(f"{method} {self.ex.url}{path}: {exc or type(exc).__name__}") from None

    def _checked(self, method: str, path: str, **kwargs: Any):
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise ComfyCommunicationError(
                f"{response.status_code} Error for url: {self.ex.url}{path}")
        return response

    def reachable(self) -> bool:
        for attempt in range(max(1, self.ex.startup_retries)):
            try:
                if self._request("GET", "/").status_code == 200:
                    return True
            except ComfyCommunicationError:
                pass
            if attempt + 1 < self.ex.startup_retries:
                time.sleep(self.ex.startup_interval)
        return False

    def upload_image(self, name: str, data: bytes) -> None:
        self._checked("POST", "/upload/image", files={"image": (name, data, "image/png")},
                      data={"overwrite": "true"})

    def queue_prompt(self, workflow: Any, client_id: str, api_key_comfy_org: str | None) -> str:
        payload = prompt_body(workflow, client_id)
        key = api_key_comfy_org or self.ex.comfy_org_api_key
        if key:
            payload["extra_data"] = {"api_key_comfy_org": key}
        response = self._request("POST", "/prompt", json=payload)
        if response.status_code >= 400:
            raise QueueRejected(response.status_code, response.text, f"{self.ex.url}/prompt")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        prompt_id = answer.get("prompt_id") if isinstance(answer, dict) else None
        if not prompt_id:
            raise HandlerError(f"Missing 'prompt_id' in queue response: {answer if answer is not None else response.text}")
        return str(prompt_id)

    def wait(self, prompt_id: str, cancelled: threading.Event) -> PromptResult:
        while not cancelled.is_set():
            response = self._checked("GET", f"/history/{prompt_id}")
            try:
                history = response.json()
            except ValueError:
                raise ComfyCommunicationError(f"/history/{prompt_id} did not answer JSON") from None
            entry = history.get(prompt_id) if isinstance(history, dict) else None
            if isinstance(entry, dict):
                status = entry.get("status") or {}
                if status.get("status_str") == "error":
                    return PromptResult(entry, execution_errors(status))
                if status.get("completed", True):
                    return PromptResult(entry)
            cancelled.wait(self.ex.poll_interval)
        try:
            self._request("POST", "/interrupt", json={"prompt_id": prompt_id})
        except ComfyCommunicationError:
            pass
        return PromptResult(None)

    def fetch_image(self, filename: str, subfolder: str, image_type: str) -> bytes | None:
        try:
            response = self._checked("GET", "/view", params={"filename": filename, "subfolder": subfolder,
                                                             "type": image_type})
        except ComfyCommunicationError:
            return None
        return response.content

    def available_checkpoints(self) -> list[str]:
        try:
            info = self._checked("GET", "/object_info").json()
            options = info["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"]
        except (ComfyCommunicationError, ValueError, KeyError, TypeError):
            return []
        return list(options[0]) if options and isinstance(options[0], list) else []


def execution_errors(status: Mapping[str, Any]) -> list[str]:
    """worker-comfyui's text for each `execution_error` message in a history status."""
    errors = []
    for message in status.get("messages") or []:
        if isinstance(message, list) and len(message) == 2 and message[0] == "execution_error":
            data = message[1] if isinstance(message[1], dict) else {}
            errors.append(f"Workflow execution error: Node Type: {data.get('node_type')}, "
                          f"Node ID: {data.get('node_id')}, Message: {data.get('exception_message')}")
    return errors or ["Workflow execution error: ComfyUI reported an error without details"]
