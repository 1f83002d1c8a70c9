"""worker-comfyui 5.x semantics of the dry executor: input checks, uploads, outputs, error texts."""

from __future__ import annotations

import base64
import json
import struct
import threading
import zlib

import pytest

from comfydsl.catalog import ModelCatalog
from comfydsl.serve import DryExecutor, serve_in_thread
from comfydsl.serve.png import placeholder_png
from comfydsl.serve.worker import QueueRejected, decode_image, validate_input, validation_failure_text
from serve_helpers import MISSING_CKPT, SAVE_TWO, b64, png_bytes

LOAD_AND_SAVE = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "out"}},
}


def run(job_input, **options):
    executor = DryExecutor(**options)
    return executor.run(job_input, threading.Event())


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """An independent PNG reader: checks the signature and every CRC, returns size and pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2) and b"IEND" in chunks
    pixels = zlib.decompress(chunks[b"IDAT"])
    assert len(pixels) == height * (1 + 3 * width)
    return width, height, pixels


def test_placeholder_png_is_a_real_png():
    width, height, pixels = decode_png(placeholder_png(5, 3, (1, 2, 3)))
    assert (width, height) == (5, 3) and pixels[:4] == b"\x00\x01\x02\x03"
    with pytest.raises(ValueError):
        placeholder_png(0, 1)


def test_images_per_batch_and_decodable():
    result = run({"workflow": SAVE_TWO})
    assert set(result) == {"images"}
    assert [i["filename"] for i in result["images"]] == ["test_00001_.png", "test_00002_.png"]
    for image in result["images"]:
        assert image["type"] == "base64"
        decode_png(base64.b64decode(image["data"]))


def test_preview_images_are_temp_and_left_out():
    workflow = {"1": SAVE_TWO["1"], "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    assert run({"workflow": workflow}) == {"status": "success_no_images", "images": []}


@pytest.mark.parametrize("prefix", ["", "data:image/png;base64,"])
def test_uploaded_images_satisfy_load_image(prefix):
    result = run({"workflow": LOAD_AND_SAVE, "images": [{"name": "face.png", "image": prefix + b64(png_bytes())}]})
    assert [i["filename"] for i in result["images"]] == ["out_00001_.png"]


def test_image_not_uploaded_fails_like_comfyui():
    result = run({"workflow": LOAD_AND_SAVE})
    assert result == {"error": (
        "Workflow validation failed:\n"
        "• Node 1 (errors): [{'type': 'custom_validation_failed', 'message': 'Custom validation failed for node', "
        "'details': 'image - Invalid image file: face.png', 'extra_info': {'input_name': 'image'}}]\n"
        "• Node 1 (dependent_outputs): ['2']\n"
        "• Node 1 (class_type): LoadImage")}


def test_bad_base64_fails_the_upload():
    result = run({"workflow": LOAD_AND_SAVE, "images": [{"name": "face.png", "image": "abcde"}]})
    assert result["error"] == "Failed to upload one or more input images"
    assert result["details"][0].startswith("Error decoding base64 for face.png: ")


@pytest.mark.parametrize("job_input,error", [
    (None, "Please provide input"),
    ("{not json", "Invalid JSON format in input"),
    ({}, "Missing 'workflow' parameter"),
    ({"workflow": SAVE_TWO, "images": "x"}, "'images' must be a list of objects with 'name' and 'image' keys"),
    ({"workflow": SAVE_TWO, "images": [{"name": "a"}]},
     "'images' must be a list of objects with 'name' and 'image' keys"),
])
def test_input_validation_texts(job_input, error):
    assert run(job_input) == {"error": error}


def test_string_input_is_parsed():
    assert len(run(json.dumps({"workflow": SAVE_TWO}))["images"]) == 2


def test_unknown_class_gives_the_raw_response_text():
    workflow = {"1": {"class_type": "NoSuchNode", "inputs": {}}}
    body = {"error": {"type": "invalid_prompt", "message": "Cannot execute because node NoSuchNode does not exist.",
                      "details": "Node ID '#1'", "extra_info": {}}, "node_errors": {}}
    assert run({"workflow": workflow}) == {
        "error": "Cannot execute because node NoSuchNode does not exist.. Raw response: " + json.dumps(body)}


def test_no_output_node():
    workflow = {"1": SAVE_TWO["1"]}
    assert run({"workflow": workflow})["error"].startswith("Prompt has no outputs. Raw response: ")


def test_missing_checkpoint_lists_available_models():
    workflow = json.loads(json.dumps(MISSING_CKPT))
    workflow["4"]["inputs"]["ckpt_name"] = "missing.safetensors"
    models = ModelCatalog({"checkpoints": ["sd_xl_base_1.0.safetensors"]})
    result = run({"workflow": workflow}, models=models)
    assert result["error"] == (
        "Workflow validation failed:\n"
        "• Node 4 (errors): [{'type': 'value_not_in_list', 'message': 'Value not in list', 'details': "
        "\"ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors']\", "
        "'extra_info': {'input_name': 'ckpt_name'}}]\n"
        "• Node 4 (dependent_outputs): ['9']\n"
        "• Node 4 (class_type): CheckpointLoaderSimple\n\n"
        "Available checkpoint models: sd_xl_base_1.0.safetensors")


def test_one_broken_output_still_runs_the_other():
    workflow = dict(SAVE_TWO)
    workflow["3"] = {"class_type": "ImageScaleBy", "inputs": {"image": ["1", 0], "upscale_method": "area",
                                                              "scale_by": 100.0}}
    workflow["4"] = {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "big"}}
    result = run({"workflow": workflow})
    assert [i["filename"] for i in result["images"]] == ["test_00001_.png", "test_00002_.png"]


def test_non_object_workflow_is_a_comfyui_500():
    assert run({"workflow": [1, 2]}) == {
        "error": "Error queuing workflow: 500 Server Error: Internal Server Error for url: "
                 "http://127.0.0.1:8188/prompt"}


def test_filename_counters_continue_across_jobs():
    executor = DryExecutor()
    first = executor.run({"workflow": SAVE_TWO}, threading.Event())
    second = executor.run({"workflow": SAVE_TWO}, threading.Event())
    assert [i["filename"] for i in first["images"] + second["images"]] == [
        f"test_{n:05}_.png" for n in range(1, 5)]


def test_documented_validation_text_from_comfyui_body():
    body = {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                      "details": "", "extra_info": {}},
            "node_errors": {"4": {"errors": [{"type": "value_not_in_list", "message": "Value not in list",
                                              "details": "ckpt_name: 'missing.safetensors' not in "
                                                         "['sd_xl_base_1.0.safetensors']",
                                              "extra_info": {"input_name": "ckpt_name"}}],
                                  "dependent_outputs": ["9"], "class_type": "CheckpointLoaderSimple"}}}

    class Session:
        def available_checkpoints(self):
            return ["sd_xl_base_1.0.safetensors"]

    text = validation_failure_text(QueueRejected(400, json.dumps(body)), Session())
    assert text == (
        "Workflow validation failed:\n"
        "• Node 4 (errors): [{'type': 'value_not_in_list', 'message': 'Value not in list', 'details': "
        "\"ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors']\", "
        "'extra_info': {'input_name': 'ckpt_name'}}]\n"
        "• Node 4 (dependent_outputs): ['9']\n"
        "• Node 4 (class_type): CheckpointLoaderSimple\n\n"
        "Available checkpoint models: sd_xl_base_1.0.safetensors")
    assert validation_failure_text(QueueRejected(400, "<html>"), Session()) == \
        "ComfyUI validation failed (could not parse error response): <html>"


def test_validate_input_and_decode_image():
    data, problem = validate_input({"workflow": {}, "comfy_org_api_key": "ck"})
    assert problem is None and data["comfy_org_api_key"] == "ck"
    assert decode_image("data:image/png;base64," + b64(b"abc")) == b"abc"
    with pytest.raises(ValueError):
        decode_image(5)


def test_failed_job_keeps_details_as_output(client_for):
    with serve_in_thread(api_key="k", min_wait_ms=0) as srv:
        body = client_for(srv).post("/runsync", json={"input": {
            "workflow": LOAD_AND_SAVE, "images": [{"name": "face.png", "image": "abcde"}]}}).json()
        assert body["status"] == "FAILED" and body["error"] == "Failed to upload one or more input images"
        assert body["output"]["details"][0].startswith("Error decoding base64 for face.png")


def test_legacy_worker_shape():
    result = run({"workflow": SAVE_TWO}, worker_version="3")
    assert set(result) == {"status", "message"} and result["status"] == "success"
    assert decode_png(base64.b64decode(result["message"]))[:2] == (8, 8)
    preview = {"1": SAVE_TWO["1"], "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    assert run({"workflow": preview}, worker_version="3")["status"] == "error"
    assert run({"workflow": MISSING_CKPT}, worker_version="3") == {
        "error": "Error queuing workflow: HTTP Error 400: Bad Request"}
    with pytest.raises(ValueError):
        DryExecutor(worker_version="4")


def test_legacy_shape_through_the_server(client_for):
    with serve_in_thread(api_key="k", worker_version="3") as srv:
        body = client_for(srv).post("/runsync", json={"input": {"workflow": SAVE_TWO}}).json()
        assert body["status"] == "COMPLETED" and body["output"]["status"] == "success"
