"""serve under hostile or careless clients: chunked bodies over the limit, the admin routes,
Retry-After values, connection resets, and methods no route takes."""

from __future__ import annotations

import json
import socket
import struct
import time

import httpx
import pytest

from comfydsl.serve import serve_in_thread
from comfydsl.serve.faults import Fault
from serve_helpers import SAVE_TWO


def raw(srv, request: bytes, *, read: bool = True, timeout: float = 10) -> bytes:
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as sock:
        sock.sendall(request)
        if not read:
            return b""
        data = b""
        while True:
            try:
                piece = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not piece:
                break
            data += piece
            if b"\r\n\r\n" in data and b"Connection: close" not in data.split(b"\r\n\r\n")[0]:
                head, _, body = data.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
        return data


def chunked_head(size_line: bytes) -> bytes:
    return (b"POST /v2/ep/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\n")


@pytest.mark.parametrize("size", [b"38D7EA4C68000", b"12C00000", b"FFFFFFFFFFFFFFFF"])  # 10^15, 300 MB, 2^64-1
def test_a_huge_chunk_size_is_413_at_once(size):
    with serve_in_thread(api_key="k", run_limit=1000) as srv:
        started = time.monotonic()
        answer = raw(srv, chunked_head(size) + b"{" * 100)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5


def test_chunks_over_the_limit_are_refused_without_reading_them():
    with serve_in_thread(api_key="k", run_limit=1000) as srv:
        body = b"".join(b"%X\r\n%s\r\n" % (300, b" " * 300) for _ in range(4))
        answer = raw(srv, chunked_head(b"12C")[:-len(b"12C\r\n")] + body + b"0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 413")
        good = json.dumps({"input": {"workflow": SAVE_TWO}}).encode()
        answer = raw(srv, chunked_head(b"%X" % len(good)) + good + b"\r\n0\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200") and b'"IN_QUEUE"' in answer
        bad = raw(srv, chunked_head(b"zz") + b"0\r\n\r\n")
        assert bad.startswith(b"HTTP/1.1 400")


def test_admin_routes_need_the_key_when_the_endpoint_has_one():
    with serve_in_thread(api_key="k") as srv:
        base = f"{srv.base_url}/_admin"
        assert httpx.get(f"{base}/stats").status_code == 401
        assert httpx.post(f"{base}/faults", json={"op": "status", "status": 500}).status_code == 401
        assert httpx.delete(f"{base}/faults", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert srv.faults.pending() == []
        assert httpx.get(f"{base}/stats", headers={"Authorization": "Bearer k"}).status_code == 200
    with serve_in_thread(api_key=None) as srv:  # an endpoint that takes any key
        assert httpx.get(f"{srv.base_url}/_admin/stats").status_code == 200


@pytest.mark.parametrize("value", ["1\r\nSet-Cookie: x=1", "1\nX: y", "soon", -1, float("nan"), "１"])
def test_retry_after_is_checked(value):
    with pytest.raises(ValueError):
        Fault(op="status", status=429, retry_after=value)
    with serve_in_thread(api_key="k") as srv:
        answer = httpx.post(f"{srv.base_url}/_admin/faults", headers={"Authorization": "Bearer k"},
                            content=json.dumps({"op": "status", "status": 429, "retry_after": value}))
        assert answer.status_code == 400 and srv.faults.pending() == []


def test_retry_after_date_and_scenario_through_admin():
    with serve_in_thread(api_key="k") as srv:
        admin = httpx.Client(base_url=f"{srv.base_url}/_admin", headers={"Authorization": "Bearer k"})
        date = "Wed, 21 Oct 2015 07:28:00 GMT"
        assert admin.post("/faults", json={"op": "status", "status": 429, "retry_after": date}).status_code == 200
        added = admin.post("/faults", json={"scenario": "429-storm", "times": 2, "retry_after": 0})
        assert added.status_code == 200 and [f["status"] for f in added.json()] == [429]
        assert admin.post("/faults", json={"scenario": "nope"}).status_code == 400
        answer = httpx.get(f"{srv.url}/ep/status/x", headers={"Authorization": "Bearer k"})
        assert answer.status_code == 429 and answer.headers["retry-after"] == date
        admin.close()


def test_a_reset_keep_alive_connection_prints_no_traceback(capfd):
    with serve_in_thread(api_key="k") as srv:
        for _ in range(3):
            sock = socket.create_connection((srv.host, srv.port))
            sock.sendall(b"GET /v2/ep/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            sock.sendall(b"GET /v2/ep/hea")  # half a request, then a reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        time.sleep(0.3)
        assert httpx.get(f"{srv.url}/ep/health", headers={"Authorization": "Bearer k"}).status_code == 200
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ConnectionResetError" not in err


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "HEAD", "PUT", "DELETE"])
def test_other_methods_get_405_with_allow(method):
    with serve_in_thread(api_key="k") as srv:
        answer = httpx.request(method, f"{srv.url}/ep/status/job-1", headers={"Authorization": "Bearer k"})
        assert answer.status_code == 405 and answer.headers["allow"] == "GET"
        assert answer.headers["content-type"] == "application/json"
        if method != "HEAD":
            assert "takes GET" in answer.json()["error"]
        run = httpx.request(method, f"{srv.url}/ep/run", headers={"Authorization": "Bearer k"})
        assert run.status_code == 405 and run.headers["allow"] == "POST"


def test_refuse_fault_refuses_connections_for_a_while():
    with serve_in_thread(api_key="k") as srv:
        srv.faults.add(op="health", refuse=1.0)
        headers = {"Authorization": "Bearer k"}
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{srv.url}/ep/health", headers=headers)
        # the listener closes on a thread of its own: a connection made in the meantime is
        # dropped instead (a busy machine, parallel tests); a refused one must follow soon
        deadline = time.monotonic() + 0.8
        while True:
            try:
                httpx.get(f"{srv.url}/ep/health", headers=headers)
            except httpx.ConnectError:
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "no connection was refused"
                time.sleep(0.01)
                continue
            raise AssertionError("a request was answered while connections are refused")
        time.sleep(1.5)
        assert httpx.get(f"{srv.url}/ep/health", headers=headers).status_code == 200


def test_early_runsync_answers_in_queue_at_once():
    with serve_in_thread(api_key="k", run_seconds=2) as srv:
        srv.faults.add(op="runsync", early=True)
        started = time.monotonic()
        answer = httpx.post(f"{srv.url}/ep/runsync", json={"input": {"workflow": SAVE_TWO}},
                            headers={"Authorization": "Bearer k"}, timeout=10)
        assert time.monotonic() - started < 1.5
        assert answer.json()["status"] == "IN_QUEUE" and answer.json()["id"].startswith("sync-")


def test_stream_route():
    with serve_in_thread(api_key="k", run_seconds=0.05) as srv:
        headers = {"Authorization": "Bearer k"}
        job = httpx.post(f"{srv.url}/ep/run", json={"input": {"workflow": SAVE_TWO}}, headers=headers).json()
        deadline = time.monotonic() + 5
        while True:
            piece = httpx.get(f"{srv.url}/ep/stream/{job['id']}", headers=headers).json()
            if piece["stream"] or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert piece["status"] == "COMPLETED" and len(piece["stream"][0]["output"]["images"]) == 2
        assert httpx.get(f"{srv.url}/ep/stream/{job['id']}", headers=headers).json()["stream"] == []
        assert httpx.get(f"{srv.url}/ep/stream/nope", headers=headers).status_code == 404
