"""The official templates (PyPI `comfyui-workflow-templates-json`) as the realistic set.

With the built-in catalogue (ComfyUI 0.3.64) the templates are newer than the catalogue, so some
classes changed their widgets since (CD021); these figures pin what converts and lints today
(`benchmarks/convert.py` prints the details) and the test fails if they drop.
"""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("comfyui_workflow_templates_json")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

from convert import FILE_CODES, classes, templates  # noqa: E402

from comfydsl.catalog import builtin_catalog  # noqa: E402
from comfydsl.ui import convert_ui  # noqa: E402
from comfydsl.validate import check_workflow  # noqa: E402


@pytest.fixture(scope="module")
def items():
    return templates()


def test_all_644_templates_are_read(items):
    assert len(items) >= 644


def test_templates_with_known_classes_convert_and_lint(items):
    catalog = builtin_catalog()
    known = converted = clean = 0
    for name, data in items:
        conv = convert_ui(data, catalog)
        errors = [d for d in conv.diagnostics if d.is_error]
        assert {d.code for d in errors} <= {"CD020", "CD021"}, (name, errors)
        if not all(c in catalog for c in classes(data)):
            continue
        known += 1
        assert {d.code for d in errors} <= {"CD021"}, name  # a known class never fails for want of a definition
        if errors:
            continue
        converted += 1
        lint = [d for d in check_workflow(conv.workflow, catalog=catalog) if d.is_error and d.code not in FILE_CODES]
        clean += not lint
    assert known >= 117 and converted >= 107 and clean >= 96
