"""JSON positions on large workflows: time to index a file and locate findings in it.

Run: python benchmarks/jsonpos_scaling.py [--nodes 25000 50000 100000]

For each size it builds an API workflow of N nodes (pretty-printed and compact), then
times `json.loads` of the text for scale, the first lookup (which scans the workflow
object once), 1000 further lookups spread over the file, and `attach_spans` for 1000
findings. Per-node figures that stay flat as N grows show the cost is linear.
"""

from __future__ import annotations

import argparse
import json
import time

from comfydsl.diagnostics import Diagnostic, Location, Severity, json_path
from comfydsl.workflow.jsonpos import JsonPositions, attach_spans


def workflow(n: int) -> dict:
    wf = {}
    for i in range(n):
        if i % 2 == 0:
            wf[str(i)] = {"class_type": "EmptyImage",
                          "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": i}}
        else:
            wf[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]},
                          "_meta": {"title": f"invert {i}"}}
    return wf


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def measure(n: int, indent: int | None) -> None:
    text = json.dumps(workflow(n), indent=indent)
    parse, _ = timed(lambda: json.loads(text))
    pos = JsonPositions(text)
    first, _ = timed(lambda: pos.member((str(n - 1), "inputs")))
    step = max(1, n // 1000)
    ids = [str(i) for i in range(0, n, step)]
    more, _ = timed(lambda: [pos.member((i, "inputs", "image" if int(i) % 2 else "width")) for i in ids])
    diags = [Diagnostic("CD403", "value-below-min", Severity.ERROR, "m",
                        Location(node_id=i, input="width", json_path=json_path(i, "inputs", "width")))
             for i in ids]
    attach, _ = timed(lambda: attach_spans(diags, text, path="big.json"))
    layout = "indent=1" if indent else "compact "
    print(f"{n:>7} nodes {layout} {len(text) / 1e6:6.1f} MB  json.loads {parse:6.3f}s  "
          f"first lookup {first:6.3f}s ({first / n * 1e6:5.2f} us/node)  "
          f"{len(ids)} lookups {more:6.3f}s  attach_spans({len(diags)}) {attach:6.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[25000, 50000, 100000])
    args = parser.parse_args()
    for n in args.nodes:
        for indent in (1, None):
            measure(n, indent)


if __name__ == "__main__":
    main()
