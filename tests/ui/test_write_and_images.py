"""API -> UI writing (round trip, layout), PNG/WebP metadata, and the properties."""

from __future__ import annotations

import json
import struct
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ui_support import DATA, dynamic_catalog, load

from comfydsl.catalog import builtin_catalog
from comfydsl.ui import convert_ui, read_image_metadata, write_ui
from comfydsl.ui.api import image_workflow_text


def _core(wf):
    return {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in wf.items()}


def test_round_trip_of_the_example():
    api = json.loads((DATA.parent.parent.parent / "examples" / "sd15_txt2img.json").read_text())
    ui, diags = write_ui(api, builtin_catalog())
    assert diags == []
    back = convert_ui(ui, builtin_catalog())
    assert back.ok and _core(back.workflow) == _core(api)


def test_round_trip_keeps_dynamic_inputs_and_titles():
    api = {k: v for k, v in load("everything.api.json").items() if k in {"1", "2", "3", "4", "5", "50", "51", "52", "53"}}
    ui, _ = write_ui(api, dynamic_catalog())
    back = convert_ui(ui, dynamic_catalog())
    assert back.ok and back.workflow == api


def test_layout_has_no_overlaps_and_columns_follow_depth():
    ui, _ = write_ui(load("everything.api.json"), dynamic_catalog())
    boxes = [(n["pos"][0], n["pos"][1], n["size"][0], n["size"][1]) for n in ui["nodes"]]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
    by_id = {n["id"]: n for n in ui["nodes"]}
    for link in ui["links"]:
        assert by_id[link[1]]["pos"][0] < by_id[link[3]]["pos"][0]


def test_seed_control_is_written_fixed():
    ui, _ = write_ui({"3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 1, "cfg": 1.0,
                     "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}}}, builtin_catalog())
    assert ui["nodes"][0]["widgets_values"][:2] == [5, "fixed"]


def test_not_representable_literal_is_reported():
    _, diags = write_ui({"1": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": "oops"}}},
                        builtin_catalog())
    assert [d.code for d in diags] == ["CD026"]


# -- a random API workflow from the catalogue, written and converted back ----------------------

_CLASSES = ["CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage",
            "ImageScaleBy", "ImageInvert", "LatentUpscaleBy", "KSamplerAdvanced", "LoadImage", "VAEEncode"]


@st.composite
def api_workflows(draw):
    catalog = builtin_catalog()
    wf: dict = {}
    for n in range(draw(st.integers(1, 8))):
        cls = draw(st.sampled_from(_CLASSES))
        spec = catalog[cls]
        inputs = {}
        for name, inp in spec.inputs.items():
            if inp.hidden:
                continue
            if inp.is_combo and inp.options:
                inputs[name] = draw(st.sampled_from(list(inp.options)))
            elif inp.is_combo:
                inputs[name] = draw(st.sampled_from(["a.safetensors", "b.png"]))
            elif inp.type == "INT":
                inputs[name] = draw(st.integers(0, 2**31))
            elif inp.type == "FLOAT":
                inputs[name] = draw(st.floats(0, 100, allow_nan=False))
            elif inp.type == "STRING":
                inputs[name] = draw(st.text(max_size=10))
            elif inp.type == "BOOLEAN":
                inputs[name] = draw(st.booleans())
            else:
                sources = [(k, o.index) for k, v in wf.items() for o in catalog[v["class_type"]].outputs
                           if o.type == inp.type]
                if sources:
                    src, slot = draw(st.sampled_from(sources))
                    inputs[name] = [src, slot]
        wf[str(n + 1)] = {"inputs": inputs, "class_type": cls,
                          "_meta": {"title": draw(st.sampled_from([catalog[cls].display_name or cls, "Mine"]))}}
    return wf


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(api_workflows())
def test_written_workflows_convert_back(api):
    ui, diags = write_ui(api, builtin_catalog())
    assert diags == []
    back = convert_ui(json.loads(json.dumps(ui)), builtin_catalog())
    assert back.ok, back.diagnostics
    assert back.workflow == api


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4), max_leaves=25)
_keys = st.sampled_from(["id", "type", "mode", "inputs", "outputs", "widgets_values", "links", "nodes", "link",
                         "name", "widget", "definitions", "subgraphs", "origin_id", "target_id", "extra"])
_uiish = st.recursive(st.none() | st.integers(-20, 40) | st.sampled_from(["KSampler", "Reroute", "PrimitiveNode", "x"]),
                      lambda inner: st.lists(inner, max_size=6) | st.dictionaries(_keys, inner, max_size=6),
                      max_leaves=40)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_json, st.fixed_dictionaries({"nodes": _uiish, "links": _uiish}, optional={"definitions": _uiish,
                                                                                              "extra": _uiish})))
def test_conversion_never_raises(data):
    conv = convert_ui(data, builtin_catalog())
    assert isinstance(conv.workflow, dict)


# -- images --------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(*chunks: bytes) -> bytes:
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(chunks) + _chunk(b"IEND", b"")


def test_png_text_chunks():
    ui = (DATA / "everything.ui.json").read_text()
    data = _png(_chunk(b"tEXt", b"prompt\0" + b'{"1": {}}'),
                _chunk(b"iTXt", b"workflow\0\x01\0\0\0" + zlib.compress(ui.encode())))
    meta = read_image_metadata(data)
    assert meta["prompt"] == '{"1": {}}' and json.loads(meta["workflow"]) == json.loads(ui)
    assert image_workflow_text(data) == ("api", '{"1": {}}')


def _webp_exif(entries: list[tuple[int, str]]) -> bytes:
    values = [t.encode() + b"\0" for _, t in entries]
    ifd_size = 2 + 12 * len(entries) + 4
    offset = 8 + ifd_size
    body = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    data_area = b""
    for (tag, _), raw in zip(entries, values):
        body += struct.pack("<HHII", tag, 2, len(raw), offset + len(data_area))
        data_area += raw
    body += b"\0\0\0\0" + data_area
    chunk = b"EXIF" + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")
    vp8 = b"VP8L" + struct.pack("<I", 2) + b"\0\0"
    payload = b"WEBP" + vp8 + chunk
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def test_webp_exif_as_comfyui_writes_it():
    data = _webp_exif([(0x0110, 'prompt:{"1": {}}'), (0x010F, 'workflow:{"nodes": [], "links": []}')])
    meta = read_image_metadata(data)
    assert meta == {"prompt": '{"1": {}}', "workflow": '{"nodes": [], "links": []}'}


def test_image_without_metadata_and_truncated():
    assert read_image_metadata(_png()) == {}
    import pytest

    from comfydsl.ui.png import ImageMetadataError
    with pytest.raises(ImageMetadataError):
        read_image_metadata(_png(_chunk(b"tEXt", b"prompt\0{}"))[:-20])
    with pytest.raises(ImageMetadataError):
        read_image_metadata(b"GIF89a")
