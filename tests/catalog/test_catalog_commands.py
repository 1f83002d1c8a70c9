"""`comfydsl catalog pull|diff` and `comfydsl nodes`, against the loopback fake ComfyUI."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

from comfydsl.catalog.diff import diff_catalogs
from comfydsl.catalog.nodes import NodeCatalog
from comfydsl.catalog.pull import CATALOG_META_KEY, catalog_meta, pull_catalog
from comfydsl.cli import main
from comfydsl.errors import CatalogError
from comfydsl.target import load_target

from support import OBJECT_INFO

sys.path.insert(0, str(Path(__file__).parents[1] / "serve"))
from fake_comfyui import FakeComfyUI  # noqa: E402

WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}},
}


@pytest.fixture()
def comfy():
    with FakeComfyUI() as fake:
        yield fake


def test_pull_whole_catalogue_records_the_version(comfy, tmp_path, capsys):
    out = tmp_path / "cat.json"
    assert main(["catalog", "pull", comfy.url, "-o", str(out)]) == 0
    assert "ComfyUI 0.3.64" in capsys.readouterr().err
    raw = json.loads(out.read_text())
    meta = raw[CATALOG_META_KEY]
    assert meta["comfyui_version"] == "0.3.64" and meta["source"] == comfy.url and meta["pulled"].endswith("Z")
    assert len(raw) - 1 == len(json.loads(OBJECT_INFO.read_text())) and comfy.object_info_requests == 1
    # readers skip the reserved key
    target = load_target([str(out)], builtin=False)
    assert CATALOG_META_KEY not in target.catalog and "KSampler" in target.catalog
    assert main(["catalog", "pull", comfy.url, "-o", str(out)]) == 2  # exists: needs --force
    assert main(["catalog", "pull", comfy.url, "-o", str(out), "--force"]) == 0


def test_pull_for_workflows_asks_per_class(comfy, tmp_path, capsys):
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps({"input": {"workflow": {**WORKFLOW, "3": {"class_type": "NoSuchNode", "inputs": {}}}}}))
    recipe = Path(__file__).parents[2] / "recipes" / "img2img.comfy"
    out = tmp_path / "cat.json"
    assert main(["catalog", "pull", comfy.url, "-o", str(out), "--for", str(wf), str(recipe)]) == 0
    assert "no class `NoSuchNode`" in capsys.readouterr().err
    raw = json.loads(out.read_text())
    assert comfy.object_info_requests == 0 and "NoSuchNode" in comfy.class_requests
    assert {"EmptyImage", "SaveImage", "LoadImage", "KSampler"} <= set(raw)
    assert raw[CATALOG_META_KEY]["missing"] == ["NoSuchNode"]


def test_pull_without_system_stats_and_unreachable(comfy):
    comfy.version = None
    raw = pull_catalog(comfy.url, classes=["KSampler"])
    assert raw[CATALOG_META_KEY]["comfyui_version"] is None and list(raw) == [CATALOG_META_KEY, "KSampler"]
    with pytest.raises(CatalogError, match="cannot reach"):
        pull_catalog("http://127.0.0.1:9", timeout=2)


def test_pull_rejects_non_urls_and_bad_workflows(tmp_path, capsys):
    assert main(["catalog", "pull", "localhost:8188", "-o", str(tmp_path / "c.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x"}')
    assert main(["catalog", "pull", "http://127.0.0.1:9", "-o", str(tmp_path / "c.json"), "--for", str(bad)]) == 2
    assert "holds no workflow" in capsys.readouterr().err


def _raw():
    return json.loads(OBJECT_INFO.read_text())


def test_diff_kinds():
    old, new = _raw(), _raw()
    ks = new["KSampler"]["input"]["required"]
    ks["steps"][1]["max"] = 100  # narrowed
    ks["cfg"][1]["min"] = -1.0  # widened
    ks["sampler_name"][0] = [s for s in ks["sampler_name"][0] if s != "euler"] + ["new_sampler"]
    ks["extra"] = ["INT", {"default": 1}]  # a new required input
    new["KSampler"]["input"].setdefault("optional", {})["note"] = ["STRING", {}]
    new["EmptyImage"]["input"]["required"]["width"][1]["default"] = 1024
    new["VAEDecode"]["output"] = ["LATENT"]
    del new["SaveImage"]
    new["Brand"] = {"input": {}, "output": []}
    new[CATALOG_META_KEY] = {"comfyui_version": "0.4.0"}
    new["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"][0] = ["other.safetensors"]
    changes = {(c.kind, c.class_type, c.input): c.breaking for c in diff_catalogs(old, new)}
    assert changes[("range-narrowed", "KSampler", "steps")] is True
    assert changes[("range-widened", "KSampler", "cfg")] is False
    assert changes[("options-removed", "KSampler", "sampler_name")] is True
    assert changes[("options-added", "KSampler", "sampler_name")] is False
    assert changes[("input-added", "KSampler", "extra")] is True
    assert changes[("input-added", "KSampler", "note")] is False
    assert changes[("default-changed", "EmptyImage", "width")] is False
    assert changes[("output-type-changed", "VAEDecode", None)] is True
    assert changes[("class-removed", "SaveImage", None)] is True
    assert changes[("class-added", "Brand", None)] is False
    assert changes[("files", "CheckpointLoaderSimple", "ckpt_name")] is False
    assert not any(key[1] == CATALOG_META_KEY for key in changes)


def test_diff_section_and_type_changes():
    old, new = _raw(), _raw()
    denoise = new["KSampler"]["input"]["required"].pop("denoise")
    new["KSampler"]["input"]["optional"] = {"denoise": denoise}
    new["KSampler"]["input"]["required"]["steps"] = ["FLOAT", {}]
    del new["KSampler"]["input"]["required"]["scheduler"]
    changes = {(c.kind, c.input): c.breaking for c in diff_catalogs(old, new)}
    assert changes == {("input-now-optional", "denoise"): False, ("input-type-changed", "steps"): True,
                       ("input-removed", "scheduler"): True}
    assert diff_catalogs(old, copy.deepcopy(old)) == []


def test_diff_command(tmp_path, capsys):
    old, new = _raw(), _raw()
    old[CATALOG_META_KEY] = {"comfyui_version": "0.3.64"}
    new[CATALOG_META_KEY] = {"comfyui_version": "0.4.0"}
    new["Brand"] = {"input": {}, "output": []}
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(old))
    b.write_text(json.dumps(new))
    assert main(["catalog", "diff", str(a), str(b)]) == 0  # only additions
    out = capsys.readouterr().out
    assert "ComfyUI 0.3.64 -> 0.4.0" in out and "class `Brand` was added" in out and "0 breaking" in out
    assert main(["catalog", "diff", str(b), str(a), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["breaking"] == 1 and report["changes"][0]["kind"] == "class-removed"
    assert report["old"]["comfyui_version"] == "0.4.0"
    assert main(["catalog", "diff", str(a), str(tmp_path / "none.json")]) == 2


def test_nodes_command(tmp_path, capsys):
    assert main(["nodes", "KSampler"]) == 0
    out = capsys.readouterr().out
    assert "steps: INT (default 20, range 1..10000)" in out and "options: " in out and "0: LATENT" in out
    assert main(["nodes", "Load Image"]) == 0  # a display name
    assert "an uploaded image" in capsys.readouterr().out
    assert main(["nodes", "KSampler", "--format", "json"]) == 0
    assert "KSampler" in json.loads(capsys.readouterr().out)
    assert main(["nodes", "KSamplr"]) == 2
    assert "`KSampler`" in capsys.readouterr().err
    assert main(["nodes"]) == 0
    assert "KSampler\n" in capsys.readouterr().out


def test_nodes_from_a_pulled_catalogue(comfy, tmp_path, capsys):
    out = tmp_path / "cat.json"
    assert main(["catalog", "pull", comfy.url, "-o", str(out), "--for", str(_workflow(tmp_path))]) == 0
    capsys.readouterr()
    assert main(["nodes", "EmptyImage", "--catalog", str(out), "--no-builtin"]) == 0
    assert f"from: {out}" in capsys.readouterr().out
    assert catalog_meta(json.loads(out.read_text()))["classes"] == 2
    assert isinstance(NodeCatalog(json.loads(out.read_text())), NodeCatalog)


def _workflow(tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(WORKFLOW))
    return path
