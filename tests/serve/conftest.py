"""Fixtures of the serve tests: an HTTP client factory, and no leaked threads."""

from __future__ import annotations

import threading
import time

import httpx
import pytest


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """Every test must leave no server thread running behind it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()
                 and (t.name.startswith("comfydsl-serve") or t.name.startswith("fake-comfy")
                      or "process_request_thread" in t.name)]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


@pytest.fixture
def client_for():
    """`client_for(srv, key="k")`: an httpx client on `{srv.url}/ep` with the key set."""
    clients = []

    def make(srv, key: str | None = "k", endpoint: str = "ep") -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        client = httpx.Client(base_url=f"{srv.url}/{endpoint}", headers=headers, timeout=10)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
