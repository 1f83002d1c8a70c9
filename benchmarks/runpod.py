"""Submit N jobs to a local `comfydsl serve` (dry executor, fixed run time) and compare
`comfydsl run --concurrency K` with the official runpod SDK's run-and-poll loop.

Prints wall time and HTTP requests per job (counted by the server) for:

* `comfydsl run --repeat N --concurrency K` (the console script, /run + adaptive polling)
* `comfydsl run --sync ...` (/runsync, one request per job while jobs finish within its wait)
* the SDK: K threads, each `job = runpod.Endpoint(id).run(...)` then `job.output(timeout=...)`,
  the loop the SDK documents (a status poll every second, then one more fetch)

Usage: python benchmarks/runpod.py [--jobs 200] [--concurrency 16] [--run-time 2.5 [0.2 1.5 ...]] [--skip-sdk]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

KEY = "bench-key"
WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "bench"}},
}


def comfydsl_command() -> list[str]:
    beside = Path(sys.executable).parent / "comfydsl"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("comfydsl")
    if not found:
        raise SystemExit("the comfydsl console script is not installed")
    return [found]


def run_cli(srv, jobs: int, concurrency: int, extra: list[str]) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "wf.json").write_text(json.dumps(WORKFLOW))
        env = dict(os.environ, RUNPOD_API_KEY=KEY, RUNPOD_API_BASE=srv.url, RUNPOD_ENDPOINT_ID="bench")
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # start like an installed tool, from cached bytecode
        srv.requests.reset()
        started = time.monotonic()
        proc = subprocess.run([*comfydsl_command(), "run", "wf.json", "--repeat", str(jobs), "--concurrency",
                               str(concurrency), "--out", "out", "--json", *extra],
                              cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        try:
            summary = json.loads(proc.stdout)
        except ValueError:
            raise SystemExit(f"comfydsl run failed ({proc.returncode}):\n{proc.stderr[-2000:]}") from None
        failed = [job for job in summary["jobs"] if not job["ok"]]
        for job in failed[:5]:
            print(f"failed: {job.get('job_id')}: {job.get('status')}: {job.get('message')}", file=sys.stderr)
        return wall, srv.requests.total, len(summary["jobs"]) - len(failed)


def import_sdk():
    """The runpod package (this script's own name would shadow it on sys.path)."""
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    sys.modules.pop("runpod", None)
    import runpod

    return runpod


def run_sdk(srv, jobs: int, concurrency: int) -> tuple[float, int, int]:
    runpod = import_sdk()
    import logging

    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its pool holds 10 of our 16 threads

    runpod.api_key = KEY
    runpod.endpoint_url_base = srv.url
    endpoint = runpod.Endpoint("bench")

    def one(_: int) -> bool:
        job = endpoint.run({"workflow": WORKFLOW})
        output = job.output(timeout=300)
        return bool(output and output.get("images"))

    srv.requests.reset()
    started = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        done = sum(pool.map(one, range(jobs)))
    return time.monotonic() - started, srv.requests.total, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--run-time", type=float, nargs="+", default=[2.5],
                        help="seconds each dry job runs (several values: one table each)")
    parser.add_argument("--skip-sdk", action="store_true")
    args = parser.parse_args()

    for run_time in args.run_time:
        compare(args, run_time)
    return 0


def compare(args: argparse.Namespace, run_time: float) -> None:
    from comfydsl.serve import serve_in_thread

    rows = []
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=run_time, workers=args.concurrency,
                         rate_limits=None) as srv:
        rows.append(("comfydsl run (/run + polling)", *run_cli(srv, args.jobs, args.concurrency, [])))
        rows.append(("comfydsl run --sync (/runsync)", *run_cli(srv, args.jobs, args.concurrency, ["--sync"])))
        if not args.skip_sdk:
            rows.append(("runpod SDK run + job.output()", *run_sdk(srv, args.jobs, args.concurrency)))

    print(f"\n{args.jobs} jobs, concurrency {args.concurrency}, dry executor with {run_time:g} s per job, "
          f"{args.concurrency} server workers")
    print(f"{'client':34} {'wall s':>8} {'requests':>9} {'req/job':>8} {'completed':>10}")
    for name, wall, requests, done in rows:
        print(f"{name:34} {wall:8.2f} {requests:9d} {requests / args.jobs:8.2f} {done:10d}")
    if not args.skip_sdk:
        sdk = rows[-1]
        for ours in rows[:-1]:
            print(f"{ours[0]} vs SDK: {ours[2] / sdk[2]:.2f}x the requests per job, "
                  f"{ours[1] / sdk[1]:.2f}x the wall time")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
