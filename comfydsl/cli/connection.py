"""What the RunPod commands share: connection options and settings, job ids, the output
folder, job records, and printing (JSON answers, diagnostics one per line).

Nothing heavy is imported at module level: `comfydsl lint` loads the command modules to list
the commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from . import UsageError

if TYPE_CHECKING:
    from ..backends.runpod import RetryPolicy
    from ..config import Settings
    from ..diagnostics import Diagnostic
    from ..jobs import JobRecord

DEFAULT_OUT = "outputs"


def connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", default=None, metavar="ID",
                        help="endpoint id (default: RUNPOD_ENDPOINT_ID, or `endpoint` in the configuration)")
    parser.add_argument("--base-url", default=None, metavar="URL",
                        help="API base (default: RUNPOD_API_BASE, `base-url` in the configuration, "
                             "or https://api.runpod.ai/v2)")
    parser.add_argument("--api-key", default=None, metavar="KEY",
                        help="API key (prefer the RUNPOD_API_KEY environment variable: options show in `ps`)")
    parser.add_argument("--retries", type=int, default=4, metavar="N",
                        help="retries of a request after 429/502/503/504 or a connection error (default 4)")
    parser.add_argument("--allow-http", action="store_true",
                        help="allow a plain http base URL to another machine (the API key would travel "
                             "unencrypted; http to this machine is always allowed)")


_RUNPOD_SETTINGS = {"endpoint", "base-url", "api-key", "out", "concurrency"}


def runpod_settings() -> Settings:
    """The settings file, with its [runpod] table checked for unknown keys."""
    from ..config import load_settings
    from ..errors import ConfigError

    settings = load_settings()
    unknown = sorted(set(settings.runpod) - _RUNPOD_SETTINGS)
    if unknown:
        raise ConfigError(f"{settings.path}: unknown setting(s) in [runpod]: {', '.join(unknown)}")
    return settings


def env(name: str) -> str | None:
    return os.environ.get(name) or None


def connection(args: argparse.Namespace, settings: Settings,
               record: JobRecord | None = None) -> tuple[str, str, str]:
    """Endpoint id, API key and base URL: options, then the job's record (for the endpoint
    id), then the environment, then the configuration.

    The key only goes to the base URL the user configured (option, environment,
    configuration, or the hosted API): a job record naming another base is refused unless
    that base is given with --base-url. The key is checked before any request is made.
    """
    from ..backends.runpod import DEFAULT_BASE_URL, check_api_key, check_base_url

    conf = settings.runpod
    endpoint = (args.endpoint or (record.endpoint if record else None) or env("RUNPOD_ENDPOINT_ID")
                or conf.get("endpoint"))
    key = args.api_key or env("RUNPOD_API_KEY") or conf.get("api-key")
    base = args.base_url or env("RUNPOD_API_BASE") or conf.get("base-url") or DEFAULT_BASE_URL
    if not endpoint:
        raise UsageError("no endpoint: give --endpoint ID, set RUNPOD_ENDPOINT_ID, or set `endpoint` "
                         "under [tool.comfydsl.runpod]")
    if not isinstance(endpoint, str) or "/" in endpoint:
        raise UsageError(f"`{endpoint}` is not an endpoint id")
    if not key:
        raise UsageError("no API key: set RUNPOD_API_KEY (or `api-key` under [tool.comfydsl.runpod])")
    if not isinstance(base, str):
        raise UsageError(f"the base URL must start with https:// or http://, not `{base}`")
    try:
        key = check_api_key(key)
        base = check_base_url(base, allow_http=bool(getattr(args, "allow_http", False)))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if record is not None and record.base_url and record.base_url.rstrip("/") != base:
        raise UsageError(f"the job record of {record.job_id} names the API base {record.base_url}, not the "
                         f"configured {base}; the API key is only sent where you configured it: pass "
                         f"--base-url {record.base_url} if you trust that address")
    return endpoint, key, base


def client_options(args: argparse.Namespace) -> dict[str, Any]:
    """The client options every RunPod command takes from its arguments."""
    return {"check": False, "retry": retry_policy(args), "allow_http": bool(getattr(args, "allow_http", False))}


def job_id(text: str) -> str:
    """The job id given on the command line; a usage error when it cannot be one (it names a
    file of --out and a path segment of the API URL)."""
    if not text or "/" in text or "\\" in text or text in (".", ".."):
        raise UsageError(f"`{text}` is not a job id")
    return text


def retry_policy(args: argparse.Namespace) -> RetryPolicy:
    from ..backends.runpod import RetryPolicy

    if args.retries < 0:
        raise UsageError("--retries cannot be negative")
    return RetryPolicy(attempts=args.retries + 1)


def out_dir(args: argparse.Namespace, settings: Settings) -> str:
    out = args.out or settings.runpod.get("out") or DEFAULT_OUT
    if not isinstance(out, str):
        raise UsageError("the output folder must be a path")
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"`{out}` is not a folder; give --out a folder for images and job records")
    return out


def save_record(record: JobRecord, out: str) -> None:
    from ..errors import ComfyDSLError

    try:
        record.save(out)
    except OSError as exc:
        raise ComfyDSLError(f"cannot write the job record of {record.job_id} into {out}: "
                            f"{exc.strerror or exc}") from None


def print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def seconds(ms: int | None) -> str:
    return "?" if ms is None else f"{ms / 1000:.1f}s"


def print_diagnostics(diagnostics: list[Diagnostic], stream: TextIO | None = None, path: str | None = None) -> None:
    """Print diagnostics one per line (the format every command shares), each with its help
    and notes; diagnostics without a span are shown at `path` (the workflow file)."""
    from ..diagnostics import diagnostic_line

    stream = stream or sys.stderr
    for diag in diagnostics:
        print(diagnostic_line(diag, path), file=stream)
        if diag.help:
            print(f"  = help: {diag.help}", file=stream)
        for note in diag.notes:
            print(f"  = note: {note}", file=stream)
