"""UI files and ComfyUI images wherever a workflow is read: lint (every output format), run,
decompile, graph, `Graph.from_workflow`, `decompile()`; and the other way, `compile --format ui`."""

from __future__ import annotations

import json

import jsonschema
import pytest
from support import ROOT, invoke
from ui_support import TXT2IMG, png_with, subgraph_with_error

from comfydsl.catalog import builtin_catalog
from comfydsl.errors import ConversionError, WorkflowError
from comfydsl.ui import convert_ui, read_workflow, to_api, write_ui

RECIPES = ROOT / "recipes"
UI_NODE = 'at UI node 5 ("My sampler") in subgraph `Inner`'


def _ui_text(data) -> str:
    return json.dumps(data, indent=2)


@pytest.fixture
def sub_file(tmp_path):
    path = tmp_path / "sub.json"
    path.write_text(_ui_text(subgraph_with_error()))
    return path


def _line_of_inner_node(path) -> int:
    """The line of the inner KSampler's `{` in the file (where findings about it point)."""
    lines = path.read_text().splitlines()
    title = next(i for i, line in enumerate(lines) if '"My sampler"' in line)
    return next(i for i in range(title, -1, -1) if lines[i].strip() == "{") + 1


# -- lint: every output format names the UI node and points into the UI file -----------------


def test_lint_text_and_concise(sub_file):
    line = _line_of_inner_node(sub_file)
    for fmt in ("text", "concise"):
        res = invoke("lint", sub_file, "--format", fmt)
        assert res.returncode == 1
        assert f"{sub_file}:" in res.stdout and UI_NODE in res.stdout, fmt
    concise = invoke("lint", sub_file, "--format", "concise").stdout
    missing = [ln for ln in concise.splitlines() if "CD201" in ln and "`model`" in ln]
    assert missing and missing[0].startswith(f"{sub_file}:{line}:")
    assert "node `10:5` (`KSampler`)" in missing[0]


def test_lint_json(sub_file):
    report = json.loads(invoke("lint", sub_file, "--format", "json").stdout)
    (found,) = [d for f in report["files"] for d in f["diagnostics"]
                if d["code"] == "CD201" and d["input"] == "model"]
    assert report["files"][0]["kind"] == "ui"
    assert found["node_id"] == "10:5" and UI_NODE in found["message"]
    assert found["span"]["line"] == _line_of_inner_node(sub_file)
    assert found["json_path"] == "$.definitions.subgraphs[0].nodes[0]"


def test_lint_github(sub_file):
    out = invoke("lint", sub_file, "--format", "github").stdout
    line = next(ln for ln in out.splitlines() if "CD201" in ln and "`model`" in ln)
    assert line.startswith(f"::error file={sub_file},line={_line_of_inner_node(sub_file)},")
    assert UI_NODE in line


def test_lint_sarif(sub_file):
    sarif = json.loads(invoke("lint", sub_file, "--format", "sarif").stdout)
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "CD201"
               and r["properties"]["input"] == "model"]
    (result,) = results
    assert UI_NODE in result["message"]["text"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == _line_of_inner_node(sub_file)
    logical = result["locations"][0]["logicalLocations"][0]
    assert logical["name"] == "10:5" and logical["fullyQualifiedName"] == "$.definitions.subgraphs[0].nodes[0]"


# -- lint of images ------------------------------------------------------------------------------


def test_lint_image_reads_the_prompt_first(tmp_path):
    broken = dict(TXT2IMG)
    broken["3"] = {**TXT2IMG["3"], "inputs": {**TXT2IMG["3"]["inputs"], "steps": "many"}}
    ui = write_ui(TXT2IMG, builtin_catalog())[0]
    image = tmp_path / "out.png"
    image.write_bytes(png_with(prompt=json.dumps(broken, indent=1), workflow=json.dumps(ui)))
    res = invoke("lint", image, "--format", "concise")
    assert res.returncode == 1 and "CD401" in res.stdout and f"{image}:" in res.stdout


def test_lint_image_with_only_a_ui_workflow(tmp_path):
    image = tmp_path / "ui.png"
    image.write_text("")
    image.write_bytes(png_with(workflow=_ui_text(subgraph_with_error())))
    res = invoke("lint", image, "--format", "json")
    (result,) = json.loads(res.stdout)["files"]
    assert result["kind"] == "ui" and any(UI_NODE in d["message"] for d in result["diagnostics"])


def test_image_without_metadata_named_is_a_finding_searched_is_skipped(tmp_path):
    (tmp_path / "photo.png").write_bytes(png_with())
    (tmp_path / "clean.PNG").write_bytes(png_with(prompt=json.dumps(TXT2IMG)))
    named = invoke("lint", tmp_path / "photo.png", "--format", "concise")
    assert named.returncode == 1 and "CD002" in named.stdout and "no ComfyUI" in named.stdout
    searched = invoke("lint", tmp_path, "--format", "json")
    assert searched.returncode == 0, searched.stdout
    files = [f["path"] for f in json.loads(searched.stdout)["files"]]
    assert files == [str(tmp_path / "clean.PNG")]
    assert "skipped 1 file(s) that hold no workflow" in searched.stderr


def test_truncated_image_named_is_a_finding(tmp_path):
    image = tmp_path / "cut.png"
    image.write_bytes(png_with(prompt=json.dumps(TXT2IMG))[:-30])
    res = invoke("lint", image, "--format", "concise")
    assert res.returncode == 1 and "cannot read the image" in res.stdout


# -- the one reader of run, decompile and graph ------------------------------------------------


def test_read_workflow_kinds(tmp_path):
    catalog = builtin_catalog()
    ui = write_ui(TXT2IMG, catalog)[0]
    (tmp_path / "ui.json").write_text(json.dumps(ui))
    doc, found = read_workflow(str(tmp_path / "ui.json"), catalog, check=True)
    assert doc.kind == "ui" and found == [] and _core(doc.workflow) == _core(TXT2IMG)
    (tmp_path / "p.png").write_bytes(png_with(prompt=json.dumps(TXT2IMG), workflow=json.dumps(ui)))
    doc, _ = read_workflow(str(tmp_path / "p.png"), catalog)
    assert doc.kind == "api" and doc.workflow == TXT2IMG
    (tmp_path / "w.png").write_bytes(png_with(workflow=json.dumps(ui)))
    doc, _ = read_workflow(str(tmp_path / "w.png"), catalog)
    assert doc.kind == "ui" and _core(doc.workflow) == _core(TXT2IMG)
    (tmp_path / "none.png").write_bytes(png_with())
    with pytest.raises(WorkflowError, match="no ComfyUI"):
        read_workflow(str(tmp_path / "none.png"), catalog)
    with pytest.raises(WorkflowError, match="cannot read"):
        read_workflow(str(tmp_path / "missing.json"), catalog)


def test_read_workflow_check_locates_in_the_ui_file(sub_file):
    doc, found = read_workflow(str(sub_file), builtin_catalog(), check=True)
    assert doc.workflow and any(d.code == "CD201" and UI_NODE in d.message and d.location.span.path == str(sub_file)
                                for d in found)


def test_unconvertible_ui_has_no_workflow(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"nodes": [{"id": 1, "type": "NoSuchNode", "widgets_values": [1]}], "links": []}))
    doc, found = read_workflow(str(path), builtin_catalog())
    assert doc.workflow is None and [d.code for d in found] == ["CD020"]


def test_run_prepares_a_ui_file_as_its_api_workflow(tmp_path):
    from comfydsl.backends.batch import prepare_jobs
    from comfydsl.target import load_target

    path = tmp_path / "ui.json"
    path.write_text(json.dumps(write_ui(TXT2IMG, builtin_catalog())[0]))
    image = tmp_path / "made.png"
    image.write_bytes(png_with(prompt=json.dumps(TXT2IMG)))
    prepared = prepare_jobs([str(path), str(image)], target=load_target())
    assert [_core(job.body["input"]["workflow"]) for job in prepared.jobs] == [_core(TXT2IMG)] * 2
    sub = tmp_path / "sub.json"
    sub.write_text(_ui_text(subgraph_with_error()))
    prepared = prepare_jobs([str(sub)], target=load_target())
    assert prepared.jobs == [] and any(UI_NODE in d.message for _, d in prepared.diagnostics)


def test_decompile_and_graph_take_ui_files_and_images(tmp_path):
    ui = tmp_path / "ui.json"
    document = write_ui(TXT2IMG, builtin_catalog())[0]
    ui.write_text(json.dumps(document))
    res = invoke("decompile", ui)
    assert res.returncode == 0, res.stderr
    assert "KSampler(" in res.stdout
    image = tmp_path / "made.png"  # its prompt: what the editor sends for that UI file (titles included)
    image.write_bytes(png_with(prompt=json.dumps(convert_ui(document, builtin_catalog()).workflow)))
    assert invoke("decompile", image).stdout == invoke("decompile", ui).stdout.replace("ui.json", "made.png")
    picture = invoke("graph", ui)
    assert picture.returncode == 0 and "KSampler" in picture.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": [{"id": 1, "type": "NoSuchNode", "widgets_values": [1]}], "links": []},
                              indent=1))
    for command in ("decompile", "graph"):
        res = invoke(command, bad)
        assert res.returncode == 1 and "CD020" in res.stderr and f"{bad}:" in res.stderr, command
    none = tmp_path / "none.png"
    none.write_bytes(png_with())
    res = invoke("graph", none)
    assert res.returncode != 0 and "no ComfyUI" in res.stderr


def test_python_api_converts_ui_data():
    from comfydsl.dsl.decompile import decompile
    from comfydsl.graph import Graph

    catalog = builtin_catalog()
    ui = write_ui(TXT2IMG, catalog)[0]
    graph = Graph.from_workflow(ui, catalog)
    assert _core(graph.to_workflow()) == _core(TXT2IMG)
    assert decompile(ui, catalog) == decompile(graph.to_workflow(), catalog)
    assert to_api(TXT2IMG) is TXT2IMG
    bad = {"nodes": [{"id": 1, "type": "NoSuchNode", "widgets_values": [1]}], "links": []}
    with pytest.raises(ConversionError) as info:
        Graph.from_workflow(bad, catalog)
    assert isinstance(info.value, ValueError) and info.value.diagnostics[0].code == "CD020"
    assert "NoSuchNode" in str(info.value)


# -- the other way: compile --format ui, Graph.to_ui ------------------------------------------

#: The required part of the editor's schema for a version 0.4 file (`zComfyWorkflow`, `zComfyNode`,
#: `zComfyLink` in ComfyUI_frontend's workflowSchema.ts), as JSON Schema.
_VEC2 = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_ID = {"type": ["integer", "string"]}
EDITOR_SCHEMA = {
    "type": "object",
    "required": ["last_node_id", "last_link_id", "nodes", "links", "version"],
    "properties": {
        "last_node_id": _ID, "last_link_id": {"type": "number"}, "version": {"type": "number"},
        "groups": {"type": "array"}, "config": {"type": ["object", "null"]}, "extra": {"type": ["object", "null"]},
        "links": {"type": "array", "items": {
            "type": "array", "minItems": 6, "maxItems": 6,
            "prefixItems": [{"type": "number"}, _ID, {"type": "integer"}, _ID, {"type": "integer"},
                            {"type": ["string", "array", "number"]}]}},
        "nodes": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "type", "pos", "size", "flags", "order", "mode", "properties"],
            "properties": {
                "id": _ID, "type": {"type": "string"}, "pos": _VEC2, "size": _VEC2, "flags": {"type": "object"},
                "order": {"type": "number"}, "mode": {"type": "number"}, "properties": {"type": "object"},
                "title": {"type": "string"}, "widgets_values": {"type": ["array", "object"]},
                "inputs": {"type": "array", "items": {"type": "object", "required": ["name", "type"],
                                                      "properties": {"link": {"type": ["integer", "null"]}}}},
                "outputs": {"type": "array", "items": {"type": "object", "required": ["name", "type"],
                                                       "properties": {"links": {"type": ["array", "null"]}}}},
            }}},
    },
}


def _core(wf):
    return {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in wf.items()}


@pytest.mark.parametrize("recipe", ["sdxl_lora.comfy", "flux_upscaled.comfy", "img2img.comfy"])
def test_compile_format_ui_opens_in_the_editor_and_converts_back(tmp_path, recipe):
    ui_out, api_out = tmp_path / "out.ui.json", tmp_path / "out.api.json"
    res = invoke("compile", RECIPES / recipe, "--format", "ui", "-o", ui_out, cwd=RECIPES)
    assert res.returncode == 0, res.stderr
    assert invoke("compile", RECIPES / recipe, "-o", api_out, cwd=RECIPES).returncode == 0
    document = json.loads(ui_out.read_text())
    jsonschema.validate(document, EDITOR_SCHEMA)
    link_ids = [link[0] for link in document["links"]]
    assert len(set(link_ids)) == len(link_ids) and document["last_link_id"] == max(link_ids, default=0)
    assert document["last_node_id"] == max(n["id"] for n in document["nodes"])
    back = convert_ui(document, builtin_catalog())
    assert back.ok and _core(back.workflow) == _core(json.loads(api_out.read_text()))


def test_compile_format_ui_refuses_an_envelope():
    res = invoke("compile", RECIPES / "sdxl_lora.comfy", "--format", "ui", "--envelope", "runpod", cwd=RECIPES)
    assert res.returncode == 2 and "--format ui" in res.stderr


def test_graph_to_ui():
    from comfydsl.graph import Graph

    graph = Graph.from_workflow(TXT2IMG)
    document = graph.to_ui()
    jsonschema.validate(document, EDITOR_SCHEMA)
    assert _core(convert_ui(document, graph.catalog).workflow) == _core(TXT2IMG)
    titles = {n["type"]: n.get("title") for n in document["nodes"]}
    assert titles["CheckpointLoaderSimple"] == "Checkpoint"
