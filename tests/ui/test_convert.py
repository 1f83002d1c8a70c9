"""UI -> API conversion: every rule of the editor, on hand-made files."""

from __future__ import annotations

import copy
import json

import pytest
from ui_support import DATA, dynamic_catalog, load

from comfydsl.catalog import builtin_catalog
from comfydsl.ui import convert_file, convert_text, convert_ui


def codes(conv):
    return [d.code for d in conv.diagnostics]


@pytest.fixture(scope="module")
def everything():
    return convert_file(str(DATA / "everything.ui.json"), dynamic_catalog())


def test_everything_matches_the_expected_prompt(everything):
    assert everything.ok and codes(everything) == []
    assert everything.workflow == load("everything.api.json")


def test_seed_control_value_is_dropped_and_order_kept(everything):
    assert list(everything.workflow["5"]["inputs"])[:3] == ["seed", "steps", "cfg"]
    assert "control_after_generate" not in everything.workflow["5"]["inputs"]


def test_reroute_primitive_bypass(everything):
    wf = everything.workflow
    assert wf["5"]["inputs"]["model"] == ["1", 0]          # through the Reroute
    assert wf["4"]["inputs"]["width"] == 768               # the PrimitiveNode's value
    assert wf["30:1"]["inputs"]["samples"] == ["5", 0]     # LatentUpscaleBy (bypassed) passed through
    assert "22" not in wf and "21" not in wf and "20" not in wf


def test_notes_and_muted_nodes_vanish_with_their_inputs(everything):
    wf = everything.workflow
    assert not {"23", "24", "25", "54", "30:2"} & set(wf)
    assert wf["55"]["inputs"] == {}


def test_nested_subgraphs_flatten_with_promoted_values(everything):
    wf = everything.workflow
    assert wf["30:7:5"]["inputs"] == {"filename_prefix": "promoted_prefix", "images": ["30:1", 0]}
    assert wf["28"]["inputs"]["images"] == ["30:7:6", 0]
    assert everything.sources["30:7:5"].subgraphs == ("Decode and save", "Save inner")


def test_group_node_members(everything):
    wf = everything.workflow
    assert wf["40:0"]["class_type"] == "ImageScaleBy"
    assert wf["40:0"]["inputs"]["scale_by"] == 1.5
    assert wf["41"]["inputs"]["images"] == ["40:1", 0]


def test_dynamic_inputs_get_dotted_keys(everything):
    wf = everything.workflow
    assert wf["51"]["inputs"]["resize_type.multiplier"] == 0.5
    assert wf["52"]["inputs"] == {"images.image0": ["51", 0], "images.image1": ["50", 0]}


def test_titles(everything):
    assert everything.workflow["2"]["_meta"]["title"] == "Positive"
    assert everything.workflow["1"]["_meta"]["title"] == "Load Checkpoint"


def _small(**node_extra):
    node = {"id": 3, "type": "KSampler", "mode": 0, "inputs": [], "outputs": [],
            "widgets_values": [1, "fixed", 20, 7, "euler", "normal", 1]}
    node.update(node_extra)
    return {"nodes": [node], "links": []}


def test_widget_count_mismatch_is_located():
    text = json.dumps(_small(widgets_values=[1, 2]), indent=1)
    conv = convert_text(text, builtin_catalog(), path="x.json")
    assert codes(conv) == ["CD021"] and not conv.ok
    line = next(i for i, t in enumerate(text.splitlines(), 1) if '"widgets_values"' in t)
    assert conv.diagnostics[0].span.line == line and conv.diagnostics[0].span.path == "x.json"
    assert conv.diagnostics[0].json_path == "$.nodes[0].widgets_values"


def test_unknown_class_with_positional_values():
    conv = convert_ui(_small(type="NoSuchNode"), builtin_catalog())
    assert codes(conv) == ["CD020"]


def test_unknown_class_with_named_values_converts():
    data = _small(type="NoSuchNode", widgets_values_named={"a": 1, "control_after_generate": "fixed"})
    conv = convert_ui(data, builtin_catalog())
    assert conv.ok and conv.workflow["3"]["inputs"] == {"a": 1}


def test_named_values_when_positional_do_not_fit():
    named = {"seed": 5, "steps": 2, "cfg": 1, "sampler_name": "euler", "scheduler": "normal", "denoise": 1}
    conv = convert_ui(_small(widgets_values=[5, 2], widgets_values_named=named), builtin_catalog())
    assert conv.ok and conv.workflow["3"]["inputs"]["seed"] == 5


def test_legacy_force_input_dummies_are_dropped():
    catalog = builtin_catalog()
    from comfydsl.catalog import NodeCatalog
    extra = NodeCatalog({"Forced": {"input": {"required": {"a": ["INT", {"forceInput": True}], "b": ["INT", {}]}},
                                    "output": [], "output_node": True}})
    conv = convert_ui({"nodes": [{"id": 1, "type": "Forced", "widgets_values": [0, 7]}], "links": []},
                      catalog.merged(extra))
    assert conv.ok and conv.workflow["1"]["inputs"] == {"b": 7}


def test_list_values_are_wrapped():
    data = _small(type="CLIPTextEncode", widgets_values=[["a", "b"]])
    conv = convert_ui(data, builtin_catalog())
    assert conv.workflow["3"]["inputs"]["text"] == {"__value__": ["a", "b"]}


def test_missing_link_is_a_warning():
    data = _small(inputs=[{"name": "model", "type": "MODEL", "link": 99}])
    conv = convert_ui(data, builtin_catalog())
    assert codes(conv) == ["CD023"] and conv.ok


def test_reroute_loop():
    nodes = [{"id": 1, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 2}]},
             {"id": 2, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": 1}]},
             {"id": 3, "type": "PreviewImage", "inputs": [{"name": "images", "type": "IMAGE", "link": 3}]}]
    links = [[1, 1, 0, 2, 0, "*"], [2, 2, 0, 1, 0, "*"], [3, 1, 0, 3, 0, "IMAGE"]]
    conv = convert_ui({"nodes": nodes, "links": links}, builtin_catalog())
    assert codes(conv) == ["CD024"]


@pytest.mark.parametrize("data", [{"nodes": 3, "links": []}, {"nodes": [{"id": 1}], "links": []},
                                  {"nodes": [], "links": [[1, 2]]}, [], "x"])
def test_malformed(data):
    conv = convert_ui(data, builtin_catalog())
    assert codes(conv) == ["CD022"] and conv.workflow == {}


def test_does_not_modify_its_input():
    data = load("everything.ui.json")
    before = copy.deepcopy(data)
    convert_ui(data, dynamic_catalog())
    assert data == before


def test_promoted_values_follow_the_definition_inputs_when_the_instance_lists_few():
    """The editor saves only linked instance sockets; the values go to the definition's widget inputs in order."""
    inner = [{"id": 5, "type": "EmptyLatentImage", "mode": 0, "widgets_values": [512, 512, 1],
              "inputs": [{"name": "width", "type": "INT", "widget": {"name": "width"}, "link": 1},
                         {"name": "height", "type": "INT", "widget": {"name": "height"}, "link": 2}],
              "outputs": [{"name": "LATENT", "type": "LATENT", "links": [3]}]}]
    sub = {"id": "00000000-0000-4000-8000-0000000000aa", "name": "Sizes", "nodes": inner,
           "inputs": [{"name": "vae", "type": "VAE", "linkIds": []},
                      {"name": "width", "type": "INT", "linkIds": [1]},
                      {"name": "height", "type": "INT", "linkIds": [2]}],
           "outputs": [{"name": "LATENT", "type": "LATENT", "linkIds": [3]}],
           "links": [{"id": 1, "origin_id": -10, "origin_slot": 1, "target_id": 5, "target_slot": 0, "type": "INT"},
                     {"id": 2, "origin_id": -10, "origin_slot": 2, "target_id": 5, "target_slot": 1, "type": "INT"},
                     {"id": 3, "origin_id": 5, "origin_slot": 0, "target_id": -20, "target_slot": 0,
                      "type": "LATENT"}]}
    data = {"nodes": [{"id": 10, "type": sub["id"], "mode": 0, "inputs": [], "widgets_values": [768, 1024]}],
            "links": [], "definitions": {"subgraphs": [sub]}}
    conv = convert_ui(data, builtin_catalog())
    assert conv.ok and conv.workflow["10:5"]["inputs"] == {"width": 768, "height": 1024, "batch_size": 1}


# -- widgets a frontend extension shapes: ImageCompare's preview, CustomCombo's options ------------

#: The two classes as ComfyUI (autoflow-0.9 dump) describes them.
_EXTENSION_CLASSES = {
    "ImageCompare": {
        "input": {"required": {"compare_view": ["IMAGECOMPARE", {"socketless": True}]},
                  "optional": {"image_a": ["IMAGE", {}], "image_b": ["IMAGE", {}]}},
        "input_order": {"required": ["compare_view"], "optional": ["image_a", "image_b"]},
        "output": [], "output_node": True, "name": "ImageCompare"},
    "CustomCombo": {
        "input": {"required": {"choice": ["COMBO", {"multiselect": False, "options": []}]}},
        "input_order": {"required": ["choice"]}, "output": ["STRING"], "name": "CustomCombo"},
}


def _extension_catalog():
    from comfydsl.catalog import NodeCatalog

    return builtin_catalog().merged(NodeCatalog(copy.deepcopy(_EXTENSION_CLASSES), source="extensions"))


def _one(node_type, values, inputs=()):
    return {"nodes": [{"id": 7, "type": node_type, "mode": 0, "inputs": list(inputs), "outputs": [],
                       "widgets_values": values}], "links": []}


def test_image_compare_preview_is_sent_though_not_saved():
    """The current editor does not save `compare_view` (widget.serialize = false) but sends it, with
    the empty pair it holds after loading; older editors saved it, and then the saved value is sent."""
    conv = convert_ui(_one("ImageCompare", []), _extension_catalog())
    assert codes(conv) == []
    assert conv.workflow["7"]["inputs"] == {"compare_view": {"__value__": ["", ""]}}
    older = convert_ui(_one("ImageCompare", [{"before": "a.png", "after": "b.png"}]), _extension_catalog())
    assert codes(older) == []
    assert older.workflow["7"]["inputs"] == {"compare_view": {"before": "a.png", "after": "b.png"}}
    too_many = convert_ui(_one("ImageCompare", [1, 2]), _extension_catalog())
    assert codes(too_many) == ["CD021"]


def test_custom_combo_sends_index_and_the_user_options():
    """The editor adds `index` and one `optionN` text widget per option, plus an empty last one."""
    conv = convert_ui(_one("CustomCombo", ["soft", 1, "hard", "soft", ""]), _extension_catalog())
    assert codes(conv) == []
    assert conv.workflow["7"]["inputs"] == {"choice": "soft", "index": 1, "option1": "hard", "option2": "soft",
                                            "option3": ""}


def test_extension_widgets_written_as_the_editor_saves_them():
    from comfydsl.ui import write_ui

    api = {"1": {"class_type": "CustomCombo", "inputs": {"choice": "b", "index": 1, "option1": "a",
                                                          "option2": "b", "option3": ""}},
           "2": {"class_type": "ImageCompare", "inputs": {"compare_view": {"__value__": ["", ""]}}}}
    ui, diags = write_ui(api, _extension_catalog())
    assert [d.code for d in diags if d.is_error] == []
    values = {n["type"]: n["widgets_values"] for n in ui["nodes"]}
    assert values == {"CustomCombo": ["b", 1, "a", "b", ""], "ImageCompare": []}
    back = convert_ui(ui, _extension_catalog())
    assert {k: v["inputs"] for k, v in back.workflow.items()} == {k: v["inputs"] for k, v in api.items()}
