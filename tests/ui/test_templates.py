"""The official templates (PyPI `comfyui-workflow-templates-json`) as the realistic set.

The templates are newer than the built-in catalogue (ComfyUI 0.3.64), so some classes changed
their widgets since (CD021). The tests pin what converts and lints today, sort every lint error
left by why (`benchmarks/convert.py` `lint_category`, which prints the same survey), and fail if
the figures drop or an error of an unexpected kind appears.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("comfyui_workflow_templates_json")


def _load_survey():
    """benchmarks/convert.py, loaded under a name of its own: putting benchmarks/ on sys.path
    would let its modules (runpod.py, lint.py) stand in for packages of those names."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "convert.py"
    spec = importlib.util.spec_from_file_location("comfydsl_benchmark_convert", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_survey = _load_survey()
FILE_CODES, classes, lint_category, templates = (_survey.FILE_CODES, _survey.classes, _survey.lint_category,
                                                 _survey.templates)

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
    """Built-in + autoflow-0.9 catalogue: 219 templates with known classes, 187 of them convert
    (the rest are CD021 from classes whose widgets changed since: CFGNorm, CreateVideo, the
    ByteDance/Kling/Wan API nodes...), 62 lint clean. What keeps the other converted ones from
    linting clean, by kind (`lint_category`):

    - `model-file` (106 templates, the only kind for all but a few): CD405 on model-file combos,
      whose options are the files of the server the catalogue was captured from (server-specific:
      the same as a missing model file);
    - `catalogue-age` (18, one also `model-file`): the template is newer than the catalogue: model options added since
      (CD405: GeminiImage2Node "Nano Banana 2", Kling v3, Meshy 6/7, CLIPLoader `longcat_image`),
      outputs added since (CD104 on SaveGLB fed from outputs 2-3 of the Tripo/Meshy nodes, 1 of
      Rodin3D_Gen2), and BatchImagesNode's Autogrow `min` lowered from 2 to 1 since (ComfyUI PR
      #13721), so `images.image1` is still required by the catalogue (CD201;
      `api_google_gemini_image.json`, `api_rodin_gen2.json`);
    - `template`: the template's own defect (`video_ltx2_i2v_lora.json`).

    No error is the V3 checks' (`v3`: MatchType links, Autogrow and DynamicCombo keys) or of no
    named kind (`other`). ImageCompare's `compare_view` (sent by the editor but not saved) and
    CustomCombo's `index`/`optionN` widgets convert as the editor does.
    """
    known, converted, clean, kinds = _survey(items, modern_catalog())
    assert known >= 219 and converted >= 187 and clean >= 62
    v3 = sorted(name for name, k in kinds.items() if "v3" in k)
    assert not v3, v3
    other = sorted(name for name, k in kinds.items() if "other" in k)
    assert not other, other
