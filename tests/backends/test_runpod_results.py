"""Reading job states and worker-comfyui outputs, and the validation-failure text."""

from __future__ import annotations

import base64

import pytest

from comfydsl.backends.results import JobResult, JobState, parse_output
from comfydsl.workflow.status import FINAL_STATES, JobStatus
from comfydsl.backends.worker_errors import parse_worker_error
from comfydsl.errors import JobCancelled, JobFailed, JobTimedOut

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nrest").decode()

VALIDATION = """Workflow validation failed:
• Node 4 (errors): [{'type': 'value_not_in_list', 'message': 'Value not in list', 'details': "ckpt_name: 'missing.safetensors' not in ['sd_xl_base_1.0.safetensors']", 'extra_info': {'input_name': 'ckpt_name'}}]
• Node 4 (dependent_outputs): ['9']
• Node 4 (class_type): CheckpointLoaderSimple
• Node 7 (errors): [{'type': 'required_input_missing', 'message': 'Required input is missing', 'details': 'seed', 'extra_info': {'input_name': 'seed'}}, {'type': 'value_bigger_than_max', 'message': 'Value 200 bigger than max of 150', 'details': 'steps', 'extra_info': {'input_name': 'steps'}}]
• Node 7 (class_type): KSampler

Available checkpoint models: sd_xl_base_1.0.safetensors"""


def state(**kw) -> JobState:
    return JobState.model_validate({"id": "j", **kw})


def test_final_states_are_the_enum_definition():
    assert FINAL_STATES == {s for s in JobStatus if s.is_final}
    assert {s.value for s in FINAL_STATES} == {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}
    assert not JobStatus.IN_QUEUE.is_final and not JobStatus.RUNNING.is_final


def test_state_drops_echoed_input_and_reads_times():
    s = state(status="IN_PROGRESS", delayTime=2188, input={"workflow": {"1": {}}}, workerId="w1")
    assert s.delay_time == 2188 and s.worker_id == "w1" and not hasattr(s, "input")


@pytest.mark.parametrize("data", [PNG, "data:image/png;base64," + PNG])
def test_v5_images_base64_with_and_without_prefix(data):
    out = parse_output({"images": [{"filename": "ComfyUI_00001_.png", "type": "base64", "data": data}]})
    assert out.images[0].decode() == base64.b64decode(PNG) and not out.warnings


def test_v5_s3_url_errors_and_no_images():
    out = parse_output({"images": [{"filename": "a.png", "type": "s3_url", "data": "https://b.test/a.png"}],
                        "errors": ["S3 upload failed for b.png"]})
    assert out.images[0].is_url and out.warnings == ["S3 upload failed for b.png"]
    empty = parse_output({"status": "success_no_images", "images": []})
    assert empty.no_images and not empty.images and empty.error is None


def test_legacy_shapes():
    ok = parse_output({"status": "success", "message": PNG})
    assert ok.images[0].decode().startswith(b"\x89PNG")
    url = parse_output({"status": "success", "message": "https://b.test/x.png"})
    assert url.images[0].is_url
    bad = parse_output({"status": "error", "message": "the image does not exist in the specified output folder"})
    assert bad.error and not bad.images


def test_completed_with_legacy_error_is_not_ok():
    result = JobResult.from_state("ep", state(status="COMPLETED", output={"status": "error", "message": "no file"}))
    assert not result.ok and result.error == "no file"
    with pytest.raises(JobFailed):
        result.raise_for_status()


def test_failed_error_is_never_swallowed():
    result = JobResult.from_state("ep", state(status="FAILED", error="Job processing failed"))
    assert result.error == "Job processing failed"
    with pytest.raises(JobFailed) as info:
        result.raise_for_status()
    assert "Job processing failed" in str(info.value) and info.value.job_id == "j"
    silent = JobResult.from_state("ep", state(status="FAILED"))
    assert silent.error


def test_cancelled_and_timed_out_raise_their_own_errors():
    with pytest.raises(JobCancelled):
        JobResult.from_state("ep", state(status="CANCELLED")).raise_for_status()
    with pytest.raises(JobTimedOut):
        JobResult.from_state("ep", state(status="TIMED_OUT")).raise_for_status()


def test_bad_base64_is_a_clear_error():
    from comfydsl.errors import BackendError

    out = parse_output({"images": [{"filename": "a.png", "type": "base64", "data": "!!notbase64!!"}]})
    with pytest.raises(BackendError, match="a.png"):
        out.images[0].decode()


def test_validation_failure_parsed_per_node_and_input():
    diags = parse_worker_error(VALIDATION)
    assert [(d.node_id, d.input, d.code) for d in diags] == [
        ("4", "ckpt_name", "CD901"), ("7", "seed", "CD901"), ("7", "steps", "CD901")]
    assert diags[0].class_type == "CheckpointLoaderSimple"
    assert "missing.safetensors" in diags[0].message
    assert any("Available checkpoint models" in n for n in diags[0].notes)
    assert diags[1].ctx["comfy_type"] == "required_input_missing"


def test_validation_failure_without_node_errors_and_other_errors():
    assert parse_worker_error("Job processing failed") == []
    assert parse_worker_error(None) == []
    raw = parse_worker_error('Workflow validation failed. Raw response: {"error": {"type": "prompt_no_outputs"}}')
    assert len(raw) == 1 and raw[0].node_id is None


def test_validation_failure_with_unreadable_value_keeps_text():
    diags = parse_worker_error("Workflow validation failed:\n• Node 12 (errors): [{broken")
    assert len(diags) == 1 and diags[0].node_id == "12" and "[{broken" in diags[0].message


def test_failed_job_result_carries_diagnostics():
    result = JobResult.from_state("ep", state(status="FAILED", error=VALIDATION))
    assert len(result.diagnostics) == 3 and result.error == VALIDATION


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                max_size=4),
                    max_leaves=20)


@settings(max_examples=80, deadline=None)
@given(st.one_of(JSON, st.fixed_dictionaries({"images": JSON, "errors": JSON}),
                 st.fixed_dictionaries({"status": st.sampled_from(["success", "error"]), "message": JSON})))
def test_any_output_is_read_without_crashing(output):
    result = JobResult.from_state("ep", state(status="COMPLETED", output=output))
    assert isinstance(result.warnings, list) and all(isinstance(w, str) for w in result.warnings)
    assert result.ok == (result.error is None)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_any_error_text_is_parsed_without_crashing(text):
    diags = parse_worker_error("Workflow validation failed:\n" + text)
    assert diags and all(d.code == "CD901" for d in diags)


@pytest.mark.parametrize("errors", [5, "one problem", {"a": 1}])
def test_errors_that_are_not_a_list_become_one_warning(errors):
    out = parse_output({"images": [], "errors": errors})
    assert len(out.warnings) == 1
