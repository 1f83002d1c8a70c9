"""Fault injection: scripted 429/500, slow answers, dropped connections, non-JSON bodies."""

from __future__ import annotations

import time

import httpx
import pytest

from comfydsl.serve import Fault, FaultPlan, parse_fault, serve_in_thread
from serve_helpers import SAVE_TWO


def test_next_two_status_calls_answer_429_with_retry_after(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        job = c.post("/run", json={"input": {"workflow": SAVE_TWO}}).json()["id"]
        srv.faults.add(op="status", status=429, times=2, retry_after=1)
        answers = [c.get(f"/status/{job}") for _ in range(3)]
        assert [a.status_code for a in answers] == [429, 429, 200]
        assert answers[0].headers["Retry-After"] == "1"
        assert c.post("/run", json={"input": {}}).status_code == 200
        assert srv.requests["status"] == 3 and srv.requests["run"] == 2


def test_429_without_retry_after_and_500_with_plain_text(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        srv.faults.add(op="health", status=429)
        srv.faults.add(op="health", status=500)
        first, second, third = (c.get("/health") for _ in range(3))
        assert first.status_code == 429 and "Retry-After" not in first.headers
        assert second.status_code == 500 and second.text == "500 Internal Server Error"
        assert third.status_code == 200


def test_non_json_body(client_for):
    with serve_in_thread(api_key="k") as srv:
        srv.faults.add(op="run", status=200, body="<html>bad gateway</html>", content_type="text/html")
        answer = client_for(srv).post("/run", json={"input": {}})
        assert answer.status_code == 200
        with pytest.raises(ValueError):
            answer.json()
        assert srv.jobs.health()["jobs"]["inQueue"] == 0


def test_dropped_connection(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        srv.faults.add(op="run", drop=True)
        with pytest.raises(httpx.RemoteProtocolError):
            c.post("/run", json={"input": {}})
        assert c.post("/run", json={"input": {}}).status_code == 200


def test_slow_answer(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        srv.faults.add(op="*", delay=1.0)
        started = time.monotonic()
        assert c.get("/health").status_code == 200
        assert time.monotonic() - started >= 1.0
        assert srv.faults.pending() == []
        started = time.monotonic()
        c.get("/health")
        assert time.monotonic() - started < 1.0


def test_skip_and_every_call(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        srv.faults.add(op="health", status=503, times=None, skip=1)
        assert [c.get("/health").status_code for _ in range(3)] == [200, 503, 503]
        srv.faults.clear()
        assert c.get("/health").status_code == 200


def test_admin_path_adds_faults_and_reports_counts(client_for):
    with serve_in_thread(api_key="k") as srv:
        c = client_for(srv)
        admin = httpx.Client(base_url=f"{srv.base_url}/_admin", headers={"Authorization": "Bearer k"})
        added = admin.post("/faults", json={"op": "status", "status": 429, "times": 2})
        assert added.status_code == 200 and added.json()["status"] == 429
        spec = admin.post("/faults", json="op=health,status=500")
        assert spec.status_code == 200
        assert len(admin.get("/faults").json()) == 2
        assert c.get("/status/x-u1").status_code == 429
        assert c.get("/health").status_code == 500
        stats = admin.get("/stats").json()
        assert stats["requests"] == {"status": 1, "health": 1} and stats["statuses"]["status 429"] == 1
        assert admin.post("/faults", json={"op": "nope", "status": 1}).status_code == 400
        assert admin.delete("/faults").json() == []
        assert c.get("/status/x-u1").status_code == 404
        admin.close()


def test_fault_plan_matches_in_order_and_counts():
    plan = FaultPlan()
    plan.add(op="status", status=429, times=2)
    plan.add(op="*", status=500)
    assert plan.take("run").status == 500
    assert [plan.take("status").status for _ in range(2)] == [429, 429]
    assert plan.take("status") is None


@pytest.mark.parametrize("spec,expected", [
    ("op=status,status=429,times=2,retry_after=1",
     {"op": "status", "status": 429, "times": 2, "retry_after": "1"}),
    ("op=run,drop", {"op": "run", "drop": True}),
    ("op=*,delay=0.5,times=always", {"op": "*", "delay": 0.5, "times": None}),
])
def test_parse_fault(spec, expected):
    fault = parse_fault(spec)
    assert {k: getattr(fault, k) for k in expected} == expected


@pytest.mark.parametrize("spec", ["op=nope,status=500", "op=run", "status=abc", "op=run,colour=red", "times=0,status=500"])
def test_parse_fault_rejects_bad_specs(spec):
    with pytest.raises(ValueError):
        parse_fault(spec)


def test_fault_needs_an_effect():
    with pytest.raises(ValueError):
        Fault(op="run")
