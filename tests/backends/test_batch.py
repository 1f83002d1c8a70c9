"""The batch engine of `comfydsl run`, driven from Python without argparse, against the local
RunPod-compatible endpoint over loopback."""

from __future__ import annotations

import json

import httpx
import pytest

from comfydsl.backends.batch import (BatchOptions, Connection, JobSpec, check_sets, parse_sets, prepare_jobs, split_values,
                                     run_batch, sweep)
from comfydsl.backends.runpod import map_httpx_errors
from comfydsl.errors import BackendConnectionError, CompileError
from comfydsl.jobs import JobRecord
from comfydsl.serve import serve_in_thread
from comfydsl.target import load_target

KEY = "rp_test_key_5f0c1d2e9a"
WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}


def test_sets_sweep_and_their_errors():
    raw = parse_sets(["seed=1,2", "cfg=7", "prompt=a,b"])
    assert raw == {"seed": ["1,2"], "cfg": ["7"], "prompt": ["a,b"]}
    # commas split the values of number and boolean parameters only: a `str` value is one value
    sets = split_values(raw, {"seed": "int", "cfg": "float", "prompt": "str"})
    assert split_values({"prompt": ["1,2"]}, {"prompt": "str"}) == {"prompt": ["1,2"]}
    assert split_values({"seed": ["1, 2"], "x": ["3,4"]}, {"seed": "int"}) == {"seed": ["1", "2"], "x": ["3,4"]}
    assert sets == {"seed": ["1", "2"], "cfg": ["7"], "prompt": ["a,b"]}
    assert sweep(sets) == [{"seed": "1", "cfg": "7", "prompt": "a,b"}, {"seed": "2", "cfg": "7", "prompt": "a,b"}]
    assert sweep({}) == [{}]
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_sets(["seed"])
    with pytest.raises(ValueError, match="recipes only"):
        check_sets(["wf.json"], {"seed": ["1"]})


def test_options_are_checked():
    with pytest.raises(ValueError, match="concurrency"):
        BatchOptions(concurrency=0)
    with pytest.raises(ValueError, match="--sync"):
        BatchOptions(sync=True, wait=False)
    assert "rp_" not in repr(Connection("ep", KEY))


def test_prepare_reports_errors_with_their_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"1": {"class_type": "EmptyImage", "inputs": {}}}))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(WORKFLOW))
    prepared = prepare_jobs([str(good), str(bad)], target=load_target(), repeat=2)
    assert [job.label for job in prepared.jobs] == [f"{good} #1", f"{good} #2"]
    assert prepared.diagnostics and all(path == str(bad) for path, _ in prepared.diagnostics)
    with pytest.raises(CompileError, match="nothing was submitted"):
        prepared.raise_for_errors()


def test_run_batch_saves_images_and_records_and_reports_events(tmp_path):
    events = []
    jobs = [JobSpec(f"job {n}", "wf.json", {}, {"input": {"workflow": WORKFLOW}}) for n in range(3)]
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.02, workers=2) as srv:
        result = run_batch(jobs, Connection("ep", KEY, srv.url), str(tmp_path),
                           BatchOptions(concurrency=2, poll_interval=0.02), on_event=events.append)
    assert result.ok and not result.interrupted
    for outcome in result.outcomes:
        record = outcome.record
        assert record is not None and record.status == "COMPLETED" and record.files
        assert JobRecord.load(tmp_path, record.job_id) is not None
        assert all((tmp_path / name).is_file() for name in record.files)
    kinds = [event.kind for event in events]
    assert kinds.count("submitted") == 3 and kinds.count("finished") == 3
    assert result.to_dict()["jobs"][0]["label"] == "job 0"


def test_run_batch_without_waiting_leaves_jobs_queued(tmp_path):
    jobs = [JobSpec("one", "wf.json", {}, {"input": {"workflow": WORKFLOW}})]
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=1.0) as srv:
        result = run_batch(jobs, Connection("ep", KEY, srv.url), str(tmp_path), BatchOptions(wait=False))
    record = result.outcomes[0].record
    assert result.ok and record is not None and record.status in ("IN_QUEUE", "IN_PROGRESS")
    assert not record.files


def test_a_failing_job_is_an_error_event_and_the_rest_go_on(tmp_path):
    events = []
    jobs = [JobSpec("no server", "wf.json", {}, {"input": {"workflow": WORKFLOW}})]
    result = run_batch(jobs, Connection("ep", KEY, "http://127.0.0.1:9"), str(tmp_path),
                       BatchOptions(retries=0), on_event=events.append)
    assert not result.ok and "cannot talk to" in (result.outcomes[0].message or "")
    assert [e.kind for e in events] == ["error"]


def test_httpx_errors_map_to_backend_errors_with_their_cause():
    request = httpx.Request("GET", "http://127.0.0.1:9/")
    with pytest.raises(BackendConnectionError) as info:
        with map_httpx_errors(lambda exc: BackendConnectionError(f"mapped {type(exc).__name__}")):
            raise httpx.ConnectError("refused", request=request)
    assert str(info.value) == "mapped ConnectError" and isinstance(info.value.__cause__, httpx.ConnectError)
    with pytest.raises(httpx.DecodingError):  # only transport errors by default
        with map_httpx_errors(lambda exc: BackendConnectionError("no")):
            raise httpx.DecodingError("bad", request=request)
