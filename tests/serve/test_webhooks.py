"""Webhooks: the finished job is POSTed to the job's URL, with retries on failure."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from comfydsl.serve import serve_in_thread
from serve_helpers import MISSING_CKPT, SAVE_TWO


class Receiver:
    """A loopback webhook receiver answering with `statuses` in turn (then 200)."""

    def __init__(self, statuses=()) -> None:
        self.statuses = list(statuses)
        self.received: list[dict] = []
        self.event = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(json.loads(body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.event.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="fake-comfy-webhook", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.mark.parametrize("workflow,status", [(SAVE_TWO, "COMPLETED"), (MISSING_CKPT, "FAILED")])
def test_webhook_gets_the_final_job(client_for, workflow, status):
    with Receiver() as receiver, serve_in_thread(api_key="k") as srv:
        job = client_for(srv).post("/run", json={"input": {"workflow": workflow}, "webhook": receiver.url}).json()
        [body] = receiver.wait_for(1)
        assert body["id"] == job["id"] and body["status"] == status
        assert body == client_for(srv).get(f"/status/{job['id']}").json()


def test_webhook_is_retried_until_it_answers_200(client_for):
    with Receiver(statuses=[500, 404]) as receiver, serve_in_thread(api_key="k", webhook_retry_delay=0.05) as srv:
        client_for(srv).post("/run", json={"input": {"workflow": SAVE_TWO}, "webhook": receiver.url})
        assert len(receiver.wait_for(3)) == 3
        time.sleep(0.2)
        assert len(receiver.received) == 3
        assert [d["status"] for d in srv.webhooks.deliveries()] == [500, 404, 200]


def test_webhook_gives_up_after_three_attempts(client_for):
    with Receiver(statuses=[500] * 5) as receiver, serve_in_thread(api_key="k", webhook_retry_delay=0.05) as srv:
        client_for(srv).post("/runsync", json={"input": {"workflow": SAVE_TWO}, "webhook": receiver.url})
        receiver.wait_for(3)
        time.sleep(0.3)
        assert len(receiver.received) == 3


def test_unreachable_webhook_is_recorded(client_for):
    with serve_in_thread(api_key="k", webhook_retry_delay=0.01, webhook_attempts=2) as srv:
        client_for(srv).post("/runsync", json={"input": {"workflow": SAVE_TWO}, "webhook": "http://127.0.0.1:1/x"})
        deadline = time.monotonic() + 5
        while len(srv.webhooks.deliveries()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [d["attempt"] for d in srv.webhooks.deliveries()] == [1, 2]
        assert all("error" in d for d in srv.webhooks.deliveries())
