"""Per-node cost of each lint stage, by workflow size (issue 13: where the cost per node grows).

Run: python benchmarks/node_stages.py [--shape chain|fan|dag] [--sizes 1000,300000] [--repeat N]

For each size, the same number of nodes is linted (300 workflows of 1k nodes against one of
300k), stage by stage, with the cyclic collector paused as lint pauses it:
  read      `read_document` (json.loads, the check for node ids written twice, the envelope)
  build     `CheckContext.build`: for a long workflow, read in parts, the parts taken in as they
            are decoded (`ContextBuilder.add`, timed inside reading, counted here) and `finish`
  facts     the pass over the inputs (`CheckContext.facts`)
  rules     the rules, on top of that pass
  locate    `attach_spans` of the findings
  free ctx  freeing the context, then
  free doc  the document
Each figure is CPU time in microseconds per node, the best of N rounds (the sizes are taken in
turn in each round, so that the machine's drifts hit all sizes alike), and beside it the minor
page faults per node of the stage (first touches of fresh memory).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource

from comfydsl.checks import CheckContext, ContextBuilder, run_checks_over
from comfydsl.rules.codes import workflow_rules
from comfydsl.target import load_target
from comfydsl.workflow.document import PARTS_FROM, read_document
from comfydsl.workflow.jsonpos import attach_spans

from throughput import SHAPES  # benchmarks/throughput.py: the same workflows

STAGES = ("read", "build", "facts", "rules", "locate", "free ctx", "free doc")


def _now() -> tuple[float, int]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_minflt


def one_size(text: str, times: int, target, rules) -> tuple[list[float], list[int]]:
    """CPU seconds and page faults of each stage, summed over `times` lints of `text`."""
    spent = [0.0] * len(STAGES)
    faults = [0] * len(STAGES)
    gc.collect()
    gc.disable()
    try:
        for _ in range(times):
            builder = ContextBuilder(target.catalog) if len(text) >= PARTS_FROM else None
            taking = [0.0, 0]  # CPU time and faults of the parts taken in while reading

            def take(part) -> None:
                before = _now()
                builder.add(part)
                after = _now()
                taking[0] += after[0] - before[0]
                taking[1] += after[1] - before[1]

            marks = [_now()]
            doc = read_document(text, "big.json", on_part=None if builder is None else take)
            marks.append(_now())
            if builder is not None and doc.read_in_parts:
                ctx = builder.finish(doc.workflow, models=target.models)
            else:
                ctx = CheckContext.build(doc.workflow, target.catalog, models=target.models)
            del builder
            marks.append(_now())
            marks[1] = (marks[1][0] - taking[0], marks[1][1] - taking[1])  # moved from reading to building
            ctx.facts
            marks.append(_now())
            found = run_checks_over([ctx], rules)[0]
            marks.append(_now())
            attach_spans(found, text, path="big.json", envelope=doc.envelope, data=doc.body)
            marks.append(_now())
            del ctx
            marks.append(_now())
            del doc, found
            marks.append(_now())
            for i in range(len(STAGES)):
                spent[i] += marks[i + 1][0] - marks[i][0]
                faults[i] += marks[i + 1][1] - marks[i][1]
    finally:
        gc.enable()
    return spent, faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=list(SHAPES), default="chain")
    parser.add_argument("--sizes", default="1000,10000,100000,300000", help="node counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best of each stage is shown")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    work = max(sizes)
    target = load_target()
    rules = workflow_rules()
    texts = {n: json.dumps(SHAPES[args.shape](n)) for n in sizes}
    best: dict[int, list[float]] = {}
    faults: dict[int, list[int]] = {}
    for _ in range(max(1, args.repeat)):
        for n, text in texts.items():
            times = max(1, work // n)
            spent, fault = one_size(text, times, target, rules)
            per_node = [s / (times * n) * 1e6 for s in spent]
            best[n] = [min(a, b) for a, b in zip(best.get(n, per_node), per_node)]
            faults[n] = fault if n not in faults else [min(a, b) for a, b in zip(faults[n], fault)]
    print(f"{args.shape}: us per node by stage (CPU time, best of {args.repeat}); page faults per node")
    print(f"  {'nodes':>7}  " + "  ".join(f"{s:>8}" for s in STAGES) + "     sum")
    for n in sizes:
        times = max(1, work // n)
        print(f"  {n:>7}  " + "  ".join(f"{v:8.2f}" for v in best[n]) + f"  {sum(best[n]):6.2f}")
        print(f"  {'faults':>7}  " + "  ".join(f"{f / (times * n):8.3f}" for f in faults[n]))
    low, high = sum(best[min(sizes)]), sum(best[max(sizes)])
    print(f"  sum, largest / smallest size: {high / low:.2f}x")


if __name__ == "__main__":
    main()
