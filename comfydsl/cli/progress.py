"""How `comfydsl run` shows a batch's progress on standard error: a live line on a terminal,
plain lines otherwise. It turns the batch engine's events (`comfydsl.backends.batch`) into text.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

from .connection import print_diagnostics, seconds

if TYPE_CHECKING:
    from ..backends.batch import BatchEvent, JobOutcome
    from ..backends.results import JobState

class Progress:
    """Prints a batch's events; call it with each `BatchEvent`."""

    def __init__(self, total: int, tty: bool, endpoint: str, out: str) -> None:
        self.total = total
        self.tty = tty
        self.endpoint = endpoint
        self.out = out
        self.started = time.monotonic()
        self.states: dict[int, str] = {}
        self.done = 0
        self.failed = 0
        self.delay: dict[int, int | None] = {}
        self._shown = False

    def __call__(self, event: BatchEvent) -> None:
        kind = event.kind
        if kind == "tick":
            self.redraw()
        elif kind in ("retry", "submitted"):
            self.line(event.message)
        elif kind == "warning":
            self.line(f"warning: {event.message}")
        elif kind == "state" and event.index is not None and event.state is not None:
            if self.tty or not event.initial:
                self.state(event.index, event.state)
        elif kind == "finished" and event.index is not None and event.outcome is not None:
            self.finished(event.index, event.outcome.ok)
            if event.result is not None:
                self.report(event.outcome)
        elif kind == "error" and event.index is not None and event.outcome is not None:
            self.finished(event.index, False)
            self.error(event.outcome, event.message)
        else:
            self.interruption(event)

    # -- lines ---------------------------------------------------------------------------
    def report(self, outcome: JobOutcome) -> None:
        """The line of a finished job, its warnings and the worker's diagnostics."""
        record = outcome.record
        assert record is not None
        timing = f"queue {seconds(record.delay_ms)}, run {seconds(record.execution_ms)}"
        if outcome.ok:
            files = ", ".join(os.path.join(self.out, f) for f in record.files) if record.files else "no images"
            self.line(f"{record.job_id}: {record.status} ({timing}): {files}")
        else:
            what = record.error or "; ".join(record.warnings) or record.status.lower()
            self.line(f"{record.job_id}: {record.status} ({timing}): {what.splitlines()[0]}")
        for warning in record.warnings:
            self.line(f"  warning: {warning}")
        if outcome.diagnostics:
            self.close()
            print_diagnostics(outcome.diagnostics, path=outcome.spec.source)

    def error(self, outcome: JobOutcome, message: str) -> None:
        record = outcome.record
        job = record.job_id if record is not None and record.job_id else None
        self.line(f"{job or outcome.spec.label}: error: {message}")
        from ..workflow.status import is_final

        if record is not None and job and not is_final(record.status) and outcome.resumable:
            self.line(f"  resume with: comfydsl status {job} --endpoint {self.endpoint} --out {self.out} --wait")

    def interruption(self, event: BatchEvent) -> None:
        job = event.job_id
        if event.kind == "interrupted":
            self.close()
        elif event.kind == "sync-interrupted":
            print(f"interrupted: {event.message}", file=sys.stderr)
        elif event.kind == "still-stopping":
            print(f"stopping: {event.message}", file=sys.stderr, flush=True)
        elif event.kind == "detached":
            print(f"job {job} keeps running; resume with: comfydsl status {job} "
                  f"--endpoint {self.endpoint} --out {self.out} --wait", file=sys.stderr)
        elif event.kind == "cancel-failed":
            print(f"could not cancel job {job}: {event.message}; cancel it with: comfydsl cancel {job} "
                  f"--endpoint {self.endpoint}", file=sys.stderr)
        elif event.kind == "cancelled":
            print(f"cancelled job {job} ({event.message})", file=sys.stderr)

    # -- the live line ---------------------------------------------------------------------
    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _clear(self) -> None:
        if self.tty and self._shown:
            sys.stderr.write("\r\033[K")
            self._shown = False

    def line(self, text: str) -> None:
        """A line that stays (above the live line on a terminal)."""
        self._clear()
        print(text, file=sys.stderr, flush=True)
        self.redraw()

    def redraw(self) -> None:
        if not self.tty:
            return
        queued = sum(1 for s in self.states.values() if s == "IN_QUEUE")
        running = sum(1 for s in self.states.values() if s in ("IN_PROGRESS", "RUNNING"))
        if self.total == 1 and self.states:
            index, state = next(iter(self.states.items()))
            waited = self.delay.get(index)
            extra = f", waited {waited / 1000:.1f}s in the queue" if waited else ""
            text = f"{state.lower().replace('_', ' ')} {self._elapsed():.1f}s{extra}"
        else:
            text = (f"{self.done}/{self.total} done, {self.failed} failed, {running} running, "
                    f"{queued} queued, {self._elapsed():.1f}s")
        sys.stderr.write("\r\033[K" + text)
        sys.stderr.flush()
        self._shown = True

    def state(self, index: int, state: JobState) -> None:
        self.states[index] = state.status.value
        if state.delay_time is not None:
            self.delay[index] = state.delay_time
        if self.tty:
            self.redraw()
        elif not state.is_final:
            queue = f" (queued {seconds(state.delay_time)})" if state.delay_time is not None else ""
            self.line(f"{state.id}: {state.status.value}{queue}")

    def finished(self, index: int, ok: bool) -> None:
        self.states.pop(index, None)
        self.done += 1
        self.failed += 0 if ok else 1

    def close(self) -> None:
        self._clear()
