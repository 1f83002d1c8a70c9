"""The workflow JSON Schema: a valid draft 2020-12 schema that accepts real workflows and
rejects broken ones (the conformance cases in tests/data)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from comfydsl.catalog import NodeCatalog, builtin_catalog
from comfydsl.emit.schema import LINK, NODE, ref, workflow_schema

from support import CASES, CONFORMANCE, PULID_OBJECT_INFO

INDEX = [json.loads(line) for line in (CONFORMANCE / "index.jsonl").read_text().splitlines() if line]

#: Mutations a schema can see: each must make the workflow fail the schema.
SCHEMA_VISIBLE = {
    "drop_required_widget", "drop_required_link", "value_above_max_int", "value_below_min_int",
    "value_above_max_float", "value_below_min_float", "wrong_type_int_string", "wrong_type_int_null",
    "wrong_type_float_list", "combo_unknown_legacy", "unknown_class_type", "unknown_class_type_dead_node",
    "missing_class_type", "link_int_node_id", "link_string_slot", "link_len3", "inputs_not_object",
    "inputs_missing",
}


#: An upload (`LoadImage.image`): its file list is the worker's, so the schema allows any name.
NOT_VISIBLE = {"research__c26_loadimage_missing_file"}


def workflow_of(name: str) -> dict:
    return json.loads((CASES / f"{name}.json").read_text())["workflow"]


@pytest.fixture(scope="module")
def schema() -> dict:
    return workflow_schema(builtin_catalog())


@pytest.fixture(scope="module")
def validator(schema) -> Draft202012Validator:
    return Draft202012Validator(schema)


def test_schema_is_valid_2020_12(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("name", [e["name"] for e in INDEX if e["category"] == "clean"])
def test_clean_workflows_pass(validator, name):
    errors = [e.message for e in validator.iter_errors(workflow_of(name))]
    assert errors == []


@pytest.mark.parametrize("name", [e["name"] for e in INDEX
                                  if e["kind"] in SCHEMA_VISIBLE and e["name"] not in NOT_VISIBLE][::3])
def test_broken_workflows_fail(validator, name):
    assert not validator.is_valid(workflow_of(name))


def test_class_schema_details(schema):
    defs = schema["$defs"]
    assert set(defs[NODE]["properties"]["class_type"]["enum"]) == set(builtin_catalog())
    ksampler = defs["KSampler"]
    assert ksampler["description"] == "KSampler (sampling)"
    inputs = ksampler["properties"]["inputs"]
    assert inputs["required"] == ["model", "seed", "steps", "cfg", "sampler_name", "scheduler",
                                  "positive", "negative", "latent_image", "denoise"]
    steps = inputs["properties"]["steps"]
    assert steps["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 10000}
    assert steps["anyOf"][1] == ref(LINK) and steps["default"] == 20
    assert inputs["properties"]["cfg"]["anyOf"][0]["type"] == "number"
    assert "euler" in inputs["properties"]["sampler_name"]["anyOf"][0]["enum"]
    assert inputs["properties"]["model"]["$ref"] == "#/$defs/comfydsl:link"
    # model files depend on the worker: any string
    ckpt = defs["CheckpointLoaderSimple"]["properties"]["inputs"]["properties"]["ckpt_name"]
    assert ckpt["anyOf"][0] == {"type": "string"}


def test_link_shape(schema):
    validator = Draft202012Validator(schema["$defs"][LINK])
    assert validator.is_valid(["4", 0]) and validator.is_valid(["4", -1])
    for bad in (["4"], ["4", 0, 0], [4, 0], ["4", "0"], "4"):
        assert not validator.is_valid(bad)


def test_odd_class_names_are_referenced_correctly():
    raw = {
        "My/Node ~ä": {"input": {"required": {"n": ["INT", {"min": 2}]}}, "output": [], "output_node": True},
        "Plain": {"input": {"required": {"flag": ["BOOLEAN", {}], "choice": [["a", "b"], {}],
                                         "many": ["COMBO", {"options": ["x", "y"], "multiselect": True}]}},
                  "output": ["IMAGE"], "display_name": "Plain node"},
    }
    schema = workflow_schema(NodeCatalog(raw))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"1": {"class_type": "My/Node ~ä", "inputs": {"n": 2}}})
    assert not validator.is_valid({"1": {"class_type": "My/Node ~ä", "inputs": {"n": 1}}})
    ok = {"class_type": "Plain", "inputs": {"flag": True, "choice": "a", "many": ["x", "y"]}}
    assert validator.is_valid({"1": ok})
    for change in ({"flag": 1}, {"choice": "c"}, {"many": ["z"]}):
        node = {"class_type": "Plain", "inputs": {**ok["inputs"], **change}}
        assert not validator.is_valid({"1": node}), change
    assert schema["$defs"]["Plain"]["description"] == "Plain node"


def test_custom_catalogue_classes():
    raw = json.loads(PULID_OBJECT_INFO.read_text())
    schema = workflow_schema(builtin_catalog().merged(NodeCatalog(raw)))
    assert "ApplyPulidFlux" in schema["$defs"]
    assert "ApplyPulidFlux" in schema["$defs"][NODE]["properties"]["class_type"]["enum"]
