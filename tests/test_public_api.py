"""The public surface: `comfydsl.__all__` is sorted, complete and importable."""

from __future__ import annotations

import subprocess
import sys

import comfydsl


def test_all_is_sorted_and_complete():
    assert comfydsl.__all__ == sorted(comfydsl.__all__)
    public = {name for name in vars(comfydsl) if not name.startswith("_") and name[0].isupper()}
    assert public <= set(comfydsl.__all__)
    for name in comfydsl.__all__:
        assert hasattr(comfydsl, name), name


def test_importing_comfydsl_stays_light():
    code = "import sys, comfydsl; print(','.join(m for m in ('networkx', 'httpx', 'lark', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
