"""`comfydsl run`, `status`, `cancel` and `health`: RunPod Serverless from the command line.

The endpoint id comes from `--endpoint`, `RUNPOD_ENDPOINT_ID` or `endpoint` in
`[tool.comfydsl.runpod]`; the API key from `--api-key`, `RUNPOD_API_KEY` or `api-key` in
that table; the API base from `--base-url`, `RUNPOD_API_BASE` or `base-url`.

Nothing heavy is imported at module level: `comfydsl lint` loads this module to list the
commands.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

DEFAULT_OUT = "outputs"


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run", help="check and run recipes or workflows on a RunPod endpoint",
        description="Check each recipe or workflow, submit it to a RunPod Serverless worker-comfyui endpoint, "
                    "wait, and save the images and a job record into --out. Ctrl-C cancels the remote jobs "
                    "(--detach leaves them running).")
    run.add_argument("inputs", nargs="+", metavar="RECIPE|WORKFLOW", help=".comfy recipes or workflow JSON files")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="K=V",
                     help="recipe parameter; repeat a key, or give numbers separated by commas "
                          "(seed=1,2,3), to sweep")
    run.add_argument("--out", default=None, metavar="DIR", help=f"folder for images and job records "
                                                               f"(default: {DEFAULT_OUT})")
    run.add_argument("--sync", action="store_true", help="use /runsync (one request per job) instead of /run")
    run.add_argument("--timeout", type=float, default=None, metavar="S",
                     help="stop waiting for a job after S seconds (it keeps running)")
    run.add_argument("--poll-interval", type=float, default=1.0, metavar="S",
                     help="first status poll after S seconds (default 1; grows to 5)")
    run.add_argument("--no-wait", action="store_true", help="submit, save the job records and exit")
    run.add_argument("--detach", action="store_true", help="on Ctrl-C leave the jobs running (default: cancel)")
    run.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    run.add_argument("--repeat", type=int, default=1, metavar="N", help="submit each input N times")
    run.add_argument("--concurrency", type=int, default=None, metavar="K",
                     help="jobs in flight at once (default 4)")
    run.add_argument("--no-check", action="store_true", help="submit even if the checks find errors")
    run.add_argument("--catalog", action="append", default=None, metavar="FILE|URL",
                     help="node catalogue (object_info JSON or server URL) merged over the built-in one")
    run.add_argument("--models", default=None, metavar="DIR|FILE", help="the worker's models root or manifest")
    run.add_argument("--no-builtin", action="store_true", help="do not start from the built-in catalogue")
    run.add_argument("--execution-timeout", type=float, default=None, metavar="S",
                     help="policy.executionTimeout for each job, in seconds")
    run.add_argument("--ttl", type=float, default=None, metavar="S", help="policy.ttl for each job, in seconds")
    run.add_argument("--low-priority", action="store_true", help="policy.lowPriority: do not trigger scaling")
    run.add_argument("--webhook", default=None, metavar="URL", help="URL RunPod posts the finished job to")
    _connection_options(run)
    run.set_defaults(handler=run_jobs)

    status = subparsers.add_parser(
        "status", help="show, wait for and download a RunPod job",
        description="Show a job's status; with --wait wait until it is final. Images of a completed job are "
                    "saved into --out (once), beside its job record.")
    status.add_argument("job", metavar="JOB", help="job id")
    status.add_argument("--wait", action="store_true", help="wait until the job is final")
    status.add_argument("--timeout", type=float, default=None, metavar="S", help="stop waiting after S seconds")
    status.add_argument("--poll-interval", type=float, default=1.0, metavar="S",
                        help="first status poll after S seconds (default 1; grows to 5)")
    status.add_argument("--out", default=None, metavar="DIR", help=f"folder of the job record and images "
                                                                  f"(default: {DEFAULT_OUT})")
    status.add_argument("--json", action="store_true", help="print the job record as JSON on stdout")
    _connection_options(status)
    status.set_defaults(handler=show_status)

    cancel = subparsers.add_parser("cancel", help="cancel a RunPod job",
                                   description="Cancel a queued or running job.")
    cancel.add_argument("job", metavar="JOB", help="job id")
    cancel.add_argument("--out", default=None, metavar="DIR", help="folder of the job record to update")
    cancel.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    _connection_options(cancel)
    cancel.set_defaults(handler=cancel_job)

    health = subparsers.add_parser("health", help="job and worker counts of a RunPod endpoint",
                                   description="Show the endpoint's queued, running and finished jobs and its "
                                               "workers.")
    health.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    _connection_options(health)
    health.set_defaults(handler=show_health)


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=None, metavar="ID",
                        help="endpoint id (default: RUNPOD_ENDPOINT_ID, or `endpoint` in the configuration)")
    parser.add_argument("--base-url", default=None, metavar="URL",
                        help="API base (default: RUNPOD_API_BASE, `base-url` in the configuration, "
                             "or https://api.runpod.ai/v2)")
    parser.add_argument("--api-key", default=None, metavar="KEY",
                        help="API key (prefer the RUNPOD_API_KEY environment variable: options show in `ps`)")
    parser.add_argument("--retries", type=int, default=4, metavar="N",
                        help="retries of a request after 429/502/503/504 or a connection error (default 4)")


# -- shared ------------------------------------------------------------------------------

_RUNPOD_SETTINGS = {"endpoint", "base-url", "api-key", "out", "concurrency"}


def _settings():
    from ..config import load_settings
    from ..errors import ConfigError

    settings = load_settings()
    unknown = sorted(set(settings.runpod) - _RUNPOD_SETTINGS)
    if unknown:
        raise ConfigError(f"{settings.path}: unknown setting(s) in [runpod]: {', '.join(unknown)}")
    return settings


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _connection(args: argparse.Namespace, settings, record=None) -> tuple[str, str, str]:
    """Endpoint id, API key and base URL: options, then the job's record (it knows where the
    job went), then the environment, then the configuration."""
    from . import UsageError

    conf = settings.runpod
    endpoint = (args.endpoint or (record.endpoint if record else None) or _env("RUNPOD_ENDPOINT_ID")
                or conf.get("endpoint"))
    key = args.api_key or _env("RUNPOD_API_KEY") or conf.get("api-key")
    base = (args.base_url or (record.base_url if record else None) or _env("RUNPOD_API_BASE")
            or conf.get("base-url") or "https://api.runpod.ai/v2")
    if not endpoint:
        raise UsageError("no endpoint: give --endpoint ID, set RUNPOD_ENDPOINT_ID, or set `endpoint` "
                         "under [tool.comfydsl.runpod]")
    if not isinstance(endpoint, str) or "/" in endpoint:
        raise UsageError(f"`{endpoint}` is not an endpoint id")
    if not key:
        raise UsageError("no API key: set RUNPOD_API_KEY (or `api-key` under [tool.comfydsl.runpod])")
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise UsageError(f"the base URL must start with http:// or https://, not `{base}`")
    from urllib.parse import urlsplit

    try:
        host = urlsplit(base).hostname
        urlsplit(base).port  # noqa: B018 -- reading it checks the port is a number in 0-65535
    except ValueError as exc:
        raise UsageError(f"the base URL `{base}` is not valid: {exc}") from None
    if not host:
        raise UsageError(f"the base URL `{base}` names no host")
    return endpoint, key, base.rstrip("/")


def _job_id(job_id: str) -> str:
    """The job id given on the command line; a usage error when it cannot be one (it names a
    file of --out and a path segment of the API URL)."""
    from . import UsageError

    if not job_id or "/" in job_id or "\\" in job_id or job_id in (".", ".."):
        raise UsageError(f"`{job_id}` is not a job id")
    return job_id


def _retry(args: argparse.Namespace):
    from ..backends.runpod import RetryPolicy
    from . import UsageError

    if args.retries < 0:
        raise UsageError("--retries cannot be negative")
    return RetryPolicy(attempts=args.retries + 1)


def _out_dir(args: argparse.Namespace, settings) -> str:
    from . import UsageError

    out = args.out or settings.runpod.get("out") or DEFAULT_OUT
    if not isinstance(out, str):
        raise UsageError("the output folder must be a path")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"`{out}` is not a folder; give --out a folder for images and job records")
    return out


def _save(record, out: str) -> None:
    from ..errors import ComfyDSLError

    try:
        record.save(out)
    except OSError as exc:
        raise ComfyDSLError(f"cannot write the job record of {record.job_id} into {out}: "
                            f"{exc.strerror or exc}") from None


def _print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def _seconds(ms: int | None) -> str:
    return "?" if ms is None else f"{ms / 1000:.1f}s"


def render_diagnostics(diagnostics: list, stream=None, path: str | None = None) -> None:
    """Print diagnostics one per line (`path:line:col: CODE message`), with their help.

    Diagnostics without a span are shown at `path` (the workflow file) and their node.
    """
    stream = stream or sys.stderr
    for diag in diagnostics:
        span = diag.location.span
        if span is not None:
            where = f"{span.path or path or '<recipe>'}:{span.line}:{span.column}: "
        else:
            where = f"{path}: " if path else ""
            if diag.location.node_id is not None:
                where += f"node {diag.location.node_id}: "
        print(f"{where}{diag.severity.value}[{diag.code}]: {diag.message}", file=stream)
        if diag.help:
            print(f"  = help: {diag.help}", file=stream)
        for note in diag.notes:
            print(f"  = note: {note}", file=stream)


# -- run -----------------------------------------------------------------------------------

def _parse_sets(items: list[str]) -> dict[str, list[str]]:
    """`--set` values by key; repeated keys and comma-separated numbers make a sweep."""
    from . import UsageError

    found: dict[str, list[str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageError(f"--set takes KEY=VALUE, not `{item}`")
        parts = value.split(",")
        values = parts if len(parts) > 1 and all(_is_number(p) for p in parts) else [value]
        found.setdefault(key, []).extend(v.strip() if len(values) > 1 else v for v in values)
    return found


def _is_number(text: str) -> bool:
    try:
        float(text.strip())
    except ValueError:
        return False
    return bool(text.strip())


def _combos(sets: dict[str, list[str]]) -> list[dict[str, str]]:
    import itertools

    keys = list(sets)
    return [dict(zip(keys, values)) for values in itertools.product(*(sets[k] for k in keys))]


class _Spec:
    """One job to submit: where it came from, its request body and (for recipes) its Graph."""

    def __init__(self, label: str, source: str, params: dict[str, str], body: dict[str, Any], graph: Any) -> None:
        self.label = label
        self.source = source
        self.params = params
        self.body = body
        self.graph = graph


def _load_recipe(path: str, target):
    """Load a recipe with the recipe language; ParseError becomes a located diagnostic later."""
    from ..dsl.recipe import load_recipe

    return load_recipe(path, target=target)


def _recipe_specs(path: str, combos: list[dict[str, str]], target, check: bool, diagnostics: list) -> list:
    from ..dsl.recipe import Recipe, syntax_diagnostic
    from ..errors import ParseError

    recipe = Recipe(path, target=target)
    try:
        recipe.module  # noqa: B018 - parse once, report syntax errors located
    except ParseError as exc:
        diagnostics.append((path, syntax_diagnostic(exc)))
        return []
    specs = []
    for params in combos:
        graph, found = recipe.build(params)
        diagnostics.extend((path, d) for d in found)
        if graph is None or (check and any(d.is_error for d in found)):
            continue
        body = graph.envelope(graph.to_workflow(), "runpod")
        label = path + "".join(f" {k}={v}" for k, v in params.items())
        specs.append(_Spec(label, path, params, body, graph))
    return specs


def _workflow_spec(path: str, target, check: bool, diagnostics: list):
    from ..errors import WorkflowError
    from ..validate import check_document
    from ..workflow.document import read_document
    from ..workflow.envelopes import runpod_body

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise WorkflowError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WorkflowError(f"{path}: not UTF-8 text") from None
    doc = read_document(text, path)
    found = check_document(doc, catalog=target.catalog, models=target.models)
    diagnostics.extend((path, d) for d in found)
    if doc.workflow is None or (check and any(d.is_error for d in found)):
        return None
    body = runpod_body(doc.workflow)
    if doc.images:
        body["input"]["images"] = doc.images  # passed on as read (already in wire form)
    return _Spec(path, path, {}, body, None)


def _prepare(args: argparse.Namespace, settings) -> list[_Spec]:
    from ..errors import CompileError
    from ..target import load_target
    from . import UsageError

    sets = _parse_sets(args.sets)
    recipes = [p for p in args.inputs if p.endswith(".comfy")]
    if sets and len(recipes) < len(args.inputs):
        raise UsageError("--set applies to recipes only; "
                         + ", ".join(f"`{p}`" for p in args.inputs if p not in recipes) + " is a workflow")
    target = load_target(args.catalog if args.catalog is not None else settings.catalog,
                         args.models or settings.models, builtin=not (args.no_builtin or settings.no_builtin))
    check = not args.no_check
    combos = _combos(sets)
    diagnostics: list = []
    specs: list[_Spec] = []
    for path in args.inputs:
        if path.endswith(".comfy"):
            specs.extend(_recipe_specs(path, combos, target, check, diagnostics))
        else:
            spec = _workflow_spec(path, target, check, diagnostics)
            if spec is not None:
                specs.append(spec)
    for path, diag in diagnostics:
        render_diagnostics([diag], path=path)
    if len(specs) < len(args.inputs) * len(combos):
        errors = [d for _, d in diagnostics if d.is_error]
        raise CompileError(errors, message=f"{len(errors)} error(s): nothing was submitted"
                                           + ("" if check else " (--no-check cannot send what cannot be read)"))
    expanded = []
    for spec in specs:
        for n in range(args.repeat):
            label = spec.label + (f" #{n + 1}" if args.repeat > 1 else "")
            expanded.append(_Spec(label, spec.source, spec.params, spec.body, spec.graph))
    return expanded


def _request_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `policy` and `webhook` options of every request, checked."""
    from ..backends.runpod import make_policy
    from . import UsageError

    try:
        make_policy(args.execution_timeout, args.ttl, args.low_priority or None)
    except ValueError as exc:
        raise UsageError(str(exc).replace("execution_timeout", "--execution-timeout")
                         .replace("ttl", "--ttl")) from None
    if args.webhook and not args.webhook.startswith(("http://", "https://")):
        raise UsageError(f"--webhook must be an http(s) URL, not `{args.webhook}`")
    return {"execution_timeout": args.execution_timeout, "ttl": args.ttl,
            "low_priority": True if args.low_priority else None, "webhook": args.webhook}


def run_jobs(args: argparse.Namespace) -> int:
    """The `run` command: check, submit, wait, save."""
    import asyncio

    from . import UsageError

    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    request_options = _request_options(args)
    settings = _settings()
    if args.concurrency is None:
        args.concurrency = settings.runpod.get("concurrency", 4)
    if not isinstance(args.concurrency, int) or args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    if args.sync and (args.no_wait or args.detach):
        raise UsageError("--sync waits for each job in one request; it cannot be combined with "
                         "--no-wait or --detach")
    if args.timeout is not None and not 0 < args.timeout < math.inf:  # nan fails too
        raise UsageError("--timeout must be a positive number of seconds")
    if not 0 < args.poll_interval < math.inf:
        raise UsageError("--poll-interval must be a positive number of seconds")
    connection = _connection(args, settings)
    out = _out_dir(args, settings)
    specs = _prepare(args, settings)
    batch = _Batch(args, connection, out, specs, request_options)
    return asyncio.run(batch.main())


class _Outcome:
    """What happened to one spec: its job record (if submitted) and whether it succeeded."""

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec
        self.record = None
        self.ok = False
        self.message: str | None = None
        self.diagnostics: list = []

    def to_dict(self) -> dict[str, Any]:
        data = {"label": self.spec.label, "ok": self.ok, "message": self.message}
        if self.record is not None:
            data.update(self.record.to_dict())
        return data


class _Progress:
    """Progress on stderr: a live line on a terminal, plain lines otherwise."""

    def __init__(self, total: int, tty: bool) -> None:
        import time

        self.total = total
        self.tty = tty
        self.started = time.monotonic()
        self.states: dict[int, str] = {}
        self.done = 0
        self.failed = 0
        self.delay: dict[int, int | None] = {}
        self._shown = False

    def _elapsed(self) -> float:
        import time

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
            state = next(iter(self.states.values()))
            index = next(iter(self.states))
            extra = f", waited {self.delay[index] / 1000:.1f}s in the queue" if self.delay.get(index) else ""
            text = f"{state.lower().replace('_', ' ')} {self._elapsed():.1f}s{extra}"
        else:
            text = (f"{self.done}/{self.total} done, {self.failed} failed, {running} running, "
                    f"{queued} queued, {self._elapsed():.1f}s")
        sys.stderr.write("\r\033[K" + text)
        sys.stderr.flush()
        self._shown = True

    def state(self, index: int, label: str, job_id: str, state) -> None:
        self.states[index] = state.status.value
        if state.delay_time is not None:
            self.delay[index] = state.delay_time
        if self.tty:
            self.redraw()
        elif not state.is_final:
            queue = f" (queued {_seconds(state.delay_time)})" if state.delay_time is not None else ""
            self.line(f"{job_id}: {state.status.value}{queue}")

    def finished(self, index: int, ok: bool) -> None:
        self.states.pop(index, None)
        self.done += 1
        self.failed += 0 if ok else 1

    def close(self) -> None:
        self._clear()

    async def tick(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(0.25)
            self.redraw()


class _Batch:
    """Runs every spec under `--concurrency`, keeps every result, cancels on Ctrl-C."""

    def __init__(self, args: argparse.Namespace, connection: tuple[str, str, str], out: str,
                 specs: list[_Spec], request_options: dict[str, Any]) -> None:
        self.args = args
        self.request_options = request_options
        self.endpoint, self.key, self.base = connection
        self.out = out
        self.specs = specs
        self.outcomes = [_Outcome(spec) for spec in specs]
        self.live: dict[str, int] = {}
        self.submitting: dict = {}
        self.started: dict[int, float] = {}
        self.progress = _Progress(len(specs), sys.stderr.isatty() and not args.json)

    async def main(self) -> int:
        import asyncio

        from ..backends.runpod import AsyncRunPodClient

        from ..backends.runpod import PollPolicy

        poll = PollPolicy(initial=self.args.poll_interval, maximum=max(5.0, self.args.poll_interval))
        client = AsyncRunPodClient(self.endpoint, self.key, base_url=self.base, check=False, poll=poll,
                                   retry=_retry(self.args),
                                   on_retry=self._on_retry, max_connections=self.args.concurrency + 4)
        self.client = client
        gate = asyncio.Semaphore(self.args.concurrency)
        ticker = asyncio.ensure_future(self.progress.tick()) if self.progress.tty else None
        tasks = [asyncio.ensure_future(self._guarded(gate, i)) for i in range(len(self.specs))]
        interrupted = False
        try:
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            interrupted = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._interrupted()
        finally:
            if ticker is not None:
                ticker.cancel()
            self.progress.close()
            await client.aclose()
        return self._finish(interrupted)

    def _on_retry(self, op: str, attempt: int, delay: float, why: str) -> None:
        self.progress.line(f"{op}: {why}, retrying in {delay:.1f}s (attempt {attempt + 1})")

    async def _guarded(self, gate, index: int) -> None:
        from ..errors import ComfyDSLError

        outcome = self.outcomes[index]
        async with gate:
            try:
                await self._one(index)
            except (ComfyDSLError, ValueError) as exc:
                outcome.ok = False
                outcome.message = str(exc)
                record = outcome.record
                if record is not None and record.job_id:
                    self.live.pop(record.job_id, None)
                    record.error = record.error or str(exc)
                    self._save_record(record)
                self.progress.finished(index, False)
                self.progress.line(f"{record.job_id if record and record.job_id else outcome.spec.label}: "
                                   f"error: {exc}")
                if record is not None and record.job_id and not _final(record.status):
                    self.progress.line(f"  resume with: comfydsl status {record.job_id} --endpoint {self.endpoint} "
                                       f"--out {self.out} --wait")

    async def _one(self, index: int) -> None:
        import asyncio

        from ..jobs import now

        spec, outcome = self.specs[index], self.outcomes[index]
        self.started[index] = now()
        if self.args.sync:
            result = await self.client.runsync(spec.body, wait=90, timeout=self.args.timeout,
                                               **self.request_options)
            self._submitted(index, result.state, quiet=True)
            await self._complete(index, result)
            return
        submit = asyncio.ensure_future(self.client.run(spec.body, **self.request_options))
        self.submitting[submit] = index
        try:
            state = await asyncio.shield(submit)
        finally:
            if submit.done():
                self.submitting.pop(submit, None)
        self._submitted(index, state)
        if self.args.no_wait:
            outcome.ok = True
            self.live.pop(state.id, None)
            self.progress.finished(index, True)
            return
        if self.progress.tty:
            self.progress.state(index, spec.label, state.id, state)
        result = await self.client.wait(state.id, timeout=self.args.timeout,
                                        on_update=lambda s: self.progress.state(index, spec.label, s.id, s))
        self.live.pop(state.id, None)
        await self._complete(index, result)

    def _submitted(self, index: int, state, quiet: bool = False) -> None:
        """A job exists now: write its record (before anything else can go wrong)."""
        from ..jobs import JobRecord, now

        spec = self.specs[index]
        record = JobRecord(job_id=state.id, endpoint=self.endpoint, base_url=self.base, status=state.status.value,
                           source=os.path.abspath(spec.source), params=dict(spec.params),
                           submitted_at=self.started.get(index) or now())
        self.outcomes[index].record = record
        if not state.is_final:
            self.live[state.id] = index
            self._save_record(record)
        if not quiet:
            self.progress.line(f"submitted {spec.label} as job {state.id}")

    async def _complete(self, index: int, result) -> None:
        from ..errors import BackendError
        from ..jobs import now, save_new_file

        spec, outcome = self.specs[index], self.outcomes[index]
        record = outcome.record
        record.status = result.status.value
        record.finished_at = now()
        record.delay_ms = result.state.delay_time
        record.execution_ms = result.state.execution_time
        record.warnings = list(result.warnings)
        record.error = result.error
        diagnostics = [spec.graph.locate(d) for d in result.diagnostics] if spec.graph else result.diagnostics
        record.diagnostics = [d.to_dict() for d in diagnostics]
        outcome.diagnostics = diagnostics
        ok = result.ok
        for image in result.images:
            try:
                data = await self.client.image_bytes(image)
                record.files.append(save_new_file(self.out, image.filename, data).name)
            except (BackendError, OSError) as exc:
                record.warnings.append(f"image `{image.filename}` not saved: {exc}")
                ok = False
        self._save_record(record)
        outcome.ok = ok
        self.progress.finished(index, ok)
        self._report(outcome, result)

    def _report(self, outcome: _Outcome, result) -> None:
        record = outcome.record
        timing = f"queue {_seconds(record.delay_ms)}, run {_seconds(record.execution_ms)}"
        if outcome.ok:
            files = ", ".join(os.path.join(self.out, f) for f in record.files) if record.files else "no images"
            self.progress.line(f"{record.job_id}: {record.status} ({timing}): {files}")
        else:
            what = record.error or "; ".join(record.warnings) or record.status.lower()
            self.progress.line(f"{record.job_id}: {record.status} ({timing}): {what.splitlines()[0]}")
            outcome.message = record.error
        for warning in record.warnings:
            self.progress.line(f"  warning: {warning}")
        if outcome.diagnostics:
            self.progress.close()
            render_diagnostics(outcome.diagnostics, path=outcome.spec.source)

    def _save_record(self, record) -> None:
        try:
            record.save(self.out)
        except OSError as exc:
            self.progress.line(f"warning: cannot write the job record of {record.job_id}: {exc}")

    async def _interrupted(self) -> None:
        import asyncio

        if self.submitting:
            done, _ = await asyncio.wait(list(self.submitting), timeout=30)
            for task in done:
                if not task.cancelled() and task.exception() is None:
                    self._submitted(self.submitting[task], task.result())
        self.progress.close()
        if self.args.sync:
            print("interrupted: jobs sent with /runsync keep running; their ids are not known", file=sys.stderr)
        if not self.live:
            return
        if self.args.detach:
            for job_id in self.live:
                print(f"job {job_id} keeps running; resume with: comfydsl status {job_id} "
                      f"--endpoint {self.endpoint} --out {self.out} --wait", file=sys.stderr)
            return
        results = await asyncio.gather(*(self._cancel(job_id) for job_id in list(self.live)),
                                       return_exceptions=True)
        for job_id, result in zip(list(self.live), results):
            if isinstance(result, BaseException):
                print(f"could not cancel job {job_id}: {result}; cancel it with: comfydsl cancel {job_id} "
                      f"--endpoint {self.endpoint}", file=sys.stderr)
            else:
                print(f"cancelled job {job_id} ({result})", file=sys.stderr)

    async def _cancel(self, job_id: str) -> str:
        state = await self.client.cancel(job_id)
        record = self.outcomes[self.live[job_id]].record
        if record is not None:
            record.status = state.status.value
            self._save_record(record)
        return state.status.value

    def _finish(self, interrupted: bool) -> int:
        ok = all(o.ok for o in self.outcomes)
        failed = [o for o in self.outcomes if not o.ok]
        if self.args.json:
            _print_json({"ok": ok and not interrupted, "endpoint": self.endpoint, "out": self.out,
                         "interrupted": interrupted, "jobs": [o.to_dict() for o in self.outcomes]})
        if interrupted:
            return 130
        if len(self.outcomes) > 1:
            print(f"{len(self.outcomes) - len(failed)} of {len(self.outcomes)} jobs succeeded", file=sys.stderr)
        return 0 if ok else 1


def _final(status: str) -> bool:
    from ..workflow.status import is_final

    return is_final(status)


# -- status, cancel, health ---------------------------------------------------------------

def _load_record(out: str, job_id: str):
    from ..errors import WorkflowError
    from ..jobs import JobRecord

    try:
        return JobRecord.load(out, job_id)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None


def _recipe_graph(record):
    """The Graph of the recipe a job came from, to show worker errors at recipe lines."""
    if not record or not record.source or not record.source.endswith(".comfy") or not os.path.isfile(record.source):
        return None
    from ..errors import ComfyDSLError
    from ..target import load_target

    try:
        return _load_recipe(record.source, load_target()).graph(**record.params)
    except (ComfyDSLError, ValueError, OSError):  # the recipe may have changed since; errors are shown by node
        return None


def show_status(args: argparse.Namespace) -> int:
    """The `status` command: show (and with --wait, wait for) a job; save a completed job's images."""
    from ..backends.runpod import PollPolicy, RunPodClient
    from ..jobs import JobRecord, now, save_new_file
    from . import UsageError

    if args.timeout is not None and not 0 < args.timeout < math.inf:  # nan fails too
        raise UsageError("--timeout must be a positive number of seconds")
    if not 0 < args.poll_interval < math.inf:
        raise UsageError("--poll-interval must be a positive number of seconds")
    settings = _settings()
    out = _out_dir(args, settings)
    record = _load_record(out, _job_id(args.job))
    endpoint, key, base = _connection(args, settings, record)
    if record is None or record.endpoint != endpoint:
        record = JobRecord(job_id=args.job, endpoint=endpoint, base_url=base, status="UNKNOWN")
    tty = sys.stderr.isatty() and not args.json
    poll = PollPolicy(initial=args.poll_interval, maximum=max(5.0, args.poll_interval))
    with RunPodClient(endpoint, key, base_url=base, check=False, poll=poll, retry=_retry(args)) as client:
        state = client.status(args.job)
        if args.wait and not state.is_final:
            print(f"{args.job}: {state.status.value}, waiting", file=sys.stderr)
            try:
                result = client.wait(args.job, timeout=args.timeout,
                                     on_update=lambda s: _show_state(s, tty))
            except KeyboardInterrupt:
                print(f"\nstopped waiting; job {args.job} keeps running", file=sys.stderr)
                return 130
            state = result.state
        record.status = state.status.value
        record.delay_ms = state.delay_time if state.delay_time is not None else record.delay_ms
        record.execution_ms = state.execution_time if state.execution_time is not None else record.execution_ms
        ok = True
        if state.is_final:
            from ..backends.results import JobResult

            result = JobResult.from_state(endpoint, state)
            record.finished_at = record.finished_at or now()
            record.error = result.error
            record.warnings = list(result.warnings)
            graph = _recipe_graph(record)
            diagnostics = [graph.locate(d) for d in result.diagnostics] if graph else result.diagnostics
            record.diagnostics = [d.to_dict() for d in diagnostics]
            ok = result.ok
            already = [os.path.join(out, f) for f in record.files if os.path.exists(os.path.join(out, f))]
            if result.images and already:
                print(f"images already saved: {', '.join(already)}", file=sys.stderr)
            elif result.images:
                record.files = []
                for image in result.images:
                    try:
                        record.files.append(save_new_file(out, image.filename, client.image_bytes(image)).name)
                    except OSError as exc:
                        record.warnings.append(f"image `{image.filename}` not saved: {exc}")
                        ok = False
            if diagnostics:
                render_diagnostics(diagnostics, path=record.source)
        _save(record, out)
    _print_status(record, out, args.json)
    return 0 if ok else 1


def _show_state(state, tty: bool) -> None:
    queue = f" (queued {_seconds(state.delay_time)})" if state.delay_time is not None else ""
    print(f"{state.id}: {state.status.value}{queue}", file=sys.stderr, flush=True)


def _print_status(record, out: str, as_json: bool) -> None:
    if as_json:
        _print_json(record.to_dict())
        return
    line = f"{record.job_id}: {record.status}"
    if record.delay_ms is not None or record.execution_ms is not None:
        line += f" (queue {_seconds(record.delay_ms)}, run {_seconds(record.execution_ms)})"
    print(line)
    if record.error:
        print(f"error: {record.error}")
    for warning in record.warnings:
        print(f"warning: {warning}")
    for name in record.files:
        print(f"saved {os.path.join(out, name)}")


def cancel_job(args: argparse.Namespace) -> int:
    """The `cancel` command."""
    from ..backends.runpod import RunPodClient

    settings = _settings()
    out = _out_dir(args, settings)
    record = _load_record(out, _job_id(args.job))
    endpoint, key, base = _connection(args, settings, record)
    with RunPodClient(endpoint, key, base_url=base, check=False, retry=_retry(args)) as client:
        state = client.cancel(args.job)
    if record is not None:
        record.status = state.status.value
        _save(record, out)
    if args.json:
        _print_json({"id": state.id, "status": state.status.value})
    else:
        print(f"{state.id}: {state.status.value}")
    return 0


def show_health(args: argparse.Namespace) -> int:
    """The `health` command."""
    from ..backends.runpod import RunPodClient

    settings = _settings()
    endpoint, key, base = _connection(args, settings)
    with RunPodClient(endpoint, key, base_url=base, check=False, retry=_retry(args)) as client:
        health = client.health()
    if args.json:
        _print_json(health.model_dump(by_alias=True))
        return 0
    jobs, workers = health.jobs, health.workers
    print(f"endpoint {endpoint}")
    print(f"jobs: {jobs.in_queue} queued, {jobs.in_progress} in progress, {jobs.completed} completed, "
          f"{jobs.failed} failed, {jobs.retried} retried")
    extra = ", ".join(f"{v} {k}" for k, v in (workers.model_extra or {}).items())
    print(f"workers: {workers.idle} idle, {workers.running} running" + (f", {extra}" if extra else ""))
    return 0
