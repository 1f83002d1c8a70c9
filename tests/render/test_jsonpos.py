"""JSON positions: members found by key path, in any layout, envelopes, duplicates, odd text."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.diagnostics import Diagnostic, Location, Severity, json_path
from comfydsl.workflow.document import read_document
from comfydsl.workflow.jsonpos import JsonPositions, attach_spans, locate, parse_json_path

keys = st.text(min_size=0, max_size=8)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=10))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(keys, inner, max_size=3)),
                      max_leaves=6)
nodes = st.fixed_dictionaries({"class_type": st.text(max_size=12),
                               "inputs": st.dictionaries(keys, values, max_size=4)})
workflows = st.dictionaries(keys, nodes, min_size=1, max_size=5)
layouts = st.sampled_from([
    {}, {"indent": 2}, {"indent": "\t"}, {"separators": (",", ":")},
    {"indent": 1, "ensure_ascii": False}, {"separators": (" ,  ", " :\n ")},
])


def decoded(text: str, start: int, end: int):
    return json.loads(text[start:end])


@settings(max_examples=60, deadline=None)
@given(workflows, layouts)
def test_every_node_and_input_is_found(wf, layout):
    text = json.dumps(wf, **layout)
    pos = JsonPositions(text)
    for node_id, node in wf.items():
        member = pos.member((node_id,))
        assert decoded(text, member.key_start, member.key_end) == node_id
        assert decoded(text, member.value_start, member.value_end) == node
        for name, value in node["inputs"].items():
            found = pos.member((node_id, "inputs", name))
            assert decoded(text, found.key_start, found.key_end) == name
            assert decoded(text, found.value_start, found.value_end) == value


@settings(max_examples=40, deadline=None)
@given(workflows, layouts)
def test_inside_an_envelope(wf, layout):
    text = json.dumps({"id": "job", "input": {"images": [], "workflow": wf}}, **layout)
    doc = read_document(text, "req.json")
    assert doc.envelope == ("input", "workflow")
    pos = JsonPositions(text, doc.envelope)
    for node_id, node in wf.items():
        member = pos.member((node_id, "inputs"))
        assert decoded(text, member.value_start, member.value_end) == node["inputs"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=0, max_value=300))
def test_line_and_column(text, offset):
    offset = min(offset, len(text))
    line, column = JsonPositions(text).line_col(offset)
    before = text[:offset]
    assert line == before.count("\n") + 1
    assert column == offset - (before.rfind("\n") + 1) + 1


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.none(), keys), st.lists(st.one_of(keys, st.integers(-3, 3)), max_size=3))
def test_json_path_round_trip(node_id, parts):
    path = json_path(node_id, *parts)
    assert parse_json_path(path) == (() if node_id is None else (node_id, *parts))


def test_duplicate_keys_point_at_the_last_copy():
    text = '{"7": {"class_type": "A", "inputs": {"x": 1, "x": 2}},\n "7": {"class_type": "B", "inputs": {}}}'
    pos = JsonPositions(text)
    first, last = pos.occurrences(("7",))
    assert text[last.value_start:last.value_end].startswith('{"class_type": "B"')
    assert pos.member(("7",)) == last
    assert pos.line_col(first.key_start) == (1, 2)
    assert pos.line_col(last.key_start) == (2, 2)
    # inside a dropped copy nothing is looked up: the path follows the last copy
    assert pos.member(("7", "inputs", "x")) is None


def test_duplicate_input_keys_point_at_the_last():
    text = '{"1": {"class_type": "A", "inputs": {"x": 1, "x": 2}}}'
    found = JsonPositions(text).member(("1", "inputs", "x"))
    assert text[found.value_start:found.value_end] == "2"


def test_odd_but_readable_json():
    text = ' \n {"a\\"b": {"class_type": "\\u00e9", "inputs": '\
           '{"k\\\\": [1, {"x": []}], "nan": NaN, "é": "\\n"}}}  \n'
    pos = JsonPositions(text)
    node = pos.member(('a"b',))
    assert text[node.key_start:node.key_end] == '"a\\"b"'
    assert text[pos.member(('a"b', "inputs", "nan")).value_start:][:3] == "NaN"
    assert decoded(text, *_value(pos, ('a"b', "inputs", "k\\"))) == [1, {"x": []}]
    assert decoded(text, *_value(pos, ('a"b', "inputs", "é"))) == "\n"
    assert pos.member(('a"b', "inputs", "k\\", 1, "x")) is not None
    assert pos.member(('a"b', "inputs", "k\\", -1)) == pos.member(('a"b', "inputs", "k\\", 1))


def test_lookups_into_scalars_or_missing_keys_give_none():
    pos = JsonPositions('{"1": {"class_type": "A", "inputs": "text"}}')
    assert pos.member(("1", "inputs", "x")) is None
    assert pos.member(("2",)) is None
    assert pos.member(("1", "class_type", 0)) is None
    assert JsonPositions("").member(("1",)) is None
    assert JsonPositions("[1, 2]").member((1,)).value_start == 4


def test_not_json_at_all_gives_no_positions():
    pos = JsonPositions('{"a": [1, 2}')
    assert pos.member(("a",)) is None
    assert pos.member(("a", 0)) is None


def _value(pos, path):
    member = pos.member(path)
    return member.value_start, member.value_end


# -- locating diagnostics ---------------------------------------------------------------


TEXT = """\
{
  "1": {
    "class_type": "KSampler",
    "inputs": {
      "seed": 5,
      "cfg": [
        1
      ]
    }
  }
}
"""


def test_locate_picks_key_and_one_line_value():
    pos = JsonPositions(TEXT, (), "w.json")
    span = locate(pos, ("1", "inputs", "seed"))
    assert (span.line, span.column, span.end_line, span.end_column) == (5, 7, 5, 16)
    assert TEXT[span.start:span.end] == '"seed": 5'


def test_locate_multi_line_values_by_key():
    pos = JsonPositions(TEXT, (), "w.json")
    span = locate(pos, ("1", "inputs", "cfg"))
    assert TEXT[span.start:span.end] == '"cfg"'
    node = locate(pos, ("1",))
    assert TEXT[node.start:node.end] == '"1"' and (node.line, node.column) == (2, 3)


def test_locate_falls_back_to_what_exists():
    pos = JsonPositions(TEXT, (), "w.json")
    span = locate(pos, ("1", "inputs", "steps"))
    assert TEXT[span.start:span.end] == '"inputs"'
    assert (locate(pos, ("9",)).line, locate(pos, ("9",)).column) == (1, 1)


def test_attach_spans_to_workflow_level_findings_in_an_envelope():
    text = '{\n  "input": {\n    "workflow": {}\n  }\n}'
    diag = Diagnostic("CD602", "no-output-node", Severity.ERROR, "none", Location())
    attach_spans([diag], text, path="r.json", envelope=("input", "workflow"))
    assert (diag.span.line, diag.span.column) == (3, 5)
    assert text[diag.span.start:diag.span.end] == '"workflow"'


def test_attach_spans_keeps_existing_spans_and_fills_related():
    from comfydsl.diagnostics import Span

    own = Span("r.json", 9, 9)
    related = Location(node_id="1", json_path="$['1']", label="here")
    diag = Diagnostic("CD301", "link-type-mismatch", Severity.ERROR, "m",
                      Location(node_id="1", json_path="$['1'].inputs.seed", span=own), related=(related,))
    attach_spans([diag], TEXT, path="w.json")
    assert diag.span is own
    assert (diag.related[0].span.line, diag.related[0].label) == (2, "here")


def test_large_file_lookups_are_correct():
    wf = {str(i): {"class_type": "EmptyImage", "inputs": {"width": i, "height": 64}} for i in range(20000)}
    text = json.dumps(wf, indent=1)
    pos = JsonPositions(text)
    member = pos.member(("19999", "inputs", "width"))
    assert text[member.value_start:member.value_end] == "19999"
    assert pos.line_col(member.key_start)[0] == text.count("\n", 0, member.key_start) + 1


# -- every finding of the real checks lands on its key -----------------------------------

from support import CASES as CONFORMANCE_CASES  # noqa: E402

CASES = sorted(CONFORMANCE_CASES.glob("*.json"))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(CASES), layouts, st.booleans())
def test_findings_of_conformance_cases_point_at_their_keys(case, layout, envelope):
    from comfydsl.catalog import builtin_catalog
    from comfydsl.validate import check_document

    data = json.loads(case.read_text())
    if "workflow" not in data:
        return
    body = {"input": {"workflow": data["workflow"]}} if envelope else data["workflow"]
    text = json.dumps(body, **layout)
    doc = read_document(text, "case.json")
    found = check_document(doc, catalog=builtin_catalog())
    attach_spans(found, text, path="case.json", envelope=doc.envelope)
    pos = JsonPositions(text, doc.envelope)
    for diag in found:
        span = diag.span
        assert span is not None and span.path == "case.json"
        keys = parse_json_path(diag.json_path) if diag.json_path else ()
        if not keys:  # a workflow-level finding: the envelope key, or the document's first character
            assert span.start == (text.index('"workflow"') if envelope else 0)
            continue
        existing = next(keys[:n] for n in range(len(keys), 0, -1) if pos.member(keys[:n]) is not None)
        assert text[span.start] == '"'
        assert json.decoder.scanstring(text, span.start + 1)[0] == existing[-1]
        assert (span.line, span.column) == pos.line_col(span.start)
