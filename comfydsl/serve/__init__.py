"""`comfydsl serve`: a local endpoint that speaks RunPod Serverless's hosted API and runs
jobs the way worker-comfyui 5.x does, with a dry executor (comfydsl validation and
placeholder images) or a real ComfyUI server behind it.

```python
from comfydsl.serve import serve_in_thread

with serve_in_thread(executor="dry", api_key="k", run_seconds=0.05, workers=4) as srv:
    srv.url                     # http://127.0.0.1:PORT/v2  (runpod.endpoint_url_base)
    srv.faults.add(op="status", status=429, times=2, retry_after=1)
    srv.requests["status"]      # calls of one operation so far
```
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from .executors import ComfyUIExecutor as ComfyUIExecutor
from .executors import DryExecutor as DryExecutor
from .executors import Executor as Executor
from .faults import Fault as Fault
from .faults import FaultPlan as FaultPlan
from .faults import parse_fault as parse_fault
from .server import EndpointServer as EndpointServer
from .server import ServeConfig as ServeConfig

__all__ = [
    "ComfyUIExecutor",
    "DryExecutor",
    "EndpointServer",
    "Executor",
    "Fault",
    "FaultPlan",
    "ServeConfig",
    "make_executor",
    "parse_fault",
    "serve_in_thread",
]


def make_executor(executor: str | Executor = "dry", *, run_seconds: float = 0.0, catalog=None, models=None,
                  comfyui_url: str | None = None, **options: Any) -> Executor:
    """An executor by name (`dry` or `comfyui`), or the given one unchanged.

    Any object with `run(job_input, cancelled) -> dict` (the handler's result) and
    `close()` can serve as an executor.
    """
    if not isinstance(executor, str):
        return executor
    if executor == "dry":
        return DryExecutor(catalog=catalog, models=models, run_seconds=run_seconds, **options)
    if executor == "comfyui":
        if not comfyui_url:
            raise ValueError("the comfyui executor needs comfyui_url")
        return ComfyUIExecutor(comfyui_url, **options)
    raise ValueError(f"unknown executor `{executor}`; use `dry` or `comfyui`")


@contextmanager
def serve_in_thread(executor: str | Executor = "dry", *, host: str = "127.0.0.1", port: int = 0,
                    workers: int = 1, api_key: str | None = None, run_seconds: float = 0.0,
                    catalog=None, models=None, comfyui_url: str | None = None, worker_version: str = "5",
                    executor_options: dict[str, Any] | None = None, **config: Any) -> Iterator[EndpointServer]:
    """Run an endpoint on background threads for the duration of the `with` block.

    `config` takes any `ServeConfig` field (`retention`, `sync_retention`, `min_wait_ms`,
    `enforce_policy_limits`, `rate_limits`, `webhook_retry_delay`, ...). `api_key=None`
    accepts any key (an `Authorization` header is still required). `worker_version="3"`
    answers in worker-comfyui 2.0-4.0's output shape.
    """
    options = {"worker_version": worker_version, **(executor_options or {})}
    built = make_executor(executor, run_seconds=run_seconds, catalog=catalog, models=models,
                          comfyui_url=comfyui_url, **options)
    server = EndpointServer(built, host=host, port=port, workers=workers,
                            config=ServeConfig(api_key=api_key, **config))
    server.start()
    try:
        yield server
    finally:
        server.stop()
