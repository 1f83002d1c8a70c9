"""The RunPod clients against `comfydsl serve` over loopback: every operation, every final
status, the scripted faults, and key hygiene."""

from __future__ import annotations

import asyncio
import base64
import logging
import time

import httpx
import pytest

from comfydsl.backends.runpod import AsyncRunPodClient, PollPolicy, RequestTooLarge, RetryPolicy, RunPodClient
from comfydsl.workflow.status import JobStatus
from comfydsl.catalog import ModelCatalog
from comfydsl.errors import (AuthenticationError, BackendConnectionError, BackendError, BackendStatusError,
                             JobCancelled, JobFailed, JobTimedOut)
from comfydsl.serve import serve_in_thread

KEY = "rp_test_key_5f0c1d2e9a"
FAST_POLL = PollPolicy(initial=0.02, maximum=0.05, floor=0.01)
FAST_RETRY = RetryPolicy(attempts=4, base=0.01, cap=0.02)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

MISSING_CKPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "missing.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "x"}},
}


def worker_models() -> ModelCatalog:
    models = ModelCatalog()
    models.add("checkpoints", ["sd_xl_base_1.0.safetensors"])
    return models


@pytest.fixture
def server():
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.05, workers=2, models=worker_models(),
                         enforce_policy_limits=False) as srv:
        yield srv


@pytest.fixture
def client(server):
    with RunPodClient("ep", KEY, base_url=server.url, poll=FAST_POLL, retry=FAST_RETRY) as c:
        yield c


def test_run_wait_completed_with_images_and_times(client, server, workflow):
    workflow["1"]["inputs"]["batch_size"] = 2
    job = client.run(workflow)
    assert job.status is JobStatus.IN_QUEUE
    result = client.wait(job.id).raise_for_status()
    assert result.ok and len(result.images) == 2
    assert all(client.image_bytes(img).startswith(PNG_MAGIC) for img in result.images)
    assert result.state.delay_time is not None and result.state.execution_time is not None
    assert result.state.worker_id
    assert client.requests["run"] == server.requests["run"] == 1
    assert client.status(job.id).status is JobStatus.COMPLETED
    assert client.result(job.id).ok


def test_runsync_in_one_request(client, server, workflow):
    result = client.runsync(workflow)
    assert result.ok and result.job_id and len(result.images) == 1
    assert server.requests["runsync"] == 1 and server.requests["status"] == 0


def test_runsync_not_final_falls_back_to_polling(workflow):
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.3, default_wait_ms=20, min_wait_ms=1) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            # the request's ?wait is never longer than the time left: ask for 20 ms
            result = c.runsync(workflow, wait=0.02, timeout=10)
            assert result.ok and srv.requests["status"] >= 1


def test_uploads_reach_the_worker(client, workflow):
    from comfydsl.serve.png import placeholder_png

    workflow["3"] = {"class_type": "LoadImage", "inputs": {"image": "face.png"}}
    workflow["4"] = {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}}
    data = placeholder_png(2, 2)
    result = client.runsync(workflow, images={"face.png": data})
    assert result.ok, result.error
    prefixed = {"input": {"workflow": workflow, "images": [
        {"name": "face.png", "image": "data:image/png;base64," + base64.b64encode(data).decode()}]}}
    assert client.runsync(prefixed).ok


def test_failed_validation_text_becomes_node_diagnostics(client):
    result = client.wait(client.run(MISSING_CKPT, check=False).id)
    assert result.status is JobStatus.FAILED and "Workflow validation failed" in result.error
    assert [(d.node_id, d.input) for d in result.diagnostics] == [("4", "ckpt_name")]
    with pytest.raises(JobFailed) as info:
        result.raise_for_status()
    assert "missing.safetensors" in str(info.value) and info.value.diagnostics == result.diagnostics


def test_timed_out_by_execution_timeout(workflow):
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=2, enforce_policy_limits=False) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            result = c.wait(c.run(workflow, execution_timeout=0.1).id, timeout=10)
            assert result.status is JobStatus.TIMED_OUT
            with pytest.raises(JobTimedOut):
                result.raise_for_status()


def test_cancel_queued_job_and_purge(workflow):
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=1, workers=1) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            running = c.run(workflow)
            queued = [c.run(workflow) for _ in range(3)]
            assert c.cancel(queued[0].id).status is JobStatus.CANCELLED
            result = c.wait(queued[0].id)
            assert result.status is JobStatus.CANCELLED
            with pytest.raises(JobCancelled):
                result.raise_for_status()
            health = c.health()
            assert health.jobs.in_queue == 2 and health.workers.running + health.workers.idle >= 1
            assert c.purge_queue().removed == 2
            assert c.health().jobs.in_queue == 0
            c.cancel(running.id)


def test_retry_failed_job_keeps_its_id(client):
    job = client.run(MISSING_CKPT, check=False)
    assert client.wait(job.id).status is JobStatus.FAILED
    again = client.retry(job.id)
    assert again.id == job.id and again.status is JobStatus.IN_QUEUE
    assert client.wait(job.id).status is JobStatus.FAILED


def test_retry_completed_job_is_refused(client, workflow):
    job = client.run(workflow)
    client.wait(job.id)
    with pytest.raises(BackendStatusError) as info:
        client.retry(job.id)
    assert info.value.status_code == 400 and "cannot be retried" in str(info.value)


def test_unknown_job_is_404_with_a_clear_message(client):
    with pytest.raises(BackendStatusError) as info:
        client.status("no-such-job")
    assert info.value.status_code == 404 and "expired" in str(info.value)


def test_expired_result_is_404(workflow):
    with serve_in_thread(executor="dry", api_key=KEY, retention=0.4) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            job = c.run(workflow)
            assert c.wait(job.id).ok
            import time

            time.sleep(0.8)
            with pytest.raises(BackendStatusError, match="expired"):
                c.status(job.id)


def test_wrong_key_is_authentication_error_without_the_key(server):
    wrong = "rp_wrong_key_0000"
    with RunPodClient("ep", wrong, base_url=server.url) as c:
        with pytest.raises(AuthenticationError) as info:
            c.health()
    assert wrong not in str(info.value) and KEY not in str(info.value) and info.value.status_code == 401


def test_status_429_with_and_without_retry_after(client, server, workflow):
    job = client.run(workflow)
    server.faults.add(op="status", status=429, times=2, retry_after=0)
    server.faults.add(op="status", status=429, times=1)
    retries = []
    client.on_retry = lambda *a: retries.append(a)
    assert client.wait(job.id).ok
    assert len(retries) == 3 and all(r[0] == "status" for r in retries)
    assert server.requests.snapshot()["statuses"].get("status 429") == 3


@pytest.mark.parametrize("status", [502, 503, 504])
def test_status_gateway_errors_retried(client, server, workflow, status):
    job = client.run(workflow)
    server.faults.add(op="status", status=status, times=2, body="<html>gateway</html>")
    assert client.wait(job.id).ok


def test_status_500_is_not_retried(client, server, workflow):
    job = client.run(workflow)
    server.faults.add(op="status", status=500, times=1)
    with pytest.raises(BackendStatusError) as info:
        client.status(job.id)
    assert info.value.status_code == 500


def test_run_429_retried_but_5xx_and_drops_never_resubmitted(client, server, workflow):
    server.faults.add(op="run", status=429, times=1, retry_after=0)
    assert client.run(workflow).id
    server.requests.reset()
    server.faults.add(op="run", status=503, times=1)
    with pytest.raises(BackendStatusError):
        client.run(workflow)
    assert server.requests["run"] == 1
    server.faults.add(op="run", drop=True, times=1)
    with pytest.raises(BackendConnectionError, match="may have reached the server"):
        client.run(workflow)
    assert server.requests["run"] == 2


def test_dropped_status_is_retried(client, server, workflow):
    job = client.run(workflow)
    server.faults.add(op="status", drop=True, times=2)
    assert client.wait(job.id).ok


def test_connect_error_is_retried_then_reported(workflow):
    with serve_in_thread(executor="dry") as srv:
        url = srv.url
    with RunPodClient("ep", KEY, base_url=url, retry=FAST_RETRY) as c:
        with pytest.raises(BackendConnectionError) as info:
            c.run(workflow)
    assert "after 4 attempts" in str(info.value)


def test_non_json_bodies(client, server):
    server.faults.add(op="health", status=200, body="<html>maintenance</html>")
    with pytest.raises(BackendError, match="not a JSON object"):
        client.health()
    server.faults.add(op="health", status=418, body="<html>teapot</html>")
    with pytest.raises(BackendStatusError, match="teapot"):
        client.health()


def test_slow_answer_hits_the_read_timeout(server, workflow):
    with RunPodClient("ep", KEY, base_url=server.url, timeout=0.2, retry=RetryPolicy(attempts=1)) as c:
        server.faults.add(op="health", delay=1.0)
        with pytest.raises(BackendConnectionError, match="ReadTimeout"):
            c.health()


def test_too_large_bodies_are_refused_before_sending(client, server, workflow):
    with pytest.raises(RequestTooLarge):
        client.run(workflow, images={"big.png": b"\0" * (8 * 1024 * 1024)})
    assert server.requests["run"] == 0


def test_async_client_runs_a_batch(server, workflow):
    async def go():
        async with AsyncRunPodClient("ep", KEY, base_url=server.url, poll=FAST_POLL, retry=FAST_RETRY) as c:
            jobs = await asyncio.gather(*(c.run(workflow) for _ in range(12)))
            results = await asyncio.gather(*(c.wait(j.id) for j in jobs))
            health = await c.health()
            sync = await c.runsync(workflow)
            cancelled = await c.cancel(jobs[0].id)
            return results, health, sync, cancelled

    results, health, sync, cancelled = asyncio.run(go())
    assert all(r.ok for r in results) and len({r.job_id for r in results}) == 12
    assert health.jobs.completed >= 12 and sync.ok and cancelled.id


def test_async_retry_and_purge(workflow):
    async def go(srv):
        async with AsyncRunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL, retry=FAST_RETRY) as c:
            failed = await c.run(MISSING_CKPT, check=False)
            first = await c.wait(failed.id)
            again = await c.retry(failed.id)
            await c.wait(failed.id)
            await c.run(workflow)
            queued = [await c.run(workflow) for _ in range(2)]
            purge = await c.purge_queue()
            return first, again, purge, queued

    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.3, workers=1, models=worker_models()) as srv:
        first, again, purge, queued = asyncio.run(go(srv))
    assert first.status is JobStatus.FAILED and first.diagnostics
    assert again.status is JobStatus.IN_QUEUE and purge.removed >= 1


def test_key_never_logged(server, workflow, caplog):
    caplog.set_level(logging.DEBUG)
    with RunPodClient("ep", KEY, base_url=server.url, poll=FAST_POLL) as c:
        c.wait(c.run(workflow).id)
        server.faults.add(op="status", status=401, body=f"refused {KEY}")
        with pytest.raises(AuthenticationError) as info:
            c.status("x")
        assert KEY not in repr(c) and KEY not in str(info.value) and KEY not in repr(info.value)
        assert KEY not in repr(info.value.response) and KEY not in repr(info.value.response.request.headers)
    assert caplog.records and KEY not in caplog.text


def test_injected_http_client_is_not_closed(server):
    http = httpx.Client()
    with RunPodClient("ep", KEY, base_url=server.url, client=http) as c:
        assert c.health().workers.idle + c.health().workers.running >= 1
    assert not http.is_closed
    http.close()


class _Recorder:
    """A loopback HTTP server that records requests and answers with fixed bytes."""

    def __init__(self, body: bytes = b"ok") -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


def test_s3_url_images_downloaded_over_http_without_the_key(client):
    from comfydsl.backends.results import JobResult, JobState

    with _Recorder(b"\x89PNG\r\n\x1a\nS3") as bucket:
        state = JobState.model_validate({"id": "j", "status": "COMPLETED", "output": {"images": [
            {"filename": "a.png", "type": "s3_url", "data": f"{bucket.url}/j/abc123.png?X-Amz-Signature=x"}]}})
        result = JobResult.from_state("ep", state)
        assert client.image_bytes(result.images[0]) == b"\x89PNG\r\n\x1a\nS3"
    [(method, path, headers, _)] = bucket.seen
    assert method == "GET" and path.startswith("/j/abc123.png")
    assert not any(k.lower() == "authorization" for k in headers) and KEY not in str(headers)


def test_webhook_is_posted_the_final_job(client, workflow):
    import json
    import time

    with _Recorder() as receiver:
        job = client.run(workflow, webhook=f"{receiver.url}/hook")
        assert client.wait(job.id).ok
        deadline = time.monotonic() + 5
        while not receiver.seen and time.monotonic() < deadline:
            time.sleep(0.02)
    [(method, path, _, body)] = receiver.seen
    assert method == "POST" and path == "/hook" and json.loads(body)["id"] == job.id


def test_legacy_worker_output_shape(workflow):
    with serve_in_thread(executor="dry", api_key=KEY, worker_version="3") as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            result = c.runsync(workflow)
    assert result.ok and len(result.images) == 1
    assert c.image_bytes(result.images[0]).startswith(PNG_MAGIC)


@pytest.mark.parametrize("name, params", [("status-500", {"times": 2}), ("status-html", {"times": 2}),
                                          ("429-storm", {"times": 3, "retry_after": 0.2}),
                                          ("refused", {"seconds": 1.0})])
def test_sync_client_wait_polls_through_transient_failures(workflow, name, params):
    told = []
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.2) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL,
                          on_retry=lambda *args: told.append(args)) as c:
            srv.faults.scenario(name, **params)
            job = c.run(workflow)
            result = c.wait(job.id, timeout=20)
    assert result.ok and told and all(op == "status" for op, *_ in told)
    assert all(KEY not in why for *_, why in told)


def test_sync_client_runsync_hands_over_the_id_first_and_keeps_the_timeout(workflow):
    from comfydsl.errors import JobTimedOut

    seen = []
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=10, min_wait_ms=1) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            started = time.monotonic()
            with pytest.raises(JobTimedOut) as info:
                c.runsync(workflow, timeout=1.0, on_submitted=seen.append)
            assert time.monotonic() - started < 4
    assert len(seen) == 1 and seen[0].id.startswith("sync-") and info.value.job_id == seen[0].id
    assert info.value.status in ("IN_QUEUE", "IN_PROGRESS")


def test_wait_gives_up_at_the_timeout_while_polls_keep_failing(workflow):
    from comfydsl.errors import JobTimedOut

    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=10) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST_POLL) as c:
            job = c.run(workflow)
            srv.faults.add(op="status", status=503, times=None)
            started = time.monotonic()
            with pytest.raises(JobTimedOut, match="HTTP 503") as info:
                c.wait(job.id, timeout=1.0)
            assert time.monotonic() - started < 3
    assert info.value.status == "UNKNOWN"
