"""The HTTP side of the local endpoint: RunPod Serverless's hosted routes on a local port.

Routes (under `/v2/{endpoint_id}`): `POST run`, `POST runsync[?wait=ms]`,
`GET status/{id}`, `GET stream/{id}`, `POST cancel/{id}`, `POST retry/{id}`, `GET health`,
`POST purge-queue`. Every call needs `Authorization: Bearer <key>` (or the bare key); another
method on a route gets 405 with an `Allow` header. Test helpers live under `/_admin` (they
need the key too when the endpoint has one): `GET /_admin/stats`, `POST /_admin/faults`
(a fault, or `{"scenario": NAME, ...}`), `DELETE /_admin/faults`.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from ..errors import BadRequest
from ..workflow.envelopes import RUN_BODY_LIMIT, RUNSYNC_BODY_LIMIT
from ..workflow.status import FINAL_STATES
from .faults import Fault, FaultPlan, parse_fault
from .jobs import JobManager

MB = 1024 * 1024
#: Operation -> (HTTP method, whether the path ends in a job id).
ROUTES = {
    "run": ("POST", False), "runsync": ("POST", False), "status": ("GET", True), "stream": ("GET", True),
    "cancel": ("POST", True), "retry": ("POST", True), "health": ("GET", False), "purge-queue": ("POST", False),
}
#: Requests per 10 s per operation, as RunPod documents them.
DOCUMENTED_RATE_LIMITS = {"runsync": 2000, "run": 1000, "status": 2000, "stream": 2000, "cancel": 100,
                          "purge-queue": 2}
#: Requests in flight at once per operation, as RunPod documents them.
DOCUMENTED_CONCURRENCY_LIMITS = {"runsync": 400, "run": 200, "status": 400, "stream": 400, "cancel": 20}
_PATH = re.compile(r"^/v2/(?P<endpoint>[^/]+)/(?P<op>[a-z-]+)(?:/(?P<job>[^/]+))?/?$")
_DAY_MS = 86_400_000


@dataclass
class ServeConfig:
    """Everything that shapes the endpoint's behaviour. Times are in seconds unless named `_ms`."""

    api_key: str | None = None
    endpoint_id: str | None = None
    retention: float = 1800.0
    sync_retention: float = 60.0
    run_limit: int = RUN_BODY_LIMIT
    runsync_limit: int = RUNSYNC_BODY_LIMIT
    default_wait_ms: int = 90_000
    min_wait_ms: int = 1000
    max_wait_ms: int = 300_000
    default_execution_timeout_ms: int = 600_000
    default_ttl_ms: int = _DAY_MS
    enforce_policy_limits: bool = True
    rate_limits: dict[str, int] | None = field(default_factory=lambda: dict(DOCUMENTED_RATE_LIMITS))
    rate_window: float = 10.0
    concurrency_limits: dict[str, int] | None = field(default_factory=lambda: dict(DOCUMENTED_CONCURRENCY_LIMITS))
    echo_input: bool = True
    webhook_attempts: int = 3
    webhook_retry_delay: float = 10.0
    webhook_timeout: float = 10.0
    #: SQLite file that keeps the jobs across restarts (None: jobs live in memory only)
    state_file: str | None = None


class RequestCounter:
    """Requests per operation (faulted, refused and admin calls not counted as admin)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def hit(self, op: str) -> None:
        with self._lock:
            self._counts[op] += 1

    def answered(self, op: str, status: int) -> None:
        with self._lock:
            self._statuses[(op, status)] += 1

    def __getitem__(self, op: str) -> int:
        with self._lock:
            return self._counts[op]

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": dict(self._counts), "total": sum(self._counts.values()),
                    "statuses": {f"{op} {status}": n for (op, status), n in sorted(self._statuses.items())}}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._statuses.clear()


class RateLimiter:
    """A sliding-window count of calls per operation, and a cap on calls in flight."""

    def __init__(self, limits: dict[str, int] | None, window: float,
                 concurrency: dict[str, int] | None = None) -> None:
        self.limits = limits or {}
        self.window = window
        self.concurrency = concurrency or {}
        self._calls: dict[str, deque[float]] = {}
        self._in_flight: Counter[str] = Counter()
        self._lock = threading.Lock()

    def enter(self, op: str) -> bool:
        """Count a call as in flight; False (and not counted) when the cap is reached."""
        cap = self.concurrency.get(op)
        with self._lock:
            if cap is not None and self._in_flight[op] >= cap:
                return False
            self._in_flight[op] += 1
            return True

    def leave(self, op: str) -> None:
        with self._lock:
            self._in_flight[op] -= 1

    def allow(self, op: str) -> bool:
        limit = self.limits.get(op)
        if limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(op, deque())
            while calls and now - calls[0] >= self.window:
                calls.popleft()
            if len(calls) >= limit:
                return False
            calls.append(now)
            return True



class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    # The standard library's listen backlog of 5 overflows on a burst of new connections
    # (a client's first wave of concurrent jobs), and a reset after the request was sent
    # makes a `run` fail that must not be resent.
    request_queue_size = 128

    def __init__(self, address, handler, endpoint: EndpointServer) -> None:
        self.endpoint = endpoint
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        """A client that resets or drops its connection is normal: no traceback for it."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, socket.timeout, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "comfydsl-serve"
    sys_version = ""
    timeout = 120

    # -- plumbing ------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the
        # peer's delayed ACK hold the body back ~40 ms on every keep-alive answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.endpoint.log
        if log is not None:
            log(f"{self.address_string()} {format % args}")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def _send(self, status: int, body: bytes | str | dict | list | None, *, content_type: str | None = None,
              headers: dict[str, str] | None = None, op: str | None = None) -> None:
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode("utf-8")
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            data = body.encode("utf-8")
        else:
            data = body or b""
        self.send_response(status)
        self.send_header("Content-Type", content_type or "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        if op is not None:
            self.server.endpoint.requests.answered(op, status)

    def _error(self, status: int, message: str, op: str | None = None) -> None:
        self._send(status, {"error": message}, op=op)

    def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None (body drained, connection to close) when over `limit`."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            self.close_connection = True
            raise BadRequest(400, "Content-Length is not a number")
        if size > limit:
            self._drain(size)
            return None
        return self.rfile.read(size)

    def _read_chunked(self, limit: int) -> bytes | None:
        """A chunked body read piece by piece; None (connection to close, nothing more read)
        as soon as a chunk's announced size would take the body over `limit`."""
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1025)
            if not line.endswith(b"\n"):
                self.close_connection = True
                raise BadRequest(400, "bad chunked encoding: the chunk size line is cut or too long")
            text = line.split(b";")[0].strip()
            if not text or len(text) > 16 or text.strip(b"0123456789abcdefABCDEF"):
                self.close_connection = True
                raise BadRequest(400, "bad chunked encoding: the chunk size is not a hexadecimal number")
            size = int(text, 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                break
            if total + size > limit:
                self.close_connection = True  # the rest is never read
                return None
            while size:
                piece = self.rfile.read(min(size, MB))
                if not piece:
                    self.close_connection = True
                    raise ConnectionError("the client closed the connection inside a chunk")
                parts.append(piece)
                size -= len(piece)
                total += len(piece)
            self.rfile.readline(3)
        return b"".join(parts)

    def _drain(self, size: int) -> None:
        self.close_connection = True
        remaining = min(size, 256 * MB)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, MB))
            if not chunk:
                break
            remaining -= len(chunk)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- dispatch --------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        endpoint: EndpointServer = self.server.endpoint
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/_admin/"):
                body = self._read_body(endpoint.config.runsync_limit)
                if not endpoint.admin_authorized(self.headers.get("Authorization")):
                    self._send(401, {"error": "the /_admin routes need the endpoint's API key"})
                    return
                self._admin(method, url.path, body or b"")
                return
            match = _PATH.match(url.path)
            if match is None or match["op"] not in ROUTES or (
                    endpoint.config.endpoint_id is not None and match["endpoint"] != endpoint.config.endpoint_id):
                self._read_body(0)
                self._error(404, f"no route for {method} {url.path}")
                return
            op, job_id = match["op"], match["job"]
            expected_method, takes_id = ROUTES[op]
            if bool(job_id) != takes_id:
                self._read_body(0)
                self._error(404, f"no route for {method} {url.path}")
                return
            endpoint.requests.hit(op)
            self._operation(method, expected_method, op, job_id, parse_qs(url.query))
        except BadRequest as exc:
            self._error(exc.status, str(exc))
        except (ConnectionError, socket.timeout, TimeoutError):
            self.close_connection = True
        except Exception:  # a bug here must not kill the connection silently
            self.close_connection = True
            import sys
            import traceback

            print(f"comfydsl serve: internal error on {method} {url.path}:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            try:
                self._send(500, "500 Internal Server Error")
            except OSError:
                pass

    def _operation(self, method: str, expected: str, op: str, job_id: str | None, query: dict) -> None:
        endpoint: EndpointServer = self.server.endpoint
        config = endpoint.config
        limit = config.runsync_limit if op == "runsync" else config.run_limit
        body = self._read_body(limit)
        fault = endpoint.faults.take(op)
        if fault is not None and self._apply_fault(fault, op):
            return
        if method != expected:
            self._send(405, {"error": f"{op} takes {expected}, not {method}"}, headers={"Allow": expected}, op=op)
            return
        if not endpoint.authorized(self.headers.get("Authorization")):
            self._send(401, "401 Unauthorized", op=op)
            return
        if not endpoint.limiter.allow(op):
            self._send(429, "429 Too Many Requests", op=op)
            return
        if body is None:
            self._send(413, {"error": f"request body is larger than the {op} limit of {limit / 1e6:g} MB"}, op=op)
            return
        if not endpoint.limiter.enter(op):
            self._send(429, "429 Too Many Requests", op=op)
            return
        if fault is not None and fault.early:
            query = {**query, "wait": ["0"], "_early": ["1"]}
        try:
            status, answer = endpoint.handle(op, job_id, body, query)
        except BadRequest as exc:
            status, answer = exc.status, {"error": str(exc)}
        finally:
            endpoint.limiter.leave(op)
        self._send(status, answer, op=op)

    def _apply_fault(self, fault: Fault, op: str) -> bool:
        """Carry out a fault; True if it answered (or dropped) the call itself."""
        if fault.delay and self.server.endpoint.stopping.wait(fault.delay):
            self._drop()
            return True
        if fault.refuse:
            self._drop()
            self.server.endpoint.refuse_connections(fault.refuse)
            return True
        if fault.drop:
            self._drop()
            return True
        if fault.status is None and fault.body is None:
            return False
        headers = {}
        if fault.retry_after is not None:
            value = fault.retry_after
            headers["Retry-After"] = (f"{value:g}" if isinstance(value, float) else str(value))
        status = fault.status or 200
        body = fault.body if fault.body is not None else f"{status} {_phrase(status)}"
        self._send(status, body, content_type=fault.content_type, headers=headers, op=op)
        return True

    def _admin(self, method: str, path: str, body: bytes) -> None:
        endpoint: EndpointServer = self.server.endpoint
        if path == "/_admin/stats" and method == "GET":
            self._send(200, endpoint.stats())
        elif path == "/_admin/stats" and method == "DELETE":
            endpoint.requests.reset()
            self._send(200, endpoint.stats())
        elif path == "/_admin/faults" and method == "GET":
            self._send(200, [f.to_dict() for f in endpoint.faults.pending()])
        elif path == "/_admin/faults" and method == "DELETE":
            endpoint.faults.clear()
            self._send(200, [])
        elif path == "/_admin/faults" and method == "POST":
            try:
                spec = json.loads(body or b"null")
                if isinstance(spec, dict) and "scenario" in spec:
                    params = {k: v for k, v in spec.items() if k != "scenario"}
                    faults = endpoint.faults.scenario(str(spec["scenario"]), **params)
                    self._send(200, [f.to_dict() for f in faults])
                    return
                if isinstance(spec, dict):
                    fault = endpoint.faults.add(**spec)
                elif isinstance(spec, str):
                    fault = endpoint.faults.put(parse_fault(spec))
                else:
                    fault = None
            except (ValueError, TypeError) as exc:
                raise BadRequest(400, f"bad fault: {exc}") from None
            if fault is None:
                raise BadRequest(400, "send a fault as a JSON object, or as a string like \"op=status,status=429\"")
            self._send(200, fault.to_dict())
        else:
            self._error(404, f"no admin route for {method} {path}")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


class EndpointServer:
    """A RunPod-Serverless-compatible endpoint on a local port.

    `start()` binds and serves on background threads; `stop()` cancels running jobs,
    closes every connection and joins every thread it started.
    """

    def __init__(self, executor, *, host: str = "127.0.0.1", port: int = 0, workers: int = 1,
                 config: ServeConfig | None = None, log: Callable[[str], None] | None = None) -> None:
        self.executor = executor
        self.host = host
        self.port = port
        self.config = config or ServeConfig()
        self.log = log
        self.faults = FaultPlan()
        self.requests = RequestCounter()
        self.limiter = RateLimiter(self.config.rate_limits, self.config.rate_window, self.config.concurrency_limits)
        self.stopping = threading.Event()
        from .webhooks import WebhookSender

        self.webhooks = WebhookSender(self.config, self.stopping)
        store = None
        if self.config.state_file:
            from .state import StateFile

            store = StateFile(self.config.state_file)
        self.jobs = JobManager(executor, workers=workers, retention=self.config.retention,
                               sync_retention=self.config.sync_retention, on_final=self.webhooks.enqueue,
                               echo_input=self.config.echo_input, store=store)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._retired: list[_Server] = []
        self._refuser: threading.Thread | None = None
        self._listen_lock = threading.Lock()

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> EndpointServer:
        self._listen()
        self.jobs.start()
        self.webhooks.start()
        return self

    def _listen(self) -> None:
        self._httpd = _Server((self.host, self.port), _Handler, self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="comfydsl-serve-http", daemon=True)
        self._thread.start()

    def refuse_connections(self, seconds: float) -> None:
        """Stop listening for `seconds` (new connections are refused, open ones are closed),
        then listen on the same port again. Returns at once; a fault scenario for tests."""
        with self._listen_lock:
            if self._refuser is not None and self._refuser.is_alive():
                return
            self._refuser = threading.Thread(target=self._refuse, args=(seconds,), name="comfydsl-serve-refuser",
                                             daemon=True)
            self._refuser.start()

    def _refuse(self, seconds: float) -> None:
        with self._listen_lock:
            httpd, thread = self._httpd, self._thread
            if httpd is None or self.stopping.is_set():
                return
            httpd.shutdown()
            httpd.socket.close()
            _close_connections(httpd)
            if thread is not None:
                thread.join(5)
            self._retired.append(httpd)
        if self.stopping.wait(seconds):
            return
        with self._listen_lock:
            if not self.stopping.is_set():
                self._listen()

    def stop(self) -> None:
        if self._httpd is None:
            return
        self.stopping.set()
        self.jobs.stop()
        if self._refuser is not None:
            self._refuser.join(10)
        with self._listen_lock:
            httpd = self._httpd
            if httpd not in self._retired:
                httpd.shutdown()
                _close_connections(httpd)
                httpd.server_close()
            if self._thread is not None:
                self._thread.join(5)
        for old in self._retired:
            _close_connections(old)
            old.server_close()
        self._retired.clear()
        self.webhooks.stop()
        self.executor.close()
        self.jobs.close()
        self._httpd = None

    def __enter__(self) -> EndpointServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def url(self) -> str:
        """The value for `runpod.endpoint_url_base`: `http://127.0.0.1:PORT/v2`."""
        return f"{self.base_url}/v2"

    def endpoint_url(self, endpoint_id: str = "local") -> str:
        return f"{self.url}/{endpoint_id}"

    def stats(self) -> dict[str, Any]:
        out = self.requests.snapshot()
        out["health"] = self.jobs.health()
        out["webhooks"] = self.webhooks.deliveries()
        return out

    # -- request handling -----------------------------------------------------------------

    def admin_authorized(self, header: str | None) -> bool:
        """The `/_admin` routes are open when the endpoint takes any key, else need the key."""
        return self.config.api_key is None or self.authorized(header)

    def authorized(self, header: str | None) -> bool:
        if not header or not header.strip():
            return False
        key = header.strip()
        if key.lower().startswith("bearer "):
            key = key[7:].strip()
        return self.config.api_key is None or key == self.config.api_key

    def handle(self, op: str, job_id: str | None, body: bytes, query: dict) -> tuple[int, Any]:
        jobs = self.jobs
        if op in ("run", "runsync"):
            request = self._parse_submission(body)
            job = jobs.submit(request["input"], sync=op == "runsync", webhook=request.get("webhook"),
                              execution_timeout=request["execution_timeout"], ttl=request["ttl"])
            if op == "run":
                return 200, {"id": job.id, "status": "IN_QUEUE"}
            wait = 0.0 if query.get("_early") else self._wait_seconds(query)
            view = jobs.wait(job.id, wait) if wait else jobs.get(job.id)
            if query.get("_early") and view is not None and view.get("status") not in FINAL_STATES:
                view = {"id": job.id, "status": "IN_QUEUE"}
            return 200, view if view is not None else {"id": job.id, "status": "IN_QUEUE"}
        if op in ("status", "stream", "cancel", "retry"):
            if job_id is None:  # the router gives these operations a job id
                raise BadRequest(404, f"`{op}` needs a job id")
            if op == "status":
                return self._found(jobs.get(job_id), job_id)
            if op == "stream":
                return self._found(jobs.stream(job_id), job_id)
            if op == "cancel":
                return self._found(jobs.cancel(job_id), job_id)
            view, refusal = jobs.retry(job_id)
            if refusal:
                raise BadRequest(400, refusal)
            return self._found(view, job_id)
        if op == "health":
            return 200, jobs.health()
        if op == "purge-queue":
            return 200, {"removed": jobs.purge(), "status": "completed"}
        raise BadRequest(404, f"unknown operation {op}")

    @staticmethod
    def _found(view: dict | None, job_id: str | None) -> tuple[int, Any]:
        if view is None:
            raise BadRequest(404, f"job `{job_id}` does not exist or has expired")
        return 200, view

    def _wait_seconds(self, query: dict) -> float:
        config = self.config
        raw = (query.get("wait") or [None])[0]
        if raw is None:
            return config.default_wait_ms / 1000
        try:
            wait = int(raw)
        except ValueError:
            raise BadRequest(400, f"wait must be a whole number of milliseconds, not `{raw}`") from None
        return min(max(wait, config.min_wait_ms), config.max_wait_ms) / 1000

    def _parse_submission(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequest(400, f"the request body is not valid JSON: {exc}") from None
        except RecursionError:
            raise BadRequest(400, "the request body is not readable JSON: nested too deeply") from None
        except ValueError:  # an integer literal past Python's digit limit
            raise BadRequest(400, "the request body is not readable JSON: a number has more than "
                                  f"{sys.get_int_max_str_digits()} digits") from None
        if not isinstance(data, dict):
            raise BadRequest(400, "the request body must be a JSON object with an `input` field")
        if "input" not in data:
            raise BadRequest(400, "the request body has no `input` field")
        webhook = data.get("webhook")
        if webhook is not None and (not isinstance(webhook, str) or not webhook.startswith(("http://", "https://"))):
            raise BadRequest(400, "`webhook` must be an http(s) URL")
        policy = data.get("policy") or {}
        if not isinstance(policy, dict):
            raise BadRequest(400, "`policy` must be an object")
        timeout = self._policy_ms(policy, "executionTimeout", self.config.default_execution_timeout_ms, 5000)
        ttl = self._policy_ms(policy, "ttl", self.config.default_ttl_ms, 10_000)
        return {"input": data["input"], "webhook": webhook, "execution_timeout": timeout / 1000, "ttl": ttl / 1000}

    def _policy_ms(self, policy: dict, key: str, default: int, minimum: int) -> float:
        value = policy.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise BadRequest(400, f"`policy.{key}` must be a positive number of milliseconds")
        if self.config.enforce_policy_limits and not minimum <= value <= 7 * _DAY_MS:
            raise BadRequest(400, f"`policy.{key}` must be between {minimum} and {7 * _DAY_MS} ms")
        return float(value)


def _close_connections(httpd: _Server) -> None:
    with httpd.connections_lock:
        open_connections = list(httpd.connections)
    for conn in open_connections:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
