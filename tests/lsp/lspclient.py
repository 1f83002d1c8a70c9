"""A small Language Server Protocol client that drives `comfydsl lsp` over stdio.

It speaks JSON-RPC with Content-Length framing to a real server process, the way an
editor does; tests and `benchmarks/lsp.py` use it.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable


class LspError(Exception):
    """The server answered a request with an error."""


class LspClient:
    """`comfydsl lsp` as a subprocess, with blocking request/notify helpers."""

    def __init__(self, *args: str, cwd: str | None = None, debounce: float = 0.0) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "comfydsl", "lsp", *args], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._ids = itertools.count(1)
        self._responses: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.notifications: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stderr: list[bytes] = []
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        #: where `diagnostics` starts looking: a server shared by several tests moves it past
        #: what earlier tests received (see `forget`)
        self.mark = 0
        self.initialize_result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": None, "capabilities": {
                "textDocument": {"publishDiagnostics": {"relatedInformation": True},
                                 "completion": {"completionItem": {"snippetSupport": False}}}},
            "initializationOptions": {"debounce": debounce}})
        self.notify("initialized", {})

    # -- framing ---------------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            message = json.loads(out.read(length or 0))
            if "id" in message and "method" in message:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "id" in message:
                self._responses.setdefault(message["id"], queue.Queue()).put(message)
            else:
                with self._cond:
                    message["_received"] = time.perf_counter()
                    self.notifications.append(message)
                    self._cond.notify_all()

    # -- calls -----------------------------------------------------------------------------------
    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        msg_id = next(self._ids)
        box = self._responses.setdefault(msg_id, queue.Queue())
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        try:
            answer = box.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no answer to {method} within {timeout} s; stderr: {b''.join(self.stderr)[-2000:]!r}")
        if "error" in answer:
            raise LspError(answer["error"].get("message"))
        return answer.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(self, method: str, match: Callable[[dict], bool] = lambda p: True, timeout: float = 60,
                 after: int = 0) -> dict[str, Any]:
        """The first notification `method` (from position `after`) whose params match."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for note in self.notifications[after:]:
                    if note.get("method") == method and match(note["params"]):
                        return note
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {method} within {timeout} s; stderr: {b''.join(self.stderr)[-2000:]!r}")
                self._cond.wait(left)

    # -- documents -------------------------------------------------------------------------------
    def open(self, path: str | Path, text: str | None = None) -> str:
        path = Path(path).resolve()
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8") if text is None else text
        self.versions[uri] = 1
        self.texts[uri] = text
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "comfy", "version": 1, "text": text}})
        return uri

    def replace(self, uri: str, text: str) -> int:
        """Send the whole new text; the new version."""
        self.versions[uri] += 1
        self.texts[uri] = text
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": self.versions[uri]},
                                               "contentChanges": [{"text": text}]})
        return self.versions[uri]

    def edit(self, uri: str, start: tuple[int, int], end: tuple[int, int], new: str) -> int:
        """An incremental change of range [start, end) (0-based line, character)."""
        self.versions[uri] += 1
        self.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": self.versions[uri]},
            "contentChanges": [{"range": {"start": {"line": start[0], "character": start[1]},
                                          "end": {"line": end[0], "character": end[1]}}, "text": new}]})
        return self.versions[uri]

    def diagnostics(self, uri: str, version: int | None = None, timeout: float = 60) -> list[dict]:
        """The diagnostics published for `uri` (at `version`, default: the latest sent)."""
        want = self.versions[uri] if version is None else version
        note = self.wait_for("textDocument/publishDiagnostics",
                             lambda p: p["uri"] == uri and p.get("version") == want, timeout, after=self.mark)
        return note["params"]["diagnostics"]

    def at(self, method: str, uri: str, line: int, character: int, **extra: Any) -> Any:
        return self.request(method, {"textDocument": {"uri": uri},
                                     "position": {"line": line, "character": character}, **extra})

    def forget(self) -> None:
        """Close every open document and ignore what came before: the server as a next test
        sharing it should find it (it keeps only its caches of the files on disk)."""
        for uri in list(self.versions):
            self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        self.versions.clear()
        self.texts.clear()
        with self._cond:
            self.mark = len(self.notifications)

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except (TimeoutError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def find(text: str, needle: str, nth: int = 0, delta: int = 0) -> tuple[int, int]:
    """(line, character) of the `nth` occurrence of `needle` in `text`, plus `delta` chars."""
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(needle, pos + 1)
    pos += delta
    line = text.count("\n", 0, pos)
    return line, pos - (text.rfind("\n", 0, pos) + 1)
