"""The table of rule codes, the rule classes and `comfydsl rules` agree."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re

import comfydsl.rules
from comfydsl.cli import main
from comfydsl.diagnostics import Rule
from comfydsl.rules.base import CheckRule
from comfydsl.rules.codes import CODES, FAMILIES, all_rules, by_code, workflow_rules
from comfydsl.rules.recipe import RecipeRule
from comfydsl.workflow import document

KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def _defined_rule_classes() -> set[type[Rule]]:
    """Every concrete rule class defined in comfydsl.rules.* and the reader."""
    modules = [document] + [importlib.import_module(f"comfydsl.rules.{m.name}")
                            for m in pkgutil.iter_modules(comfydsl.rules.__path__)]
    found: set[type[Rule]] = set()
    for module in modules:
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, Rule) and obj.__module__ == module.__name__
                    and obj not in (CheckRule, RecipeRule) and "code" in vars(obj)):
                found.add(obj)
    return found


def test_every_code_once_in_order():
    codes = [row.code for row in CODES]
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes)
    assert all(re.fullmatch(r"CD\d{3}", code) for code in codes)


def test_names_are_kebab_case_and_unique():
    names = [row.name for row in CODES]
    assert len(names) == len(set(names))
    assert all(KEBAB.match(name) for name in names), [n for n in names if not KEBAB.match(n)]


def test_family_is_the_hundreds_digit():
    for row in CODES:
        assert row.family is FAMILIES[int(row.code[2])], row


def test_table_rows_match_their_classes():
    for row in CODES:
        assert (row.rule.code, row.rule.name) == (row.code, row.name), row
    assert len({row.rule for row in CODES}) == len(CODES)


def test_every_rule_class_is_in_the_table():
    assert _defined_rule_classes() == {row.rule for row in CODES}


def test_instances_follow_the_table():
    assert [r.code for r in all_rules()] == [row.code for row in CODES]
    assert [type(r) for r in all_rules()] == [row.rule for row in CODES]
    assert all(isinstance(r, CheckRule) for r in workflow_rules())
    assert {r.code for r in workflow_rules()} == {row.code for row in CODES if issubclass(row.rule, CheckRule)}
    assert set(by_code()) == {row.code for row in CODES}


def test_comfydsl_rules_lists_the_table(capsys):
    assert main(["rules", "--format", "json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [(r["code"], r["name"]) for r in listing] == [(row.code, row.name) for row in CODES]
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [[row.code, row.name] for row in CODES]
