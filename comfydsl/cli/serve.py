"""`comfydsl serve`: a local RunPod-Serverless-compatible endpoint for tests and development."""

from __future__ import annotations

import argparse
import os
import sys

#: Environment variable that holds the API key the endpoint accepts.
API_KEY_ENV = "COMFYDSL_SERVE_API_KEY"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="run a local RunPod-Serverless-compatible endpoint",
        description="Serve RunPod Serverless's hosted API (/v2/{endpoint}/run, runsync, status, stream, "
                    "cancel, retry, health, purge-queue) on a local port, running jobs the way worker-comfyui "
                    "5.x does: with the dry executor (comfydsl validation, placeholder PNGs) or a real "
                    "ComfyUI server. Jobs live in memory unless --state names a file to keep them in.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on; 0 picks a free one (default 8000)")
    parser.add_argument("--executor", choices=("dry", "comfyui"), default="dry",
                        help="dry: validate and return placeholder images; comfyui: drive a ComfyUI server")
    parser.add_argument("--comfyui-url", metavar="URL", help="ComfyUI server of the comfyui executor")
    parser.add_argument("--worker-version", choices=("5", "3"), default="5",
                        help="worker-comfyui output shape: 5 (images list, default) or 3 (one image as message)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--api-key", metavar="K",
                      help=f"the one API key accepted (default: ${API_KEY_ENV}; without either, any key)")
    keys.add_argument("--any-key", action="store_true", help="accept any API key (a key must still be sent)")
    parser.add_argument("--endpoint-id", metavar="ID", help="answer only this endpoint id (default: any)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="jobs run at once (default 1)")
    parser.add_argument("--run-time", type=float, default=1.0, metavar="S",
                        help="seconds a dry job runs (default 1.0)")
    parser.add_argument("--retention", type=float, metavar="S",
                        help="seconds results are kept (default 1800 for run, 60 for runsync)")
    parser.add_argument("--catalog", action="append", default=[], metavar="FILE|URL|PACK",
                        help="object_info catalogue for the dry executor, merged over the built-in one")
    parser.add_argument("--no-builtin", action="store_true", help="do not start from the built-in catalogue")
    parser.add_argument("--models", metavar="DIR|FILE|VOLUME", help="the worker's models root or manifest (dry executor)")
    parser.add_argument("--fault", action="append", default=[], metavar="SPEC",
                        help="inject a fault, e.g. op=status,status=429,times=2,retry_after=1 (repeatable)")
    parser.add_argument("--fault-scenario", action="append", default=[], metavar="NAME[:K=V,...]",
                        help="inject a named fault scenario (status-500, status-html, 429-storm, refused, "
                             "runsync-queued-then-failing), e.g. 429-storm:times=5,retry_after=1 (repeatable)")
    parser.add_argument("--state", metavar="FILE",
                        help="SQLite file that keeps the jobs across restarts (default: jobs live in memory)")
    parser.add_argument("--no-rate-limits", action="store_true", help="do not apply RunPod's documented rate and in-flight limits")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from . import UsageError

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if not 0 <= args.run_time < float("inf"):  # nan fails too
        raise UsageError("--run-time must be a number of seconds, 0 or more")
    if args.retention is not None and not 0 < args.retention < float("inf"):
        raise UsageError("--retention must be positive")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    if args.executor == "comfyui" and not args.comfyui_url:
        raise UsageError("--executor comfyui needs --comfyui-url")
    if args.comfyui_url and not args.comfyui_url.startswith(("http://", "https://")):
        raise UsageError("--comfyui-url must start with http:// or https://")
    if args.state and os.path.isdir(args.state):
        raise UsageError(f"--state {args.state}: a folder; give a file name")
    server = _build(args)
    import signal

    def request_stop(signum, frame) -> None:
        print("\nstopping...", file=sys.stderr, flush=True)
        server.stopping.set()

    # Set both handlers explicitly: a shell starts background jobs with SIGINT ignored.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _serve(server, args)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", file=sys.stderr)
    return 0


def _serve(server, args: argparse.Namespace) -> None:
    """Start the server, print how to reach it, and run until a signal asks to stop."""
    from ..errors import ComfyDSLError

    try:
        server.start()
    except OSError as exc:
        server.executor.close()
        raise ComfyDSLError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    try:
        _banner(server, args)
        while not server.stopping.wait(0.5):
            pass
    finally:
        server.stop()


def _build(args: argparse.Namespace):
    from . import UsageError
    from ..serve import EndpointServer, ServeConfig, make_executor
    from ..serve.faults import parse_fault

    faults = []
    for spec in args.fault:
        try:
            faults.append(parse_fault(spec))
        except ValueError as exc:
            raise UsageError(f"--fault {spec}: {exc}") from None
    for spec in args.fault_scenario:
        faults.extend(_scenario(spec))
    api_key = None if args.any_key else (args.api_key or os.environ.get(API_KEY_ENV) or None)
    config = ServeConfig(api_key=api_key, endpoint_id=args.endpoint_id, state_file=args.state)
    if args.retention is not None:
        config.retention = config.sync_retention = args.retention
    if args.no_rate_limits:
        config.rate_limits = config.concurrency_limits = None
    catalog = models = None
    if args.executor == "dry":
        from ..target import load_target

        target = load_target(args.catalog, args.models, builtin=not args.no_builtin)
        catalog, models = target.catalog, target.models
    executor = make_executor(args.executor, run_seconds=args.run_time, catalog=catalog, models=models,
                             comfyui_url=args.comfyui_url, worker_version=args.worker_version)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    server = EndpointServer(executor, host=args.host, port=args.port, workers=args.workers, config=config, log=log)
    for fault in faults:
        server.faults.put(fault)
    return server


def _scenario(spec: str) -> list:
    """The faults of `NAME[:K=V,...]` (numbers as numbers)."""
    from . import UsageError
    from ..serve.faults import scenario

    name, _, rest = spec.partition(":")
    params: dict[str, object] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq:
            raise UsageError(f"--fault-scenario {spec}: `{part}` is not key=value")
        try:
            params[key.strip()] = float(value) if "." in value else int(value)
        except ValueError:
            params[key.strip()] = value.strip()
    try:
        return scenario(name.strip(), **params)
    except ValueError as exc:
        raise UsageError(f"--fault-scenario {spec}: {exc}") from None


def _banner(server, args: argparse.Namespace) -> None:
    key = server.config.api_key
    backend = f"comfyui at {args.comfyui_url}" if args.executor == "comfyui" else f"dry ({args.run_time:g} s per job)"
    print(f"comfydsl serve: RunPod Serverless API at {server.url}", flush=True)
    print(f"  executor: {backend}; workers: {server.jobs.workers}")
    print("  API key: " + ("the one given" if key else "any key (send an Authorization header)"))
    print(f"  jobs: kept in {args.state}" if args.state else "  jobs: in memory (lost when it stops; --state FILE keeps them)")
    print("  point the runpod SDK at it:")
    print("    import runpod")
    print(f'    runpod.endpoint_url_base = "{server.url}"')
    print(f'    endpoint = runpod.Endpoint("{args.endpoint_id or "local"}")')
    print("  press Ctrl-C to stop", flush=True)
