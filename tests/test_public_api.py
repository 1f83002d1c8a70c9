"""The public surface: `comfydsl.__all__` is sorted, complete and importable, and importing it is cheap."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import comfydsl

INIT = Path(comfydsl.__file__)


def type_checking_names() -> set[str]:
    """The names the `if typing.TYPE_CHECKING:` block re-exports (what type checkers see)."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING")
    return {alias.asname or alias.name for node in block.body if isinstance(node, ast.ImportFrom) for alias in node.names}


def test_all_is_sorted_and_complete():
    assert comfydsl.__all__ == sorted(comfydsl.__all__)
    assert len(set(comfydsl.__all__)) == len(comfydsl.__all__)
    assert set(comfydsl.__all__) == set(comfydsl._EXPORTS) | {"__version__"}
    assert type_checking_names() == set(comfydsl._EXPORTS)


def test_each_name_resolves_to_its_home():
    import importlib

    for name, (module, attr) in comfydsl._EXPORTS.items():
        assert getattr(comfydsl, name) is getattr(importlib.import_module(module, "comfydsl"), attr), name
    public = {name for name in vars(comfydsl) if not name.startswith("_") and name[0].isupper()}
    assert public <= set(comfydsl.__all__)


def test_one_entry_point_per_stage():
    stages = {"read": "read_document", "check": "check_workflow", "compile": "load_recipe", "graph": "Graph",
              "lint": "lint_paths", "render": "render_lint", "run": "run_batch", "client": "RunPodClient"}
    for stage, name in stages.items():
        assert callable(getattr(comfydsl, name)), stage


def test_stages_work_from_the_top_level(tmp_path):
    doc = comfydsl.read_document('{"1": {"class_type": "EmptyLatentImage", "inputs": {}}}', "w.json")
    assert doc.workflow is not None
    assert "CD201" in {d.code for d in comfydsl.check_workflow(doc.workflow)}
    result = comfydsl.lint_text('{"1": {"class_type": "EmptyLatentImage", "inputs": {}}}', "w.json")
    assert "CD201" in comfydsl.render_lint(comfydsl.LintRun([result]), "text")


def test_unknown_names_raise_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        comfydsl.nope  # noqa: B018


def test_importing_comfydsl_stays_light():
    code = ("import sys, comfydsl; print(','.join(m for m in ('networkx', 'httpx', 'lark', 'pydantic', 'jsonschema')"
            " if m in sys.modules)); print(','.join(sorted(m for m in sys.modules if m.startswith('comfydsl'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == ""
    assert out[1] == "comfydsl,comfydsl._version"
