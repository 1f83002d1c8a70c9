"""The official runpod SDK, pointed at the local endpoint, end to end."""

from __future__ import annotations

import base64

import pytest

from comfydsl.serve import serve_in_thread
from serve_helpers import MISSING_CKPT, SAVE_TWO



@pytest.fixture
def sdk(monkeypatch):
    """The runpod module with its global base URL and key restored afterwards (imported here,
    not at collection: it is slow to import, and every test worker collects every module)."""
    runpod = pytest.importorskip("runpod")
    monkeypatch.setattr(runpod, "endpoint_url_base", runpod.endpoint_url_base)
    monkeypatch.setattr(runpod, "api_key", "k")
    return runpod


def test_sdk_run_status_output_health_purge(sdk):
    with serve_in_thread(api_key="k", run_seconds=0.5, min_wait_ms=0) as srv:
        sdk.endpoint_url_base = srv.url
        endpoint = sdk.Endpoint("local-endpoint")
        job = endpoint.run({"workflow": SAVE_TWO})
        assert job.status() in ("IN_QUEUE", "IN_PROGRESS")
        output = job.output(timeout=10)
        assert job.status() == "COMPLETED"
        images = output["images"]
        assert len(images) == 2 and base64.b64decode(images[0]["data"]).startswith(b"\x89PNG")
        health = endpoint.health()
        assert health["jobs"]["completed"] == 1 and health["workers"]["idle"] == 1
        assert endpoint.purge_queue() == {"removed": 0, "status": "completed"}
        assert srv.requests["run"] == 1 and srv.requests["status"] >= 2


def test_sdk_run_sync_and_failed_jobs(sdk):
    with serve_in_thread(api_key="k", run_seconds=0.05) as srv:
        sdk.endpoint_url_base = srv.url
        endpoint = sdk.Endpoint("local-endpoint")
        output = endpoint.run_sync({"workflow": SAVE_TWO}, timeout=10)
        assert [i["filename"] for i in output["images"]] == ["test_00001_.png", "test_00002_.png"]
        # The SDK swallows a FAILED job's error and returns None.
        assert endpoint.run_sync({"workflow": MISSING_CKPT}, timeout=10) is None


def test_sdk_cancel(sdk):
    with serve_in_thread(api_key="k", run_seconds=10) as srv:
        sdk.endpoint_url_base = srv.url
        job = sdk.Endpoint("local-endpoint").run({"workflow": SAVE_TWO})
        assert job.cancel() == {"id": job.job_id, "status": "CANCELLED"}
        assert job.status() == "CANCELLED"


def test_sdk_wrong_key_is_refused(sdk):
    with serve_in_thread(api_key="right") as srv:
        sdk.endpoint_url_base = srv.url
        with pytest.raises(RuntimeError, match="401 Unauthorized"):
            sdk.Endpoint("local-endpoint", api_key="wrong").health()


def test_sdk_run_sync_polls_when_runsync_returns_early(sdk):
    with serve_in_thread(api_key="k", run_seconds=0.5, default_wait_ms=100, min_wait_ms=0) as srv:
        sdk.endpoint_url_base = srv.url
        output = sdk.Endpoint("local-endpoint").run_sync({"workflow": SAVE_TWO}, timeout=10)
        assert len(output["images"]) == 2
        assert srv.requests["runsync"] == 1 and srv.requests["status"] >= 1


def test_sdk_job_stream(sdk):
    with serve_in_thread(api_key="k", run_seconds=0.3) as srv:
        sdk.endpoint_url_base = srv.url
        job = sdk.Endpoint("local-endpoint").run({"workflow": SAVE_TWO})
        pieces = list(job.stream())
        assert len(pieces) == 1 and len(pieces[0]["images"]) == 2
        assert srv.requests["stream"] >= 1
