"""The comfyui executor against a loopback fake ComfyUI that answers as ComfyUI does."""

from __future__ import annotations

import base64
import json
import threading

import pytest

from comfydsl.serve import ComfyUIExecutor, serve_in_thread
from fake_comfyui import FakeComfyUI
from serve_helpers import SAVE_TWO, b64, conformance_case, png_bytes

LOAD_AND_SAVE = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "out"}},
}


def executor(fake: FakeComfyUI, **options) -> ComfyUIExecutor:
    return ComfyUIExecutor(fake.url, poll_interval=0.01, startup_retries=3, startup_interval=0.01, **options)


def test_uploads_queues_polls_and_fetches():
    with FakeComfyUI() as fake:
        ex = executor(fake)
        try:
            result = ex.run({"workflow": LOAD_AND_SAVE, "comfy_org_api_key": "ck",
                             "images": [{"name": "face.png", "image": "data:image/png;base64," + b64(png_bytes())}]},
                            threading.Event())
        finally:
            ex.close()
        assert fake.uploads["face.png"] == (png_bytes(), "image/png", "true")
        prompt = fake.prompts[0]
        assert prompt["prompt"] == LOAD_AND_SAVE and prompt["extra_data"] == {"api_key_comfy_org": "ck"}
        assert prompt["client_id"]
        assert [i["filename"] for i in result["images"]] == ["out_00001_.png"]
        assert base64.b64decode(result["images"][0]["data"]) == fake.files[("out_00001_.png", "", "output")]
        assert max(fake.history_polls.values()) == 3


def test_validation_failure_text_from_comfyui_400():
    case = conformance_case("hw02_sdxl_txt2img_two_outputs__model_unknown_legacy__n10_vae_name")
    verdict = case["comfyui"]
    node_errors = {nid: {"errors": [{"type": e["type"], "message": e["message"], "details": e["details"],
                                     "extra_info": {"input_name": e["input"]}} for e in errs],
                         "dependent_outputs": ["9"], "class_type": case["workflow"][nid]["class_type"]}
                   for nid, errs in verdict["node_errors"].items()}
    body = {"error": {"type": verdict["error_type"], "message": "Prompt outputs failed validation",
                      "details": verdict["error_details"], "extra_info": {}}, "node_errors": node_errors}
    with FakeComfyUI() as fake:
        fake.reject_with = (400, json.dumps(body))
        with serve_in_thread("comfyui", comfyui_url=fake.url, api_key="k", min_wait_ms=0,
                             executor_options={"poll_interval": 0.01}) as srv:
            import httpx

            answer = httpx.post(f"{srv.url}/ep/runsync", json={"input": {"workflow": case["workflow"]}},
                                headers={"Authorization": "Bearer k"}, timeout=10).json()
    assert answer["status"] == "FAILED"
    assert answer["error"] == (
        "Workflow validation failed:\n"
        "• Node 10 (errors): [{'type': 'value_not_in_list', 'message': 'Value not in list', 'details': "
        "\"vae_name: 'missing_model_file.safetensors' not in ['ae.safetensors', 'sdxl_vae.safetensors', "
        "'pixel_space']\", 'extra_info': {'input_name': 'vae_name'}}]\n"
        "• Node 10 (dependent_outputs): ['9']\n"
        "• Node 10 (class_type): VAELoader")


def test_dry_and_comfyui_executors_give_the_same_validation_text():
    """The dry run's ComfyUI body, fed through a ComfyUI that sends it, reads the same."""
    from comfydsl.serve import DryExecutor

    workflow = conformance_case("research__c01_missing_required_input")["workflow"]
    dry = DryExecutor().run({"workflow": workflow}, threading.Event())
    with FakeComfyUI() as fake:
        from comfydsl.serve.executors import DrySession
        from comfydsl.serve.worker import QueueRejected

        try:
            DrySession(DryExecutor()).queue_prompt(workflow, "c", None)
        except QueueRejected as rejected:
            fake.reject_with = (400, rejected.text)
        ex = executor(fake)
        try:
            real = ex.run({"workflow": workflow}, threading.Event())
        finally:
            ex.close()
    assert dry == real and dry["error"].startswith("Workflow validation failed:\n• Node 3 (errors): ")


def test_other_http_errors_from_prompt():
    with FakeComfyUI() as fake:
        fake.reject_with = (500, "boom")
        ex = executor(fake)
        try:
            result = ex.run({"workflow": SAVE_TWO}, threading.Event())
        finally:
            ex.close()
    assert result == {"error": f"Error queuing workflow: 500 Server Error: Internal Server Error for url: "
                               f"{fake.url}/prompt"}


def test_execution_error_and_missing_views():
    with FakeComfyUI() as fake:
        fake.execution_error = {"node_id": "2", "node_type": "SaveImage", "exception_message": "disk full"}
        ex = executor(fake)
        try:
            result = ex.run({"workflow": SAVE_TWO}, threading.Event())
            fake.execution_error = None
            fake.missing_views.add("dry/test_00002_.png")
            two = {**SAVE_TWO, "3": {"class_type": "SaveImage", "inputs": {"images": ["1", 0],
                                                                             "filename_prefix": "dry/test"}}}
            partial = ex.run({"workflow": two}, threading.Event())
        finally:
            ex.close()
    assert result["images"][0]["filename"] == "dry/test_00001_.png"
    assert result["errors"] == ["Workflow execution error: Node Type: SaveImage, Node ID: 2, Message: disk full"]
    assert len(partial["images"]) == 1
    assert partial["errors"] == ["Failed to fetch image data for dry/test_00002_.png from /view endpoint."]


def test_no_images_and_temp_images():
    workflow = {"1": SAVE_TWO["1"], "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    with FakeComfyUI() as fake:
        ex = executor(fake)
        try:
            result = ex.run({"workflow": workflow}, threading.Event())
        finally:
            ex.close()
    assert result == {"status": "success_no_images", "images": []}


def test_unreachable_comfyui():
    with FakeComfyUI() as fake:
        fake.up = False
        ex = executor(fake)
        try:
            result = ex.run({"workflow": SAVE_TWO}, threading.Event())
        finally:
            ex.close()
    host = fake.url.removeprefix("http://")
    assert result == {"error": f"ComfyUI server ({host}) not reachable after multiple retries."}


def test_cancel_interrupts_comfyui():
    with FakeComfyUI(polls_to_finish=10_000) as fake:
        with serve_in_thread("comfyui", comfyui_url=fake.url, api_key="k",
                             executor_options={"poll_interval": 0.01}) as srv:
            import httpx

            headers = {"Authorization": "Bearer k"}
            job = httpx.post(f"{srv.url}/ep/run", json={"input": {"workflow": SAVE_TWO}}, headers=headers).json()
            for _ in range(200):
                if fake.history_polls:
                    break
                threading.Event().wait(0.01)
            assert httpx.post(f"{srv.url}/ep/cancel/{job['id']}", headers=headers).json()["status"] == "CANCELLED"
            for _ in range(200):
                if fake.interrupts:
                    break
                threading.Event().wait(0.01)
        assert fake.interrupts == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:1"])
def test_transport_errors_are_reported(url):
    ex = ComfyUIExecutor(url, startup_retries=1)
    try:
        result = ex.run({"workflow": SAVE_TWO}, threading.Event())
    finally:
        ex.close()
    assert result["error"].startswith("ComfyUI server (")
