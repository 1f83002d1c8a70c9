"""RunPod job states, and the one definition of which of them are final."""

from __future__ import annotations

import enum


class JobStatus(str, enum.Enum):
    """A RunPod job status. `FINAL_STATES` is the only list of states a job never leaves.

    Members compare and hash equal to their text (`JobStatus.COMPLETED == "COMPLETED"`),
    so plain strings from JSON can be tested against them directly.
    """

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    #: listed on the job-states page only; treated as running
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def is_final(self) -> bool:
        """Whether the job can no longer change (COMPLETED, FAILED, CANCELLED, TIMED_OUT)."""
        return self in FINAL_STATES

    @classmethod
    def final_states(cls) -> frozenset[JobStatus]:
        return FINAL_STATES


#: States a job never leaves by itself (a FAILED or TIMED_OUT job may be queued again by `retry`).
FINAL_STATES: frozenset[JobStatus] = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMED_OUT})


def is_final(status: str) -> bool:
    """Whether a status (an enum member or its text) is final."""
    return status in FINAL_STATES
