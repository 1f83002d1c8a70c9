"""The official templates (PyPI `comfyui-workflow-templates-json`) as the realistic set.

The templates are newer than the built-in catalogue (ComfyUI 0.3.64), so some classes changed
their widgets since (CD021). The tests pin what converts and lints today, sort every lint error
left by why (`benchmarks/convert.py` `lint_category`, which prints the same survey), and fail if
the figures drop or an error of an unexpected kind appears.
"""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("comfyui_workflow_templates_json")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))

from convert import FILE_CODES, classes, lint_category, templates  # noqa: E402
from ui_support import modern_catalog  # noqa: E402

from comfydsl.catalog import builtin_catalog  # noqa: E402
from comfydsl.ui import convert_ui  # noqa: E402
from comfydsl.validate import check_workflow  # noqa: E402


@pytest.fixture(scope="module")
def items():
    return templates()


def test_all_644_templates_are_read(items):
    assert len(items) >= 644


def _survey(items, catalog):
    """(known, converted, clean, {template: kinds of its lint errors}) over the templates whose classes are known."""
    known = converted = clean = 0
    kinds: dict[str, set[str]] = {}
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
        if lint:
            kinds[name] = {lint_category(d, conv.workflow, catalog, name) for d in lint}
    return known, converted, clean, kinds


def test_templates_with_known_classes_convert_and_lint(items):
    """Built-in catalogue (ComfyUI 0.3.64): the 10 known-class templates that do not convert are
    CD021 from classes that gained a widget since (CFGNorm, ImageScaleToTotalPixels, the
    ByteDance and Wan API nodes); every lint error left is the catalogue's age (an option or an
    output added since), none is conversion's."""
    known, converted, clean, kinds = _survey(items, builtin_catalog())
    assert (known, converted) == (117, 107)
    assert clean >= 98
    assert set().union(*kinds.values()) <= {"catalogue-age"}, kinds


def test_templates_with_a_newer_catalogue(items):
    """Built-in + autoflow-0.9 catalogue. What keeps converted templates from linting clean, by kind:

    - `v3`: waits on V3 input types in the checks (helper `v3`): MatchType links (`ComfySwitchNode`
      outputs, CD301 on it and on what it feeds), Autogrow inputs written as dotted keys
      (`BatchImagesNode.images.image0`, CD201 on `images`; Vidu2ReferenceVideoNode `subjects`,
      WanReferenceVideoApi `reference_videos`); 43 templates today, 15 of them with nothing else;
    - `model-file`: CD405 on model-file combos, whose options are the files of the server the
      catalogue was captured from (server-specific: the same as a missing model file);
    - `catalogue-age`: options and outputs newer than the catalogue (CD405, CD104 on SaveGLB);
    - `template`: the template's own defect (`video_ltx2_i2v_lora.json`);
    - `other`: `utility_interpolation_image_upscale.json`, CD203 on ImageCompare's `compare_view`
      (an IMAGECOMPARE widget holding the preview's state; whether the editor sends it is open).

    After merging v3, tighten: templates whose kinds are only `v3` (15) should become clean.
    """
    known, converted, clean, kinds = _survey(items, modern_catalog())
    assert known >= 219 and converted >= 182 and clean >= 44
    only_v3 = [name for name, k in kinds.items() if k == {"v3"}]
    assert len(only_v3) <= 15, sorted(only_v3)
    other = {name for name, k in kinds.items() if "other" in k}
    assert other <= {"utility_interpolation_image_upscale.json"}, other
