"""The hosted RunPod Serverless contract over real loopback HTTP."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from comfydsl.serve import serve_in_thread
from serve_helpers import MISSING_CKPT, SAVE_TWO, poll

FAST = {"min_wait_ms": 0, "enforce_policy_limits": False}


def test_run_moves_through_queue_progress_and_completed(client_for):
    with serve_in_thread(api_key="k", run_seconds=0.3, **FAST) as srv:
        c = client_for(srv)
        first = c.post("/run", json={"input": {"workflow": SAVE_TWO}})
        assert first.status_code == 200
        body = first.json()
        assert body["status"] == "IN_QUEUE" and body["id"].endswith("-u1")
        seen = poll(c, body["id"])
        states = [s["status"] for s in seen]
        assert "IN_PROGRESS" in states and states[-1] == "COMPLETED"
        running = next(s for s in seen if s["status"] == "IN_PROGRESS")
        assert running["input"] == {"workflow": SAVE_TWO} and "delayTime" in running
        done = seen[-1]
        assert set(done) == {"id", "status", "delayTime", "executionTime", "output", "workerId"}
        assert done["executionTime"] >= 250
        images = done["output"]["images"]
        assert [i["filename"] for i in images] == ["test_00001_.png", "test_00002_.png"]
        assert all(i["type"] == "base64" and not i["data"].startswith("data:") for i in images)


def test_status_of_unknown_job_is_404(client_for):
    with serve_in_thread(api_key="k") as srv:
        assert client_for(srv).get("/status/nope-u1").status_code == 404


@pytest.mark.parametrize("key,expected", [(None, 401), ("wrong", 401), ("k", 200)])
def test_api_key_is_checked(client_for, key, expected):
    with serve_in_thread(api_key="k") as srv:
        assert client_for(srv, key=key).get("/health").status_code == expected


def test_bare_key_is_accepted_and_any_key_mode_still_needs_a_header(client_for):
    with serve_in_thread(api_key="k") as srv:
        assert httpx.get(f"{srv.url}/ep/health", headers={"Authorization": "k"}).status_code == 200
    with serve_in_thread(api_key=None) as srv:
        assert client_for(srv, key="whatever").get("/health").status_code == 200
        assert client_for(srv, key=None).get("/health").status_code == 401


def test_wrong_method_and_unknown_route(client_for):
    with serve_in_thread(api_key="k", endpoint_id="ep") as srv:
        c = client_for(srv)
        assert c.post("/status/x").status_code == 405
        assert c.get("/run").status_code == 405
        assert c.get("/nothing").status_code == 404
        assert client_for(srv, endpoint="other").get("/health").status_code == 404
        assert httpx.get(f"{srv.base_url}/run").status_code == 404


@pytest.mark.parametrize("body,fragment", [
    (b"not json", "not valid JSON"), (b"[1]", "JSON object"), (b"{}", "no `input`"),
    (b'{"input": {}, "policy": {"ttl": "soon"}}', "policy.ttl"),
    (b'{"input": {}, "webhook": 5}', "webhook"),
    (b'{"input": {"n": ' + b"9" * 5000 + b"}}", "more than 4300 digits"),
    (b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
])
def test_bad_submissions_are_400(client_for, body, fragment):
    with serve_in_thread(api_key="k") as srv:
        response = client_for(srv).post("/run", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert fragment in response.json()["error"]


def test_policy_limits_follow_the_documented_minimums(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        assert c.post("/run", json={"input": {}, "policy": {"executionTimeout": 100}}).status_code == 400
        assert c.post("/run", json={"input": {}, "policy": {"ttl": 5000}}).status_code == 400
        assert c.post("/run", json={"input": {}, "policy": {"executionTimeout": 5000, "ttl": 10000}}).status_code == 200


def test_payload_limits(client_for):
    config = {"run_limit": 2000, "runsync_limit": 4000}
    with serve_in_thread(api_key="k", **config) as srv:
        c = client_for(srv)
        big = {"input": {"pad": "x" * 3000}}
        assert c.post("/run", json=big).status_code == 413
        assert c.post("/runsync?wait=1000", json=big).status_code == 200
        assert c.post("/runsync", json={"input": {"pad": "x" * 5000}}).status_code == 413
        assert c.get("/health").status_code == 200


def test_default_limits_are_10_and_20_mb(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        assert c.post("/run", content=b"x" * (10 * 1024 * 1024 + 1)).status_code == 413


def test_runsync_waits_and_returns_the_final_job(client_for):
    with serve_in_thread(api_key="k", run_seconds=0.05, **FAST) as srv:
        response = client_for(srv).post("/runsync", json={"input": {"workflow": SAVE_TWO}})
        body = response.json()
        assert response.status_code == 200 and body["status"] == "COMPLETED"
        assert body["id"].startswith("sync-") and len(body["output"]["images"]) == 2


def test_runsync_returns_a_non_final_status_when_wait_runs_out(client_for):
    with serve_in_thread(api_key="k", run_seconds=3.0, **FAST) as srv:
        c = client_for(srv)
        started = time.monotonic()
        body = c.post("/runsync?wait=100", json={"input": {"workflow": SAVE_TWO}}).json()
        assert time.monotonic() - started < 2.5
        assert body["status"] == "IN_PROGRESS"
        assert c.post(f"/cancel/{body['id']}").json()["status"] == "CANCELLED"


def test_runsync_wait_is_clamped_to_the_documented_minimum(client_for):
    with serve_in_thread(api_key="k", run_seconds=5.0) as srv:
        c = client_for(srv)
        started = time.monotonic()
        body = c.post("/runsync?wait=1", json={"input": {"workflow": SAVE_TWO}}).json()
        assert 0.9 < time.monotonic() - started < 3
        assert body["status"] == "IN_PROGRESS"
        assert c.post("/runsync?wait=soon", json={"input": {}}).status_code == 400


def test_failed_job_carries_the_worker_error(client_for):
    with serve_in_thread(api_key="k", **FAST) as srv:
        body = client_for(srv).post("/runsync", json={"input": {"workflow": MISSING_CKPT}}).json()
        assert body["status"] == "FAILED"
        assert body["error"].startswith("Workflow validation failed:\n• Node 4 (errors): ")
        assert "output" not in body


def test_workers_bound_concurrency(client_for):
    with serve_in_thread(api_key="k", run_seconds=1.5, workers=2, **FAST) as srv:
        c = client_for(srv)
        ids = [c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"] for _ in range(4)]
        poll(c, ids[1], until=("IN_PROGRESS",))
        health = c.get("/health").json()
        assert health["workers"] == {"idle": 0, "running": 2}
        assert health["jobs"]["inProgress"] == 2 and health["jobs"]["inQueue"] == 2
        states = [c.get(f"/status/{i}").json()["status"] for i in ids]
        assert states == ["IN_PROGRESS", "IN_PROGRESS", "IN_QUEUE", "IN_QUEUE"]
        finals = [poll(c, i)[-1] for i in ids]
        assert all(f["status"] == "COMPLETED" for f in finals)
        assert finals[3]["delayTime"] >= 1400
        assert c.get("/health").json()["jobs"]["completed"] == 4


def test_cancel_queued_and_running_jobs(client_for):
    with serve_in_thread(api_key="k", run_seconds=5, **FAST) as srv:
        c = client_for(srv)
        running = c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        queued = c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        poll(c, running, until=("IN_PROGRESS",))
        for job in (queued, running):
            answer = c.post(f"/cancel/{job}")
            assert answer.status_code == 200 and answer.json() == {"id": job, "status": "CANCELLED"}
            assert c.get(f"/status/{job}").json()["status"] == "CANCELLED"
        assert c.post("/cancel/unknown-u1").status_code == 404
        assert c.get("/health").json()["workers"]["running"] == 0


def test_cancel_of_a_finished_job_changes_nothing(client_for):
    with serve_in_thread(api_key="k", **FAST) as srv:
        c = client_for(srv)
        job = c.post("/runsync", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        assert c.post(f"/cancel/{job}").json() == {"id": job, "status": "COMPLETED"}


def test_retry_requeues_failed_jobs_under_the_same_id(client_for):
    with serve_in_thread(api_key="k", **FAST) as srv:
        c = client_for(srv)
        failed = c.post("/runsync", json={"input": {"workflow": MISSING_CKPT}}).json()
        done = c.post("/runsync", json={"input": {"workflow": SAVE_TWO}}).json()
        again = c.post(f"/retry/{failed['id']}")
        assert again.status_code == 200 and again.json() == {"id": failed["id"], "status": "IN_QUEUE"}
        assert poll(c, failed["id"])[-1]["status"] == "FAILED"
        assert c.post(f"/retry/{done['id']}").status_code == 400
        assert c.post("/retry/unknown-u1").status_code == 404
        assert c.get("/health").json()["jobs"]["retried"] == 1


def test_retry_fails_once_the_result_expired(client_for):
    with serve_in_thread(api_key="k", sync_retention=0.2, **FAST) as srv:
        c = client_for(srv)
        failed = c.post("/runsync", json={"input": {"workflow": MISSING_CKPT}}).json()
        time.sleep(0.35)
        assert c.post(f"/retry/{failed['id']}").status_code == 404


def test_purge_queue_drops_only_queued_jobs(client_for):
    with serve_in_thread(api_key="k", run_seconds=1.0, **FAST) as srv:
        c = client_for(srv)
        ids = [c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"] for _ in range(3)]
        poll(c, ids[0], until=("IN_PROGRESS",))
        assert c.post("/purge-queue").json() == {"removed": 2, "status": "completed"}
        assert [c.get(f"/status/{i}").status_code for i in ids] == [200, 404, 404]
        assert poll(c, ids[0])[-1]["status"] == "COMPLETED"


def test_results_expire_after_retention(client_for):
    with serve_in_thread(api_key="k", retention=1.0, sync_retention=0.1, **FAST) as srv:
        c = client_for(srv)
        job = c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        sync = c.post("/runsync", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        poll(c, job)
        time.sleep(0.15)
        assert c.get(f"/status/{sync}").status_code == 404
        assert c.get(f"/status/{job}").status_code == 200
        time.sleep(1.0)
        assert c.get(f"/status/{job}").status_code == 404


def test_execution_timeout_gives_timed_out(client_for):
    with serve_in_thread(api_key="k", run_seconds=5, **FAST) as srv:
        c = client_for(srv)
        job = c.post("/run", json={"input": {"workflow": SAVE_TWO}, "policy": {"executionTimeout": 200}}).json()["id"]
        final = poll(c, job)[-1]
        assert final["status"] == "TIMED_OUT"
        assert 150 <= final["executionTime"] < 2000
        assert c.get("/health").json()["workers"]["idle"] == 1


def test_ttl_deletes_the_job_even_while_it_runs(client_for):
    with serve_in_thread(api_key="k", run_seconds=5, **FAST) as srv:
        c = client_for(srv)
        job = c.post("/run", json={"input": {"workflow": SAVE_TWO}, "policy": {"ttl": 1000}}).json()["id"]
        assert c.get(f"/status/{job}").status_code == 200
        time.sleep(1.2)
        assert c.get(f"/status/{job}").status_code == 404
        assert c.get("/health").json()["workers"]["running"] == 0


def test_health_shape(client_for):
    with serve_in_thread(api_key="k", workers=3) as srv:
        assert client_for(srv).get("/health").json() == {
            "jobs": {"completed": 0, "failed": 0, "inProgress": 0, "inQueue": 0, "retried": 0},
            "workers": {"idle": 3, "running": 0}}


def test_rate_limits_answer_429(client_for):
    with serve_in_thread(api_key="k", rate_limits={"purge-queue": 2}) as srv:
        c = client_for(srv)
        assert [c.post("/purge-queue").status_code for _ in range(3)] == [200, 200, 429]
        assert c.get("/health").status_code == 200


def test_stop_wakes_a_waiting_runsync():
    srv_box = {}
    results = []
    with serve_in_thread(api_key="k", run_seconds=30) as srv:
        srv_box["url"] = srv.url

        def call():
            try:
                results.append(httpx.post(f"{srv.url}/ep/runsync", json={"input": {"workflow": SAVE_TWO}},
                                          headers={"Authorization": "Bearer k"}, timeout=10).status_code)
            except httpx.HTTPError as exc:
                results.append(type(exc).__name__)

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 10  # the runsync is in the server's hands before it stops
        while srv.requests["runsync"] < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)
        started = time.monotonic()
    caller.join(5)
    assert time.monotonic() - started < 5
    assert results and results[0] in (200, "RemoteProtocolError", "ReadError")


def test_bad_content_length_is_400_and_closes():
    import socket

    with serve_in_thread(api_key="k") as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"POST /v2/ep/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
                         b"Content-Length: -5\r\n\r\n")
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length is not a number" in answer


def test_chunked_bodies_are_read():
    with serve_in_thread(api_key="k", run_limit=100) as srv:
        headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}

        def chunks(body: bytes):
            yield body[:10]
            yield body[10:]

        small = httpx.post(f"{srv.url}/ep/run", content=chunks(b'{"input": {"workflow": {}}}'), headers=headers)
        assert small.status_code == 200 and small.json()["status"] == "IN_QUEUE"
        big = httpx.post(f"{srv.url}/ep/run", content=chunks(b'{"input": "' + b"x" * 200 + b'"}'), headers=headers)
        assert big.status_code == 413


def test_concurrency_limit_answers_429(client_for):
    with serve_in_thread(api_key="k", run_seconds=1.0, concurrency_limits={"runsync": 1}) as srv:
        results = []

        def call():
            results.append(httpx.post(f"{srv.url}/ep/runsync", json={"input": {"workflow": SAVE_TWO}},
                                      headers={"Authorization": "Bearer k"}, timeout=10).status_code)

        waiting = threading.Thread(target=call)
        waiting.start()
        deadline = time.monotonic() + 5
        while srv.jobs.health()["jobs"]["inProgress"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client_for(srv).post("/runsync", json={"input": {}}).status_code == 429
        waiting.join(10)
        assert results == [200]


def test_input_echo_can_be_turned_off(client_for):
    with serve_in_thread(api_key="k", run_seconds=5, echo_input=False) as srv:
        c = client_for(srv)
        job = c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        assert "input" not in c.get(f"/status/{job}").json()


def test_custom_executor_objects_are_used(client_for):
    class Echo:
        def run(self, job_input, cancelled):
            return {"echo": job_input}

        def close(self):
            pass

    with serve_in_thread(Echo(), api_key="k") as srv:
        body = client_for(srv).post("/runsync", json={"input": {"a": 1}}).json()
        assert body["status"] == "COMPLETED" and body["output"] == {"echo": {"a": 1}}
