"""`comfydsl health` and `comfydsl purge-queue`: the job and worker counts of a RunPod
endpoint, and dropping its queued jobs.

Nothing heavy is imported at module level: `comfydsl lint` loads this module to list the
commands.
"""

from __future__ import annotations

import argparse

from .connection import client_options, connection, connection_options, print_json, runpod_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    health = subparsers.add_parser("health", help="job and worker counts of a RunPod endpoint",
                                   description="Show the endpoint's queued, running and finished jobs and its "
                                               "workers.")
    health.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    connection_options(health)
    health.set_defaults(handler=show_health)

    purge = subparsers.add_parser("purge-queue", help="drop the queued jobs of a RunPod endpoint",
                                  description="Drop every job still waiting in the endpoint's queue; running and "
                                              "finished jobs are left alone.")
    purge.add_argument("--json", action="store_true", help="print the answer as JSON on stdout")
    connection_options(purge)
    purge.set_defaults(handler=purge_queue)


def show_health(args: argparse.Namespace) -> int:
    """The `health` command."""
    from ..backends.runpod import RunPodClient

    settings = runpod_settings()
    endpoint, key, base = connection(args, settings)
    with RunPodClient(endpoint, key, base_url=base, **client_options(args)) as client:
        health = client.health()
    if args.json:
        print_json(health.model_dump(by_alias=True))
        return 0
    jobs, workers = health.jobs, health.workers
    print(f"endpoint {endpoint}")
    print(f"jobs: {jobs.in_queue} queued, {jobs.in_progress} in progress, {jobs.completed} completed, "
          f"{jobs.failed} failed, {jobs.retried} retried")
    extra = ", ".join(f"{v} {k}" for k, v in (workers.model_extra or {}).items())
    print(f"workers: {workers.idle} idle, {workers.running} running" + (f", {extra}" if extra else ""))
    return 0


def purge_queue(args: argparse.Namespace) -> int:
    """The `purge-queue` command."""
    from ..backends.runpod import RunPodClient

    settings = runpod_settings()
    endpoint, key, base = connection(args, settings)
    with RunPodClient(endpoint, key, base_url=base, **client_options(args)) as client:
        result = client.purge_queue()
    if args.json:
        print_json(result.model_dump())
    else:
        print(f"endpoint {endpoint}: removed {result.removed} queued job(s)")
    return 0
