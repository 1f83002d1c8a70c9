"""Property test of the job queue: random operations keep the bookkeeping consistent."""

from __future__ import annotations

import threading
import time

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from comfydsl.serve.jobs import FINAL_STATES, JobManager

WORKERS = 2


class GatedExecutor:
    """Each job runs until the test releases it (or it is cancelled)."""

    def __init__(self) -> None:
        self.gates: dict[int, threading.Event] = {}
        self.lock = threading.Lock()

    def gate(self, key: int) -> threading.Event:
        with self.lock:
            return self.gates.setdefault(key, threading.Event())

    def run(self, job_input, cancelled):
        gate = self.gate(job_input["key"])
        while not gate.wait(0.005):
            if cancelled.is_set():
                return {"error": "cancelled"}
        gate.clear()
        return {"error": "boom"} if job_input["fail"] else {"ok": job_input["key"]}

    def close(self) -> None:
        pass


class Queue(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.executor = GatedExecutor()
        self.jobs = JobManager(self.executor, workers=WORKERS)
        self.jobs.start()
        self.ids: list[str] = []
        self.keys: dict[str, int] = {}
        self.finals: dict[str, str] = {}
        self.purged: set[str] = set()

    def settle(self) -> None:
        """Wait until workers are busy or the queue is empty (the queue is work-conserving)."""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            health = self.jobs.health()
            if health["jobs"]["inQueue"] == 0 or health["workers"]["idle"] == 0:
                return
            time.sleep(0.002)

    @rule(fail=st.booleans())
    def submit(self, fail):
        key = len(self.ids)
        job = self.jobs.submit({"key": key, "fail": fail})
        self.ids.append(job.id)
        self.keys[job.id] = key

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def release(self, data):
        running = [i for i in self.ids if (self.jobs.get(i) or {}).get("status") == "IN_PROGRESS"]
        if running:
            job_id = data.draw(st.sampled_from(running))
            self.executor.gate(self.keys[job_id]).set()
            self.jobs.wait(job_id, 2)

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def cancel(self, data):
        job_id = data.draw(st.sampled_from(self.ids))
        before = self.jobs.get(job_id)
        after = self.jobs.cancel(job_id)
        if before is None:
            assert after is None
        elif before["status"] in FINAL_STATES:
            assert after["status"] == before["status"]
        else:
            assert after["status"] in ("CANCELLED", "COMPLETED", "FAILED")

    @precondition(lambda self: self.ids)
    @rule(data=st.data())
    def retry(self, data):
        job_id = data.draw(st.sampled_from(self.ids))
        before = self.jobs.get(job_id)
        view, refusal = self.jobs.retry(job_id)
        if before is not None and before["status"] == "FAILED":
            assert view == {"id": job_id, "status": "IN_QUEUE"}
            self.finals.pop(job_id, None)
        elif before is not None and before["status"] not in ("FAILED", "TIMED_OUT", "IN_PROGRESS", "IN_QUEUE"):
            assert view is None and refusal

    @rule()
    def purge(self):
        queued = {i for i in self.ids if (self.jobs.get(i) or {}).get("status") == "IN_QUEUE"}
        removed = self.jobs.purge()
        assert removed >= 0
        self.purged |= {i for i in queued if self.jobs.get(i) is None}

    @invariant()
    def bookkeeping_is_consistent(self):
        self.settle()
        with self.jobs.cond:
            views = {i: self.jobs.jobs[i].status for i in self.ids if i in self.jobs.jobs}
            health = self.jobs.health()
        statuses = list(views.values())
        assert health["jobs"]["inQueue"] == statuses.count("IN_QUEUE")
        assert health["jobs"]["inProgress"] == statuses.count("IN_PROGRESS") <= WORKERS
        assert health["workers"]["idle"] + health["workers"]["running"] == WORKERS
        for job_id, status in views.items():
            assert job_id not in self.purged
            if job_id in self.finals and self.finals[job_id] != "FAILED":
                assert status == self.finals[job_id], "a final state changed"
            if status in FINAL_STATES:
                self.finals[job_id] = status

    def teardown(self) -> None:
        self.jobs.stop()


Queue.TestCase.settings = settings(max_examples=20, stateful_step_count=12, deadline=None)
TestQueue = Queue.TestCase
