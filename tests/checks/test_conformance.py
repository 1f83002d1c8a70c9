"""The conformance cases: workflows judged by ComfyUI 0.3.64's own validator.

comfydsl must report an error for every workflow ComfyUI rejects (and for every case
labelled invalid), on the node ComfyUI blames or the node holding the bad link, and no
error where ComfyUI accepts a workflow that is really fine. Cases ComfyUI accepts although
the run then fails or silently loses output (labelled `lenient`) may get errors; the
checks below pin which.
"""

from __future__ import annotations

import json

import pytest

from comfydsl.workflow.document import classify, parse_json
from comfydsl.target import load_target
from comfydsl.validate import check_document

from support import CONFORMANCE, OBJECT_INFO

CASES = sorted((CONFORMANCE / "cases").glob("*.json"))

#: Lenient kinds where comfydsl reports an error on purpose, with the code it uses.
STRICTER_THAN_COMFYUI = {
    "duplicate_node_id_last_valid": "CD004",
    "literal_for_link_input": "CD203",
    "wrong_type_string_dict": "CD401",
    "combo_unknown_comboform": "CD405",
    "model_unknown_comboform": "CD501",
    "link_output_index_negative": "CD105",
    "one_of_two_outputs_broken": None,  # the broken branch's own error
}


def load_case(path):
    case = json.loads(path.read_text())
    data = parse_json(case["workflow_text"]) if "workflow_text" in case else case["workflow"]
    return case, classify(data, path=str(path))


@pytest.fixture(scope="module", params=["builtin+placeholders", "object_info"])
def target(request, placeholder_models):
    """Both ways of describing the validator's machine: the built-in catalogue with a
    manifest of its model files, or its own object_info (whose lists are its inventory)."""
    if request.param == "object_info":
        return load_target([str(OBJECT_INFO)], builtin=False)
    built = load_target()
    built.models = placeholder_models
    return built


def test_all_cases_present():
    index = [json.loads(line) for line in (CONFORMANCE / "index.jsonl").read_text().splitlines() if line]
    assert len(CASES) == len(index) == 161


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path, target):
    case, doc = load_case(path)
    verdict, mutation = case["comfyui"], case["mutation"]
    diagnostics = check_document(doc, catalog=target.catalog, models=target.models)
    errors = [d for d in diagnostics if d.is_error]
    kind = mutation["kind"]

    rejected = not verdict["valid"] or bool(verdict["node_errors"])
    if rejected or mutation["category"] == "invalid":
        assert errors, f"ComfyUI rejects {kind}, comfydsl found no error"
        if verdict["error_type"] == "prompt_no_outputs":
            assert any(d.code == "CD602" for d in errors)
            return
        blamed = set(verdict["node_errors"])
        if mutation["node"] is not None:
            blamed.add(mutation["node"])
        located = [d for d in errors
                   if d.node_id in blamed or any(r.node_id in blamed for r in d.related)]
        assert located, f"no error on {sorted(blamed)}: {[(d.code, d.node_id) for d in errors]}"
    elif kind in STRICTER_THAN_COMFYUI:
        code = STRICTER_THAN_COMFYUI[kind]
        assert errors and (code is None or {d.code for d in errors} == {code}), [(d.code, d.message) for d in errors]
    else:
        assert not errors, [(d.code, d.node_id, d.message) for d in errors]


@pytest.mark.parametrize("path", [p for p in CASES if "__cycle" in p.name or "c23_cycle" in p.name],
                         ids=lambda p: p.stem)
def test_cycles_name_every_member(path):
    case, doc = load_case(path)
    cycle = case["mutation"]["detail"].get("cycle")
    diagnostics = check_document(doc)
    found = [d for d in diagnostics if d.code == "CD601"]
    assert len(found) == 1
    members = {found[0].node_id} | {r.node_id for r in found[0].related}
    if cycle:
        assert members == {str(m) for m in cycle}


def test_multiple_errors_all_reported(placeholder_models):
    path = CONFORMANCE / "cases" / "research__c21_multiple_errors.json"
    case, doc = load_case(path)
    diagnostics = check_document(doc, models=placeholder_models)
    expected = {(node, err["input"]) for node, errs in case["comfyui"]["node_errors"].items() for err in errs}
    got = {(d.node_id, d.input) for d in diagnostics if d.is_error}
    assert expected <= got
