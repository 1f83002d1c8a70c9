"""Local endpoint throughput: jobs per second and HTTP requests per job.

Run: python benchmarks/serve.py [--jobs N] [--workers N] [--run-time S] [--poll S]

Submits N jobs of a small valid workflow to a dry endpoint on 127.0.0.1 (one client thread
per job, each polling `status` every `--poll` seconds), then prints
- wall time and jobs per second;
- HTTP requests per job, by operation (the server's own counters);
- latency of `run` and `status` calls (median and 95th percentile);
- runsync round trip for one job (median of 20).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from comfydsl.serve import serve_in_thread

WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "bench"}},
}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--run-time", type=float, default=0.05)
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args()

    run_lat: list[float] = []
    status_lat: list[float] = []
    with serve_in_thread(api_key="k", workers=args.workers, run_seconds=args.run_time, rate_limits=None,
                         min_wait_ms=0) as srv, \
            httpx.Client(base_url=f"{srv.url}/bench", headers={"Authorization": "Bearer k"}, timeout=30,
                         limits=httpx.Limits(max_connections=64)) as client:
        client.post("/runsync", json={"input": {"workflow": WORKFLOW}})  # warm the catalogue
        srv.requests.reset()

        def one_job(_: int) -> str:
            started = time.perf_counter()
            job = client.post("/run", json={"input": {"workflow": WORKFLOW}}).json()["id"]
            run_lat.append(time.perf_counter() - started)
            while True:
                started = time.perf_counter()
                status = client.get(f"/status/{job}").json()["status"]
                status_lat.append(time.perf_counter() - started)
                if status in ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"):
                    return status
                time.sleep(args.poll)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=32) as pool:
            finals = list(pool.map(one_job, range(args.jobs)))
        wall = time.perf_counter() - started
        counts = srv.requests.snapshot()["requests"]

        sync_times = []
        for _ in range(20):
            t0 = time.perf_counter()
            client.post("/runsync", json={"input": {"workflow": WORKFLOW}})
            sync_times.append(time.perf_counter() - t0)

    print(f"jobs: {args.jobs}, workers: {args.workers}, run time {args.run_time} s, poll every {args.poll} s")
    print(f"completed: {finals.count('COMPLETED')}/{args.jobs}")
    print(f"wall: {wall:.2f} s, {args.jobs / wall:.1f} jobs/s "
          f"(ideal {args.workers / args.run_time:.1f} jobs/s at this run time)")
    print("requests per job: " + ", ".join(f"{op} {n / args.jobs:.2f}" for op, n in sorted(counts.items()))
          + f", total {sum(counts.values()) / args.jobs:.2f}")
    print(f"run latency: median {statistics.median(run_lat) * 1000:.2f} ms, p95 {_pct(run_lat, 0.95) * 1000:.2f} ms")
    print(f"status latency: median {statistics.median(status_lat) * 1000:.2f} ms, "
          f"p95 {_pct(status_lat, 0.95) * 1000:.2f} ms")
    print(f"runsync round trip: median {statistics.median(sync_times) * 1000:.1f} ms "
          f"(run time {args.run_time * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
