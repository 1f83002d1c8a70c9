"""Helpers for CLI tests: run `comfydsl` in process (`run`), or the installed console script
(`comfydsl_script`) where the process itself is under test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import CONFORMANCE, PULID_OBJECT_INFO, ROOT, invoke  # noqa: F401  (re-exported for the CLI tests)


def comfydsl_script() -> str:
    """The installed console script: next to the running interpreter, else on PATH."""
    beside = Path(sys.executable).with_name("comfydsl")
    if beside.exists():
        return str(beside)
    found = shutil.which("comfydsl")
    if found is None:
        pytest.skip("the comfydsl console script is not installed")
    return found


def run(*args: str, cwd: str | os.PathLike | None = None, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `comfydsl ARGS...` in process (NO_COLOR unset, `env` added) and capture its output as text."""
    return invoke(*args, cwd=cwd, stdin=stdin, env=env)


def assert_clean_usage_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit 2, a one-line message naming the problem, and no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no message on stderr"
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


#: A small valid workflow of built-in nodes (no model files).
CLEAN = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "out"}},
}


def workflow(**changes: dict) -> dict:
    """CLEAN with some nodes' inputs changed: `workflow(n1={"width": 0})`."""
    import copy

    wf = copy.deepcopy(CLEAN)
    for key, inputs in changes.items():
        wf[key.removeprefix("n")]["inputs"].update(inputs)
    return wf


def write_json(path: Path, data, indent: int | None = 2) -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")
    return path
