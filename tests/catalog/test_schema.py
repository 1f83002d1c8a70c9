"""The JSON Schema of `/object_info` and the check every catalogue passes before anything reads it."""

from __future__ import annotations

import copy
import gzip
import json
import random

import pytest
from support import AUTOFLOW_CATALOG, BUILTIN_JSON, MMLDX_CATALOG, OBJECT_INFO, ROOT, V3_FEATURES, invoke

from comfydsl.catalog import NodeCatalog
from comfydsl.catalog.nodes import read_object_info
from comfydsl.catalog.schema import META_KEY, _entry_ok, schema_errors, validate_object_info
from comfydsl.errors import CatalogError


def test_builtin_catalogue_matches_the_schema():
    # the built-in catalogue is loaded without the check (trusted): this test is what trusts it
    assert schema_errors(json.loads(BUILTIN_JSON.read_text())) == []


@pytest.mark.parametrize("path", [OBJECT_INFO, MMLDX_CATALOG, AUTOFLOW_CATALOG, V3_FEATURES],
                         ids=lambda p: p.name)
def test_real_catalogues_pass(path):
    raw = read_object_info(str(path))  # checks, and reads .json.gz
    assert len(NodeCatalog(raw, source=str(path))) > 10


def test_schema_and_fast_walk_agree_on_mutated_classes():
    raw = json.loads(MMLDX_CATALOG.read_text())
    junk = [None, 1, 1.5, True, "x", [], {}, [1, 2], {"a": 1}, [{"a": 1}], [[1]], ["COMBO"]]
    rng = random.Random(8)
    names = sorted(raw)
    for _ in range(400):
        name = rng.choice(names)
        entry = copy.deepcopy(raw[name])
        paths = list(_paths(entry))
        path = rng.choice(paths)
        target = entry
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = rng.choice(junk)
        assert _entry_ok(name, entry) == (schema_errors({name: entry}) == []), (name, path, target[path[-1]])


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield prefix + (key,)
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield prefix + (index,)
            yield from _paths(item, prefix + (index,))


def _sampler():
    raw = json.loads(OBJECT_INFO.read_text())
    return {"KSampler": copy.deepcopy(raw["KSampler"])}


@pytest.mark.parametrize("change, expected", [
    (lambda r: r["KSampler"]["input"]["required"]["seed"][1].__setitem__("min", "0"),
     "class `KSampler`, input `seed`, at [1].min: expected number, found the string \"0\""),
    (lambda r: r["KSampler"]["input"].__setitem__("required", ["seed"]),
     "class `KSampler`, at input.required: expected object or null, found a list"),
    (lambda r: r["KSampler"].__setitem__("output", "MODEL"), "class `KSampler`, at output: expected array"),
    (lambda r: r["KSampler"]["input"]["required"]["sampler_name"][0].append({"a": 1}),
     "class `KSampler`, input `sampler_name`, at [0]"),
    (lambda r: r["KSampler"]["input"]["required"].__setitem__("seed", []),
     "class `KSampler`, input `seed`: an input spec must be a non-empty list"),
    (lambda r: r["KSampler"]["input"]["required"].__setitem__("seed", ["INT", 5]),
     "class `KSampler`, input `seed`, at [1]: expected object"),
    (lambda r: r.__setitem__(META_KEY, {"comfyui_version": 8}), f"`{META_KEY}`, at comfyui_version"),
])
def test_malformed_catalogues_are_located(change, expected):
    raw = _sampler()
    change(raw)
    with pytest.raises(CatalogError) as info:
        validate_object_info(raw, "mine.json")
    assert str(info.value).startswith("mine.json: ") and expected in str(info.value), str(info.value)


def test_v3_shapes_are_checked_too():
    raw = json.loads(V3_FEATURES.read_text())
    bad = copy.deepcopy(raw)
    bad["V3Resize"]["input"]["required"]["mode"][1]["options"][0]["inputs"]["required"]["multiplier"][1]["max"] = "8"
    with pytest.raises(CatalogError, match=r"class `V3Resize`, input `mode.multiplier`.*max: expected number"):
        validate_object_info(bad, "v3.json")
    bad = copy.deepcopy(raw)
    bad["V3Batch"]["input"]["required"]["images"][1]["template"]["min"] = -1
    with pytest.raises(CatalogError, match="class `V3Batch`, input `images`"):
        validate_object_info(bad, "v3.json")


def test_many_malformed_classes_are_counted():
    raw = json.loads(OBJECT_INFO.read_text())
    for name in ("KSampler", "VAEDecode", "SaveImage"):
        raw[name]["output"] = 5
    with pytest.raises(CatalogError, match=r"\(2 more malformed classes\)"):
        validate_object_info(raw, "x.json")


def test_gzipped_catalogue_that_is_not_gzip(tmp_path):
    path = tmp_path / "broken.json.gz"
    path.write_bytes(b"not gzip")
    with pytest.raises(CatalogError, match="broken.json.gz: cannot read the gzipped catalogue"):
        read_object_info(str(path))
    good = tmp_path / "good.json.gz"
    good.write_bytes(gzip.compress(json.dumps(_sampler()).encode()))
    assert "KSampler" in read_object_info(str(good))


@pytest.mark.parametrize("command", [
    ["lint", "{wf}"], ["schema"], ["decompile", "{wf}"], ["compile", "{recipe}"]])
def test_malformed_catalogue_is_exit_2_with_its_location(tmp_path, command):
    raw = _sampler()
    raw["KSampler"]["input"]["required"]["steps"][1]["max"] = [1]
    catalog = tmp_path / "bad.json"
    catalog.write_text(json.dumps(raw))
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps({"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8,
                                                                           "batch_size": 1, "color": 0}}}))
    recipe = tmp_path / "r.comfy"
    recipe.write_text("img = EmptyImage(width=8, height=8, batch_size=1, color=0)\nPreviewImage(images=img)\n")
    args = [a.format(wf=wf, recipe=recipe) for a in command] + ["--catalog", str(catalog)]
    result = invoke(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert f"{catalog}: class `KSampler`, input `steps`, at [1].max: expected number, found a list" in result.stderr
