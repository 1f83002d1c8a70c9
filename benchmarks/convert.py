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
import re
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


#: Model-file endings: a CD405 on such a value is a file the catalogue's server lacks (server-specific).
_MODEL_FILE = re.compile(r"\.(safetensors|ckpt|pt|pth|bin|gguf|sft)|…")
V3_TYPES = ("COMFY_MATCHTYPE_V3", "COMFY_AUTOGROW_V3", "COMFY_DYNAMICCOMBO_V3")
#: Autogrow inputs whose `min` ComfyUI lowered after the newer catalogue was captured: a template
#: saved since leaves slots the catalogue still requires empty (CD201 on `images.image1`).
AUTOGROW_MIN_LOWERED = {
    # ComfyUI PR #13721 (2026-05): min 2 -> 1; the templates show `image1` as optional (shape 7)
    "BatchImagesNode": "images", "BatchMasksNode": "masks", "BatchLatentsNode": "latents",
}
#: Templates that are wrong as shipped (checked by hand): the lint error is the template's.
BROKEN_TEMPLATES = {
    "video_ltx2_i2v_lora.json": "the subgraph's output `VIDEO` names link 265, which the definition lacks",
}


def lint_category(diag, workflow: dict, catalog: NodeCatalog, template: str) -> str:
    """Why a converted template has a lint error: `v3` (the checks misread a V3 input type: none is
    expected since the V3 checks were merged), `model-file` (an option list of the catalogue's
    server's files), `catalogue-age` (the class changed since the catalogue was made), `template`
    (the template's own defect), else `other`."""
    if template in BROKEN_TEMPLATES:
        return "template"
    spec = catalog[diag.class_type] if diag.class_type in catalog else None
    inp = spec.inputs.get(diag.input) if spec is not None and diag.input else None
    if any(t in diag.message for t in V3_TYPES) or (inp is not None and inp.type in V3_TYPES):
        return "v3"
    if diag.code == "CD202" and diag.input and "." in diag.input:
        return "v3"
    if (diag.code == "CD201" and diag.input and diag.class_type in AUTOGROW_MIN_LOWERED
            and diag.input.startswith(AUTOGROW_MIN_LOWERED[diag.class_type] + ".")):
        return "catalogue-age"
    if diag.code == "CD301":
        src = re.search(r"node `([^`]+)`", diag.message)
        source = workflow.get(src.group(1), {}) if src else {}
        src_spec = catalog[source.get("class_type")] if source.get("class_type") in catalog else None
        if src_spec is not None and any(o.type in V3_TYPES for o in src_spec.outputs):
            return "v3"
    if diag.code == "CD405":
        return "model-file" if _MODEL_FILE.search(diag.message) else "catalogue-age"
    if diag.code == "CD104":
        return "catalogue-age"
    return "other"


def run(name: str, catalog: NodeCatalog, items: list[tuple[str, dict]]) -> None:
    from comfydsl.validate import check_workflow

    clean = known = known_ok = known_lint_ok = 0
    reasons: collections.Counter = collections.Counter()
    lint_reasons: collections.Counter = collections.Counter()
    by_kinds: collections.Counter = collections.Counter()
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
                kinds = set()
                for d in found:
                    kind = lint_category(d, conv.workflow, catalog, fname)
                    kinds.add(kind)
                    lint_reasons[f"[{kind}] {d.code} {d.name}: `{d.class_type}`"] += 1
                if kinds:
                    by_kinds[" + ".join(sorted(kinds))] += 1
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
        for reason, times in lint_reasons.most_common(12):
            print(f"  {times:4d}  {reason}")
        print("templates not lint-clean, by the kinds of their errors:")
        for kinds, times in by_kinds.most_common():
            print(f"  {times:4d}  {kinds}")


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
