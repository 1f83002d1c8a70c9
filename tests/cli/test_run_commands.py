"""`comfydsl retry` and `comfydsl purge-queue`, and the `stream` operation of both clients,
against `comfydsl serve` on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import time

from comfydsl.backends.runpod import AsyncRunPodClient, PollPolicy, RunPodClient
from comfydsl.jobs import JobRecord
from comfydsl.serve import serve_in_thread
from support import invoke

KEY = "rp_test_key_5f0c1d2e9a"
GOOD = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}
MISSING_CKPT = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "x"}},
}
FAST = PollPolicy(initial=0.02, maximum=0.05, adaptive=False)


def cli(*args, server, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    env.update(RUNPOD_API_KEY=KEY, RUNPOD_API_BASE=server.url, RUNPOD_ENDPOINT_ID="ep")
    return invoke(*args, cwd=cwd, env=env, replace_env=True)


def test_retry_command_requeues_a_failed_job_and_updates_its_record(tmp_path):
    with serve_in_thread(api_key=KEY, run_seconds=0.05) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, check=False, poll=FAST) as client:
            job = client.run(MISSING_CKPT)
            assert client.wait(job.id, timeout=10).status.value == "FAILED"
        record = JobRecord(job_id=job.id, endpoint="ep", base_url=srv.url, status="FAILED", error="boom")
        record.save(tmp_path / "out")
        proc = cli("retry", job.id, "--out", "out", server=srv, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"{job.id}: IN_QUEUE" and f"comfydsl status {job.id}" in proc.stderr
        assert srv.requests["retry"] == 1 and srv.jobs.health()["jobs"]["retried"] == 1
        saved = JobRecord.load(tmp_path / "out", job.id)
        assert saved.status == "IN_QUEUE" and saved.error is None
        # a job that did not fail cannot be retried: a clear error, no traceback
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST) as client:
            done = client.run(GOOD)
            client.wait(done.id, timeout=10)
        proc = cli("retry", done.id, "--json", server=srv, cwd=tmp_path)
    assert proc.returncode == 1 and "cannot be retried" in proc.stderr and "Traceback" not in proc.stderr


def test_purge_queue_command(tmp_path):
    with serve_in_thread(api_key=KEY, run_seconds=30, workers=1) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url) as client:
            ids = [client.run(GOOD).id for _ in range(3)]
        deadline = time.monotonic() + 5
        while srv.jobs.health()["jobs"]["inProgress"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc = cli("purge-queue", "--json", server=srv, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == {"removed": 2, "status": "completed"}
        proc = cli("purge-queue", server=srv, cwd=tmp_path)
        assert proc.stdout.strip() == "endpoint ep: removed 0 queued job(s)"
        assert srv.jobs.health()["jobs"]["inQueue"] == 0 and ids[0] in srv.jobs.jobs


def test_stream_in_both_clients(workflow=GOOD):
    with serve_in_thread(api_key=KEY, run_seconds=0.2) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST) as client:
            job = client.run(workflow)
            first = client.stream(job.id)
            assert first.stream == [] and not first.is_final
            outputs = list(client.iter_stream(job.id, timeout=10))
            assert len(outputs) == 1 and outputs[0]["images"][0]["filename"].endswith(".png")
            again = client.stream(job.id)
            assert again.is_final and again.stream == []  # handed out once

        async def streamed() -> list:
            async with AsyncRunPodClient("ep", KEY, base_url=srv.url, poll=FAST) as aclient:
                job = await aclient.run(workflow)
                return [output async for output in aclient.iter_stream(job.id, timeout=10)]

        outputs = asyncio.run(streamed())
        assert len(outputs) == 1 and "images" in outputs[0]
        assert srv.requests["stream"] >= 4


def test_stream_polls_through_transient_failures():
    with serve_in_thread(api_key=KEY, run_seconds=0.1) as srv:
        with RunPodClient("ep", KEY, base_url=srv.url, poll=FAST) as client:
            job = client.run(GOOD)
            srv.faults.add(op="stream", status=502, times=2)
            outputs = list(client.iter_stream(job.id, timeout=10))
    assert len(outputs) == 1
