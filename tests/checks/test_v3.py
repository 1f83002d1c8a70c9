"""The V3 node schema (ComfyUI 0.4 and later): one test per feature, on small classes shaped like the real
ones (tests/data/modern/v3_features.object_info.json) and on real catalogues and exports of newer servers."""

from __future__ import annotations

import copy
import json

import pytest
from support import MMLDX_CATALOG, MODERN, V3_FEATURES, invoke

from comfydsl.catalog import builtin_catalog
from comfydsl.catalog.dynamic import expand_inputs
from comfydsl.diagnostics import Severity
from comfydsl.target import load_target
from comfydsl.validate import check_workflow

CATALOG = load_target([str(V3_FEATURES)]).catalog
IMAGE = {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}}
MASK = {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 64, "height": 64}}
LATENT = {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}


def flow(node: dict, *extra: tuple[str, dict]) -> dict:
    """An image source `1`, the node under test `2` fed to a PreviewImage `3`, and extra nodes."""
    wf = {"1": copy.deepcopy(IMAGE), "2": node, "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}}
    wf.update({key: copy.deepcopy(value) for key, value in extra})
    if '["1", 0]' not in json.dumps([n["inputs"] for n in wf.values()]):
        del wf["1"]  # unused here: keep CD603 out of the findings
    return wf


def found(workflow: dict, catalog=CATALOG) -> list[tuple[str, str | None]]:
    return sorted((d.code, d.location.input) for d in check_workflow(workflow, catalog=catalog))


def resize(**inputs) -> dict:
    return {"class_type": "V3Resize", "inputs": {"image": ["1", 0], **inputs}}


# -- DynamicCombo ------------------------------------------------------------------------------

def test_dynamic_combo_selector_and_dotted_sub_inputs_are_clean():
    assert found(flow(resize(mode="scale", **{"mode.multiplier": 0.5}))) == []
    assert found(flow(resize(mode="size", **{"mode.width": 512, "mode.crop": "center"}))) == []


def test_dynamic_combo_sub_inputs_are_checked_like_inputs():
    assert found(flow(resize(mode="scale"))) == [("CD201", "mode.multiplier")]
    assert found(flow(resize(mode="scale", **{"mode.multiplier": 9.0}))) == [("CD404", "mode.multiplier")]
    assert found(flow(resize(mode="size", **{"mode.width": 512, "mode.crop": "edge"}))) == [("CD405", "mode.crop")]


def test_dynamic_combo_other_options_inputs_are_not_inputs_now():
    diags = check_workflow(flow(resize(mode="scale", **{"mode.multiplier": 1.0, "mode.width": 5})), catalog=CATALOG)
    assert [(d.code, d.location.input) for d in diags] == [("CD202", "mode.width")]
    assert "while `mode` is `scale`" in diags[0].help


def test_dynamic_combo_nested():
    assert found(flow(resize(mode="nested", **{"mode.inner": "a", "mode.inner.x": 3}))) == []
    assert found(flow(resize(mode="nested", **{"mode.inner": "b"}))) == []
    assert found(flow(resize(mode="nested", **{"mode.inner": "a"}))) == [("CD201", "mode.inner.x")]
    assert found(flow(resize(mode="nested", **{"mode.inner": "c"}))) == [("CD405", "mode.inner")]


def test_dynamic_combo_selector_is_a_combo_not_a_link_input():
    # ComfyUI drops an unknown or missing selector silently and the node fails when it runs
    assert found(flow(resize(mode="stretch"))) == [("CD405", "mode")]
    assert found(flow(resize())) == [("CD201", "mode")]


# -- Autogrow -----------------------------------------------------------------------------------

def batch(**inputs) -> dict:
    return {"class_type": "V3Batch", "inputs": inputs}


def test_autogrow_prefix_template_slots_below_min_are_required():
    assert found(flow(batch(**{"images.image0": ["1", 0], "images.image1": ["1", 0]}))) == []
    assert found(flow(batch(**{"images.image0": ["1", 0], "images.image1": ["1", 0], "images.image3": ["1", 0]}))) == []
    assert found(flow(batch(**{"images.image1": ["1", 0]}))) == [("CD201", "images.image0")]


def test_autogrow_outer_name_is_no_input_of_its_own():
    codes = found(flow(batch(images=[["1", 0], ["1", 0]])))
    assert ("CD201", "images") not in codes and ("CD201", "images.image0") in codes


def test_autogrow_slot_past_max_is_unknown_with_the_reason():
    diags = check_workflow(flow(batch(**{"images.image0": ["1", 0], "images.image1": ["1", 0],
                                          "images.image9": ["1", 0]})), catalog=CATALOG)
    assert [(d.code, d.location.input) for d in diags] == [("CD202", "images.image9")]
    assert "4 slot(s)" in diags[0].help


def test_autogrow_slot_links_are_type_checked():
    wf = flow(batch(**{"images.image0": ["1", 0], "images.image1": ["4", 0]}), ("4", LATENT))
    assert found(wf) == [("CD301", "images.image1")]


def test_autogrow_names_template_optional_ignores_min():
    # `values` has min 2 but an optional template: no slot is required (SimpleCalculatorKJ's shape)
    base = {"images.image0": ["1", 0], "images.image1": ["1", 0]}
    assert found(flow(batch(**base))) == []
    assert found(flow(batch(**base, **{"values.a": 1.5, "values.c": 2}))) == []
    assert [c for c, _ in found(flow(batch(**base, **{"values.z": 1})))] == ["CD202"]


# -- DynamicGroup -------------------------------------------------------------------------------

def loras(**inputs) -> dict:
    return {"class_type": "V3Loras", "inputs": {"image": ["1", 0], **inputs}}


def test_dynamic_group_rows_and_fields():
    assert found(flow(loras())) == []
    assert found(flow(loras(**{"loras.0.name": "A", "loras.0.strength": 0.5, "loras.2.name": "B"}))) == []
    assert found(flow(loras(**{"loras.0.strength": 0.5}))) == [("CD201", "loras.0.name")]
    assert found(flow(loras(**{"loras.0.name": "C"}))) == [("CD405", "loras.0.name")]


@pytest.mark.parametrize("key", ["loras.00.name", "loras.0.weight", "loras.3.name", "loras.x", "loras"])
def test_dynamic_group_bad_keys_are_invalid_dynamic_input(key):
    diags = check_workflow(flow(loras(**{key: "A"})), catalog=CATALOG)
    assert [d.code for d in diags] == ["CD204"]
    assert diags[0].severity is Severity.ERROR


def test_dynamic_group_row_count_within_min_and_max():
    spec = CATALOG["V3Loras"]
    many = {f"loras.{i}.name": "A" for i in range(2)}
    assert expand_inputs(spec, many).problems == []
    raw = copy.deepcopy(dict(CATALOG.raw("V3Loras")))
    raw["input"]["optional"]["loras"][1]["min"] = 1
    strict = load_target([], builtin=True).catalog
    strict.add({"V3Loras": raw}, source="strict")
    assert [p for p, _ in expand_inputs(strict["V3Loras"], {}).problems] == ["loras"]


# -- DynamicSlot --------------------------------------------------------------------------------

def test_dynamic_slot_sub_inputs_only_when_the_slot_is_given():
    node = {"class_type": "V3Slot", "inputs": {"base": ["1", 0]}}
    assert found(flow(node)) == []
    node["inputs"]["extra"] = ["1", 0]
    assert found(flow(node)) == [("CD201", "extra.blend")]
    node["inputs"]["extra.blend"] = 0.5
    assert found(flow(node)) == []
    assert [c for c, _ in found(flow({"class_type": "V3Slot", "inputs": {"base": ["1", 0], "extra.blend": 0.5}}))] \
        == ["CD202"]


# -- MatchType ----------------------------------------------------------------------------------

def switch(on_true, on_false) -> dict:
    return {"class_type": "V3Switch", "inputs": {"switch": True, "on_true": on_true, "on_false": on_false}}


def test_matchtype_resolves_through_to_outputs():
    assert found(flow(switch(["1", 0], ["1", 0]))) == []
    # the switch's output is an IMAGE here, so it may feed a VAEEncode's `pixels`
    wf = flow(switch(["1", 0], ["1", 0]), ("4", {"class_type": "VAEEncode", "inputs": {"pixels": ["2", 0],
                                                                                       "vae": ["5", 2]}}),
              ("5", {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}}),
              ("6", {"class_type": "PreviewAny", "inputs": {"source": ["4", 0]}}))
    assert [c for c, _ in found(wf) if c.startswith("CD3")] == []


def test_matchtype_inputs_of_one_template_must_agree():
    diags = check_workflow(flow(switch(["1", 0], ["4", 0]), ("4", MASK)), catalog=CATALOG)
    assert [(d.code, d.severity) for d in diags] == [("CD302", Severity.WARNING)]


def test_matchtype_allowed_types():
    node = {"class_type": "V3ImageOrMask", "inputs": {"input": ["4", 0]}}
    assert found(flow({"class_type": "V3ImageOrMask", "inputs": {"input": ["1", 0]}})) == []
    assert ("CD302", "input") not in found(flow(node, ("4", MASK)))  # allowed (the output is then a MASK)
    assert found(flow(node, ("4", LATENT))) == [("CD302", "input")]


def test_matchtype_output_carries_the_resolved_type():
    # V3ImageOrMask fed a MASK gives a MASK: PreviewImage wants IMAGE (warning, the server accepts it)
    wf = flow({"class_type": "V3ImageOrMask", "inputs": {"input": ["4", 0]}}, ("4", MASK))
    assert found(wf) == [("CD302", "images")]
    # chained: a switch of two such nodes resolves through both
    wf = flow(switch(["5", 0], ["5", 0]), ("4", MASK),
              ("5", {"class_type": "V3ImageOrMask", "inputs": {"input": ["4", 0]}}))
    assert found(wf) == [("CD302", "images")]


def test_matchtype_link_is_never_cd301_and_a_literal_is_fine():
    assert found(flow(switch(["1", 0], 5))) == []


# -- multiselect, literal widgets, remote combos ------------------------------------------------

def tags(value) -> dict:
    return {"class_type": "V3Tags", "inputs": {"image": ["1", 0], "tags": value}}


def test_multiselect_values_are_wrapped_lists_checked_element_by_element():
    assert found(flow(tags({"__value__": ["sharp", "warm"]}))) == []
    assert found(flow(tags({"__value__": []}))) == []
    assert found(flow(tags("soft"))) == []
    diags = check_workflow(flow(tags({"__value__": ["sharp", "blurry"]})), catalog=CATALOG)
    assert [d.code for d in diags] == ["CD405"] and '"blurry"' in diags[0].message and "sharp" not in diags[0].message


def test_multiselect_note_for_servers_before_0_21():
    old = load_target([str(V3_FEATURES)]).catalog
    old.meta["test"] = {"comfyui_version": "0.19.0"}
    diags = check_workflow(flow(tags({"__value__": ["blurry"]})), catalog=old)
    assert any("0.21.0" in note for note in diags[0].notes)


def test_literal_widget_types_take_literals():
    node = {"class_type": "V3Widgets", "inputs": {
        "color": "#ff0000", "box": {"x": 1, "y": 2, "width": 3, "height": 4}, "curve": {"points": [[0, 0]]},
        "range": {"min": 0, "max": 1}, "shot": "webcam/123.png [temp]", "scene": "mesh.glb",
        "boxes": {"__value__": [{"x": 0}]}, "paint": "data"}}
    assert found(flow(node)) == []


def test_webcam_capture_in_the_builtin_catalogue():
    node = {"class_type": "WebcamCapture", "inputs": {"image": "webcam/1.png [temp]", "width": 0, "height": 0,
                                                      "capture_on_queue": True}}
    assert found(flow(node), catalog=builtin_catalog()) == []
    node["inputs"]["image"] = None  # no widget writes null: the node would get None
    assert found(flow(node), catalog=builtin_catalog()) == [("CD401", "image")]


def test_remote_combos_have_unknown_options():
    node = {"class_type": "V3Remote", "inputs": {"image": ["1", 0], "voice": "alloy-9", "style": "anything"}}
    assert found(flow(node)) == []
    assert CATALOG["V3Remote"].inputs["voice"].options is None and CATALOG["V3Remote"].inputs["voice"].remote


# -- class fields and hidden inputs -------------------------------------------------------------

def test_v3_hidden_inputs_are_one_element_lists():
    spec = CATALOG["V3Paid"]
    assert [(s.name, s.type) for s in spec.inputs.values() if s.hidden] == [
        ("auth_token_comfy_org", "AUTH_TOKEN_COMFY_ORG"), ("api_key_comfy_org", "API_KEY_COMFY_ORG"),
        ("prompt_info", "PROMPT")]


@pytest.mark.parametrize("cls, code, severity", [
    ("V3Old", "CD106", Severity.WARNING), ("V3New", "CD107", Severity.WARNING)])
def test_deprecated_and_experimental_classes_warn(cls, code, severity):
    diags = check_workflow(flow({"class_type": cls, "inputs": {"image": ["1", 0]}}), catalog=CATALOG)
    assert [(d.code, d.severity) for d in diags] == [(code, severity)]


def test_api_node_says_it_needs_a_comfy_org_key():
    diags = check_workflow(flow({"class_type": "V3Paid", "inputs": {"prompt": "a cat"}}), catalog=CATALOG)
    assert [(d.code, d.severity) for d in diags] == [("CD108", Severity.NOTE)]
    assert "comfy_org_api_key" in diags[0].help


def test_catalogue_records_its_comfyui_version():
    assert CATALOG.comfyui_version == "0.33.0"
    assert builtin_catalog().comfyui_version == "0.3.64"
    assert "__comfydsl__" not in CATALOG


# -- real catalogues and exports ----------------------------------------------------------------

def test_mmldx_export_has_only_the_unlisted_input_video_as_error():
    path = MODERN / "workflows" / "mmldx_ltx25-videoextender.api.json"
    target = load_target([str(MMLDX_CATALOG)])
    workflow = json.loads(path.read_text())
    diags = check_workflow(workflow, catalog=target.catalog, models=target.models)
    errors = [(d.code, d.location.input) for d in diags if d.severity is Severity.ERROR]
    # the export names a video that server's input folder did not list (CD405 here; CD502 once
    # the server's upload combos count as its input folder)
    assert errors in ([("CD405", "video")], [("CD502", "video")], [])
    codes = {d.code for d in diags}
    assert not codes & {"CD201", "CD203", "CD301", "CD302", "CD204"}
    assert not [d for d in diags if d.code == "CD202" and "." in (d.location.input or "")]


def test_mmldx_export_on_the_command_line():
    path = MODERN / "workflows" / "mmldx_ltx25-videoextender.api.json"
    result = invoke("lint", str(path), "--catalog", str(MMLDX_CATALOG), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    (report,) = json.loads(result.stdout)["files"]
    errors = [(d["code"], d["input"]) for d in report["diagnostics"] if d["severity"] == "error"]
    assert errors in ([("CD405", "video")], [("CD502", "video")], [])


@pytest.mark.parametrize("name", ["mmldx_h3-first-last.api.json", "mmldx_h3-image-edit.api.json"])
def test_other_mmldx_exports_have_no_v3_false_alarms(name):
    workflow = json.loads((MODERN / "workflows" / name).read_text())
    diags = check_workflow(workflow, catalog=load_target([str(MMLDX_CATALOG)]).catalog)
    assert not [d for d in diags if d.code in {"CD201", "CD203", "CD301"}
                and d.location.class_type in load_target([str(MMLDX_CATALOG)]).catalog]
    unknown = [d for d in diags if d.code == "CD101"]
    # one finding per node of a class the subset lacks, and no knock-on CD602 finding
    assert unknown and len(unknown) == len({d.location.node_id for d in unknown})
    assert not [d for d in diags if d.code == "CD602"]


def test_unknown_class_may_be_the_output_node():
    wf = {"1": copy.deepcopy(IMAGE), "2": {"class_type": "SaveToCloudX", "inputs": {"images": ["1", 0]}}}
    diags = check_workflow(wf)
    assert [d.code for d in diags] == ["CD101"]  # no CD602 (no output node) and no CD603 for `1`
    wf["3"] = {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}
    wf["4"] = {"class_type": "SaveToCloudY", "inputs": {"images": ["5", 0]}}
    wf["5"] = copy.deepcopy(IMAGE)
    assert sorted(d.code for d in check_workflow(wf)) == ["CD101", "CD101"]


def test_unknown_class_near_miss_keeps_the_catalogue_hint():
    (diag,) = check_workflow({"2": {"class_type": "PreviewImag", "inputs": {}}})
    assert "PreviewImage" in diag.help and any("--catalog" in note for note in diag.notes)
    (diag,) = check_workflow({"2": {"class_type": "QuiteUnknownThing", "inputs": {}}})
    assert "--catalog" in diag.help and not diag.notes


def test_save_image_websocket_is_builtin():
    wf = {"1": copy.deepcopy(IMAGE), "2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}}}
    assert check_workflow(wf) == []
