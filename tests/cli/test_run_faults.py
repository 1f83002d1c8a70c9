"""`comfydsl run` against the fault scenarios of `comfydsl serve` (serve/faults.py), over real
loopback sockets: a status poll that fails for a moment must not end the wait, a /runsync job
id is recorded before anything can fail, --timeout holds for --sync, and a job the API no
longer knows gets no "resume with" hint."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from comfydsl.serve import serve_in_thread
from support import invoke

KEY = "rp_test_key_5f0c1d2e9a"
WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}


@pytest.fixture
def wf(tmp_path):
    (tmp_path / "wf.json").write_text(json.dumps(WORKFLOW))
    return tmp_path


def run(server, cwd, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    env.update(RUNPOD_API_KEY=KEY, RUNPOD_API_BASE=server.url, RUNPOD_ENDPOINT_ID="ep")
    started = time.monotonic()
    proc = invoke("run", "wf.json", "--out", "out", "--poll-interval", "0.1", *extra, cwd=cwd, env=env,
                  replace_env=True)
    proc.elapsed = time.monotonic() - started
    return proc


def records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*.job.json"))]


def completed(proc, cwd):
    assert proc.returncode == 0, proc.stderr
    [record] = records(cwd / "out")
    assert record["status"] == "COMPLETED" and len(record["files"]) == 1
    assert "Traceback" not in proc.stderr and KEY not in proc.stderr
    return record


@pytest.mark.parametrize("name, params, said", [
    ("status-500", {}, "HTTP 500"),
    ("status-html", {}, "not a JSON object"),
    ("429-storm", {"times": 2, "retry_after": 1}, "HTTP 429"),
    ("refused", {"seconds": 2.0}, "ConnectError"),
])
def test_run_waits_through_transient_status_failures(wf, name, params, said):
    with serve_in_thread(api_key=KEY, run_seconds=0.3, workers=2) as srv:
        faults = srv.faults.scenario(name, **params)
        proc = run(srv, wf)
        assert all(f.times is None or f.hits >= 1 for f in faults)
    completed(proc, wf)
    assert said in proc.stderr and "still waiting" in proc.stderr


def test_429_storm_honours_retry_after(wf):
    with serve_in_thread(api_key=KEY, run_seconds=0.1, workers=2) as srv:
        srv.faults.scenario("429-storm", times=3, retry_after=1)
        proc = run(srv, wf)
        assert srv.requests["status"] >= 4
    completed(proc, wf)
    assert proc.elapsed >= 2.7  # three answers asked for a second each; the poll interval is 0.1 s
    assert proc.stderr.count("HTTP 429") == 3


def test_sync_job_survives_runsync_in_queue_then_failing_polls(wf):
    with serve_in_thread(api_key=KEY, run_seconds=0.3, workers=2) as srv:
        srv.faults.scenario("runsync-queued-then-failing", times=2)
        proc = run(srv, wf, "--sync")
        assert srv.requests["runsync"] == 1 and srv.requests["run"] == 0
    record = completed(proc, wf)
    assert record["job_id"].startswith("sync-")
    assert "HTTP 503" in proc.stderr and "not a JSON object" in proc.stderr


def test_sync_job_id_is_recorded_when_every_poll_fails(wf):
    with serve_in_thread(api_key=KEY, run_seconds=30, workers=2) as srv:
        srv.faults.add(op="runsync", early=True)
        srv.faults.add(op="status", status=500, times=None)
        proc = run(srv, wf, "--sync", "--timeout", "1.5")
        job_ids = list(srv.jobs.jobs)
    assert proc.returncode == 1, proc.stderr
    [record] = records(wf / "out")
    assert [record["job_id"]] == job_ids
    assert record["status"] == "IN_QUEUE"  # the last state seen: every poll failed
    assert record["job_id"] in proc.stderr and "resume with" in proc.stderr
    assert "gave up waiting" in proc.stderr and "HTTP 500" in proc.stderr


def test_sync_honours_timeout(wf):
    with serve_in_thread(api_key=KEY, run_seconds=12, workers=2, min_wait_ms=1) as srv:
        proc = run(srv, wf, "--sync", "--timeout", "2")
        assert srv.requests["runsync"] == 1
    assert proc.returncode == 1, proc.stderr
    assert proc.elapsed < 6
    [record] = records(wf / "out")
    assert record["status"] == "IN_PROGRESS" and "gave up waiting" in proc.stderr


def test_record_keeps_the_last_state_seen_on_timeout(wf):
    with serve_in_thread(api_key=KEY, run_seconds=30, workers=2) as srv:
        proc = run(srv, wf, "--timeout", "1")
    assert proc.returncode == 1
    [record] = records(wf / "out")
    assert record["status"] == "IN_PROGRESS"
    assert "resume with" in proc.stderr


def test_no_resume_hint_after_404(wf):
    with serve_in_thread(api_key=KEY, run_seconds=30, workers=2) as srv:
        srv.faults.add(op="status", skip=1, status=404, body='{"error": "job not found"}',
                       content_type="application/json")
        proc = run(srv, wf)
    assert proc.returncode == 1
    assert "not found" in proc.stderr and "resume with" not in proc.stderr
    [record] = records(wf / "out")
    assert record["status"] == "IN_PROGRESS"  # not the IN_QUEUE of the submission


def test_non_transient_failure_is_not_repeated(wf):
    with serve_in_thread(api_key=KEY, run_seconds=1, workers=2) as srv:
        srv.faults.add(op="status", status=401, times=None)
        proc = run(srv, wf, "--timeout", "20")
        assert srv.requests["status"] == 1
    assert proc.returncode == 1 and "refused the API key" in proc.stderr
