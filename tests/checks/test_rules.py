"""One test (at least) per rule: a small defect in a valid workflow gives exactly that code."""

from __future__ import annotations

import copy
import json

import pytest

from comfydsl.catalog import ModelCatalog
from comfydsl.rules.codes import all_rules, workflow_rules
from comfydsl.diagnostics import Severity
from comfydsl.workflow.document import read_document
from comfydsl.validate import check_document, check_workflow

BASE = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {
        "seed": 1, "steps": 20, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
        "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "out", "images": ["8", 0]}},
}
MODELS = ModelCatalog({"checkpoints": ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"]})


def codes(workflow, **options):
    return [d.code for d in check_workflow(workflow, **options)]


def mutate(fn):
    wf = copy.deepcopy(BASE)
    fn(wf)
    return wf


def test_base_is_clean():
    assert codes(BASE, models=MODELS) == []


@pytest.mark.parametrize("change, expected", [
    (lambda w: w.__setitem__("5", ["EmptyLatentImage"]), ["CD005"]),
    (lambda w: w["5"].pop("inputs"), ["CD006"]),
    (lambda w: w["5"].__setitem__("inputs", ["width", "height"]), ["CD006"]),
    (lambda w: w["5"].__setitem__("inputs", None), ["CD006"]),
    (lambda w: w["3"]["inputs"].__setitem__("model", [4, 0]), ["CD007"]),
    (lambda w: w["3"]["inputs"].__setitem__("model", ["4", "0"]), ["CD007"]),
    (lambda w: w["3"]["inputs"].__setitem__("model", ["4", 0, 0]), ["CD007"]),
    (lambda w: w["3"]["inputs"].__setitem__("cfg", [1.0, 2.0]), ["CD007"]),
    (lambda w: w.__setitem__("", w.pop("5")) or w["3"]["inputs"].__setitem__("latent_image", ["", 0]), ["CD008"]),
    (lambda w: w["3"].__setitem__("class_type", "KSamplr"), ["CD101"]),
    (lambda w: w["3"].pop("class_type"), ["CD102"]),
    (lambda w: w["3"].__setitem__("class_type", 3), ["CD102"]),
    (lambda w: w["8"]["inputs"].__setitem__("vae", ["40", 2]), ["CD103"]),
    (lambda w: w["8"]["inputs"].__setitem__("vae", ["4", 3]), ["CD104"]),
    (lambda w: w["8"]["inputs"].__setitem__("vae", ["4", -4]), ["CD104", "CD105"]),
    (lambda w: w["8"]["inputs"].__setitem__("vae", ["4", -1]), ["CD105"]),
    (lambda w: w["3"]["inputs"].pop("seed"), ["CD201"]),
    (lambda w: w["3"]["inputs"].pop("model"), ["CD201"]),
    (lambda w: w["3"]["inputs"].__setitem__("sead", 5), ["CD202"]),
    (lambda w: w["3"]["inputs"].__setitem__("model", 0), ["CD203"]),
    (lambda w: w["3"]["inputs"].__setitem__("model", ["4", 1]), ["CD301"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", "abc"), ["CD401"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", None), ["CD401"]),
    (lambda w: w["9"]["inputs"].__setitem__("filename_prefix", {"text": "x"}), ["CD401"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", "20"), ["CD402"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", 20.7), ["CD402"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", True), ["CD402"]),
    (lambda w: w["3"]["inputs"].__setitem__("denoise", "0.5"), ["CD402"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", 0), ["CD403"]),
    (lambda w: w["3"]["inputs"].__setitem__("denoise", -0.5), ["CD403"]),
    (lambda w: w["3"]["inputs"].__setitem__("steps", "0"), ["CD402", "CD403"]),
    (lambda w: w["3"]["inputs"].__setitem__("cfg", 101), ["CD404"]),
    (lambda w: w["3"]["inputs"].__setitem__("sampler_name", "euler_a"), ["CD405"]),
    (lambda w: w["4"]["inputs"].__setitem__("ckpt_name", "sdxl.safetensors"), ["CD501"]),
    (lambda w: w["3"]["inputs"].__setitem__("latent_image", ["8", 0]), ["CD301", "CD601", "CD603"]),
    (lambda w: w.pop("9"), ["CD602"]),
    (lambda w: w.__setitem__("20", {"class_type": "EmptyLatentImage",
                                    "inputs": {"width": 64, "height": 64, "batch_size": 1}}), ["CD603"]),
])
def test_rule(change, expected):
    assert sorted(set(codes(mutate(change), models=MODELS))) == expected


def test_every_check_rule_is_tested_here():
    # the V3-schema rules need V3 classes: tests/checks/test_v3.py has them
    source = open(__file__).read() + open(__file__.replace("test_rules.py", "test_v3.py")).read()
    untested = [r.code for r in workflow_rules() if f'"{r.code}"' not in source]
    assert untested == []


def test_value_in_dict_wrapper_is_unwrapped():
    wf = mutate(lambda w: w["3"]["inputs"].__setitem__("steps", {"__value__": 0}))
    assert codes(wf) == ["CD403"]


def test_int_conversion_truncates_before_range_check():
    # ComfyUI runs int(0.5) == 0, which is below the minimum 1 of `steps`.
    wf = mutate(lambda w: w["3"]["inputs"].__setitem__("steps", 0.5))
    assert sorted(codes(wf)) == ["CD402", "CD403"]


def test_non_finite_numbers_are_errors():
    wf = mutate(lambda w: w["3"]["inputs"].__setitem__("cfg", float("nan")))
    assert codes(wf) == ["CD401"]


def test_unused_node_problems_are_warnings():
    wf = mutate(lambda w: w.__setitem__("20", {"class_type": "EmptyLatentImage",
                                               "inputs": {"width": 0, "height": 64, "batch_size": 1}}))
    found = {d.code: d for d in check_workflow(wf)}
    assert found["CD403"].severity is Severity.WARNING
    assert found["CD603"].severity is Severity.WARNING
    assert "feeds no output" in found["CD403"].notes[0]


def test_unknown_class_is_an_error_even_in_an_unused_node():
    wf = mutate(lambda w: w.__setitem__("20", {"class_type": "NoSuchNode", "inputs": {}}))
    found = [d for d in check_workflow(wf) if d.code == "CD101"]
    assert found and found[0].severity is Severity.ERROR


def test_one_broken_output_branch_is_an_error():
    wf = mutate(lambda w: w.update({
        "30": {"class_type": "ImageScaleBy", "inputs": {"image": ["8", 0], "upscale_method": "nearest-exact",
                                                        "scale_by": 100}},
        "31": {"class_type": "PreviewImage", "inputs": {"images": ["30", 0]}}}))
    found = [d for d in check_workflow(wf) if d.is_error]
    assert [(d.code, d.node_id) for d in found] == [("CD404", "30")]


def test_comboform_options_are_checked():
    wf = mutate(lambda w: w.update({
        "30": {"class_type": "UpscaleModelLoader", "inputs": {"model_name": "4x-UltraSharp.pth"}}}))
    assert "CD405" not in codes(wf)


def test_model_files_unchecked_without_inventory():
    wf = mutate(lambda w: w["4"]["inputs"].__setitem__("ckpt_name", "anything.safetensors"))
    assert codes(wf) == []


def test_model_suggestion_lists_close_names():
    wf = mutate(lambda w: w["4"]["inputs"].__setitem__("ckpt_name", "v1-5-pruned.safetensors"))
    (diag,) = check_workflow(wf, models=MODELS)
    assert "v1-5-pruned-emaonly.safetensors" in diag.help


def test_virtual_model_names_pass():
    wf = mutate(lambda w: w.update({"30": {"class_type": "VAELoader", "inputs": {"vae_name": "pixel_space"}}}))
    assert "CD501" not in codes(wf, models=MODELS)


def test_upload_checks_runpod_images():
    wf = mutate(lambda w: w.update({
        "30": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
        "31": {"class_type": "PreviewImage", "inputs": {"images": ["30", 0]}}}))
    assert codes(wf, input_files=[]) == ["CD502"]
    assert codes(wf, input_files=["face.png"]) == []
    body = {"input": {"workflow": wf, "images": [{"name": "face.png", "image": "aGVsbG8="}]}}
    doc = read_document(json.dumps(body))
    assert doc.kind == "runpod" and [d.code for d in check_document(doc)] == []
    inputs_on_volume = ModelCatalog({"input": ["face.png"], **MODELS.folders})
    assert codes(wf, models=inputs_on_volume) == []


def test_bare_workflow_inputs_are_checked_only_against_an_inventory():
    wf = mutate(lambda w: w.update({
        "30": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
        "31": {"class_type": "PreviewImage", "inputs": {"images": ["30", 0]}}}))
    assert codes(wf) == []  # no inventory of the input folder: not checked
    assert codes(wf, models=MODELS) == []  # models known, input folder not
    listed = ModelCatalog({"input": ["fase.png"], **MODELS.folders})
    (diag,) = check_workflow(wf, models=listed)
    assert diag.code == "CD502" and "input folder" in diag.message and "`fase.png`" in diag.help
    assert codes(wf, models=ModelCatalog({"input": ["face.png"], **MODELS.folders})) == []


def test_model_in_unread_folder_says_where_to_move_it():
    from comfydsl.catalog.inventory import FileEntry, Listing

    listing = Listing("runpod-volume", "vol", [FileEntry("models/diffusion_models/flux.safetensors"),
                                               FileEntry("checkpoints/root.safetensors"),
                                               FileEntry("models/checkpoints/ok.safetensors")])
    wf = mutate(lambda w: w["4"]["inputs"].__setitem__("ckpt_name", "root.safetensors"))
    (diag,) = check_workflow(wf, models=listing.catalog("5.8.5"))
    assert diag.code == "CD503" and diag.help == "move it to `models/checkpoints/root.safetensors`"
    assert "`checkpoints/root.safetensors`" in diag.message
    wf["4"]["inputs"]["ckpt_name"] = "ok.safetensors"
    wf["40"] = {"class_type": "UNETLoader", "inputs": {"unet_name": "flux.safetensors", "weight_dtype": "default"}}
    found = check_workflow(wf, models=listing.catalog("5.8.5"))
    assert [(d.code, d.node_id, d.help) for d in found if d.code.startswith("CD5")] == [
        ("CD503", "40", "move it to `models/unet/flux.safetensors`")]
    # the development line reads models/diffusion_models/
    assert not [d for d in check_workflow(wf, models=listing.catalog("dev")) if d.code.startswith("CD5")]
    wf["40"]["inputs"]["unet_name"] = "other.safetensors"
    assert "CD501" in codes(wf, models=listing.catalog("5.8.5"))


def test_unknown_class_suggestions():
    wf = mutate(lambda w: w["3"].__setitem__("class_type", "ksampler"))
    (diag,) = [d for d in check_workflow(wf) if d.code == "CD101"]
    assert "`KSampler`" in diag.help
    wf = mutate(lambda w: w["4"].__setitem__("class_type", "Load Checkpoint"))
    (diag,) = [d for d in check_workflow(wf) if d.code == "CD101"]
    assert "CheckpointLoaderSimple" in diag.help


def test_link_type_union_and_wildcard():
    wf = mutate(lambda w: w.update({"30": {"class_type": "PreviewAny", "inputs": {"source": ["4", 0]}}}))
    assert codes(wf) == []


def test_duplicate_ids_found_in_raw_text():
    text = ('{"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},'
            ' "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}},'
            ' "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}}}')
    doc = read_document(text, "dup.json")
    assert [d.code for d in check_document(doc)] == ["CD004"]


@pytest.mark.parametrize("text, code", [
    ("{", "CD001"),
    ("[1, 2]", "CD002"),
    ('{"name": "x", "version": 1}', "CD002"),
    ('{"nodes": [], "links": []}', "CD003"),
    ('{"input": {"workflow": 5}}', "CD002"),
])
def test_reading_problems(text, code):
    doc = read_document(text, "f.json")
    assert [d.code for d in check_document(doc)] == [code]


def test_invalid_json_is_located():
    doc = read_document('{\n  "1": {,\n}', "f.json")
    (diag,) = doc.diagnostics
    assert (diag.span.line, diag.span.column) == (2, 9)


def test_prompt_envelope():
    doc = read_document(json.dumps({"prompt": BASE, "client_id": "x"}))
    assert doc.kind == "prompt" and check_document(doc) == []


def test_rules_are_documented_and_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
    for rule in rules:
        assert rule.code[:2] == "CD" and len(rule.code) == 5
        assert rule.name == rule.name.lower() and " " not in rule.name
        for section in ("**Why is this bad?**", "**Example:**", "**Use instead:**"):
            assert section in rule.doc(), (rule.code, section)


def test_select_and_ignore():
    wf = mutate(lambda w: (w["3"]["inputs"].__setitem__("steps", 0), w["3"]["inputs"].__setitem__("sead", 1)))
    assert codes(wf, select=["CD4"]) == ["CD403"]
    assert codes(wf, ignore=["unknown-input"]) == ["CD403"]


def test_json_number_beyond_the_digit_limit_is_a_located_cd001():
    import sys

    from comfydsl.workflow.document import read_document

    text = '{\n  "1": {"class_type": "EmptyImage",\n    "inputs": {"width": ' + "9" * (sys.get_int_max_str_digits() + 5) + "}}}"
    doc = read_document(text, "big.json")
    assert doc.kind == "invalid" and [d.code for d in doc.diagnostics] == ["CD001"]
    span = doc.diagnostics[0].location.span
    assert (span.path, span.line, span.column) == ("big.json", 3, 25)
    deep = read_document("[" * 100_000 + "]" * 100_000, "deep.json")
    assert deep.diagnostics[0].location.span.line == 1  # nested too deeply: still located


def test_json_byte_order_mark_is_named_in_plain_words():
    from comfydsl.workflow.document import read_document

    doc = read_document('\ufeff{"1": {"class_type": "SaveImage", "inputs": {}}}', "bom.json")
    (diag,) = doc.diagnostics
    assert diag.code == "CD001" and "byte order mark" in diag.message and "utf-8-sig" not in diag.message
    assert "without a byte order mark" in diag.help and diag.location.span.line == 1


def test_option_suggestions_are_difflibs_and_bounded_per_workflow():
    import difflib

    from comfydsl.catalog import builtin_catalog
    from comfydsl.catalog.names import SEARCH_LIMIT

    options = [o for o in builtin_catalog().get("KSampler").inputs["sampler_name"].options if isinstance(o, str)]
    for bad in ("eulr", "euler_ancestrall", "dpmpp_2m_sde_gpuu", "zzz"):
        wf = mutate(lambda w: w["3"]["inputs"].__setitem__("sampler_name", bad))
        (diag,) = [d for d in check_workflow(wf) if d.code == "CD405"]
        close = difflib.get_close_matches(bad, options, n=3, cutoff=0.5)
        if close:
            assert diag.help == "the closest options are: " + ", ".join(f"`{c}`" for c in close)
        else:
            assert "closest" not in diag.help
    # a workflow with very many distinct bad values: suggestions for the first SEARCH_LIMIT, then
    # the plain help, so the cost stays linear in the size of the file
    many = copy.deepcopy(BASE)
    for i in range(SEARCH_LIMIT + 50):
        many[str(100 + i)] = {**copy.deepcopy(BASE["3"]), "class_type": "KSampler"}
        many[str(100 + i)]["inputs"]["sampler_name"] = f"eulerx{i:04d}"
    helps = [d.help for d in check_workflow(many) if d.code == "CD405"]
    assert len(helps) == SEARCH_LIMIT + 50
    assert all("closest" in h for h in helps[:SEARCH_LIMIT]) and not any("closest" in h for h in helps[SEARCH_LIMIT:])
