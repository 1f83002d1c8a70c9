"""Scripted faults for tests: make the next N calls of an operation misbehave.

```python
srv.faults.add(op="status", status=429, times=2, retry_after=1)   # next 2 status calls: 429
srv.faults.add(op="run", drop=True)                               # close the socket, no answer
srv.faults.add(op="*", delay=0.5)                                 # answer the next call slowly
srv.faults.add(op="health", status=200, body="<html>oops</html>") # a body that is not JSON
srv.faults.add(op="status", refuse=3)                             # refuse every connection for 3 s
srv.faults.add(op="runsync", early=True)                          # runsync answers IN_QUEUE at once
srv.faults.scenario("429-storm", times=5, retry_after=1)          # a named scenario (SCENARIOS)
```
"""

from __future__ import annotations

import email.utils
import math
import threading
from dataclasses import dataclass
from typing import Any, Callable

#: Operation names a fault may target; `*` matches every operation.
OPERATIONS = ("run", "runsync", "status", "cancel", "retry", "health", "purge-queue", "stream")


@dataclass
class Fault:
    """One scripted misbehaviour.

    `status` answers with that HTTP status instead of handling the call (with `body`, or a
    short plain-text body); `retry_after` adds a `Retry-After` header; `delay` waits that many
    seconds first (alone, it only slows a normal answer); `drop` closes the connection
    without any response; `refuse` closes the connection and stops accepting new ones for
    that many seconds (clients get "connection refused"); `early` makes a runsync answer at
    once, as if its wait had run out. `times` counts how many matching calls it hits
    (`None`: every one); `skip` lets that many matching calls through first.
    """

    op: str = "*"
    status: int | None = None
    times: int | None = 1
    retry_after: float | str | None = None
    delay: float = 0.0
    drop: bool = False
    body: str | bytes | None = None
    content_type: str = "text/plain; charset=utf-8"
    skip: int = 0
    refuse: float = 0.0
    early: bool = False
    hits: int = 0

    def __post_init__(self) -> None:
        if self.op != "*" and self.op not in OPERATIONS:
            raise ValueError(f"unknown operation `{self.op}`; use one of {', '.join(OPERATIONS)} or `*`")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError(f"HTTP status {self.status} is out of range")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every call)")
        if self.status is None and not (self.drop or self.delay or self.refuse or self.early) and self.body is None:
            raise ValueError("a fault needs a status, a delay, a body, refuse=S, early=True or drop=True")
        if not (0 <= self.delay < math.inf and 0 <= self.refuse < math.inf) or self.skip < 0:
            raise ValueError("delay, refuse and skip must be numbers, 0 or more")
        if self.early and self.op != "runsync":
            raise ValueError("early=True applies to runsync only")
        self.retry_after = check_retry_after(self.retry_after)

    def to_dict(self) -> dict[str, Any]:
        body = self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else self.body
        return {"op": self.op, "status": self.status, "times": self.times, "retry_after": self.retry_after,
                "delay": self.delay, "drop": self.drop, "body": body, "content_type": self.content_type,
                "skip": self.skip, "refuse": self.refuse, "early": self.early, "hits": self.hits}


def check_retry_after(value: Any) -> float | str | None:
    """A `Retry-After` value that is safe in a header: a number of seconds (0 or more) or
    an HTTP date; ValueError for anything else (control characters above all)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("retry_after must be seconds or an HTTP date")
    if isinstance(value, (int, float)):
        if not 0 <= value < math.inf:
            raise ValueError("retry_after must be 0 or more seconds")
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if text and text[0] in "0123456789.":
                check_retry_after(float(text))
                return text
            return _http_date(text)
        except ValueError:
            raise ValueError("retry_after must be a number of seconds or an HTTP date") from None
    raise ValueError("retry_after must be seconds or an HTTP date")


def _http_date(text: str) -> str:
    if not text or any(not 0x20 <= ord(c) < 0x7F for c in text):
        raise ValueError("not an HTTP date")
    try:
        email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError("not an HTTP date") from None
    return text


class FaultPlan:
    """The faults waiting to fire, matched in the order they were added. Thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, op: str = "*", **options: Any) -> Fault:
        """Add a fault (see `Fault`) and return it."""
        fault = Fault(op=op, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def put(self, fault: Fault) -> Fault:
        """Add a fault built elsewhere (e.g. by `parse_fault`)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def scenario(self, name: str, **params: Any) -> list[Fault]:
        """Add the faults of a named scenario (see `SCENARIOS`); `params` tune it."""
        return [self.put(fault) for fault in scenario(name, **params)]

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def take(self, op: str) -> Fault | None:
        """The fault that fires for this call of `op`, if any (used up when its count is spent)."""
        with self._lock:
            for fault in self._faults:
                if fault.op not in ("*", op):
                    continue
                if fault.skip:
                    fault.skip -= 1
                    continue
                fault.hits += 1
                if fault.times is not None and fault.hits >= fault.times:
                    self._faults.remove(fault)
                return fault
        return None


def parse_fault(spec: str) -> Fault:
    """A fault from `op=status,status=429,times=2,retry_after=1` (CLI and admin form).

    Keys: op, status, times (a number or `always`), retry_after, delay, drop, body, skip,
    refuse (seconds), early.
    """
    options: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            if key == "drop":
                options["drop"] = True
                continue
            raise ValueError(f"`{part}` is not key=value")
        value = value.strip()
        try:
            if key in ("status", "skip"):
                options[key] = int(value)
            elif key == "times":
                options[key] = None if value in ("always", "*", "none") else int(value)
            elif key == "delay":
                options[key] = float(value)
            elif key == "retry_after":
                options[key] = value
            elif key in ("drop", "early"):
                options[key] = value.lower() in ("1", "true", "yes")
            elif key == "refuse":
                options[key] = float(value)
            elif key in ("op", "body", "content_type"):
                options[key] = value
            else:
                raise ValueError(f"unknown fault key `{key}`")
        except ValueError as exc:
            if "unknown fault key" in str(exc):
                raise
            raise ValueError(f"fault key `{key}` has a bad value `{value}`") from None
    return Fault(**options)


_HTML = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>upstream hiccup</body></html>"


def _status_500(times: int = 1) -> list[Fault]:
    return [Fault(op="status", status=500, times=times, body='{"error": "internal error"}',
                  content_type="application/json")]


def _status_html(times: int = 1) -> list[Fault]:
    return [Fault(op="status", status=200, times=times, body=_HTML, content_type="text/html")]


def _storm(times: int = 5, retry_after: float = 1.0, op: str = "status") -> list[Fault]:
    return [Fault(op=op, status=429, times=times, retry_after=retry_after)]


def _refused(seconds: float = 3.0) -> list[Fault]:
    return [Fault(op="status", refuse=seconds)]


def _runsync_queued_then_failing(times: int = 3) -> list[Fault]:
    return [Fault(op="runsync", early=True),
            Fault(op="status", status=503, times=times, body="Service Unavailable"),
            Fault(op="status", drop=True),
            Fault(op="status", status=200, body=_HTML, content_type="text/html")]


#: Named fault scenarios: name -> (what it does, a function of its parameters giving the faults).
SCENARIOS: dict[str, tuple[str, Callable[..., list[Fault]]]] = {
    "status-500": ("the next status poll(s) answer HTTP 500 (times=1)", _status_500),
    "status-html": ("the next status poll(s) answer 200 with an HTML page (times=1)", _status_html),
    "429-storm": ("the next status polls answer 429 with Retry-After (times=5, retry_after=1)", _storm),
    "refused": ("the next status poll is dropped and connections are refused for a while (seconds=3)",
                _refused),
    "runsync-queued-then-failing": ("runsync answers IN_QUEUE at once, then status polls fail: 503s (times=3), "
                                    "a dropped connection and an HTML page", _runsync_queued_then_failing),
}


def scenario(name: str, **params: Any) -> list[Fault]:
    """The faults of a named scenario; ValueError for an unknown name or parameter."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown fault scenario `{name}`; use one of {', '.join(SCENARIOS)}")
    try:
        return SCENARIOS[name][1](**params)
    except TypeError as exc:
        raise ValueError(f"fault scenario `{name}`: {exc}") from None
