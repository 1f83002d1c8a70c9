"""Jobs of the local endpoint kept in an SQLite file (`comfydsl serve --state FILE`), so that
a restarted endpoint still knows its jobs, as the hosted API does.

One row per job (its fields as JSON) and one row of counters. Times are kept as wall-clock
seconds in the file and turned back into the endpoint's monotonic clock when loaded. A job
that was running when the endpoint stopped is queued again on the next start. Standard
library only; every call is made under the job manager's lock.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, fields
from typing import Any, Callable

from ..errors import ComfyDSLError

SCHEMA_VERSION = 1
_TIMES = ("created", "queued", "started", "finished", "expires")


class StateFile:
    """An SQLite file of jobs and counters."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self.db.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.Error as exc:
            raise ComfyDSLError(f"{path}: cannot use it as the state file: {exc}") from None
        if row is None:
            self._put_meta("schema", SCHEMA_VERSION)
        elif json.loads(row[0]) != SCHEMA_VERSION:
            raise ComfyDSLError(f"{path}: a state file of another version ({row[0]})")

    def _put_meta(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def save(self, job: Any, clock: Callable[[], float]) -> None:
        """Write (or replace) one job."""
        data = {f.name: getattr(job, f.name) for f in fields(job) if f.name != "cancelled"}
        offset = time.time() - clock()
        for name in _TIMES:
            if data[name] is not None:
                data[name] += offset
        self.db.execute("INSERT OR REPLACE INTO jobs (id, data) VALUES (?, ?)", (job.id, json.dumps(data)))

    def delete(self, job_id: str) -> None:
        self.db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def save_counters(self, counters: Any) -> None:
        self._put_meta("counters", asdict(counters))

    def load(self, job_type: type, clock: Callable[[], float]) -> tuple[list[Any], dict[str, int]]:
        """The jobs (oldest first) with their times on `clock`, and the saved counters."""
        offset = clock() - time.time()
        known = {f.name for f in fields(job_type)} - {"cancelled"}
        jobs = []
        for (text,) in self.db.execute("SELECT data FROM jobs"):
            data = {k: v for k, v in json.loads(text).items() if k in known}
            for name in _TIMES:
                if data.get(name) is not None:
                    data[name] += offset
            jobs.append(job_type(**data))
        jobs.sort(key=lambda job: job.queued)
        row = self.db.execute("SELECT value FROM meta WHERE key = 'counters'").fetchone()
        return jobs, (json.loads(row[0]) if row else {})

    def close(self) -> None:
        self.db.close()
