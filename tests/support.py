"""Paths and helpers shared by the tests (importable as `support`; see pytest `pythonpath`).

This module is the one place that names the test data: everything lives in `tests/data/`
(see its README for where each file came from), so the suite needs nothing beside the checkout.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
#: ComfyUI 0.3.64's `/object_info` answer (no custom nodes).
OBJECT_INFO = DATA / "comfyui" / "object_info.json"
#: The placeholder model files (`- folder/file` lines) that catalogue was captured with.
PLACEHOLDERS = DATA / "comfyui" / "placeholders.md"
#: The conformance cases: `index.jsonl` and `cases/<name>.json`.
CONFORMANCE = DATA / "conformance"
CASES = CONFORMANCE / "cases"
#: The PuLID-Flux custom node pack, as `/object_info` describes it, and its model folders.
PULID_OBJECT_INFO = DATA / "custom_nodes" / "pulid_flux.object_info.json"
PULID_FOLDERS = DATA / "custom_nodes" / "pulid_flux.model_folders.json"


def comfydsl_command() -> list[str]:
    """The installed console script (next to the running interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / ("comfydsl.exe" if os.name == "nt" else "comfydsl")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("comfydsl")
    if found:
        return [found]
    raise RuntimeError("the comfydsl console script is not installed; run pip install -e '.[test]'")
