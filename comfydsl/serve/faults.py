"""Scripted faults for tests: make the next N calls of an operation misbehave.

```python
srv.faults.add(op="status", status=429, times=2, retry_after=1)   # next 2 status calls: 429
srv.faults.add(op="run", drop=True)                               # close the socket, no answer
srv.faults.add(op="*", delay=0.5)                                 # answer the next call slowly
srv.faults.add(op="health", status=200, body="<html>oops</html>") # a body that is not JSON
```
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

#: Operation names a fault may target; `*` matches every operation.
OPERATIONS = ("run", "runsync", "status", "cancel", "retry", "health", "purge-queue", "stream")


@dataclass
class Fault:
    """One scripted misbehaviour.

    `status` answers with that HTTP status instead of handling the call (with `body`, or a
    short plain-text body); `retry_after` adds a `Retry-After` header; `delay` waits that many
    seconds first (alone, it only slows a normal answer); `drop` closes the connection
    without any response. `times` counts how many matching calls it hits (`None`: every one);
    `skip` lets that many matching calls through first.
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
    hits: int = 0

    def __post_init__(self) -> None:
        if self.op != "*" and self.op not in OPERATIONS:
            raise ValueError(f"unknown operation `{self.op}`; use one of {', '.join(OPERATIONS)} or `*`")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError(f"HTTP status {self.status} is out of range")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every call)")
        if self.status is None and not self.drop and not self.delay and self.body is None:
            raise ValueError("a fault needs a status, a delay, a body or drop=True")
        if self.delay < 0 or self.skip < 0:
            raise ValueError("delay and skip cannot be negative")

    def to_dict(self) -> dict[str, Any]:
        body = self.body.decode("utf-8", "replace") if isinstance(self.body, bytes) else self.body
        return {"op": self.op, "status": self.status, "times": self.times, "retry_after": self.retry_after,
                "delay": self.delay, "drop": self.drop, "body": body, "content_type": self.content_type,
                "skip": self.skip, "hits": self.hits}


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

    Keys: op, status, times (a number or `always`), retry_after, delay, drop, body, skip.
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
            elif key == "drop":
                options[key] = value.lower() in ("1", "true", "yes")
            elif key in ("op", "body", "content_type"):
                options[key] = value
            else:
                raise ValueError(f"unknown fault key `{key}`")
        except ValueError as exc:
            if "unknown fault key" in str(exc):
                raise
            raise ValueError(f"fault key `{key}` has a bad value `{value}`") from None
    return Fault(**options)
