"""The job queue of the local endpoint: states, workers, timeouts, retention and webhooks.

All job state sits behind one condition variable. Worker threads take jobs from a FIFO
queue and run the executor outside the lock; a janitor thread enforces
`policy.executionTimeout` (TIMED_OUT), `policy.ttl` (the job is deleted, even mid-run) and
result retention (deleted after `retention` seconds, `sync_retention` for runsync jobs).
A job whose result arrives after it was cancelled, timed out or deleted is dropped.

Jobs live in memory unless a `StateFile` (`serve --state FILE`) is given: then every change
is written to it, and a restarted endpoint picks its jobs up again.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from ..workflow.status import FINAL_STATES, JobStatus

# Job states as the plain text the API sends; which of them are final is `FINAL_STATES`.
IN_QUEUE = JobStatus.IN_QUEUE.value
IN_PROGRESS = JobStatus.IN_PROGRESS.value
COMPLETED = JobStatus.COMPLETED.value
FAILED = JobStatus.FAILED.value
CANCELLED = JobStatus.CANCELLED.value
TIMED_OUT = JobStatus.TIMED_OUT.value


@dataclass
class Job:
    """One request to the endpoint, with its times in `time.monotonic()` seconds."""

    id: str
    input: Any
    sync: bool = False
    webhook: str | None = None
    execution_timeout: float = 600.0
    ttl: float = 86400.0
    created: float = 0.0
    queued: float = 0.0
    started: float | None = None
    finished: float | None = None
    expires: float | None = None
    status: str = IN_QUEUE
    output: Any = None
    error: str | None = None
    worker_id: str | None = None
    attempt: int = 0
    #: whether `stream` has handed out the output already
    streamed: bool = False
    cancelled: threading.Event = field(default_factory=threading.Event)

    def view(self, *, echo_input: bool = True) -> dict[str, Any]:
        """The job as `status` returns it."""
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.started is not None:
            out["delayTime"] = _ms(self.started - self.queued)
        if self.status in (IN_QUEUE, IN_PROGRESS):
            if echo_input:
                out["input"] = self.input
            return out
        if self.status == CANCELLED:
            return out
        if self.started is not None and self.finished is not None:
            out["executionTime"] = _ms(self.finished - self.started)
        if self.status == FAILED:
            out["error"] = self.error
        if self.output is not None:
            out["output"] = self.output
        if self.worker_id:
            out["workerId"] = self.worker_id
        return out


def _ms(seconds: float) -> int:
    return max(0, int(round(seconds * 1000)))


@dataclass
class Counters:
    """Totals since start, for `/health`."""

    completed: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    timed_out: int = 0


class JobManager:
    """Holds the jobs and runs them on `workers` threads with `executor.run`."""

    def __init__(self, executor, *, workers: int = 1, retention: float = 1800.0, sync_retention: float = 60.0,
                 on_final: Callable[[Job, dict[str, Any]], None] | None = None, echo_input: bool = True,
                 clock: Callable[[], float] = time.monotonic, store: Any = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.executor = executor
        self.retention = retention
        self.sync_retention = sync_retention
        self.on_final = on_final
        self.echo_input = echo_input
        self.clock = clock
        self.jobs: dict[str, Job] = {}
        self.queue: deque[str] = deque()
        self.running: dict[str, Job] = {}
        self.counters = Counters()
        self.cond = threading.Condition()
        self.store = store
        self._stopping = False
        self._worker_ids = [f"local-{uuid.uuid4().hex[:10]}-{i}" for i in range(workers)]
        self._threads = [threading.Thread(target=self._work, args=(wid,), name=f"comfydsl-serve-worker-{i}",
                                          daemon=True) for i, wid in enumerate(self._worker_ids)]
        self._threads.append(threading.Thread(target=self._janitor, name="comfydsl-serve-janitor", daemon=True))

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        if self.store is not None:
            self._restore()
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        """Close the state file, if any (after `stop`)."""
        if self.store is not None:
            with self.cond:
                self.store.close()
                self.store = None

    def _restore(self) -> None:
        """Take the jobs of the state file back; jobs that were running are queued again."""
        jobs, counters = self.store.load(Job, self.clock)
        with self.cond:
            for name, value in counters.items():
                if hasattr(self.counters, name) and isinstance(value, int):
                    setattr(self.counters, name, value)
            for job in jobs:
                if job.status == IN_PROGRESS:
                    job.status, job.started, job.worker_id = IN_QUEUE, None, None
                self.jobs[job.id] = job
                if job.status == IN_QUEUE:
                    self.queue.append(job.id)
                if job.status not in (IN_QUEUE, IN_PROGRESS):
                    job.cancelled.set()
                self._persist(job)
            self._expire(self.clock())

    def _persist(self, job: Job | None = None, *, deleted: str | None = None) -> None:
        if self.store is None:
            return
        if deleted is not None:
            self.store.delete(deleted)
        if job is not None:
            self.store.save(job, self.clock)
        self.store.save_counters(self.counters)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel running jobs, stop every thread and wait for them."""
        with self.cond:
            self._stopping = True
            for job in self.running.values():
                job.cancelled.set()
            self.cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def workers(self) -> int:
        return len(self._worker_ids)

    # -- operations -------------------------------------------------------------------

    def submit(self, job_input: Any, *, sync: bool = False, webhook: str | None = None,
               execution_timeout: float = 600.0, ttl: float = 86400.0) -> Job:
        now = self.clock()
        job_id = f"{'sync-' if sync else ''}{uuid.uuid4()}-u1"
        job = Job(job_id, job_input, sync=sync, webhook=webhook, execution_timeout=execution_timeout,
                  ttl=ttl, created=now, queued=now)
        with self.cond:
            self.jobs[job_id] = job
            self.queue.append(job_id)
            self._persist(job)
            self.cond.notify_all()
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job's status view, or None if unknown or expired."""
        with self.cond:
            self._expire(self.clock())
            job = self.jobs.get(job_id)
            return job.view(echo_input=self.echo_input) if job is not None else None

    def stream(self, job_id: str) -> dict[str, Any] | None:
        """What `stream` answers: the output not handed out yet (all of it, once the job is
        COMPLETED: the handlers run here are not generators), or None if the job is unknown."""
        with self.cond:
            self._expire(self.clock())
            job = self.jobs.get(job_id)
            if job is None:
                return None
            out: dict[str, Any] = {"id": job.id, "status": job.status, "stream": []}
            if job.status == COMPLETED and not job.streamed:
                out["stream"] = [{"output": job.output}]
                job.streamed = True
                self._persist(job)
            elif job.status == FAILED:
                out["error"] = job.error
            return out

    def wait(self, job_id: str, timeout: float) -> dict[str, Any] | None:
        """Wait up to `timeout` seconds for the job to reach a final state; return its view."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                self._expire(self.clock())
                job = self.jobs.get(job_id)
                remaining = deadline - time.monotonic()
                if job is None or job.status in FINAL_STATES or remaining <= 0 or self._stopping:
                    return job.view(echo_input=self.echo_input) if job is not None else None
                self.cond.wait(min(remaining, 0.5))

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Cancel a queued or running job; a finished job is left as it is."""
        with self.cond:
            self._expire(self.clock())
            job = self.jobs.get(job_id)
            if job is None:
                return None
            if job.status in (IN_QUEUE, IN_PROGRESS):
                if job.status == IN_QUEUE:
                    self.queue.remove(job_id)
                self.counters.cancelled += 1
                self._finish(job, CANCELLED)
            return {"id": job.id, "status": job.status}

    def retry(self, job_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """Queue a FAILED or TIMED_OUT job again under the same id: (view, None) or (None, reason)."""
        with self.cond:
            self._expire(self.clock())
            job = self.jobs.get(job_id)
            if job is None:
                return None, None
            if job.status not in (FAILED, TIMED_OUT):
                return None, f"job `{job_id}` is {job.status}; only FAILED or TIMED_OUT jobs can be retried"
            job.attempt += 1
            job.status, job.output, job.error, job.worker_id = IN_QUEUE, None, None, None
            job.started = job.finished = job.expires = None
            job.streamed = False
            job.queued = self.clock()
            job.cancelled = threading.Event()
            self.queue.append(job_id)
            self.counters.retried += 1
            self._persist(job)
            self.cond.notify_all()
            return {"id": job.id, "status": IN_QUEUE}, None

    def purge(self) -> int:
        """Delete every queued job; running and finished ones stay."""
        with self.cond:
            removed = len(self.queue)
            for job_id in self.queue:
                self.jobs.pop(job_id, None)
                self._persist(deleted=job_id)
            self.queue.clear()
            return removed

    def health(self) -> dict[str, Any]:
        with self.cond:
            self._expire(self.clock())
            c = self.counters
            return {"jobs": {"completed": c.completed, "failed": c.failed, "inProgress": len(self.running),
                             "inQueue": len(self.queue), "retried": c.retried},
                    "workers": {"idle": self.workers - len(self.running), "running": len(self.running)}}

    # -- internals ---------------------------------------------------------------------

    def _finish(self, job: Job, status: str, output: Any = None, error: str | None = None) -> None:
        now = self.clock()
        job.status, job.output, job.error = status, output, error
        job.finished = now
        job.expires = now + (self.sync_retention if job.sync else self.retention)
        job.cancelled.set()
        if job.worker_id and self.running.get(job.worker_id) is job:
            del self.running[job.worker_id]
        if status == COMPLETED:
            self.counters.completed += 1
        elif status in (FAILED, TIMED_OUT):
            self.counters.failed += 1
            if status == TIMED_OUT:
                self.counters.timed_out += 1
        self._persist(job)
        if self.on_final is not None and job.webhook:
            self.on_final(job, job.view(echo_input=self.echo_input))
        self.cond.notify_all()

    def _expire(self, now: float) -> None:
        for job in list(self.jobs.values()):
            if now - job.created >= job.ttl or (job.expires is not None and now >= job.expires):
                self._delete(job)
            elif job.status == IN_PROGRESS and job.started is not None and now - job.started >= job.execution_timeout:
                self._finish(job, TIMED_OUT)

    def _delete(self, job: Job) -> None:
        del self.jobs[job.id]
        self._persist(deleted=job.id)
        if job.status == IN_QUEUE:
            self.queue.remove(job.id)
        elif job.status == IN_PROGRESS and job.worker_id:
            job.cancelled.set()
            self.running.pop(job.worker_id, None)
        self.cond.notify_all()

    def _next_deadline(self, now: float) -> float:
        deadlines = [job.created + job.ttl for job in self.jobs.values()]
        deadlines += [job.expires for job in self.jobs.values() if job.expires is not None]
        deadlines += [job.started + job.execution_timeout for job in self.running.values() if job.started]
        return min(deadlines, default=now + 1.0)

    def _janitor(self) -> None:
        with self.cond:
            while not self._stopping:
                now = self.clock()
                self._expire(now)
                self.cond.wait(min(1.0, max(0.005, self._next_deadline(now) - now)))

    def _take(self, worker_id: str) -> tuple[Job, int] | None:
        with self.cond:
            while not self._stopping and not self.queue:
                self.cond.wait()
            if self._stopping:
                return None
            job = self.jobs[self.queue.popleft()]
            job.status, job.started, job.worker_id = IN_PROGRESS, self.clock(), worker_id
            self.running[worker_id] = job
            self._persist(job)
            self.cond.notify_all()
            return job, job.attempt

    def _work(self, worker_id: str) -> None:
        while True:
            taken = self._take(worker_id)
            if taken is None:
                return
            job, attempt = taken
            try:
                result = self.executor.run(job.input, job.cancelled)
            except Exception as exc:  # an executor bug must not kill the worker
                result = {"error": _crash_report(exc, worker_id)}
            with self.cond:
                current = self.jobs.get(job.id)
                if self._stopping and self.store is not None and job.status == IN_PROGRESS:
                    # cut short by the endpoint stopping: it runs again after the restart
                    self.running.pop(worker_id, None)
                    self.cond.notify_all()
                elif current is job and job.attempt == attempt and job.status == IN_PROGRESS:
                    status, output, error = outcome(result)
                    self._finish(job, status, output, error)
                elif self.running.get(worker_id) is job:
                    del self.running[worker_id]
                    self.cond.notify_all()


def outcome(result: Any) -> tuple[str, Any, str | None]:
    """(status, output, error) for a handler's return value, as the runpod SDK reports it.

    A dict with a string `error` fails the job; its other keys (worker-comfyui's
    `details`) stay as the output.
    """
    if isinstance(result, dict) and "error" in result:
        rest = {k: v for k, v in result.items() if k != "error"}
        error = result["error"]
        if isinstance(error, str):
            return FAILED, rest or None, error
        return COMPLETED, None, None
    return COMPLETED, result, None


def _crash_report(exc: Exception, worker_id: str) -> str:
    return json.dumps({"error_type": str(type(exc)), "error_message": str(exc),
                       "error_traceback": traceback.format_exc(), "hostname": "localhost",
                       "worker_id": worker_id, "runpod_version": "comfydsl-serve"})
