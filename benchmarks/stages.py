"""Reading, locating and rendering of the realistic set, stage by stage (issue 13).

Run: python benchmarks/stages.py [--repeat N] [--against CHECKOUT]

The realistic set of `throughput.py` (conformance cases and the repository's real
workflows, repeated to a few thousand texts) is checked once; then, best of N:
  read     `read_document` per text, and what it costs beyond `json.loads` of the text
  locate   `attach_spans` per workflow with findings (fresh copies of its findings each time)
  render   the JSON renderer over the whole run, per text

With `--against`, an earlier checkout's three functions are timed in the same process,
round by round in turn with these (the machine's speed drifts: side by side is the only
fair comparison), after checking that both give the same spans and the same output.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import json
import os
import sys
import tempfile
import time
from typing import Any, Callable

from comfydsl.catalog import builtin_catalog
from comfydsl.checks import CheckContext
from comfydsl.diagnostics import sort_diagnostics
from comfydsl.lint import FileResult
from comfydsl.render import LintRun
from comfydsl.rules.codes import workflow_rules
from comfydsl.target import Target

from throughput import realistic_texts  # benchmarks/throughput.py: the same set


def modules(folder: str | None) -> dict[str, Any]:
    """`read_document`, `attach_spans` and `render` of this checkout, or of `folder`'s
    `comfydsl` (imported as `comfydsl_stages_base`: its imports are relative)."""
    package = "comfydsl"
    if folder is not None:
        link_dir = tempfile.mkdtemp(prefix="comfydsl-stages-")
        os.symlink(os.path.join(os.path.abspath(folder), "comfydsl"), os.path.join(link_dir, "comfydsl_stages_base"))
        sys.path.insert(0, link_dir)
        package = "comfydsl_stages_base"
    return {
        "read": importlib.import_module(f"{package}.workflow.document").read_document,
        "locate": importlib.import_module(f"{package}.workflow.jsonpos").attach_spans,
        "render": importlib.import_module(f"{package}.render.json").render,
    }


def checked_set() -> tuple[list[tuple[str, str]], list[tuple[Any, ...]], LintRun]:
    """The texts; for each workflow with findings, (findings before locating, text, path,
    envelope, decoded body); and the run as linted (spans attached) for the renderer."""
    from comfydsl.workflow.document import read_document
    from comfydsl.workflow.jsonpos import attach_spans

    items = realistic_texts()
    items = items * max(1, 3000 // len(items))
    catalog = builtin_catalog()
    rules = workflow_rules()
    cases, results = [], []
    for path, text in items:
        doc = read_document(text, path)
        if doc.kind == "ui" or doc.workflow is None:
            results.append(FileResult(path, doc.kind, list(doc.diagnostics), text))
            continue
        ctx = CheckContext.build(doc.workflow, Target(catalog).catalog, duplicates=doc.duplicates)
        found = list(doc.diagnostics)
        for rule in rules:
            found.extend(rule.check(ctx))
        found = sort_diagnostics(found)
        if found:
            cases.append((found, text, path, doc.envelope, doc.body))
            located = attach_spans([copy.copy(d) for d in found], text, path=path, envelope=doc.envelope,
                                   data=doc.body)
            results.append(FileResult(path, doc.kind, located, text))
        else:
            results.append(FileResult(path, doc.kind, found, text))
    return items, cases, LintRun(results, models_checked=False)


def fresh(cases: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Copies of the findings (locating sets their spans), made outside the timing."""
    return [([copy.copy(d) for d in found], *rest) for found, *rest in cases]


def timed(fn: Callable[[], Any]) -> float:
    gc.disable()  # as `lint` does around a file
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--against", help="an earlier checkout, timed side by side")
    args = parser.parse_args()

    items, cases, run = checked_set()
    versions = {"this": modules(None)}
    if args.against:
        versions[args.against] = modules(args.against)
        base = versions[args.against]
        for found, text, path, envelope, body in cases:
            ours = versions["this"]["locate"]([copy.copy(d) for d in found], text, path=path, envelope=envelope,
                                              data=body)
            theirs = base["locate"]([copy.copy(d) for d in found], text, path=path, envelope=envelope, data=body)
            assert [d.to_dict() for d in ours] == [d.to_dict() for d in theirs], path
        assert versions["this"]["render"](run) == base["render"](run), "the renderers differ"

    best: dict[str, float] = {}

    def record(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, seconds), seconds)

    def decode_all() -> None:
        for _, text in items:
            json.loads(text)

    for turn in range(args.repeat):
        record("json.loads", timed(decode_all))
        order = list(versions.items())
        for label, fns in order if turn % 2 == 0 else order[::-1]:  # neither always goes first
            read, locate, render = fns["read"], fns["locate"], fns["render"]

            def read_all() -> None:
                for path, text in items:
                    read(text, path)

            def locate_all() -> None:
                for found, text, path, envelope, body in work:
                    locate(found, text, path=path, envelope=envelope, data=body)

            work = fresh(cases)
            record(f"read {label}", timed(read_all))
            record(f"locate {label}", timed(locate_all))
            record(f"render {label}", timed(lambda: render(run)))

    n, loads = len(items), best["json.loads"]
    findings = sum(len(found) for found, *_ in cases)
    print(f"{n} texts, {len(cases)} workflows with {findings} findings (best of {args.repeat})")
    print(f"  json.loads            {loads * 1e3:7.1f} ms {loads / n * 1e6:6.1f} us/text")
    for label in versions:
        read, locate, render = best[f"read {label}"], best[f"locate {label}"], best[f"render {label}"]
        print(f"  {label}:")
        print(f"    read                {read * 1e3:7.1f} ms {read / n * 1e6:6.1f} us/text, "
              f"{(read - loads) / n * 1e6:5.1f} us beyond json.loads")
        print(f"    locate              {locate * 1e3:7.1f} ms {locate / len(cases) * 1e6:6.1f} us/workflow with "
              f"findings, {locate / findings * 1e6:5.1f} us/finding")
        print(f"    render (JSON)       {render * 1e3:7.1f} ms {render / n * 1e6:6.1f} us/text")


if __name__ == "__main__":
    main()
