"""One fixture recipe per rule: `fixtures/CDxxx_*.comfy` declares the codes it must give
(`# codes:`), where (`# at: CODE line:col`) and any `--set` values (`# set: k=v`)."""

from __future__ import annotations

import pytest

from comfydsl.dsl import Recipe
from comfydsl.rules.recipe import RecipeRule
from comfydsl.rules.codes import all_rules
from support_dsl import FIXTURES, codes, header

CASES = sorted(FIXTURES.glob("CD*.comfy"))
RULES = [r for r in all_rules() if isinstance(r, RecipeRule)]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_fixture_gives_its_codes_at_its_spans(path, builtin):
    meta = header(path)
    values = dict(item.split("=", 1) for item in meta.get("set", []))
    from comfydsl.target import Target

    found = Recipe(path, target=Target(builtin)).check(values)
    assert codes(found) == meta["codes"][0].split(), [(d.code, d.message) for d in found]
    assert path.stem[:5] in codes(found)
    for item in meta.get("at", []):
        code, where = item.split()
        line, column = map(int, where.split(":"))
        spans = [(d.span.line, d.span.column) for d in found if d.code == code and d.span]
        assert (line, column) in spans, (code, spans)
    for diag in found:  # every recipe diagnostic is located in a file
        assert diag.span is not None and diag.span.path, diag


def test_every_recipe_rule_has_a_fixture():
    covered = {p.stem[:5] for p in CASES}
    missing = [r.code for r in RULES if r.code not in covered and r.code != "CD122"]  # CD122: test_dsl_attachments
    assert missing == []


def test_recipe_rules_are_listed_with_the_workflow_rules():
    listed = {r.code: r for r in all_rules()}
    for rule in RULES:
        assert listed[rule.code] is rule
        assert rule.doc(), rule.code
        assert rule.name == rule.name.lower() and " " not in rule.name


def test_rule_codes_and_names_are_unique():
    every = all_rules()
    assert len({r.code for r in every}) == len(every)
    assert len({r.name for r in every}) == len(every)


def test_import_cycle_names_the_files():
    found = Recipe(FIXTURES / "CD118_import_cycle.comfy").check()
    cycle = [d for d in found if d.code == "CD118"][0]
    assert "cycle_a.comfy" in cycle.message and "cycle_b.comfy" in cycle.message
    assert cycle.span.path.endswith("cycle_b.comfy")


def test_unknown_output_lists_the_real_outputs():
    found = Recipe(FIXTURES / "CD113_unknown_output.comfy").check()
    diag = [d for d in found if d.code == "CD113"][0]
    assert "`MODEL`" in diag.help and "`VAE`" in diag.help
    assert diag.ctx["outputs"] == ["MODEL", "CLIP", "VAE"]


def test_ambiguous_output_lists_the_outputs():
    diag = [d for d in Recipe(FIXTURES / "CD114_ambiguous_output.comfy").check() if d.code == "CD114"][0]
    assert "`CLIP`" in diag.help


def test_undefined_name_suggests_a_close_one():
    diag = Recipe(FIXTURES / "CD110_undefined_name.comfy").check()[0]
    assert "`prefix`" in diag.help
