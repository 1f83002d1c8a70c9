"""`comfydsl run`, `status`, `cancel` and `retry`: RunPod Serverless jobs from the command line.

The commands parse options and print; the work is done by `comfydsl.backends.batch` (run)
and `comfydsl.backends.runpod` (status, cancel). The endpoint id comes from `--endpoint`,
`RUNPOD_ENDPOINT_ID` or `endpoint` in `[tool.comfydsl.runpod]`; the API key from `--api-key`,
`RUNPOD_API_KEY` or `api-key` in that table; the API base from `--base-url`, `RUNPOD_API_BASE`
or `base-url` (see `cli/connection.py`).

Nothing heavy is imported at module level: `comfydsl lint` loads this module to list the
commands.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import TYPE_CHECKING, Any

from . import UsageError
from .connection import (DEFAULT_OUT, client_options, connection, connection_options, job_id, out_dir,
                         print_diagnostics, print_json, runpod_settings, save_record, seconds)

if TYPE_CHECKING:
    from ..backends.results import JobState
    from ..graph import Graph
    from ..jobs import JobRecord


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
    run.add_argument("--catalog", action="append", default=None, metavar="FILE|URL|PACK",
                     help="node catalogue (object_info JSON or server URL) merged over the built-in one")
    run.add_argument("--models", default=None, metavar="DIR|FILE|VOLUME", help="the worker's models root or manifest")
    run.add_argument("--no-builtin", action="store_true", help="do not start from the built-in catalogue")
    run.add_argument("--execution-timeout", type=float, default=None, metavar="S",
                     help="policy.executionTimeout for each job, in seconds")
    run.add_argument("--ttl", type=float, default=None, metavar="S", help="policy.ttl for each job, in seconds")
    run.add_argument("--low-priority", action="store_true", help="policy.lowPriority: do not trigger scaling")
    run.add_argument("--webhook", default=None, metavar="URL", help="URL RunPod posts the finished job to")
    connection_options(run)
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
    connection_options(status)
    status.set_defaults(handler=show_status)

    cancel = subparsers.add_parser("cancel", help="cancel a RunPod job",
                                   description="Cancel a queued or running job.")
    cancel.add_argument("job", metavar="JOB", help="job id")
    cancel.add_argument("--out", default=None, metavar="DIR", help="folder of the job record to update")
    cancel.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    connection_options(cancel)
    cancel.set_defaults(handler=cancel_job)

    retry = subparsers.add_parser("retry", help="run a FAILED or TIMED_OUT RunPod job again",
                                  description="Queue a FAILED or TIMED_OUT job again under the same id (while "
                                              "its result is still kept); follow it with `comfydsl status JOB "
                                              "--wait`.")
    retry.add_argument("job", metavar="JOB", help="job id")
    retry.add_argument("--out", default=None, metavar="DIR", help="folder of the job record to update")
    retry.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    connection_options(retry)
    retry.set_defaults(handler=retry_job)


# -- run -----------------------------------------------------------------------------------

def _request_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `policy` and `webhook` options of every request, checked."""
    from ..backends.runpod import make_policy

    try:
        make_policy(args.execution_timeout, args.ttl, args.low_priority or None)
    except ValueError as exc:
        raise UsageError(str(exc).replace("execution_timeout", "--execution-timeout")
                         .replace("ttl", "--ttl")) from None
    if args.webhook and not args.webhook.startswith(("http://", "https://")):
        raise UsageError(f"--webhook must be an http(s) URL, not `{args.webhook}`")
    return {"execution_timeout": args.execution_timeout, "ttl": args.ttl,
            "low_priority": True if args.low_priority else None, "webhook": args.webhook}


def _check_seconds(args: argparse.Namespace) -> None:
    if args.timeout is not None and not 0 < args.timeout < math.inf:  # nan fails too
        raise UsageError("--timeout must be a positive number of seconds")
    if not 0 < args.poll_interval < math.inf:
        raise UsageError("--poll-interval must be a positive number of seconds")


def run_jobs(args: argparse.Namespace) -> int:
    """The `run` command: check, submit, wait, save."""
    from ..backends.batch import BatchOptions, Connection, run_batch

    if args.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    request = _request_options(args)
    settings = runpod_settings()
    concurrency = args.concurrency if args.concurrency is not None else settings.runpod.get("concurrency", 4)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    tty = sys.stderr.isatty() and not args.json
    try:
        options = BatchOptions(concurrency=concurrency, sync=args.sync, wait=not args.no_wait,
                               cancel_on_interrupt=not args.detach, timeout=args.timeout,
                               poll_interval=args.poll_interval, retries=args.retries, request=request,
                               tick=0.25 if tty else None)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _check_seconds(args)
    endpoint, key, base = connection(args, settings)
    out = out_dir(args, settings)
    jobs = _prepare(args, settings)
    from .progress import Progress

    progress = Progress(len(jobs), tty, endpoint, out)
    try:
        result = run_batch(jobs, Connection(endpoint, key, base, allow_http=args.allow_http), out, options,
                           on_event=progress)
    finally:
        progress.close()
    if args.json:
        print_json(result.to_dict())
    if result.interrupted:
        return 128 + (result.signal or 2)
    if len(result.outcomes) > 1:
        good = sum(1 for o in result.outcomes if o.ok)
        print(f"{good} of {len(result.outcomes)} jobs succeeded", file=sys.stderr)
    return 0 if result.ok else 1


def _prepare(args: argparse.Namespace, settings: Any) -> list[Any]:
    """The jobs of the inputs, their diagnostics printed; CompileError when some input gave none."""
    from ..backends.batch import check_sets, parse_sets, prepare_jobs
    from ..target import load_target

    try:
        sets = parse_sets(args.sets)
        check_sets(args.inputs, sets)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    target = load_target(args.catalog if args.catalog is not None else settings.catalog,
                         args.models or settings.models, builtin=not (args.no_builtin or settings.no_builtin))
    prepared = prepare_jobs(args.inputs, target=target, sets=sets, check=not args.no_check, repeat=args.repeat)
    for path, diag in prepared.diagnostics:
        print_diagnostics([diag], path=path)
    prepared.raise_for_errors()
    return prepared.jobs


# -- status, cancel -------- ---------------------------------------------------------------

def _load_record(out: str, job: str) -> JobRecord | None:
    from ..errors import WorkflowError
    from ..jobs import JobRecord

    try:
        return JobRecord.load(out, job)
    except ValueError as exc:
        raise WorkflowError(str(exc)) from None


def _recipe_graph(record: JobRecord | None) -> Graph | None:
    """The Graph of the recipe a job came from, to show worker errors at recipe lines."""
    if not record or not record.source or not record.source.endswith(".comfy") or not os.path.isfile(record.source):
        return None
    from ..dsl.recipe import load_recipe
    from ..errors import ComfyDSLError
    from ..target import load_target

    try:
        return load_recipe(record.source, target=load_target()).graph(**record.params)
    except (ComfyDSLError, ValueError, OSError):  # the recipe may have changed since; errors are shown by node
        return None


def show_status(args: argparse.Namespace) -> int:
    """The `status` command: show (and with --wait, wait for) a job; save a completed job's images."""
    from ..backends.runpod import PollPolicy, RunPodClient
    from ..jobs import JobRecord, now, save_new_file

    _check_seconds(args)
    settings = runpod_settings()
    out = out_dir(args, settings)
    record = _load_record(out, job_id(args.job))
    endpoint, key, base = connection(args, settings, record)
    if record is None or record.endpoint != endpoint:
        record = JobRecord(job_id=args.job, endpoint=endpoint, base_url=base, status="UNKNOWN")
    tty = sys.stderr.isatty() and not args.json
    poll = PollPolicy(initial=args.poll_interval, maximum=max(5.0, args.poll_interval))
    with RunPodClient(endpoint, key, base_url=base, poll=poll, **client_options(args)) as client:
        state = client.status(args.job)
        if args.wait and not state.is_final:
            record.status = state.status.value
            save_record(record, out)
            print(f"{args.job}: {state.status.value}, waiting", file=sys.stderr)
            try:
                result = client.wait(args.job, timeout=args.timeout, _last=state,
                                     on_update=lambda s: _seen(record, s, out, tty))
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
            if result.outputs and already:
                print(f"files already saved: {', '.join(already)}", file=sys.stderr)
            elif result.outputs:
                record.files = []
                for item in result.outputs:
                    try:
                        record.files.append(save_new_file(out, item.filename, client.image_bytes(item)).name)
                    except OSError as exc:
                        what = "image" if item.kind == "images" else "output file"
                        record.warnings.append(f"{what} `{item.filename}` not saved: {exc}")
                        ok = False
            if diagnostics:
                print_diagnostics(diagnostics, path=record.source)
        save_record(record, out)
    _print_status(record, out, args.json)
    return 0 if ok else 1


def _seen(record: JobRecord, state: JobState, out: str, tty: bool) -> None:
    """A new state while waiting: shown, and kept in the record (the last state seen)."""
    _show_state(state, tty)
    if not state.is_final and record.status != state.status.value:
        record.status = state.status.value
        save_record(record, out)


def _show_state(state: JobState, tty: bool) -> None:
    queue = f" (queued {seconds(state.delay_time)})" if state.delay_time is not None else ""
    print(f"{state.id}: {state.status.value}{queue}", file=sys.stderr, flush=True)


def _print_status(record: JobRecord, out: str, as_json: bool) -> None:
    if as_json:
        print_json(record.to_dict())
        return
    line = f"{record.job_id}: {record.status}"
    if record.delay_ms is not None or record.execution_ms is not None:
        line += f" (queue {seconds(record.delay_ms)}, run {seconds(record.execution_ms)})"
    print(line)
    if record.error:
        print(f"error: {record.error}")
    for warning in record.warnings:
        print(f"warning: {warning}")
    for name in record.files:
        print(f"saved {os.path.join(out, name)}")


def cancel_job(args: argparse.Namespace) -> int:
    """The `cancel` command."""
    _job_operation(args, "cancel")
    return 0


def retry_job(args: argparse.Namespace) -> int:
    """The `retry` command."""
    state, endpoint, out = _job_operation(args, "retry")
    if not args.json:
        print(f"follow it with: comfydsl status {state.id} --endpoint {endpoint} --out {out} --wait", file=sys.stderr)
    return 0


def _job_operation(args: argparse.Namespace, operation: str) -> tuple[Any, str, str]:
    """Run `cancel` or `retry` on one job, update its record if there is one, and print the
    new state; (the state, the endpoint, the output folder)."""
    from ..backends.runpod import RunPodClient

    settings = runpod_settings()
    out = out_dir(args, settings)
    record = _load_record(out, job_id(args.job))
    endpoint, key, base = connection(args, settings, record)
    with RunPodClient(endpoint, key, base_url=base, **client_options(args)) as client:
        state = client.cancel(args.job) if operation == "cancel" else client.retry(args.job)
    if record is not None:
        record.status = state.status.value
        if operation == "retry":  # queued again: what the last run ended with no longer holds
            record.finished_at = record.error = None
            record.diagnostics = []
        save_record(record, out)
    if args.json:
        print_json({"id": state.id, "status": state.status.value})
    else:
        print(f"{state.id}: {state.status.value}")
    return state, endpoint, out
