"""`read_document` decodes with the plain C decoder and reads again, counting duplicate keys,
only when a node id may occur twice: the result is the same as counting every time."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.workflow.document import _no_duplicate_nodes, classify, parse_json, read_document


def counted(text: str) -> Any:
    """What reading with duplicate detection on every object gives."""
    return classify(parse_json(text), path="w.json", text=text)


def same(text: str) -> None:
    fast, slow = read_document(text, "w.json"), counted(text)
    assert (fast.kind, fast.envelope, fast.duplicates) == (slow.kind, slow.envelope, slow.duplicates)
    assert fast.workflow == slow.workflow
    assert [d.to_dict() for d in fast.diagnostics] == [d.to_dict() for d in slow.diagnostics]


NODE = '{"class_type": "A", "inputs": {"x": 1}}'


def test_duplicate_digit_ids_are_found():
    text = '{"3": ' + NODE + ', "4": ' + NODE + ', "3": ' + NODE + ', "3": ' + NODE + '}'
    doc = read_document(text)
    assert doc.duplicates == {"3": 3}
    assert [d.code for d in doc.diagnostics] == ["CD004"]
    same(text)


def test_duplicates_written_another_way_are_found():
    for text in ('{"3": ' + NODE + ', "\\u0033": ' + NODE + '}',       # one copy escaped
                 '{"3" : ' + NODE + ',\n"3"\n:' + NODE + '}',            # blanks before the colons
                 '{"a": ' + NODE + ', "a": ' + NODE + '}',               # ids that are not digits
                 '{"12:5": ' + NODE + ', "12:5": ' + NODE + '}',
                 '{"": ' + NODE + ', "": ' + NODE + '}',
                 '{"é": ' + NODE + ', "\\u00e9": ' + NODE + '}'):
        doc = read_document(text)
        assert list(doc.duplicates.values()) == [2], text
        same(text)


def test_duplicates_inside_an_envelope_are_found():
    for body in ('{"input": {"workflow": {"1": %s, "1": %s}}}', '{"prompt": {"1": %s, "1": %s}}'):
        text = body % (NODE, NODE)
        assert read_document(text).duplicates == {"1": 2}
        same(text)


def test_duplicates_below_the_nodes_are_not_node_ids():
    text = '{"1": {"class_type": "A", "inputs": {"1": 1, "1": 2}}, "2": {"class_type": "B", "inputs": {}}}'
    assert not _no_duplicate_nodes(json.loads(text), text)  # a key "1" elsewhere: read again
    assert read_document(text).duplicates == {}
    same(text)


def test_plain_workflows_are_not_read_twice():
    text = json.dumps({str(i): {"class_type": "A", "inputs": {"seed": i, "m": [str(i - 1), 0]}}
                       for i in range(1, 30)}, indent=2)
    assert _no_duplicate_nodes(json.loads(text), text)
    assert not _no_duplicate_nodes(json.loads(text), text.replace('"seed"', '"5"'))
    same(text)


def test_strings_that_look_like_keys():
    text = '{"1": {"class_type": "A", "inputs": {"t": "\\"1\\": no", "u": "2\\":"}}, "2": ' + NODE + '}'
    same(text)
    text = '{"1": {"class_type": "A", "inputs": {"t": "1 : no", "u": ["1", ":"]}}, "2": ' + NODE + '}'
    assert _no_duplicate_nodes(json.loads(text), text)
    same(text)


IDS = st.sampled_from(["1", "2", "10", "3", "a", "1:2", "", "é", "٣", "30:7:5", ":", "::", "3:"])


@st.composite
def texts(draw: Any) -> str:
    ids = draw(st.lists(IDS, min_size=1, max_size=6))
    blanks = st.sampled_from(["", " ", "\n  ", "\t"])

    def key(k: str) -> str:
        return json.dumps(k) if draw(st.booleans()) else '"' + "".join(f"\\u{ord(c):04x}" for c in k) + '"'

    def node() -> str:
        inner = draw(st.sampled_from(["", '"1": 0', '"x": "\\"2\\":"', '"x": ["1", 0]', '"10" : {}',
                                      # escapes of every kind, values that begin with a colon, keys
                                      # of digits and colons below the nodes
                                      '"x": "a\\nb\\\\"', '"x":": 1"', '"x":":"', '"1:2": "\\t"',
                                      '"x": "\\\\", "3": 1', '"x": "\\u0033"', '"x": "\\\\\\"3\\":"',
                                      '"3\\"": 1', '"x": "\\\\u0033"']))
        return '{"class_type": "A", "inputs": {' + inner + "}}"

    members = ",".join(f"{draw(blanks)}{key(k)}{draw(blanks)}:{draw(blanks)}{node()}" for k in ids)
    body = "{" + members + "}"
    wrap = draw(st.sampled_from(["%s", '{"input": {"workflow": %s}}', '{"prompt": %s}', "[%s]"]))
    return wrap % body


@settings(max_examples=300, deadline=None)
@given(texts())
def test_reading_agrees_with_counting_every_object(text):
    same(text)


def test_ids_of_other_digits_are_counted():
    # "٣" is a decimal digit but not 0-9: a deeper key of 0-9 digits must not stand in for it
    text = '{"1": {"class_type": "A", "inputs": {"5": 1}}, "٣": ' + NODE + ', "٣": ' + NODE + '}'
    assert read_document(text).duplicates == {"٣": 2}
    same(text)
    text = '{"1": {"class_type": "A", "inputs": {"5": 1}}, "": ' + NODE + ', "": ' + NODE + '}'
    assert read_document(text).duplicates == {"": 2}
    same(text)
    assert _no_duplicate_nodes({}, "{}")
    same("{}")


_PIECES = st.text(alphabet='0123456789:"\\ ,{}[]\nab', max_size=6)


def _written(value: str, draw: Any) -> str:
    """A JSON string for `value`: plain, ASCII only, or every character escaped."""
    style = draw(st.sampled_from(["plain", "ascii", "all"]))
    if style == "all":
        return '"' + "".join(f"\\u{ord(c):04x}" for c in value) + '"'
    return json.dumps(value, ensure_ascii=style == "ascii")


@st.composite
def workflows_with_odd_strings(draw: Any) -> str:
    """Ids of digits and colons (often the same one twice), inputs whose keys and values are
    made of quotes, backslashes, colons, digits and brackets, each written any way."""
    members = []
    for node_id in draw(st.lists(st.text(alphabet="12:", min_size=1, max_size=2), min_size=1, max_size=5)):
        inputs = ", ".join(f"{_written(k, draw)}: {_written(v, draw)}"
                           for k, v in draw(st.lists(st.tuples(_PIECES, _PIECES), max_size=3)))
        members.append(f'{_written(node_id, draw)}: {{"class_type": "A", "inputs": {{{inputs}}}}}')
    return "{" + ", ".join(members) + "}"


@settings(max_examples=400, deadline=None)
@given(workflows_with_odd_strings())
def test_a_single_read_is_kept_only_when_no_id_occurs_twice(text):
    if _no_duplicate_nodes(json.loads(text), text):
        assert not getattr(parse_json(text), "dups", None), text
    same(text)


def test_ids_of_subgraph_nodes_are_not_read_twice():
    # ComfyUI names the nodes of a subgraph `outer:inner`; such ids are counted like digits
    text = json.dumps({"1": {"class_type": "A", "inputs": {}}, "30:7:5": {"class_type": "B", "inputs": {
        "x": ["1", 0], "t": "a\nb \\ c"}}}, indent=1)
    assert "\\n" in text and _no_duplicate_nodes(json.loads(text), text)
    same(text)
    twice = text.replace('"1":', '"30:7:5":')
    assert read_document(twice).duplicates == {"30:7:5": 2}
    same(twice)


def test_escaped_quotes_and_backslashes_are_taken_out_before_counting():
    # prompts with quotes and Windows paths are common: they keep the single read
    for inner in ('"t": "say \\"1\\": 0"', '"t": "C:\\\\"', '"t": "\\\\\\"1\\\\\\":"', '"t": "\\\\u0031"'):
        text = '{"1": {"class_type": "A", "inputs": {' + inner + '}}, "2": ' + NODE + '}'
        assert _no_duplicate_nodes(json.loads(text), text), text
        same(text)
    # a key whose escapes are taken out may look like an id: counted in excess, read again
    text = '{"1": {"class_type": "A", "inputs": {"1\\"": 0}}}'
    assert not _no_duplicate_nodes(json.loads(text), text)
    same(text)


def test_ids_spelled_with_escapes_are_read_twice():
    for inner in ('"t": "\\u0031"', '"t": "\\u003A"'):  # any escape of a digit or a colon
        text = '{"1": {"class_type": "A", "inputs": {' + inner + '}}}'
        assert not _no_duplicate_nodes(json.loads(text), text), text
        same(text)
    hidden = '{"1": ' + NODE + ', "\\u0031": ' + NODE + ', "2": {"class_type": "A", "inputs": {"t": "\\n"}}}'
    assert read_document(hidden).duplicates == {"1": 2}
    hidden = '{"1": ' + NODE + ', "1": {"class_type": "A", "inputs": {"t": "\\"\\\\"}}}'
    assert read_document(hidden).duplicates == {"1": 2}


def test_a_value_that_begins_with_a_colon_is_counted_in_excess():
    text = '{"1": {"class_type": "A", "inputs": {"t":": x"}}}'
    assert not _no_duplicate_nodes(json.loads(text), text)  # read again: never a missed duplicate
    same(text)


def test_reading_leaves_the_collector_as_it_was():
    import gc

    assert gc.isenabled()
    for text in ('{"1": ' + NODE + "}", "{", "[" * 100_000, '{"1": ' + NODE + ', "1": ' + NODE + "}"):
        read_document(text)
        assert gc.isenabled()
    gc.disable()
    try:
        read_document('{"1": ' + NODE + "}")
        assert not gc.isenabled()
    finally:
        gc.enable()
