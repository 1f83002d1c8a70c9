"""The batch engine of `comfydsl run`: check many recipes and workflows, submit them to a
RunPod endpoint with bounded concurrency, wait, save images and job records, and cancel
the remote jobs when interrupted.

```python
from comfydsl.backends.batch import BatchOptions, Connection, prepare_jobs, run_batch
from comfydsl.target import load_target

prepared = prepare_jobs(["portrait.comfy"], sets={"seed": ["1", "2", "3"]}, target=load_target())
prepared.raise_for_errors()
result = run_batch(prepared.jobs, Connection("my-endpoint", api_key), "outputs",
                   BatchOptions(concurrency=2), on_event=print)
print(result.ok, [o.record.files for o in result.outcomes if o.record])
```

Progress is reported as `BatchEvent`s to one callback; the engine itself prints
nothing. Every job that exists remotely gets a job record (`<out>/<job id>.job.json`,
see `comfydsl.jobs`) as soon as its id is known, so an interrupted run can be resumed
with `comfydsl status`.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from ..errors import BackendError, BackendStatusError, ComfyDSLError, CompileError, JobError, ParseError
from ..jobs import JobRecord, now, save_new_file
from .results import JobResult, JobState
from .runpod import DEFAULT_BASE_URL, AsyncRunPodClient, PollPolicy, RetryPolicy

if TYPE_CHECKING:
    from ..graph import Graph
    from ..target import Target

__all__ = [
    "BatchEvent",
    "BatchOptions",
    "BatchResult",
    "Connection",
    "JobOutcome",
    "JobSpec",
    "Prepared",
    "check_sets",
    "parse_sets",
    "split_values",
    "prepare_jobs",
    "run_batch",
    "run_batch_async",
    "sweep",
]


# -- what to run ---------------------------------------------------------------------


@dataclass
class JobSpec:
    """One job to submit: where it came from, its request body and (for recipes) its Graph,
    used to show the worker's errors at recipe lines."""

    label: str
    source: str
    params: dict[str, str]
    body: dict[str, Any]
    graph: Graph | None = None


@dataclass
class Prepared:
    """The jobs built from the inputs, every diagnostic found on the way (with the file it
    belongs to), and how many jobs were asked for."""

    jobs: list[JobSpec]
    diagnostics: list[tuple[str, Diagnostic]]
    expected: int
    check: bool = True

    @property
    def complete(self) -> bool:
        """Whether every input (and every sweep point) gave a job."""
        return len(self.jobs) >= self.expected

    def raise_for_errors(self) -> None:
        """Raise CompileError (nothing is to be submitted) when some input gave no job."""
        if self.complete:
            return
        errors = [d for _, d in self.diagnostics if d.is_error]
        raise CompileError(errors, message=f"{len(errors)} error(s): nothing was submitted"
                                           + ("" if self.check else " (--no-check cannot send what cannot be read)"))


def parse_sets(items: Iterable[str]) -> dict[str, list[str]]:
    """`KEY=VALUE` parameters by key, each value as written; a repeated key makes a sweep.
    Commas are split later, by the parameter's type (`split_values`). ValueError for an
    item without `=`."""
    found: dict[str, list[str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"--set takes KEY=VALUE, not `{item}`")
        found.setdefault(key, []).append(value)
    return found


#: Parameter types whose `--set` values split at commas into a sweep (`seed=1,2,3`); a
#: `str` value is one value, commas and all (`prompt=a cat, a dog`).
SWEEP_TYPES = ("int", "float", "bool")


def split_values(sets: Mapping[str, Sequence[str]], types: Mapping[str, str]) -> dict[str, list[str]]:
    """`sets` with each value of a number or boolean parameter split at commas (empty parts
    kept, so that they are reported as bad values); other values stay whole."""
    out: dict[str, list[str]] = {}
    for key, values in sets.items():
        if types.get(key) in SWEEP_TYPES:
            out[key] = [part.strip() for value in values for part in value.split(",")]
        else:
            out[key] = list(values)
    return out


def sweep(sets: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every combination of the parameters' values (one empty combination without any)."""
    keys = list(sets)
    return [dict(zip(keys, values)) for values in itertools.product(*(sets[k] for k in keys))]


def check_sets(inputs: Sequence[str], sets: Mapping[str, Sequence[str]]) -> None:
    """Parameters apply to recipes only: ValueError when `sets` is given with a workflow input."""
    workflows = [p for p in inputs if not p.endswith(".comfy")]
    if sets and workflows:
        raise ValueError("--set applies to recipes only; " + ", ".join(f"`{p}`" for p in workflows)
                         + " is a workflow")


def prepare_jobs(inputs: Sequence[str], *, target: Target, sets: Mapping[str, Sequence[str]] | None = None,
                 check: bool = True, repeat: int = 1) -> Prepared:
    """Check and build the jobs of `.comfy` recipes (one per sweep point) and workflow JSON files.

    With `check`, an input with errors gives no job. `sets` applies to recipes only
    (ValueError when a workflow is among the inputs); each job is repeated `repeat` times.
    An unreadable workflow file raises WorkflowError.
    """
    sets = dict(sets or {})
    check_sets(inputs, sets)
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    diagnostics: list[tuple[str, Diagnostic]] = []
    specs: list[JobSpec] = []
    planned = 0
    for path in inputs:
        if path.endswith(".comfy"):
            found, count = _recipe_jobs(path, sets, target, check, diagnostics)
            specs.extend(found)
            planned += count
        else:
            planned += 1
            spec = _workflow_job(path, target, check, diagnostics)
            if spec is not None:
                specs.append(spec)
    expanded = [JobSpec(spec.label + (f" #{n + 1}" if repeat > 1 else ""), spec.source, spec.params, spec.body,
                        spec.graph) for spec in specs for n in range(repeat)]
    return Prepared(expanded, diagnostics, planned * repeat, check)


def _recipe_jobs(path: str, sets: Mapping[str, Sequence[str]], target: Target, check: bool,
                 diagnostics: list[tuple[str, Diagnostic]]) -> tuple[list[JobSpec], int]:
    """The jobs of one recipe (one per sweep point) and how many were planned."""
    from ..dsl.recipe import Recipe, syntax_diagnostic

    recipe = Recipe(path, target=target)
    try:
        recipe.module  # noqa: B018 - parse once, report syntax errors located
    except ParseError as exc:
        diagnostics.append((path, syntax_diagnostic(exc)))
        return [], len(sweep(sets))
    combos = sweep(split_values(sets, {p.name: p.type for p in recipe.params}))
    specs = []
    for params in combos:
        graph, found = recipe.build(params)
        diagnostics.extend((path, d) for d in found)
        if graph is None or (check and any(d.is_error for d in found)):
            continue
        body = graph.envelope(graph.to_workflow(), "runpod")
        label = path + "".join(f" {k}={v}" for k, v in params.items())
        specs.append(JobSpec(label, path, params, body, graph))
    return specs, len(combos)


def _workflow_job(path: str, target: Target, check: bool,
                  diagnostics: list[tuple[str, Diagnostic]]) -> JobSpec | None:
    from ..workflow.envelopes import runpod_body
    from ..ui.api import read_workflow

    # API JSON, a UI-format file (converted) or a ComfyUI PNG/WebP; raises WorkflowError when unreadable
    doc, found = read_workflow(path, target.catalog, models=target.models, check=True)
    diagnostics.extend((path, d) for d in found)
    if doc.workflow is None or (check and any(d.is_error for d in found)):
        return None
    body = runpod_body(doc.workflow)
    if doc.images:
        body["input"]["images"] = doc.images  # passed on as read (already in wire form)
    return JobSpec(path, path, {}, body, None)


# -- how to run it -------------------------------------------------------------------


@dataclass(frozen=True)
class Connection:
    """Where the jobs go: the endpoint id, the API key and the API base URL (plain http only
    to a loopback host unless `allow_http`)."""

    endpoint: str
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    allow_http: bool = False

    def __repr__(self) -> str:
        return f"Connection(endpoint={self.endpoint!r}, api_key='***', base_url={self.base_url!r})"


@dataclass
class BatchOptions:
    """How a batch runs.

    `concurrency` jobs are in flight at once. `sync` sends each job with `/runsync`;
    `wait=False` submits and returns; `cancel_on_interrupt=False` leaves the jobs running
    when the run is interrupted. `timeout` bounds each job's wait (the job keeps running),
    `poll_interval` is the first poll's delay (growing to 5 s), `retries` the retries of a
    request. `request` holds the options of every submission (`execution_timeout`, `ttl`,
    `low_priority`, `webhook`: see `build_request`). `tick`, in seconds, asks for a
    `"tick"` event that often (to redraw a progress line).
    """

    concurrency: int = 4
    sync: bool = False
    wait: bool = True
    cancel_on_interrupt: bool = True
    timeout: float | None = None
    poll_interval: float = 1.0
    retries: int = 4
    request: dict[str, Any] = field(default_factory=dict)
    tick: float | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
        if self.sync and (not self.wait or not self.cancel_on_interrupt):
            raise ValueError("--sync waits for each job in one request; it cannot be combined with "
                             "--no-wait or --detach")
        if self.retries < 0:
            raise ValueError("--retries cannot be negative")


@dataclass
class JobOutcome:
    """What happened to one job: its record (once submitted), whether it succeeded, why not,
    and the worker's diagnostics (located in the recipe when it came from one)."""

    spec: JobSpec
    record: JobRecord | None = None
    ok: bool = False
    message: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: whether `comfydsl status` can still pick the job up (False once the API says it is gone)
    resumable: bool = True

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.spec.label, "ok": self.ok, "message": self.message}
        if self.record is not None:
            data.update(self.record.to_dict())
        return data


@dataclass
class BatchEvent:
    """Something a progress display may show.

    Kinds: `submitted` (a job id is known), `state` (a job's status changed; `initial`
    right after submission), `finished` (a job is done; `result` is None when it was not
    waited for), `error` (a job failed on this side: `message`), `retry` (a request is
    retried: `message`), `warning` (`message`), `tick`, and after an interruption
    `interrupted`, `detached` / `cancelled` / `cancel-failed` (per live job, `message`
    says why), `sync-interrupted` (jobs sent with /runsync whose ids are unknown) and
    `still-stopping` (a second Ctrl-C or SIGTERM came while the jobs were being cancelled;
    a third stops waiting for the cancels, and each job not confirmed cancelled gets a
    `cancel-failed`).
    """

    kind: str
    index: int | None = None
    job_id: str | None = None
    state: JobState | None = None
    outcome: JobOutcome | None = None
    result: JobResult | None = None
    message: str = ""
    initial: bool = False


@dataclass
class BatchResult:
    """Every job's outcome, in the order given, and whether the run was interrupted."""

    outcomes: list[JobOutcome]
    connection: Connection
    out: str
    interrupted: bool = False
    #: the signal that interrupted the run (SIGINT for Ctrl-C, SIGTERM), when one did
    signal: int | None = None

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.ok for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "endpoint": self.connection.endpoint, "out": self.out,
                "interrupted": self.interrupted, "jobs": [o.to_dict() for o in self.outcomes]}


EventHandler = Callable[[BatchEvent], None]


def run_batch(jobs: Sequence[JobSpec], connection: Connection, out: str, options: BatchOptions | None = None,
              on_event: EventHandler | None = None) -> BatchResult:
    """Run the jobs to the end (see `run_batch_async`) in a new event loop.

    Ctrl-C (SIGINT) and SIGTERM cancel the remote jobs, or with `cancel_on_interrupt=False`
    leave them running, and return with `interrupted` set. Further signals while the jobs
    are being cancelled do not cut the cancelling short, so the records stay right.
    """
    loop = asyncio.new_event_loop()
    try:
        batch = _Batch(list(jobs), connection, out, options or BatchOptions(), on_event, None)
        task = loop.create_task(batch.main())
        installed = _install_signals(loop, task, batch)
        try:
            return loop.run_until_complete(task)
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


def _install_signals(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], batch: _Batch) -> list[int]:
    """Make SIGINT and SIGTERM stop the batch like Ctrl-C (main thread only, POSIX)."""

    def on_signal(signum: int) -> None:
        batch.signals += 1
        if batch.signal is None:
            batch.signal = signum
            task.cancel()
        elif task.done():
            return
        elif batch.signals == 2:
            batch.emit(BatchEvent("still-stopping", message="still cancelling the remote jobs; the records are "
                                                            "written when their answers arrive (once more to "
                                                            "stop waiting for them)"))
        elif batch.signals == 3:
            task.cancel()  # stop waiting for the cancels: each record keeps the last state seen

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, int(sig))
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            continue
        installed.append(int(sig))
    return installed


async def run_batch_async(jobs: Sequence[JobSpec], connection: Connection, out: str,
                          options: BatchOptions | None = None, on_event: EventHandler | None = None,
                          client: AsyncRunPodClient | None = None) -> BatchResult:
    """Submit every job under `options.concurrency`, wait for each, save its images into
    `out` and its job record beside them; keep going when one fails.

    When the task running this is cancelled, the jobs still live are cancelled remotely
    (see `BatchOptions.cancel_on_interrupt`) and the result says `interrupted`. `client`
    replaces the client made from `connection` (it is not closed).
    """
    return await _Batch(list(jobs), connection, out, options or BatchOptions(), on_event, client).main()


class _Batch:
    def __init__(self, jobs: list[JobSpec], connection: Connection, out: str, options: BatchOptions,
                 on_event: EventHandler | None, client: AsyncRunPodClient | None) -> None:
        self.jobs = jobs
        self.connection = connection
        self.out = out
        self.options = options
        self.emit: EventHandler = on_event or (lambda event: None)
        self.outcomes = [JobOutcome(spec) for spec in jobs]
        self.live: dict[str, int] = {}
        self.submitting: dict[asyncio.Future[JobState], int] = {}
        self.started: dict[int, float] = {}
        self.signal: int | None = None
        self.signals = 0
        self.owned = client is None
        self.client = client or self._client()

    def _client(self) -> AsyncRunPodClient:
        interval = self.options.poll_interval
        return AsyncRunPodClient(self.connection.endpoint, self.connection.api_key,
                                 base_url=self.connection.base_url, check=False,
                                 allow_http=self.connection.allow_http,
                                 poll=PollPolicy(initial=interval, maximum=max(5.0, interval)),
                                 retry=RetryPolicy(attempts=self.options.retries + 1), on_retry=self._on_retry,
                                 max_connections=self.options.concurrency + 4)

    async def main(self) -> BatchResult:
        gate = asyncio.Semaphore(self.options.concurrency)
        ticker = asyncio.ensure_future(self._tick(self.options.tick)) if self.options.tick else None
        tasks = [asyncio.ensure_future(self._guarded(gate, i)) for i in range(len(self.jobs))]
        interrupted = False
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            interrupted = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await self._interrupted()
            except asyncio.CancelledError:  # told a third time: stop waiting for the cancels
                for job_id, index in self.live.items():
                    record = self.outcomes[index].record
                    if record is not None and record.status != "CANCELLED":
                        self.emit(BatchEvent("cancel-failed", index, job_id,
                                             message=f"stopped waiting for the answer; last seen {record.status}"))
        finally:
            if ticker is not None:
                ticker.cancel()
            if self.owned:
                await self.client.aclose()
        return BatchResult(self.outcomes, self.connection, self.out, interrupted,
                           (self.signal or int(signal.SIGINT)) if interrupted else None)

    async def _tick(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.emit(BatchEvent("tick"))

    def _on_retry(self, op: str, attempt: int, delay: float, why: str) -> None:
        self.emit(BatchEvent("retry", message=f"{op}: {why}, retrying in {delay:.1f}s (attempt {attempt + 1})"))

    async def _guarded(self, gate: asyncio.Semaphore, index: int) -> None:
        outcome = self.outcomes[index]
        async with gate:
            try:
                await self._one(index)
            except (ComfyDSLError, ValueError) as exc:
                outcome.ok = False
                outcome.message = str(exc)
                record = outcome.record
                if isinstance(exc, BackendStatusError) and exc.status_code == 404:
                    outcome.resumable = False  # the API no longer knows the job
                if record is not None and record.job_id:
                    self.live.pop(record.job_id, None)
                    if isinstance(exc, JobError) and exc.status and exc.status != "UNKNOWN":
                        record.status = exc.status
                    record.error = record.error or str(exc)
                    self._save_record(record)
                self.emit(BatchEvent("error", index, record.job_id if record else None, outcome=outcome,
                                     message=str(exc)))

    async def _one(self, index: int) -> None:
        spec, outcome = self.jobs[index], self.outcomes[index]
        self.started[index] = now()
        timeout = self.options.timeout
        if self.options.sync:
            submit = asyncio.ensure_future(self.client.submit_sync(spec.body, wait=90, timeout=timeout,
                                                                   **self.options.request))
        else:
            submit = asyncio.ensure_future(self.client.run(spec.body, **self.options.request))
        self.submitting[submit] = index
        try:
            state = await asyncio.shield(submit)
        finally:
            if submit.done():
                self.submitting.pop(submit, None)
        # the job id is known: its record is written before anything else can fail
        self._submitted(index, state, quiet=self.options.sync)
        if state.is_final:
            self.live.pop(state.id, None)
            await self._complete(index, JobResult.from_state(self.connection.endpoint, state))
            return
        if not self.options.wait:
            outcome.ok = True
            self.live.pop(state.id, None)
            self.emit(BatchEvent("finished", index, state.id, state, outcome))
            return
        self.emit(BatchEvent("state", index, state.id, state, outcome, initial=True))
        left = None if timeout is None else max(0.0, timeout - (now() - self.started[index]))
        result = await self.client.wait(state.id, timeout=left, _last=state,
                                        on_update=lambda s: self._state_seen(index, s))
        self.live.pop(state.id, None)
        await self._complete(index, result)

    def _state_seen(self, index: int, state: JobState) -> None:
        """A new state of a live job: the record keeps the last state seen."""
        outcome = self.outcomes[index]
        record = outcome.record
        if record is not None and record.status != state.status.value and not state.is_final:
            record.status = state.status.value
            record.delay_ms = state.delay_time if state.delay_time is not None else record.delay_ms
            self._save_record(record)
        self.emit(BatchEvent("state", index, state.id, state, outcome))

    def _submitted(self, index: int, state: JobState, quiet: bool = False) -> None:
        """A job exists now: write its record (before anything else can go wrong)."""
        spec = self.jobs[index]
        record = JobRecord(job_id=state.id, endpoint=self.connection.endpoint, base_url=self.connection.base_url,
                           status=state.status.value, source=os.path.abspath(spec.source),
                           params=dict(spec.params), submitted_at=self.started.get(index) or now())
        self.outcomes[index].record = record
        if not state.is_final:
            self.live[state.id] = index
            self._save_record(record)
        if not quiet:
            self.emit(BatchEvent("submitted", index, state.id, state, self.outcomes[index],
                                 message=f"submitted {spec.label} as job {state.id}"))

    async def _complete(self, index: int, result: JobResult) -> None:
        spec, outcome = self.jobs[index], self.outcomes[index]
        record = outcome.record
        assert record is not None
        record.status = result.status.value
        record.finished_at = now()
        record.delay_ms = result.state.delay_time
        record.execution_ms = result.state.execution_time
        record.warnings = list(result.warnings)
        record.error = result.error
        graph = spec.graph
        diagnostics = [graph.locate(d) for d in result.diagnostics] if graph else list(result.diagnostics)
        record.diagnostics = [d.to_dict() for d in diagnostics]
        outcome.diagnostics = diagnostics
        ok = result.ok
        for item in result.outputs:
            try:
                data = await self.client.image_bytes(item)
                record.files.append(save_new_file(self.out, item.filename, data).name)
            except (BackendError, OSError) as exc:
                what = "image" if item.kind == "images" else "output file"
                record.warnings.append(f"{what} `{item.filename}` not saved: {exc}")
                ok = False
        self._save_record(record)
        outcome.ok = ok
        if not ok:
            outcome.message = record.error
        self.emit(BatchEvent("finished", index, record.job_id, result.state, outcome, result))

    def _save_record(self, record: JobRecord) -> None:
        try:
            record.save(self.out)
        except OSError as exc:
            self.emit(BatchEvent("warning", job_id=record.job_id,
                                 message=f"cannot write the job record of {record.job_id}: {exc}"))

    async def _interrupted(self) -> None:
        unknown = 0
        if self.submitting:
            # a submission in flight may create a job: wait for its id (a /runsync holds the
            # answer back, so it gets less time)
            done, pending = await asyncio.wait(list(self.submitting), timeout=10 if self.options.sync else 30)
            for task in done:
                if not task.cancelled() and task.exception() is None:
                    index = self.submitting[task]
                    if self.outcomes[index].record is None:
                        self._submitted(index, task.result())
            unknown = len(pending)
        self.emit(BatchEvent("interrupted"))
        if self.options.sync and unknown:
            self.emit(BatchEvent("sync-interrupted",
                                 message=f"{unknown} job(s) sent with /runsync had not answered yet; they may keep "
                                         f"running and their ids are not known"))
        if not self.live:
            return
        if not self.options.cancel_on_interrupt:
            for job_id, index in self.live.items():
                self.emit(BatchEvent("detached", index, job_id, message="keeps running"))
            return
        live = list(self.live)
        for job_id in live:  # each record says what was seen last, whatever happens next
            record = self.outcomes[self.live[job_id]].record
            if record is not None:
                self._save_record(record)
        results = await asyncio.gather(*(self._cancel(job_id) for job_id in live), return_exceptions=True)
        for job_id, result in zip(live, results):
            if isinstance(result, BaseException):
                self.emit(BatchEvent("cancel-failed", self.live.get(job_id), job_id, message=str(result)))
            else:
                self.emit(BatchEvent("cancelled", self.live.get(job_id), job_id, message=result))

    async def _cancel(self, job_id: str) -> str:
        state = await self.client.cancel(job_id)
        record = self.outcomes[self.live[job_id]].record
        if record is not None:
            record.status = state.status.value
            self._save_record(record)
        return state.status.value
