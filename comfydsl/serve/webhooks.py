"""Webhook delivery: POST a finished job's status object to the job's `webhook` URL.

RunPod expects the receiver to answer 200 and tries up to two more times, 10 s apart;
`ServeConfig.webhook_attempts` and `webhook_retry_delay` set both numbers.
"""

from __future__ import annotations

import queue
import threading
from typing import Any


class WebhookSender:
    """One background thread that delivers webhooks in order of completion."""

    def __init__(self, config, stopping: threading.Event) -> None:
        self.config = config
        self.stopping = stopping
        self._queue: queue.Queue = queue.Queue()
        self._log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="comfydsl-serve-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(self.config.webhook_timeout + 1)

    def enqueue(self, job, view: dict[str, Any]) -> None:
        """Called (under the job lock) when a job with a webhook reaches a final state."""
        self._queue.put((job.webhook, view))

    def deliveries(self) -> list[dict[str, Any]]:
        """Every attempt so far: url, job id, attempt number, HTTP status or error."""
        with self._lock:
            return list(self._log)

    def _record(self, **entry: Any) -> None:
        with self._lock:
            self._log.append(entry)

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=self.config.webhook_timeout) as client:
            while True:
                item = self._queue.get()
                if item is None or self.stopping.is_set():
                    return
                url, view = item
                for attempt in range(1, max(1, self.config.webhook_attempts) + 1):
                    try:
                        status = client.post(url, json=view).status_code
                        self._record(url=url, id=view["id"], attempt=attempt, status=status)
                        if status == 200:
                            break
                    except httpx.HTTPError as exc:
                        self._record(url=url, id=view["id"], attempt=attempt, error=str(exc) or type(exc).__name__)
                    if attempt < self.config.webhook_attempts and self.stopping.wait(self.config.webhook_retry_delay):
                        return
