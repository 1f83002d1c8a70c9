"""Every real workflow of the test data survives decompile -> compile (benchmarks/roundtrip.py)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from support import ROOT


def _benchmark():
    spec = importlib.util.spec_from_file_location("roundtrip", ROOT / "benchmarks" / "roundtrip.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ROUNDTRIP = _benchmark()
CASES = list(ROUNDTRIP.workflows())


@pytest.mark.parametrize("name, workflow, catalog", CASES, ids=[c[0] for c in CASES])
def test_real_workflow_round_trips(name, workflow, catalog):
    verdict, detail = ROUNDTRIP.round_trip(workflow, catalog)
    # byte for byte, even where nodes order `class_type`/`inputs`/`_meta` one by one (`@keys`)
    assert verdict == "exact", detail


@pytest.mark.parametrize("name, workflow, catalog", CASES[::4], ids=[c[0] for c in CASES[::4]])
def test_decompiled_recipes_are_in_fmt_layout(name, workflow, catalog):
    from comfydsl.dsl.decompile import decompile
    from comfydsl.dsl.fmt import format_source

    for params in ((), ("seed", "text")):
        try:
            text = decompile(workflow, catalog, params=params)
        except Exception:  # --params that name no input
            continue
        assert format_source(text) == text


def test_there_are_real_workflows_to_try():
    assert len(CASES) > 50
    names = [name for name, _, _ in CASES]
    assert sum(name.startswith("modern/") for name in names) >= 3  # the newer ComfyUI's exports
    assert sum("noop_reorder_keys" in name for name in names) >= 3  # keys shuffled node by node
    assert all(isinstance(wf, dict) for _, wf, _ in CASES)


def test_the_benchmark_reports_and_exits_zero(capsys):
    assert ROUNDTRIP.main([]) == 0
    out = capsys.readouterr().out
    assert " exact," in out and "0 failed" in out and " 0 exact but for key order" in out
    json.dumps(out)
