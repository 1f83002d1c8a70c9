"""The JSON renderer writes exactly what `json.dumps(indent=2)` writes, only faster."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.diagnostics import Diagnostic, Location, Severity, Span
from comfydsl.lint import FileResult, lint_text
from comfydsl.render import LintRun
from comfydsl.render.json import dumps_indented, render, to_dict
from support import CASES

_leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


def _reference(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_same_text_as_json_dumps(value: object) -> None:
    assert dumps_indented(value) == _reference(value)


def test_unusual_values_fall_back_to_the_json_module() -> None:
    for value in ({1: "a"}, [math.nan, math.inf], {"p": Path("x")}, "\ud800", {"a": [[[]]], "b": {}}):
        assert dumps_indented(value) == _reference(value)
    deep: list = []
    for _ in range(300):
        deep = [deep]
    assert dumps_indented(deep) == _reference(deep)


def test_a_real_run_renders_as_before() -> None:
    results = []
    for path in sorted(CASES.glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        text = case.get("workflow_text") or json.dumps(case["workflow"], indent=1)
        results.append(lint_text(text, path.name))
    run = LintRun(results, models_checked=False)
    assert len(run.diagnostics()) > 100
    assert render(run) == _reference(to_dict(run)) + "\n"
    assert render(LintRun([])) == _reference(to_dict(LintRun([]))) + "\n"


def test_keys_written_before_are_reused_only_for_the_same_key() -> None:
    first = {"1": 1, "true": True, "null": None, "é": "\u2028", "a\"b": [1, {"x": ""}]}
    assert dumps_indented(first) == _reference(first)
    for value in ({1: "a"}, {True: 1}, {None: 2}, {1.0: 3}, {"1": 1, 2: 2}):  # non-string keys: the json module
        assert dumps_indented(value) == _reference(value)
    many = {f"key{i}": [i, None, False, "s"] for i in range(2000)}  # more keys than are kept
    assert dumps_indented(many) == _reference(many)
    assert dumps_indented(many) == _reference(many)


def test_an_end_is_added_either_way() -> None:
    assert dumps_indented({"a": [1]}, end="\n") == _reference({"a": [1]}) + "\n"
    assert dumps_indented({1: [1]}, end="\n") == _reference({1: [1]}) + "\n"  # the json module's way


_texts = st.text() | st.sampled_from(["", "\u2028", "é\"\\\n", "\x00\x1f"])
_maybe = st.none() | _texts
_spans = st.none() | st.builds(
    Span, path=_maybe, line=st.integers(1, 10**6), column=st.integers(1, 10**4),
    end_line=st.none() | st.integers(1, 10**6), end_column=st.none() | st.integers(1, 10**4))
_locations = st.builds(Location, node_id=_maybe, class_type=_maybe, input=_maybe, json_path=_maybe,
                       span=_spans, label=_maybe)
_diagnostics = st.builds(
    Diagnostic, code=_texts, name=_texts, severity=st.sampled_from(list(Severity)), message=_texts,
    location=_locations, help=_maybe, notes=st.lists(_texts, max_size=2).map(tuple),
    related=st.lists(_locations, max_size=2).map(tuple))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_diagnostics, max_size=3), max_size=3), st.booleans())
def test_findings_are_written_as_their_to_dict(groups, checked) -> None:
    run = LintRun([FileResult(f"f{i}.json", "api", diags, None) for i, diags in enumerate(groups)],
                  models_checked=checked)
    assert render(run) == _reference(to_dict(run)) + "\n"


def test_findings_of_unusual_types_fall_back_to_the_plain_document() -> None:
    odd = [Diagnostic("CD101", "x", Severity.ERROR, "m", Location(node_id=5)),  # type: ignore[arg-type]
           Diagnostic("CD101", "x", Severity.ERROR, "m", Location(span=Span("p", 1, 1.5))),  # type: ignore[arg-type]
           Diagnostic("CD101", "x", Severity.ERROR, "m", notes=(float("nan"),))]  # type: ignore[arg-type]
    for diag in odd:
        run = LintRun([FileResult("f.json", "api", [diag], None)], models_checked=False)
        assert render(run) == _reference(to_dict(run)) + "\n"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_maybe, st.sampled_from(["api", "ui", "invalid"]) | _maybe,
                          st.lists(_diagnostics, max_size=2)), max_size=4),
       st.booleans() | st.none())
def test_files_without_findings_or_with_odd_paths_are_written_as_their_to_dict(files, checked) -> None:
    # the files of a run are written as fixed text around their fields: empty runs, files
    # without findings, paths that are null or need escapes; a run whose `models_checked`
    # is not a boolean goes to the general writer
    run = LintRun([FileResult(path, kind, diags, None) for path, kind, diags in files],  # type: ignore[arg-type]
                  models_checked=checked)  # type: ignore[arg-type]
    assert render(run) == _reference(to_dict(run)) + "\n"


def test_files_of_unusual_types_fall_back_to_the_plain_document() -> None:
    for path, kind in ((Path("a.json"), "api"), ("a.json", 3)):
        run = LintRun([FileResult(path, kind, [], None)], models_checked=True)  # type: ignore[arg-type]
        assert render(run) == _reference(to_dict(run)) + "\n"
