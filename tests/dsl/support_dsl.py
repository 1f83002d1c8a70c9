"""Helpers for the recipe tests: fixture headers, codes, the console script."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"

#: The smallest complete recipe body: an image and an output node.
TAIL = 'img = EmptyImage(width=64, height=64, batch_size=1, color=0)\nSaveImage(images=img, filename_prefix="t")\n'


def header(path: Path) -> dict[str, list[str]]:
    """`# key: value` lines at the top of a fixture, as lists per key."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# ") or ":" not in line:
            break
        key, _, value = line[2:].partition(":")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def comfydsl_exe() -> str:
    """The installed console script."""
    local = Path(sys.executable).parent / ("comfydsl.exe" if os.name == "nt" else "comfydsl")
    if local.exists():
        return str(local)
    found = shutil.which("comfydsl")
    assert found, "the comfydsl console script is not installed"
    return found
