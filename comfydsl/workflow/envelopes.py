"""Request bodies around a workflow, and how big they may be.

* RunPod Serverless `/run` and `/runsync`: `{"input": {"workflow": {...}, "images": [...]}}`,
  optionally with `policy` and `webhook` next to `input`;
* ComfyUI `POST /prompt`: `{"prompt": {...}, "client_id": "..."}`.

Reading them back (finding the workflow inside any of these) is `document.classify`.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from ..errors import RequestTooLarge

#: RunPod's documented request body limits, in bytes ("10 MB" for /run, "20 MB" for /runsync;
#: read as decimal megabytes, the stricter reading).
RUN_BODY_LIMIT = 10_000_000
RUNSYNC_BODY_LIMIT = 20_000_000
#: the body limit of each RunPod submission
BODY_LIMITS: Mapping[str, int] = {"run": RUN_BODY_LIMIT, "runsync": RUNSYNC_BODY_LIMIT}
#: what a compiled workflow can be wrapped in: nothing, a RunPod body, a `/prompt` body
ENVELOPES = ("none", "runpod", "prompt")


def body_limit(op: str) -> int:
    """The documented body limit of a RunPod operation (`run` for anything but `runsync`)."""
    return BODY_LIMITS.get(op, RUN_BODY_LIMIT)


def runpod_body(workflow: Mapping[str, Any], images: Iterable[tuple[str, str]] = (),
                **extra_input: Any) -> dict[str, Any]:
    """A RunPod `/run` or `/runsync` body: the workflow, uploads `(name, base64)` and any
    further `input` keys (e.g. `comfy_org_api_key`). Without images there is no `images` key."""
    body_input: dict[str, Any] = {"workflow": workflow}
    uploads = [{"name": name, "image": data} for name, data in images]
    if uploads:
        body_input["images"] = uploads
    body_input.update({k: v for k, v in extra_input.items() if v is not None})
    return {"input": body_input}


def prompt_body(workflow: Mapping[str, Any], client_id: str | None = None) -> dict[str, Any]:
    """A ComfyUI `POST /prompt` body."""
    body: dict[str, Any] = {"prompt": workflow}
    if client_id is not None:
        body["client_id"] = client_id
    return body


def wrap(workflow: dict[str, Any], envelope: str | None, images: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """Wrap a workflow in an envelope named as in `ENVELOPES` (`None`, `"none"` and `"api"`: bare)."""
    if envelope in (None, "none", "api"):
        return workflow
    if envelope == "runpod":
        return runpod_body(workflow, images)
    if envelope == "prompt":
        return prompt_body(workflow)
    raise ValueError(f"unknown envelope `{envelope}`; use none, runpod or prompt")


def encode_body(body: Mapping[str, Any], op: str | None = None) -> bytes:
    """A body as the compact UTF-8 JSON that is sent; with `op` (`run`, `runsync`) it is
    checked against that operation's documented limit and RequestTooLarge raised if over."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if op is None:
        return data
    limit = body_limit(op)
    if len(data) > limit:
        raise RequestTooLarge(
            f"the {op} request is {len(data) / 1e6:.1f} MB; RunPod accepts at most {limit / 1e6:g} MB "
            f"for /{op} (uploaded images count): use smaller images, or host them and load them by URL",
            size=len(data), limit=limit)
    return data
