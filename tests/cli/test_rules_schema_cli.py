"""`comfydsl rules` and `comfydsl schema` through the installed console script."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from clitools import CLEAN, PULID_OBJECT_INFO, assert_clean_usage_error, run, write_json
from comfydsl.catalog import builtin_catalog
from comfydsl.emit.schema import workflow_schema
from comfydsl.rules.codes import all_rules


def test_rules_lists_every_rule():
    result = run("rules")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    rules = all_rules()
    assert len(lines) == len(rules)
    for line, rule in zip(lines, rules):
        assert line.split()[:3] == [rule.code, rule.name, rule.severity.value]
    assert "CD201  missing-required-input" in result.stdout
    assert "A node lacks one of its class's required inputs." in result.stdout


def test_rules_explains_one_by_code_or_name():
    by_code = run("rules", "cd201")
    by_name = run("rules", "missing-required-input")
    assert by_code.returncode == by_name.returncode == 0
    assert by_code.stdout == by_name.stdout
    text = by_code.stdout
    assert text.startswith("CD201 missing-required-input (default severity: error)")
    assert "**Why is this bad?**" in text and "**Use instead:**" in text
    assert "ComfyUI error it heads off: `required_input_missing`" in text


def test_rules_json():
    listing = json.loads(run("rules", "--format", "json").stdout)
    assert [r["code"] for r in listing] == [r.code for r in all_rules()]
    assert set(listing[0]) == {"code", "name", "severity", "summary", "comfy_error"}
    one = json.loads(run("rules", "CD603", "--format", "json").stdout)
    assert one["name"] == "unused-node" and one["severity"] == "warning"
    assert one["doc"].startswith("A node feeds no output node.")


def test_rules_unknown_rule_suggests():
    result = run("rules", "missing-required-inptu")
    assert_clean_usage_error(result, "missing-required-inptu", "`missing-required-input`")


def test_schema_to_stdout_and_file(tmp_path):
    result = run("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    # the library's schema, whose validity against the 2020-12 metaschema tests/emit checks
    assert schema == workflow_schema(builtin_catalog())
    validator = Draft202012Validator(schema)
    assert validator.is_valid(CLEAN)
    assert not validator.is_valid({"1": {"class_type": "EmptyImage", "inputs": {"width": 0}}})
    assert run("schema", "-o", "wf.schema.json", cwd=tmp_path).stdout == ""
    assert json.loads((tmp_path / "wf.schema.json").read_text()) == schema


def test_schema_with_custom_catalogue(tmp_path):
    pulid = str(PULID_OBJECT_INFO)
    schema = json.loads(run("schema", "--catalog", pulid, cwd=tmp_path).stdout)
    assert "ApplyPulidFlux" in schema["$defs"] and "KSampler" in schema["$defs"]
    only = json.loads(run("schema", "--catalog", pulid, "--no-builtin", cwd=tmp_path).stdout)
    assert "ApplyPulidFlux" in only["$defs"] and "KSampler" not in only["$defs"]


def test_schema_usage_errors(tmp_path):
    assert_clean_usage_error(run("schema", "--no-builtin", cwd=tmp_path), "catalogue is empty")
    assert_clean_usage_error(run("schema", "--catalog", "nope.json", cwd=tmp_path), "nope.json")


def test_schema_follows_the_config_file(tmp_path):
    write_json(tmp_path / "cat" / "extra.json",
               json.loads(PULID_OBJECT_INFO.read_text()))
    (tmp_path / "comfydsl.toml").write_text('catalog = ["cat/extra.json"]\nno-builtin = true\n')
    (tmp_path / "deep" / "er").mkdir(parents=True)
    schema = json.loads(run("schema", cwd=tmp_path / "deep" / "er").stdout)
    assert "ApplyPulidFlux" in schema["$defs"] and "KSampler" not in schema["$defs"]
