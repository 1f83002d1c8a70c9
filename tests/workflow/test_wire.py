"""The wire format: links, node-id order, envelopes and their limits, job states."""

from __future__ import annotations

import json

import pytest

from comfydsl.errors import RequestTooLarge
from comfydsl.workflow.document import classify
from comfydsl.workflow.envelopes import (ENVELOPES, RUN_BODY_LIMIT, RUNSYNC_BODY_LIMIT, body_limit, encode_body,
                                         prompt_body, runpod_body, wrap)
from comfydsl.workflow.links import is_link, iter_links, node_id_key, sorted_ids
from comfydsl.workflow.status import FINAL_STATES, JobStatus, is_final

WORKFLOW = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8}}}


@pytest.mark.parametrize("value, expected", [
    (["4", 0], True), (["", 2], True), (["4", -1], True),
    (["4", True], False), ([4, 0], False), (["4", 0.0], False), (["4"], False), (["4", 0, 1], False),
    (("4", 0), False), ("4", False), (None, False),
])
def test_is_link(value, expected):
    assert is_link(value) is expected


def test_iter_links_skips_values_and_malformed_lists():
    inputs = {"a": ["1", 0], "b": 3, "c": [1, 0], "d": ["x", 2]}
    assert list(iter_links(inputs)) == [("a", "1", 0), ("d", "x", 2)]


def test_node_ids_sort_numbers_first_in_numeric_order():
    assert sorted_ids(["10", "b", "2", "a", "1"]) == ["1", "2", "10", "a", "b"]
    assert node_id_key("02") < node_id_key("10") < node_id_key("a")


def test_envelopes_round_trip_through_the_reader():
    body = wrap(WORKFLOW, "runpod", [("a.png", "QUJD")])
    assert body == {"input": {"workflow": WORKFLOW, "images": [{"name": "a.png", "image": "QUJD"}]}}
    doc = classify(json.loads(json.dumps(body)))
    assert doc.kind == "runpod" and doc.workflow == WORKFLOW and doc.upload_names == {"a.png"}
    doc = classify(prompt_body(WORKFLOW, "client"))
    assert doc.kind == "prompt" and doc.workflow == WORKFLOW
    assert wrap(WORKFLOW, "none") is WORKFLOW and wrap(WORKFLOW, None) is WORKFLOW
    assert set(ENVELOPES) == {"none", "runpod", "prompt"}
    with pytest.raises(ValueError, match="unknown envelope"):
        wrap(WORKFLOW, "zip")


def test_runpod_body_without_images_has_no_images_key():
    assert runpod_body(WORKFLOW) == {"input": {"workflow": WORKFLOW}}
    assert runpod_body(WORKFLOW, comfy_org_api_key="k")["input"]["comfy_org_api_key"] == "k"
    assert "comfy_org_api_key" not in runpod_body(WORKFLOW, comfy_org_api_key=None)["input"]


def test_body_limits_are_the_documented_decimal_megabytes():
    assert (RUN_BODY_LIMIT, RUNSYNC_BODY_LIMIT) == (10_000_000, 20_000_000)
    assert body_limit("run") == RUN_BODY_LIMIT and body_limit("runsync") == RUNSYNC_BODY_LIMIT
    fits = {"input": {"x": "A" * (RUN_BODY_LIMIT - 20)}}
    assert len(encode_body(fits, "run")) <= RUN_BODY_LIMIT
    over = {"input": {"x": "A" * RUN_BODY_LIMIT}}
    with pytest.raises(RequestTooLarge) as info:
        encode_body(over, "run")
    assert info.value.limit == RUN_BODY_LIMIT and "at most 10 MB for /run" in str(info.value)
    assert encode_body(over, "runsync") == encode_body(over)


def test_final_states_are_defined_once():
    assert FINAL_STATES == {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.TIMED_OUT}
    assert is_final("COMPLETED") and is_final(JobStatus.TIMED_OUT)
    assert not is_final("IN_PROGRESS") and not JobStatus.RUNNING.is_final


def test_workflow_imports_nothing_above_it():
    import ast
    from pathlib import Path

    import comfydsl.workflow

    allowed = {"comfydsl.diagnostics", "comfydsl.errors"}
    for path in Path(comfydsl.workflow.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = "comfydsl" + ("." + node.module if node.module else "") if node.level == 2 else \
                    "comfydsl.workflow" + ("." + node.module if node.module else "")
                assert target.startswith("comfydsl.workflow") or target in allowed, (path.name, target)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.startswith("comfydsl") and n.split(".")[:2] != ["comfydsl", "workflow"]
                               and n not in allowed for n in names), (path.name, names)
