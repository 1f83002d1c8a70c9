"""Ctrl-C while `comfydsl run` waits: the remote jobs are cancelled (or, with --detach,
left running with a resume hint). Real SIGINT to a real subprocess."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import time

import pytest

from comfydsl.serve import serve_in_thread
from support import comfydsl_command

KEY = "rp_test_key_5f0c1d2e9a"
WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX signals")


def start(server, cwd, *extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    env.update(RUNPOD_API_KEY=KEY, RUNPOD_API_BASE=server.url, RUNPOD_ENDPOINT_ID="ep")
    return subprocess.Popen([*comfydsl_command(), "run", "wf.json", "--out", "out", "--poll-interval", "0.05",
                             *extra], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lines(proc, needle: str, count: int, timeout: float = 20) -> str:
    """Read stderr until `needle` has appeared `count` times."""
    seen = ""
    selector = selectors.DefaultSelector()
    selector.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while seen.count(needle) < count:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError(f"never saw {count}x {needle!r}: {seen}")
        if selector.select(0.1):
            seen += proc.stderr.readline()
    selector.close()
    return seen


@pytest.fixture
def slow_server():
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=30, workers=1) as srv:
        yield srv


@pytest.fixture
def wf(tmp_path):
    (tmp_path / "wf.json").write_text(json.dumps(WORKFLOW))
    return tmp_path


def job_ids(cwd) -> list[str]:
    return [json.loads(p.read_text())["job_id"] for p in sorted((cwd / "out").glob("*.job.json"))]


def test_ctrl_c_cancels_the_remote_jobs(slow_server, wf):
    proc = start(slow_server, wf, "--repeat", "2")
    head = wait_for_lines(proc, "submitted", 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = head + err
    assert proc.returncode == 130, err
    ids = job_ids(wf)
    assert len(ids) == 2
    for job in ids:
        assert f"cancelled job {job}" in err
    assert slow_server.requests["cancel"] == 2
    health = slow_server.jobs.health()["jobs"]
    assert health["inQueue"] == 0 and health["inProgress"] == 0
    assert {json.loads(p.read_text())["status"] for p in (wf / "out").glob("*.job.json")} == {"CANCELLED"}
    assert "Traceback" not in err


def test_ctrl_c_with_detach_leaves_jobs_running(slow_server, wf):
    proc = start(slow_server, wf, "--detach")
    head = wait_for_lines(proc, "submitted", 1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = head + err
    assert proc.returncode == 130, err
    [job] = job_ids(wf)
    assert f"comfydsl status {job}" in err and "keeps running" in err
    assert slow_server.requests["cancel"] == 0
    health = slow_server.jobs.health()["jobs"]
    assert health["inProgress"] + health["inQueue"] == 1


def wait_until(check, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_sigterm_is_handled_like_ctrl_c(slow_server, wf):
    proc = start(slow_server, wf, "--repeat", "2", "--json")
    head = wait_for_lines(proc, "submitted", 2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    err = head + err
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert slow_server.requests["cancel"] == 2
    summary = json.loads(out)
    assert summary["interrupted"] is True and len(summary["jobs"]) == 2
    assert {json.loads(p.read_text())["status"] for p in (wf / "out").glob("*.job.json")} == {"CANCELLED"}
    assert err.count("cancelled job") == 2 and "Traceback" not in err


def test_a_second_ctrl_c_while_cancelling_keeps_the_records_right(slow_server, wf):
    slow_server.faults.add(op="cancel", delay=1.5, times=None)
    proc = start(slow_server, wf, "--repeat", "2")
    head = wait_for_lines(proc, "submitted", 2)
    proc.send_signal(signal.SIGINT)
    wait_until(lambda: slow_server.requests["cancel"] >= 1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = head + err
    assert proc.returncode == 130, err
    assert "still cancelling" in err and "Traceback" not in err
    assert slow_server.requests["cancel"] == 2
    assert {json.loads(p.read_text())["status"] for p in (wf / "out").glob("*.job.json")} == {"CANCELLED"}
    health = slow_server.jobs.health()["jobs"]
    assert health["inQueue"] == 0 and health["inProgress"] == 0


def test_ctrl_c_after_runsync_answered_cancels_the_recorded_job(slow_server, wf):
    slow_server.faults.add(op="runsync", early=True)
    proc = start(slow_server, wf, "--sync")
    wait_until(lambda: len(list((wf / "out").glob("*.job.json"))) == 1)
    [job] = job_ids(wf)
    assert job.startswith("sync-")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert f"cancelled job {job}" in err and "ids are not known" not in err
    assert slow_server.requests["cancel"] == 1
    assert json.loads((wf / "out" / f"{job}.job.json").read_text())["status"] == "CANCELLED"


def test_a_third_signal_stops_waiting_for_the_cancels(slow_server, wf):
    slow_server.faults.add(op="cancel", delay=5, times=None)
    proc = start(slow_server, wf, "--repeat", "2")
    head = wait_for_lines(proc, "submitted", 2)
    time.sleep(0.3)  # let a poll see the running job
    proc.send_signal(signal.SIGINT)
    wait_until(lambda: slow_server.requests["cancel"] >= 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    err = head + err
    assert time.monotonic() - started < 4
    assert proc.returncode == 130, err
    assert err.count("stopped waiting for the answer") == 2 and "comfydsl cancel" in err
    statuses = {json.loads(p.read_text())["status"] for p in (wf / "out").glob("*.job.json")}
    assert statuses <= {"IN_QUEUE", "IN_PROGRESS"} and statuses, statuses
    assert "Traceback" not in err
