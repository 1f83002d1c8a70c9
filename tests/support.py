"""Paths and helpers shared by the tests (importable as `support`; see pytest `pythonpath`)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OBJECT_INFO = SHARED / "comfyui" / "object_info.json"
CONFORMANCE = SHARED / "conformance"


def comfydsl_command() -> list[str]:
    """The installed console script (next to the running interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / ("comfydsl.exe" if os.name == "nt" else "comfydsl")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("comfydsl")
    if found:
        return [found]
    raise RuntimeError("the comfydsl console script is not installed; run pip install -e '.[test]'")
