"""Helpers of the serve tests: test data paths, workflows, polling."""

from __future__ import annotations

import base64
import json
import time
import httpx

from support import CONFORMANCE, OBJECT_INFO, PLACEHOLDERS  # noqa: F401  (tests/data)

#: A valid workflow that needs no model files: an empty 2-image batch, saved.
SAVE_TWO = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 2, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "dry/test"}},
}
#: A workflow whose checkpoint loader misses `ckpt_name`.
MISSING_CKPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "x"}},
}


def png_bytes() -> bytes:
    from comfydsl.serve.png import placeholder_png

    return placeholder_png(2, 2)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def poll(client: httpx.Client, job_id: str, *, until=("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"),
         timeout: float = 5.0, interval: float = 0.01) -> list[dict]:
    """Poll status until a state in `until`; return every answer seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/status/{job_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if seen[-1]["status"] in until:
            return seen
        time.sleep(interval)
    raise AssertionError(f"job {job_id} never reached {until}; last {seen[-1] if seen else None}")


def conformance_case(name: str) -> dict:
    return json.loads((CONFORMANCE / "cases" / f"{name}.json").read_text())
