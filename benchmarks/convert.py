"""Conversion of the official UI-format templates (PyPI `comfyui-workflow-templates-json`).

Prints, for the built-in catalogue and for the built-in one with the newer autoflow-0.9 catalogue
over it: how many templates convert cleanly, why the others do not (grouped), how many of the
templates whose classes are all known convert and lint with no error but missing model/input
files, and the conversion time per workflow.

    python benchmarks/convert.py
"""

from __future__ import annotations

import collections
import glob
import gzip
import json
import os
import sys
import time
from pathlib import Path

from comfydsl.catalog import NodeCatalog, builtin_catalog
from comfydsl.ui import convert_ui
from comfydsl.ui.convert import VIRTUAL_TYPES

FILE_CODES = {"CD501", "CD502"}


def templates() -> list[tuple[str, dict]]:
    import comfyui_workflow_templates_json as pkg

    folder = os.path.join(os.path.dirname(pkg.__file__), "templates")
    out = []
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict) and "nodes" in data and "links" in data:
            out.append((os.path.basename(path), data))
    return out


def classes(data: dict) -> set[str]:
    graphs = [data] + list((data.get("definitions") or {}).get("subgraphs") or [])
    subs = {g.get("id") for g in graphs[1:]}
    found = {n.get("type") for g in graphs for n in g.get("nodes") or []}
    return {c for c in found if c not in subs and c not in VIRTUAL_TYPES and not str(c).startswith("workflow")}


def run(name: str, catalog: NodeCatalog, items: list[tuple[str, dict]]) -> None:
    from comfydsl.validate import check_workflow

    clean = known = known_ok = known_lint_ok = 0
    reasons: collections.Counter = collections.Counter()
    lint_reasons: collections.Counter = collections.Counter()
    elapsed = 0.0
    for fname, data in items:
        start = time.perf_counter()
        conv = convert_ui(data, catalog)
        elapsed += time.perf_counter() - start
        errors = [d for d in conv.diagnostics if d.is_error]
        clean += not errors
        for d in errors:
            reasons[f"{d.code} {d.name}: `{d.class_type}`"] += 1
        if all(c in catalog for c in classes(data)):
            known += 1
            if not errors:
                known_ok += 1
                found = [d for d in check_workflow(conv.workflow, catalog=catalog) if d.is_error
                         and d.code not in FILE_CODES]
                known_lint_ok += not found
                for d in found:
                    lint_reasons[f"{d.code} {d.name}: `{d.class_type}`"] += 1
    n = len(items)
    print(f"== {name}: {len(catalog)} classes")
    print(f"converted with no error: {clean}/{n} ({100 * clean / n:.1f}%)")
    print(f"all classes known: {known}; of those converted: {known_ok}; and lint-clean (but files): {known_lint_ok}")
    print(f"time per workflow: {1000 * elapsed / n:.2f} ms")
    print("why the others did not convert (error, class: occurrences):")
    for reason, times in reasons.most_common(15):
        print(f"  {times:4d}  {reason}")
    if lint_reasons:
        print("lint errors on converted templates whose classes are known:")
        for reason, times in lint_reasons.most_common(10):
            print(f"  {times:4d}  {reason}")


def main() -> int:
    try:
        items = templates()
    except ImportError:
        print("install comfyui-workflow-templates-json (pip install -e '.[test]')", file=sys.stderr)
        return 2
    print(f"{len(items)} UI-format templates")
    builtin = builtin_catalog()
    run("built-in catalogue (ComfyUI 0.3.64)", builtin, items)
    data = Path(__file__).resolve().parent.parent / "tests" / "data" / "ui" / "object_info.autoflow-0.9.json.gz"
    modern = builtin.merged(NodeCatalog(json.loads(gzip.decompress(data.read_bytes())), source="autoflow-0.9"))
    run("built-in + autoflow-0.9 catalogue", modern, items)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
