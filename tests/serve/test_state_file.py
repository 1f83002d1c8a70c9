"""`serve --state FILE`: jobs survive a restart of the endpoint (SQLite, standard library)."""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from comfydsl.serve import serve_in_thread
from serve_helpers import SAVE_TWO, poll
from support import invoke

H = {"Authorization": "Bearer k"}


def submit(srv) -> str:
    return httpx.post(f"{srv.url}/ep/run", json={"input": {"workflow": SAVE_TWO}}, headers=H).json()["id"]


def test_jobs_survive_a_restart(tmp_path):
    state = str(tmp_path / "jobs.sqlite")
    with serve_in_thread(api_key="k", run_seconds=0.05, state_file=state) as srv:
        with httpx.Client(base_url=f"{srv.url}/ep", headers=H) as c:
            done = submit(srv)
            final = poll(c, done)[-1]
            assert final["status"] == "COMPLETED"
    with serve_in_thread(api_key="k", run_seconds=0.05, state_file=state) as srv:
        with httpx.Client(base_url=f"{srv.url}/ep", headers=H) as c:
            again = c.get(f"/status/{done}").json()
            assert again["status"] == "COMPLETED" and again["output"] == final["output"]
            assert c.get("/health").json()["jobs"]["completed"] == 1
            assert c.get(f"/stream/{done}").json()["stream"][0]["output"] == final["output"]


def test_queued_and_running_jobs_run_after_a_restart(tmp_path):
    state = str(tmp_path / "jobs.sqlite")
    with serve_in_thread(api_key="k", run_seconds=30, workers=1, state_file=state) as srv:
        running, queued = submit(srv), submit(srv)
        deadline = time.monotonic() + 5
        while srv.jobs.health()["jobs"]["inProgress"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    with serve_in_thread(api_key="k", run_seconds=0.05, workers=1, state_file=state) as srv:
        with httpx.Client(base_url=f"{srv.url}/ep", headers=H) as c:
            assert poll(c, running)[-1]["status"] == "COMPLETED"
            assert poll(c, queued)[-1]["status"] == "COMPLETED"


def test_without_state_jobs_live_in_memory(tmp_path):
    with serve_in_thread(api_key="k", run_seconds=0.05) as srv:
        job = submit(srv)
    with serve_in_thread(api_key="k", run_seconds=0.05) as srv:
        assert httpx.get(f"{srv.url}/ep/status/{job}", headers=H).status_code == 404


def test_expired_and_purged_jobs_leave_the_file(tmp_path):
    state = tmp_path / "jobs.sqlite"
    with serve_in_thread(api_key="k", run_seconds=30, workers=1, retention=0.2, state_file=str(state)) as srv:
        submit(srv), submit(srv)
        httpx.post(f"{srv.url}/ep/purge-queue", headers=H)
        with sqlite3.connect(state) as db:
            assert db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1


def test_serve_cli_refuses_a_state_file_it_cannot_use(tmp_path):
    (tmp_path / "bad.sqlite").write_bytes(b"not a database at all" * 100)
    proc = invoke("serve", "--port", "0", "--state", "bad.sqlite", "--quiet", cwd=tmp_path)
    assert proc.returncode == 1 and "state file" in proc.stderr and "Traceback" not in proc.stderr
    proc = invoke("serve", "--port", "0", "--state", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "folder" in proc.stderr


@pytest.mark.parametrize("spec, message", [("nope", "unknown fault scenario"), ("429-storm:x=1", "unexpected"),
                                           ("429-storm:times", "key=value")])
def test_serve_cli_fault_scenarios_are_checked(tmp_path, spec, message):
    proc = invoke("serve", "--port", "0", "--fault-scenario", spec, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr
