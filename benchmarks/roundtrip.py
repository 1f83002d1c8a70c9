"""Decompile -> compile round trips over the real workflows in the test data.

For every workflow that ComfyUI accepted (the conformance cases whose verdict is valid),
every API export of a newer ComfyUI in `tests/data/modern/workflows/` (when present) and
every API export in `tests/data/ui/` (converted UI files), this decompiles the workflow to a
recipe, lowers the recipe again and compares the JSON texts. A workflow is

- `exact`        when the two texts are identical, byte for byte;
- `key order`    when they differ only in the order of `class_type` / `inputs` / `_meta`
                 inside node objects (a recipe writes the file's order, `class_type` first
                 or with `# comfydsl: node-keys=inputs-first` `inputs` first, and a node
                 that differs carries `@keys(...)`, so this verdict is a regression);
- `failed`       otherwise (decompile refused it, the recipe did not lower, or the JSON differs).

Where `lint` finds no error in the workflow, the recipe must also `compile` (every check
passes) to the same JSON. Exit status 1 when any workflow failed.

    python benchmarks/roundtrip.py [--verbose]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def workflows() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(name, workflow, catalog) for every real workflow of the test data."""
    from comfydsl.catalog import builtin_catalog
    from comfydsl.catalog.nodes import NodeCatalog

    builtin = builtin_catalog()
    for line in (DATA / "conformance" / "index.jsonl").read_text().splitlines():
        case = json.loads(line)
        if not case["valid"]:
            continue
        data = json.loads((DATA / "conformance" / "cases" / f"{case['name']}.json").read_text())
        workflow = data["workflow"] if "workflow" in data else json.loads(data["workflow_text"])
        yield f"conformance/{case['name']}", workflow, builtin
    modern = DATA / "modern"
    if (modern / "workflows").is_dir():  # exports of a newer ComfyUI, with that server's catalogue
        server = modern / "object_info.mmldx-2026-08.json"
        catalog = builtin.merged(NodeCatalog.from_file(str(server))) if server.exists() else builtin
        for path in sorted((modern / "workflows").glob("*.api.json")):
            yield f"modern/{path.name}", json.loads(path.read_text()), catalog
    dynamic = DATA / "ui" / "catalog_dynamic.json"
    with_dynamic = builtin.merged(NodeCatalog.from_file(str(dynamic))) if dynamic.exists() else builtin
    for path in sorted((DATA / "ui").glob("*.api.json")):
        yield f"ui/{path.name}", json.loads(path.read_text()), with_dynamic


def canonical(workflow: dict[str, Any]) -> str:
    """The JSON text with each node's keys in the order a recipe writes them."""
    order = ("class_type", "inputs", "_meta")
    return json.dumps({node_id: {k: node[k] for k in sorted(node, key=lambda k: order.index(k) if k in order else 9)}
                       if isinstance(node, dict) else node for node_id, node in workflow.items()})


def round_trip(workflow: dict[str, Any], catalog: Any) -> tuple[str, str]:
    """(verdict, detail) for one workflow; see the module docstring."""
    from comfydsl.dsl.decompile import DecompileError, decompile
    from comfydsl.dsl.recipe import Recipe
    from comfydsl.errors import CompileError
    from comfydsl.target import Target
    from comfydsl.validate import check_workflow

    target = Target(catalog, None)
    try:
        text = decompile(workflow, catalog)
    except DecompileError as exc:
        return "failed", f"decompile refused it: {'; '.join(exc.problems)[:300]}"
    recipe = Recipe("roundtrip.comfy", text, target=target)
    try:
        rebuilt = recipe.graph().to_workflow()
    except CompileError as exc:
        return "failed", f"the recipe does not lower: {exc}"
    if not any(d.is_error for d in check_workflow(workflow, catalog=catalog)):
        try:
            compiled = recipe.compile()
        except CompileError as exc:
            return "failed", f"lint passes the workflow but the recipe does not compile: {exc}"
        if json.dumps(compiled) != json.dumps(rebuilt):  # pragma: no cover - same graph
            return "failed", "compile and lowering disagree"
    if json.dumps(rebuilt) == json.dumps(workflow):
        return "exact", ""
    if json.dumps(rebuilt) == canonical(workflow):
        return "key order", "class_type/inputs/_meta in another order inside a node"
    return "failed", "the JSON differs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list every workflow with its verdict")
    args = parser.parse_args(argv)
    counts: dict[str, int] = {"exact": 0, "key order": 0, "failed": 0}
    start = time.perf_counter()
    for name, workflow, catalog in workflows():
        verdict, detail = round_trip(workflow, catalog)
        counts[verdict] += 1
        if args.verbose or verdict != "exact":
            print(f"{verdict:9}  {name}" + (f": {detail}" if detail else ""))
    total = sum(counts.values())
    elapsed = time.perf_counter() - start
    print(f"{total} workflows: {counts['exact']} exact, {counts['key order']} exact but for key order "
          f"inside a node, {counts['failed']} failed ({elapsed:.1f} s)")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
