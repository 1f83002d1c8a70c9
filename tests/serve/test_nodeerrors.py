"""The dry executor's replay of ComfyUI's prompt validation, against ComfyUI's own verdicts."""

from __future__ import annotations

import json

import pytest

from comfydsl.catalog import ModelCatalog, NodeCatalog
from comfydsl.catalog.importer import read_placeholders
from comfydsl.serve.nodeerrors import prompt_verdict
from comfydsl.validate import check_workflow
from serve_helpers import CONFORMANCE, OBJECT_INFO, PLACEHOLDERS

#: Kinds of change where comfydsl is stricter than ComfyUI 0.3.64 on purpose (it rejects
#: what ComfyUI lets through and then fails at run time), or reports a different detail.
STRICTER = {"literal_for_link_input", "wrong_type_string_dict", "combo_unknown_comboform",
            "model_unknown_comboform", "link_output_index_negative", "link_output_index_negative_oob",
            "inputs_not_object"}

CASES = sorted(p.stem for p in (CONFORMANCE / "cases").glob("*.json"))


@pytest.fixture(scope="module")
def target():
    catalog = NodeCatalog(json.loads(OBJECT_INFO.read_text()), source="object_info")
    models = ModelCatalog(source="placeholders")
    for name, folder in read_placeholders(PLACEHOLDERS.read_text()).items():
        models.add(folder, [name])
    return catalog, models


def _verdict(case: dict, target):
    catalog, models = target
    workflow = case.get("workflow") or json.loads(case["workflow_text"])
    diagnostics = check_workflow(workflow, catalog=catalog, models=models, input_files=set())
    return prompt_verdict(workflow, diagnostics, catalog, models)


def _summary(valid, error, node_errors, errors_of):
    return {"valid": valid, "type": error["type"] if error else None,
            "details": error["details"] if error else None,
            "node_errors": {k: [(e["type"], e["message"], e["details"]) for e in errors_of(v)]
                            for k, v in node_errors.items()}}


def test_there_are_conformance_cases():
    assert len(CASES) > 100


@pytest.mark.parametrize("name", CASES)
def test_verdict_matches_comfyui(name, target):
    case = json.loads((CONFORMANCE / "cases" / f"{name}.json").read_text())
    verdict = _verdict(case, target)
    comfy = case["comfyui"]
    if not comfy["valid"]:
        assert not verdict.accepted, "ComfyUI rejects this workflow; the dry run must too"
    if case["mutation"]["kind"] in STRICTER:
        return
    mine = _summary(verdict.accepted, verdict.error, verdict.node_errors, lambda v: v["errors"])
    theirs = _summary(comfy["valid"], {"type": comfy["error_type"], "details": comfy["error_details"]}
                      if comfy["error_type"] else None, comfy["node_errors"], lambda v: v)
    assert mine == theirs
    if comfy["valid"]:
        assert sorted(verdict.outputs) == sorted(comfy["outputs"])
