"""RunPod Serverless clients for worker-comfyui endpoints, on httpx.

```python
from comfydsl.backends.runpod import RunPodClient

with RunPodClient("my-endpoint", api_key) as client:
    job = client.run(workflow, images={"face.png": png_bytes})
    result = client.wait(job.id, timeout=600).raise_for_status()
    for image in result.images:
        data = client.image_bytes(image)
```

* URLs are `{base}/{endpoint_id}/{op}`; the base defaults to `https://api.runpod.ai/v2`,
  or the `RUNPOD_API_BASE` environment variable, or the `base_url=` argument.
* Every workflow is checked with comfydsl before it is sent (`check=False` to skip); a
  workflow with errors raises `CompileError` and is not sent. Bodies over the documented
  limits (10 MB `run`, 20 MB `runsync`) raise `RequestTooLarge`.
* 429, 502, 503, 504 and transport errors are retried with exponential backoff and jitter,
  honouring `Retry-After`. A submission (`run`, `runsync`, `retry`) is retried only when it
  provably did not reach the server (connect errors) or on 429, so a job is never
  submitted twice behind your back.
* `wait` keeps polling through transient failures of a status poll (5xx, 429, answers that
  are not JSON, connection errors) with backoff until its timeout, telling `on_retry`.
* The API key is checked before any request (surrounding whitespace, such as the CR/LF of a
  `.env` file, is stripped; other characters a header cannot carry are refused without
  showing the key). It is sent as `Authorization: Bearer ...` to the configured base URL only
  (never to the URLs of `s3_url` outputs), over https unless the host is loopback or
  `allow_http=True`, and never appears in messages or reprs, in any escaped form.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Mapping, NoReturn
from urllib.parse import quote, quote_plus, urlsplit

import httpx

from ..errors import (AuthenticationError, BackendConnectionError, BackendError, BackendStatusError,
                      CompileError, JobTimedOut, RequestTooLarge, UnreadableAnswer)
from ..workflow.envelopes import encode_body, runpod_body
from ..workflow.status import FINAL_STATES, JobStatus
from .results import (Health, JobOutput, JobResult, JobState, OutputImage, PurgeResult, StreamChunk, parse_model,
                      parse_output)

__all__ = [
    "AsyncRunPodClient",
    "DEFAULT_BASE_URL",
    "FINAL_STATES",
    "Health",
    "JobOutput",
    "JobResult",
    "JobState",
    "JobStatus",
    "OutputImage",
    "PollPolicy",
    "RequestTooLarge",
    "RetryPolicy",
    "RunPodClient",
    "StreamChunk",
    "UnreadableAnswer",
    "build_request",
    "check_api_key",
    "check_base_url",
    "is_loopback",
    "is_transient",
    "map_httpx_errors",
    "parse_output",
    "redact",
]

DEFAULT_BASE_URL = "https://api.runpod.ai/v2"
#: environment variable that overrides the API base URL
BASE_URL_ENV = "RUNPOD_API_BASE"
#: statuses worth retrying (429 also for submissions; the rest only for safe operations)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: operations that change nothing when repeated: any transient failure may be retried
_SAFE_OPS = frozenset({"status", "stream", "health", "cancel", "purge-queue"})
#: statuses of a status poll that say "try again later" rather than "this job is gone"
TRANSIENT_STATUSES = frozenset({408, 425, 429}) | frozenset(range(500, 600))


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter for transient HTTP failures."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 20.0
    #: the longest `Retry-After` honoured; longer ones are cut to this
    max_retry_after: float = 60.0
    #: how long `wait` keeps polling through transient failures when it has no timeout
    patience: float = 900.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class PollPolicy:
    """How often `wait` asks for a job's status: from `initial` growing by `factor` to `maximum`.

    With `adaptive`, the first poll of a job comes just after finished jobs of this client
    took (their queue + run time as the server reports it; between `floor` and `maximum`),
    and a job that is late after all is looked at again after a quarter of that, then with
    the usual backoff; batches of similar jobs need about one status request per job.
    """

    initial: float = 1.0
    maximum: float = 5.0
    factor: float = 1.25
    jitter: float = 0.1
    adaptive: bool = True
    floor: float = 0.1
    _seen: list[float] = field(default_factory=list, repr=False)

    def delays(self) -> Iterator[float]:
        """The waits before each status poll of one job."""
        delay = self.initial
        if self.adaptive and self._seen:
            # just after jobs usually finish, never before: an early poll costs a request;
            # if the job is late after all, look again soon, then back off as usual
            guess = min(self.maximum, max(self.floor, statistics.median(self._seen[-50:]) * 1.03))
            yield guess * random.uniform(1.0, 1.0 + self.jitter / 4)
            delay = max(self.floor, guess * 0.25)
        while True:
            yield self._jittered(delay)
            delay = min(self.maximum, max(delay, self.floor) * self.factor)

    def observe(self, seconds: float, state: JobState | None = None) -> None:
        """Record how long a finished job took: the server's queue + run time when it says,
        else the `seconds` measured here (which polling itself rounds up)."""
        if state is not None and state.status is JobStatus.COMPLETED and state.execution_time is not None:
            seconds = ((state.delay_time or 0) + state.execution_time) / 1000
        self._seen.append(seconds)

    def _jittered(self, seconds: float) -> float:
        return max(0.0, seconds * random.uniform(1 - self.jitter, 1 + self.jitter))


class _Secret:
    """Holds the API key; its str and repr never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("the API key cannot be pickled")


def check_api_key(key: str) -> str:
    """The API key ready for a header: surrounding whitespace (a `.env` file's CR/LF) is
    stripped; ValueError, which never shows the key, when it is empty or holds a character
    an HTTP header cannot carry (controls, non-ASCII)."""
    if not isinstance(key, str):
        raise ValueError("the RunPod API key must be text")
    cleaned = key.strip()
    if not cleaned:
        raise ValueError("the RunPod API key is empty")
    for position, char in enumerate(cleaned, 1):
        if not 0x20 <= ord(char) <= 0x7E:
            what = "a control character" if ord(char) < 0x20 or ord(char) == 0x7F else "a non-ASCII character"
            raise ValueError(f"the RunPod API key holds {what} at position {position} of {len(cleaned)}, which "
                             f"an HTTP header cannot carry; copy the key again (it is not shown here)")
    return cleaned


def redact(text: str, secret: str | None, mask: str = "***") -> str:
    """`text` with `secret` masked, also where it appears escaped: repr, JSON, bytes repr,
    percent-encoded (either way) or with escaped control characters."""
    if not secret or not text:
        return text
    forms = {secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             repr(secret.encode("utf-8", "backslashreplace"))[2:-1], quote(secret, safe=""), quote_plus(secret),
             quote(secret), secret.encode("unicode_escape").decode("ascii")}
    for form in sorted((f for f in forms if f), key=len, reverse=True):
        text = text.replace(form, mask)
        if form.lower() != form and "%" in form:
            text = text.replace(form.lower(), mask)
    return text


_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}


def is_loopback(host: str | None) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress

    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base: str, *, allow_http: bool = False) -> str:
    """The API base without its trailing `/`; ValueError unless it is an https URL, or an
    http one to a loopback host (any host with `allow_http`)."""
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise ValueError(f"the RunPod API base URL must start with https:// (or http://), not `{base}`")
    try:
        parts = urlsplit(base)
        parts.port  # noqa: B018 -- reading it checks the port is a number in 0-65535
    except ValueError as exc:
        raise ValueError(f"the RunPod API base URL `{base}` is not valid: {exc}") from None
    if not parts.hostname:
        raise ValueError(f"the RunPod API base URL `{base}` names no host")
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        raise ValueError(f"the RunPod API base URL `{base}` is plain http to another machine, which would send "
                         f"the API key unencrypted; use https, or allow it explicitly (--allow-http)")
    return base.rstrip("/")


def resolve_base_url(base_url: str | None = None, *, allow_http: bool = False) -> str:
    """The API base: the argument, else `RUNPOD_API_BASE`, else `https://api.runpod.ai/v2`."""
    base = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    return check_base_url(base, allow_http=allow_http)


# -- building requests -----------------------------------------------------------------

def build_request(
    payload: Mapping[str, Any],
    *,
    images: Mapping[str, bytes | str] | Iterable[Mapping[str, str]] | None = None,
    comfy_org_api_key: str | None = None,
    execution_timeout: float | None = None,
    ttl: float | None = None,
    low_priority: bool | None = None,
    webhook: str | None = None,
    check: bool = True,
    catalog: Any = None,
    models: Any = None,
) -> dict[str, Any]:
    """The request body for `run`/`runsync` from a workflow, checked with comfydsl.

    `payload` is an API workflow, a RunPod body (`{"input": {"workflow": ..., "images": ...}}`,
    e.g. a recipe compiled with `envelope="runpod"`; its `policy` and `webhook` are kept
    unless overridden) or a `/prompt` body. `images` adds
    uploads (name -> bytes or base64 text). Times are seconds; the API gets milliseconds.
    Raises CompileError (with every diagnostic) when the check finds errors.
    """
    from ..workflow.document import classify

    doc = classify(dict(payload))
    if doc.workflow is None:
        raise CompileError(doc.diagnostics, message=doc.diagnostics[0].message if doc.diagnostics else None)
    uploads = _images(doc.images or [])
    uploads.update(_images(images or []))
    if check:
        from ..validate import check_workflow

        found = list(doc.diagnostics) + check_workflow(
            doc.workflow, catalog=catalog, models=models, input_files=set(uploads), duplicates=doc.duplicates)
        if any(d.is_error for d in found):
            raise CompileError(found)
    body = runpod_body(doc.workflow, uploads.items(), comfy_org_api_key=comfy_org_api_key or None)
    given = payload.get("policy") if doc.kind == "runpod" else None
    policy = {**(given if isinstance(given, Mapping) else {}), **make_policy(execution_timeout, ttl, low_priority)}
    if policy:
        body["policy"] = policy
    if webhook is None and doc.kind == "runpod" and isinstance(payload.get("webhook"), str):
        webhook = payload["webhook"]
    if webhook:
        if not webhook.startswith(("http://", "https://")):
            raise ValueError(f"the webhook must be an http(s) URL, not `{webhook}`")
        body["webhook"] = webhook
    return body


def _images(images: Mapping[str, bytes | str] | Iterable[Mapping[str, str]]) -> dict[str, str]:
    import base64

    items = images.items() if isinstance(images, Mapping) else (
        (img.get("name"), img.get("image")) for img in images if isinstance(img, Mapping))
    found: dict[str, str] = {}
    for name, data in items:
        if not isinstance(name, str) or not name:
            raise ValueError("every uploaded image needs a name")
        if isinstance(data, (bytes, bytearray)):
            data = base64.b64encode(bytes(data)).decode("ascii")
        if not isinstance(data, str):
            raise ValueError(f"image `{name}`: expected bytes or base64 text")
        found[name] = data
    return found


def make_policy(execution_timeout: float | None, ttl: float | None, low_priority: bool | None) -> dict[str, Any]:
    """The request's `policy` object from seconds (the API takes milliseconds); {} when all unset."""
    week = 7 * 24 * 3600
    policy: dict[str, Any] = {}
    # The hosted API takes 5 s to 7 days (executionTimeout) and 10 s to 7 days (ttl); the
    # lower bounds are left to the server, which answers 400 with its own limits.
    if execution_timeout is not None:
        if not 0 < execution_timeout <= week:
            raise ValueError("execution_timeout must be positive and at most 7 days")
        policy["executionTimeout"] = max(1, int(execution_timeout * 1000))
    if ttl is not None:
        if not 0 < ttl <= week:
            raise ValueError("ttl must be positive and at most 7 days")
        policy["ttl"] = max(1, int(ttl * 1000))
    if low_priority is not None:
        policy["lowPriority"] = bool(low_priority)
    return policy


# -- answers -----------------------------------------------------------------------------

def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - time.time())


@contextlib.contextmanager
def map_httpx_errors(to_backend: Callable[[httpx.HTTPError], BackendError],
                     catch: type[httpx.HTTPError] = httpx.TransportError) -> Iterator[None]:
    """Turn the httpx errors of the block (transport errors by default) into the BackendError
    `to_backend` makes of each, with the httpx error as its cause: the one place where the
    clients, sync and async, map what httpx raises."""
    try:
        yield
    except catch as exc:
        raise to_backend(exc) from exc


def is_transient(error: BaseException) -> bool:
    """Whether a failed status poll is worth repeating: connection errors, 408/425/429/5xx,
    and answers that cannot be read; not a refused key or a job that is gone (404)."""
    if isinstance(error, (BackendConnectionError, UnreadableAnswer)):
        return True
    return (isinstance(error, BackendStatusError) and not isinstance(error, AuthenticationError)
            and error.status_code in TRANSIENT_STATUSES)


def _transport_cause(error: BackendError) -> httpx.TransportError:
    cause = error.__cause__
    assert isinstance(cause, httpx.TransportError)
    return cause


def _not_sent(exc: httpx.TransportError) -> bool:
    """Whether a transport error proves the request never reached the server."""
    return isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


class _Core:
    """Everything the sync and async clients share: URLs, headers, answers, errors."""

    def __init__(self, endpoint_id: str, api_key: str | None, base_url: str | None, retry: RetryPolicy | None,
                 poll: PollPolicy | None, check: bool, catalog: Any, models: Any,
                 on_retry: Callable[[str, int, float, str], None] | None, allow_http: bool = False) -> None:
        if not endpoint_id or "/" in endpoint_id:
            raise ValueError("an endpoint id is required (and has no `/`)")
        if api_key is None:
            api_key = os.environ.get("RUNPOD_API_KEY")
        if not api_key or not api_key.strip():
            raise AuthenticationError("no RunPod API key: set RUNPOD_API_KEY or pass api_key=", status_code=401)
        self._key = _Secret(check_api_key(api_key))
        self.endpoint_id = endpoint_id
        self.base_url = resolve_base_url(base_url, allow_http=allow_http)
        self.retry_policy = retry or RetryPolicy()
        self.poll = poll or PollPolicy()
        self.check = check
        self.catalog = catalog
        self.models = models
        self.on_retry = on_retry
        #: HTTP requests sent to the API, by operation (retries included)
        self.requests: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint_id={self.endpoint_id!r}, base_url={self.base_url!r}, api_key='***')"

    def _url(self, op: str, job_id: str | None = None) -> str:
        if job_id is not None:
            if not job_id or "/" in job_id or job_id in (".", ".."):
                raise ValueError(f"`{job_id}` is not a job id")
            return f"{self.base_url}/{self.endpoint_id}/{op}/{job_id}"
        return f"{self.base_url}/{self.endpoint_id}/{op}"

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._key.reveal()}", "Accept": "application/json"}
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _redact(self, text: str) -> str:
        return redact(text, self._key.reveal())

    def _body(self, payload: Mapping[str, Any], op: str, options: dict[str, Any]) -> bytes:
        check = options.pop("check", None)
        body = build_request(payload, check=self.check if check is None else check,
                             catalog=self.catalog, models=self.models, **options)
        return encode_body(body, op)

    def _may_retry(self, op: str, attempt: int, *, exc: httpx.TransportError | None = None,
                   response: httpx.Response | None = None, retries: bool = True) -> float | None:
        """Seconds to wait before retrying, or None when the failure is not retried."""
        if not retries or attempt >= self.retry_policy.attempts:
            return None
        if exc is not None:
            ok = op in _SAFE_OPS or _not_sent(exc)
            return self.retry_policy.delay(attempt) if ok else None
        assert response is not None
        code = response.status_code
        if code not in RETRY_STATUSES or (code != 429 and op not in _SAFE_OPS):
            return None
        return self.retry_policy.delay(attempt, _retry_after(response))

    def _notify(self, op: str, attempt: int, delay: float, why: str) -> None:
        if self.on_retry is not None:
            self.on_retry(op, attempt, delay, self._redact(why))

    def _count(self, op: str) -> None:
        self.requests[op] = self.requests.get(op, 0) + 1

    def _mapped(self, op: str, attempt: int) -> contextlib.AbstractContextManager[None]:
        """Map the transport errors of one request of `op` to BackendConnectionError."""
        return map_httpx_errors(lambda exc: self._transport_error(exc, op, attempt))

    def _retry_after_error(self, op: str, attempt: int, error: BackendConnectionError, retries: bool = True) -> float:
        """Seconds to wait before sending again after a transport error; re-raises `error`
        when the request is not retried."""
        cause = _transport_cause(error)
        delay = self._may_retry(op, attempt, exc=cause, retries=retries)
        if delay is None:
            raise error
        self._notify(op, attempt, delay, type(cause).__name__)
        return delay

    def _transport_error(self, exc: httpx.HTTPError, op: str, attempts: int) -> BackendConnectionError:
        what = type(exc).__name__
        detail = self._redact(str(exc)) or what
        if attempts > 1:
            detail += f" (after {attempts} attempts)"
        if op in ("run", "runsync", "retry") and isinstance(exc, httpx.TransportError) and not _not_sent(exc):
            detail += ("; the request may have reached the server, so it was not sent again: "
                       "a job may have been created (see `comfydsl health`)")
        return BackendConnectionError(f"{op}: cannot talk to {self.base_url}: {what}: {detail}")

    def _answer(self, response: httpx.Response, op: str, job_id: str | None = None) -> dict[str, Any]:
        """The JSON object of a successful answer; an error status raises BackendError."""
        code = response.status_code
        data = _json(response)
        if code == 400 and isinstance(data, dict) and data.get("status") in JobStatus.__members__ and "id" in data:
            return data  # a FAILED job object, as the public endpoints answer it
        if 200 <= code < 300:
            if not isinstance(data, dict):
                raise UnreadableAnswer(f"{op}: the API answered HTTP {code} with something that is not a JSON "
                                       f"object: {self._excerpt(response, 120)}")
            return data
        raise self._status_error(response, op, job_id)

    def _status_error(self, response: httpx.Response, op: str, job_id: str | None) -> BackendStatusError:
        code = response.status_code
        excerpt = self._excerpt(response)
        if code in (401, 403):
            return AuthenticationError(
                f"{op}: the RunPod API refused the API key (HTTP {code}): check RUNPOD_API_KEY "
                f"(or `api-key` in the configuration) and that it may use endpoint `{self.endpoint_id}`",
                status_code=code, response=response)
        if code == 404 and job_id is not None:
            message = (f"{op}: job `{job_id}` not found on endpoint `{self.endpoint_id}` (HTTP 404): its result "
                       f"has expired (kept 30 min after /run, 1 min after /runsync, and deleted when its ttl "
                       f"runs out) or the endpoint id is wrong")
        elif code == 404:
            message = (f"{op}: endpoint `{self.endpoint_id}` not found at {self.base_url} (HTTP 404): "
                       f"check the endpoint id and the base URL")
        elif code == 413:
            message = f"{op}: the request is too large for the API (HTTP 413)"
        elif code == 429:
            message = f"{op}: rate limited by the API (HTTP 429), still after {self.retry_policy.attempts} attempts"
        elif code == 400 and op == "retry":
            message = f"retry: job `{job_id}` cannot be retried (only FAILED or TIMED_OUT jobs can): {excerpt}"
        else:
            message = f"{op}: the API answered HTTP {code}: {excerpt}"
        return BackendStatusError(message, status_code=code, response=response)

    def _excerpt(self, response: httpx.Response, limit: int = 300) -> str:
        data = _json(response)
        if isinstance(data, dict):
            for key in ("error", "message", "detail"):
                if data.get(key):
                    value = data[key]
                    text = value if isinstance(value, str) else json.dumps(value)[:limit]
                    return self._redact(text)[:limit]
        text = " ".join(response.text.split())
        if not text:
            return response.reason_phrase or "(empty body)"
        text = self._redact(text)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    def _state(self, data: dict[str, Any], op: str) -> JobState:
        try:
            return parse_model(JobState, data, op)
        except BackendError as exc:
            raise UnreadableAnswer(str(exc)) from None

    def _sync_params(self, wait: float | None, timeout: float | None) -> dict[str, Any] | None:
        """`?wait=` of a runsync: never longer than the time `timeout` leaves."""
        if timeout is not None:
            wait = min(wait if wait is not None else 90.0, timeout)
        return {"wait": _wait_ms(wait)} if wait is not None else None

    def _after_failure(self, job_id: str, error: BackendError, failures: int, failing_since: float,
                       deadline: float | None, last: JobState | None, timeout: float | None) -> float:
        """Seconds until the next poll after a failed status poll; raises `error` when it is not
        transient or patience ran out, JobTimedOut when the wait's time is up."""
        if not is_transient(error):
            raise error
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise _gave_up(job_id, last, timeout, error)
        if deadline is None and now - failing_since >= self.retry_policy.patience:
            raise error
        response = getattr(error, "response", None)
        after = _retry_after(response) if isinstance(response, httpx.Response) else None
        # back off, but poll at least as often as a healthy wait would (unless told otherwise)
        delay = self.retry_policy.delay(failures, after) if after is not None else min(
            self.retry_policy.delay(failures), max(self.poll.maximum, self.retry_policy.base))
        delay = min(delay, max(0.0, deadline - now)) if deadline is not None else delay
        why = _first_line(str(error)).removeprefix("status: ").removeprefix("stream: ")
        self._notify("status", failures, delay, f"{why}; the job keeps running, still waiting")
        return delay

    def _updated(self, state: JobState, last: JobState | None,
                 on_update: Callable[[JobState], None] | None) -> None:
        if on_update is not None and (last is None or state.status is not last.status):
            on_update(state)

    def _result(self, state: JobState) -> JobResult:
        return JobResult.from_state(self.endpoint_id, state)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _timeout(read: float) -> httpx.Timeout:
    return httpx.Timeout(read, connect=10.0)


def _download_error(image: OutputImage, exc: Exception | None = None, code: int | None = None) -> BackendError:
    why = f"HTTP {code}" if code is not None else type(exc).__name__
    return BackendError(f"cannot download image `{image.filename}` from its s3_url: {why}")


class RunPodClient(_Core):
    """A synchronous RunPod Serverless client on an injected or owned `httpx.Client`.

    `endpoint_id` names the endpoint; `api_key` defaults to `RUNPOD_API_KEY`; `base_url`
    to `RUNPOD_API_BASE` or the hosted API (plain http only to loopback unless
    `allow_http`). `catalog`/`models` are what workflows are checked against (the built-in
    catalogue by default). `on_retry(op, attempt, delay, why)` is told about each retry,
    also of a status poll that `wait` repeats after a transient failure.
    """

    def __init__(self, endpoint_id: str, api_key: str | None = None, *, base_url: str | None = None,
                 client: httpx.Client | None = None, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 poll: PollPolicy | None = None, check: bool = True, catalog: Any = None, models: Any = None,
                 on_retry: Callable[[str, int, float, str], None] | None = None, allow_http: bool = False) -> None:
        super().__init__(endpoint_id, api_key, base_url, retry, poll, check, catalog, models, on_retry, allow_http)
        self._owned = client is None
        self._http = client if client is not None else httpx.Client(timeout=_timeout(timeout))
        self._read_timeout = timeout

    def __enter__(self) -> RunPodClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owned:
            self._http.close()

    def _send(self, method: str, op: str, *, job_id: str | None = None, content: bytes | None = None,
              params: dict[str, Any] | None = None, read_timeout: float | None = None,
              retries: bool = True) -> dict[str, Any]:
        url = self._url(op, job_id)
        attempt = 0
        while True:
            attempt += 1
            self._count(op)
            try:
                with self._mapped(op, attempt):
                    response = self._http.request(method, url, content=content, params=params,
                                                  headers=self._headers(content is not None),
                                                  timeout=_timeout(read_timeout or self._read_timeout))
            except BackendConnectionError as error:
                time.sleep(self._retry_after_error(op, attempt, error, retries))
                continue
            wait = self._may_retry(op, attempt, response=response, retries=retries)
            if wait is None:
                return self._answer(response, op, job_id)
            self._notify(op, attempt, wait, f"HTTP {response.status_code}")
            time.sleep(wait)

    # -- operations ---------------------------------------------------------------------
    def run(self, payload: Mapping[str, Any], **options: Any) -> JobState:
        """Submit a job (`POST /run`); returns its first state (normally IN_QUEUE).

        Options: `images`, `comfy_org_api_key`, `execution_timeout`, `ttl`, `low_priority`,
        `webhook`, `check` (see `build_request`).
        """
        content = self._body(payload, "run", options)
        return self._state(self._send("POST", "run", content=content), "run")

    def runsync(self, payload: Mapping[str, Any], *, wait: float | None = None, timeout: float | None = None,
                on_submitted: Callable[[JobState], None] | None = None, **options: Any) -> JobResult:
        """Submit and wait (`POST /runsync?wait=ms`); polls when the answer is not final yet.

        `wait` (seconds, at most 300) is how long the API holds the request, never more than
        `timeout`, which bounds the whole wait, polling included. `on_submitted` gets the
        first answer (it carries the job id) before anything else can fail.
        """
        started = time.monotonic()
        state = self.submit_sync(payload, wait=wait, timeout=timeout, **options)
        if on_submitted is not None:
            on_submitted(state)
        if state.is_final:
            self.poll.observe(time.monotonic() - started, state)
            return self._result(state)
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        return self.wait(state.id, timeout=left, _started=started, _last=state)

    def submit_sync(self, payload: Mapping[str, Any], *, wait: float | None = None, timeout: float | None = None,
                    **options: Any) -> JobState:
        """`POST /runsync` once: the job's state when the API lets go (final, or still running)."""
        content = self._body(payload, "runsync", options)
        params = self._sync_params(wait, timeout)
        held = params["wait"] / 1000 if params else 90.0
        data = self._send("POST", "runsync", content=content, params=params, read_timeout=held + self._read_timeout)
        return self._state(data, "runsync")

    def status(self, job_id: str) -> JobState:
        """The job's current state (`GET /status/{id}`)."""
        return self._state(self._send("GET", "status", job_id=job_id), "status")

    def cancel(self, job_id: str) -> JobState:
        """Cancel a job (`POST /cancel/{id}`)."""
        return self._state(self._send("POST", "cancel", job_id=job_id), "cancel")

    def retry(self, job_id: str) -> JobState:
        """Run a FAILED or TIMED_OUT job again under the same id (`POST /retry/{id}`)."""
        return self._state(self._send("POST", "retry", job_id=job_id), "retry")

    def health(self) -> Health:
        """Job and worker counts of the endpoint (`GET /health`)."""
        return parse_model(Health, self._send("GET", "health"), "health")

    def purge_queue(self) -> PurgeResult:
        """Drop every queued (not running) job (`POST /purge-queue`)."""
        return parse_model(PurgeResult, self._send("POST", "purge-queue"), "purge-queue")

    def result(self, job_id: str) -> JobResult:
        """The job's result if it is final; raises BackendError while it is still running."""
        state = self.status(job_id)
        if not state.is_final:
            raise BackendError(f"job `{job_id}` is still {state.status.value}")
        return self._result(state)

    def stream(self, job_id: str) -> StreamChunk:
        """The job's output produced since the last call (`GET /stream/{id}`)."""
        return parse_model(StreamChunk, self._send("GET", "stream", job_id=job_id), "stream")

    def iter_stream(self, job_id: str, *, timeout: float | None = None) -> Iterator[Any]:
        """Yield the job's output pieces as the stream hands them out, until the job is final
        and the stream is drained (transient failures are polled through, like `wait`)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = self.poll.delays()
        failures, failing_since = 0, 0.0
        delay = 0.0
        while True:
            time.sleep(delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic())))
            try:
                chunk = parse_model(StreamChunk, self._send("GET", "stream", job_id=job_id, retries=False), "stream")
            except BackendError as error:
                failures, failing_since = failures + 1, failing_since or time.monotonic()
                delay = self._after_failure(job_id, error, failures, failing_since, deadline, None, timeout)
                continue
            failures, failing_since = 0, 0.0
            yield from chunk.outputs
            if chunk.is_final and not chunk.stream:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise _gave_up(job_id, None, timeout)
            delay = 0.0 if chunk.stream else next(delays)

    def wait(self, job_id: str, *, timeout: float | None = None,
             on_update: Callable[[JobState], None] | None = None, _started: float | None = None,
             _last: JobState | None = None) -> JobResult:
        """Poll until the job is final and return its result (FAILED jobs too: see `raise_for_status`).

        Transient failures of a poll (5xx, 429, unreadable answers, connection errors) are
        polled through with backoff. Raises JobTimedOut when `timeout` seconds pass first;
        the job keeps running.
        """
        started = _started if _started is not None else time.monotonic()
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = self.poll.delays()
        last = _last
        failures, failing_since = 0, 0.0
        delay = next(delays)
        while True:
            if deadline is not None:
                delay = min(delay, max(0.0, deadline - time.monotonic()))
            time.sleep(delay)
            try:
                state = self._state(self._send("GET", "status", job_id=job_id, retries=False), "status")
            except BackendError as error:
                failures, failing_since = failures + 1, failing_since or time.monotonic()
                delay = self._after_failure(job_id, error, failures, failing_since, deadline, last, timeout)
                continue
            failures, failing_since = 0, 0.0
            self._updated(state, last, on_update)
            last = state
            if state.is_final:
                self.poll.observe(time.monotonic() - started, state)
                return self._result(state)
            if deadline is not None and time.monotonic() >= deadline:
                raise _gave_up(job_id, state, timeout)
            delay = next(delays)

    def image_bytes(self, image: OutputImage) -> bytes:
        """The bytes of an output image: decoded base64, or downloaded from its URL without the API key."""
        if not image.is_url:
            return image.decode()
        with map_httpx_errors(lambda exc: _download_error(image, exc), catch=httpx.HTTPError):
            response = self._http.get(image.data, timeout=_timeout(120.0))
        if response.status_code != 200:
            raise _download_error(image, code=response.status_code)
        return response.content


class AsyncRunPodClient(_Core):
    """The asyncio twin of RunPodClient, on an injected or owned `httpx.AsyncClient`."""

    def __init__(self, endpoint_id: str, api_key: str | None = None, *, base_url: str | None = None,
                 client: httpx.AsyncClient | None = None, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 poll: PollPolicy | None = None, check: bool = True, catalog: Any = None, models: Any = None,
                 on_retry: Callable[[str, int, float, str], None] | None = None,
                 max_connections: int = 100, allow_http: bool = False) -> None:
        super().__init__(endpoint_id, api_key, base_url, retry, poll, check, catalog, models, on_retry, allow_http)
        self._owned = client is None
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._http = client if client is not None else httpx.AsyncClient(timeout=_timeout(timeout), limits=limits)
        self._read_timeout = timeout

    async def __aenter__(self) -> AsyncRunPodClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it."""
        if self._owned:
            await self._http.aclose()

    async def _send(self, method: str, op: str, *, job_id: str | None = None, content: bytes | None = None,
                    params: dict[str, Any] | None = None, read_timeout: float | None = None,
              retries: bool = True) -> dict[str, Any]:
        url = self._url(op, job_id)
        attempt = 0
        while True:
            attempt += 1
            self._count(op)
            try:
                with self._mapped(op, attempt):
                    response = await self._http.request(method, url, content=content, params=params,
                                                        headers=self._headers(content is not None),
                                                        timeout=_timeout(read_timeout or self._read_timeout))
            except BackendConnectionError as error:
                await asyncio.sleep(self._retry_after_error(op, attempt, error, retries))
                continue
            wait = self._may_retry(op, attempt, response=response, retries=retries)
            if wait is None:
                return self._answer(response, op, job_id)
            self._notify(op, attempt, wait, f"HTTP {response.status_code}")
            await asyncio.sleep(wait)

    async def run(self, payload: Mapping[str, Any], **options: Any) -> JobState:
        """Submit a job (`POST /run`); see RunPodClient.run."""
        content = self._body(payload, "run", options)
        return self._state(await self._send("POST", "run", content=content), "run")

    async def runsync(self, payload: Mapping[str, Any], *, wait: float | None = None,
                      timeout: float | None = None, on_submitted: Callable[[JobState], None] | None = None,
                      **options: Any) -> JobResult:
        """Submit and wait (`POST /runsync`); see RunPodClient.runsync."""
        started = time.monotonic()
        state = await self.submit_sync(payload, wait=wait, timeout=timeout, **options)
        if on_submitted is not None:
            on_submitted(state)
        if state.is_final:
            self.poll.observe(time.monotonic() - started, state)
            return self._result(state)
        left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
        return await self.wait(state.id, timeout=left, _started=started, _last=state)

    async def submit_sync(self, payload: Mapping[str, Any], *, wait: float | None = None,
                          timeout: float | None = None, **options: Any) -> JobState:
        """`POST /runsync` once; see RunPodClient.submit_sync."""
        content = self._body(payload, "runsync", options)
        params = self._sync_params(wait, timeout)
        held = params["wait"] / 1000 if params else 90.0
        data = await self._send("POST", "runsync", content=content, params=params,
                                read_timeout=held + self._read_timeout)
        return self._state(data, "runsync")

    async def status(self, job_id: str) -> JobState:
        """The job's current state (`GET /status/{id}`)."""
        return self._state(await self._send("GET", "status", job_id=job_id), "status")

    async def cancel(self, job_id: str) -> JobState:
        """Cancel a job (`POST /cancel/{id}`)."""
        return self._state(await self._send("POST", "cancel", job_id=job_id), "cancel")

    async def retry(self, job_id: str) -> JobState:
        """Run a FAILED or TIMED_OUT job again (`POST /retry/{id}`)."""
        return self._state(await self._send("POST", "retry", job_id=job_id), "retry")

    async def health(self) -> Health:
        """Job and worker counts of the endpoint (`GET /health`)."""
        return parse_model(Health, await self._send("GET", "health"), "health")

    async def purge_queue(self) -> PurgeResult:
        """Drop every queued job (`POST /purge-queue`)."""
        return parse_model(PurgeResult, await self._send("POST", "purge-queue"), "purge-queue")

    async def result(self, job_id: str) -> JobResult:
        """The job's result if it is final; raises BackendError while it is still running."""
        state = await self.status(job_id)
        if not state.is_final:
            raise BackendError(f"job `{job_id}` is still {state.status.value}")
        return self._result(state)

    async def stream(self, job_id: str) -> StreamChunk:
        """The job's output produced since the last call (`GET /stream/{id}`)."""
        return parse_model(StreamChunk, await self._send("GET", "stream", job_id=job_id), "stream")

    async def iter_stream(self, job_id: str, *, timeout: float | None = None) -> AsyncIterator[Any]:
        """Yield the job's output pieces until it is final; see RunPodClient.iter_stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = self.poll.delays()
        failures, failing_since = 0, 0.0
        delay = 0.0
        while True:
            await asyncio.sleep(delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic())))
            try:
                data = await self._send("GET", "stream", job_id=job_id, retries=False)
                chunk = parse_model(StreamChunk, data, "stream")
            except BackendError as error:
                failures, failing_since = failures + 1, failing_since or time.monotonic()
                delay = self._after_failure(job_id, error, failures, failing_since, deadline, None, timeout)
                continue
            failures, failing_since = 0, 0.0
            for output in chunk.outputs:
                yield output
            if chunk.is_final and not chunk.stream:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise _gave_up(job_id, None, timeout)
            delay = 0.0 if chunk.stream else next(delays)

    async def wait(self, job_id: str, *, timeout: float | None = None,
                   on_update: Callable[[JobState], None] | None = None,
                   _started: float | None = None, _last: JobState | None = None) -> JobResult:
        """Poll until the job is final; see RunPodClient.wait."""
        started = _started if _started is not None else time.monotonic()
        deadline = None if timeout is None else time.monotonic() + timeout
        delays = self.poll.delays()
        last = _last
        failures, failing_since = 0, 0.0
        delay = next(delays)
        while True:
            if deadline is not None:
                delay = min(delay, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(delay)
            try:
                state = self._state(await self._send("GET", "status", job_id=job_id, retries=False), "status")
            except BackendError as error:
                failures, failing_since = failures + 1, failing_since or time.monotonic()
                delay = self._after_failure(job_id, error, failures, failing_since, deadline, last, timeout)
                continue
            failures, failing_since = 0, 0.0
            self._updated(state, last, on_update)
            last = state
            if state.is_final:
                self.poll.observe(time.monotonic() - started, state)
                return self._result(state)
            if deadline is not None and time.monotonic() >= deadline:
                raise _gave_up(job_id, state, timeout)
            delay = next(delays)

    async def image_bytes(self, image: OutputImage) -> bytes:
        """The bytes of an output image; URLs are fetched without the API key."""
        if not image.is_url:
            return image.decode()
        with map_httpx_errors(lambda exc: _download_error(image, exc), catch=httpx.HTTPError):
            response = await self._http.get(image.data, timeout=_timeout(120.0))
        if response.status_code != 200:
            raise _download_error(image, code=response.status_code)
        return response.content


def _wait_ms(wait: float) -> int:
    if not 0 <= wait <= 300:
        raise ValueError("runsync wait must be between 0 and 300 seconds")
    return max(1, int(wait * 1000))


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def _gave_up(job_id: str, state: JobState | None, timeout: float | None,
             error: BaseException | None = None) -> JobTimedOut:
    status = state.status.value if state is not None else "UNKNOWN"
    where = f"it is still {status}" if state is not None else "its state is unknown"
    why = f"; the last status poll failed: {_first_line(str(error))}" if error is not None else ""
    return JobTimedOut(f"gave up waiting for job `{job_id}` after {timeout or 0:g} s; {where} and keeps "
                       f"running{why}", job_id=job_id, status=status)
