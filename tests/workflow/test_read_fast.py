"""`read_document` decodes with the plain C decoder and reads again, counting duplicate keys,
only when a node id may occur twice: the result is the same as counting every time. A long
text is decoded in parts: the result is the same as decoding it whole."""

from __future__ import annotations

import contextlib
import json
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.workflow import document
from comfydsl.workflow.document import _decode_in_parts, _no_duplicate_nodes, classify, parse_json, read_document


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
    # an input named like an id, after a comma, is counted in excess: read again
    assert not _no_duplicate_nodes(json.loads(text), text.replace('"m"', '"5"'))
    # the first key of an object has no comma before it: never counted
    assert _no_duplicate_nodes(json.loads(text), text.replace('"seed"', '"5"'))
    same(text)
    same(text.replace('"m"', '"5"'))


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
    # a key with an escaped quote is no id: its quote has a backslash before it
    for text in ('{"1": {"class_type": "A", "inputs": {"1\\"": 0}}}',
                 '{"1": {"class_type": "A", "inputs": {"x": 1, "\\"1": 0}}}'):
        assert _no_duplicate_nodes(json.loads(text), text), text
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
    # a key that ends with a comma and blanks, then a value that begins with a colon: the match
    # starts inside the key and ends inside the value
    for text in ('{"1": {"class_type": "A", "inputs": {"a, ":": x"}}}', '{"1": {"inputs": {"a,":":"}}, "2": {}}'):
        assert not _no_duplicate_nodes(json.loads(text), text), text  # read again: never a missed duplicate
        same(text)
    text = '{"1": {"class_type": "A", "inputs": {"t":": x"}}}'  # no comma before it: not counted
    assert _no_duplicate_nodes(json.loads(text), text)
    same(text)


def test_duplicates_that_are_no_objects_are_found():
    # the copies JSON drops may be of any kind: the comma before each is counted all the same
    for text, times in (('{"1":3,"1":3,"1":{"class_type":"A","inputs":{}}}', 3), ('{"1": {"inputs": {}}, "1": [], "2": {"inputs": {}}}', 2),
                        ('{"2": {}, "1": "x", "1": {"inputs": {}}}', 2)):
        assert not _no_duplicate_nodes(json.loads(text), text), text
        assert read_document(text).duplicates == {"1": times}
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


# --- long texts, decoded in parts (`_decode_in_parts`) ---------------------------------------


@contextlib.contextmanager
def in_parts(chars: int):
    """Every text decoded in parts of about `chars` characters (the real sizes need megabytes)."""
    with mock.patch.object(document, "PARTS_FROM", 0), mock.patch.object(document, "PART_CHARS", chars):
        yield


_TRAPS = st.text(alphabet='0123456789:" \\,{}[]\nab', max_size=8)
_BLANK = st.sampled_from(["", " ", "\n", " \t "])


@st.composite
def texts_to_cut(draw: Any) -> str:
    """Workflows whose strings, keys and nested objects look like the place between two nodes
    (`}, "12": {`), written with any blanks; some ids twice, some escaped or not digits, some
    nodes no object; at times inside an envelope."""

    def blank() -> str:
        return draw(_BLANK)

    def string(value: str) -> str:
        return _written(value, draw) if draw(st.booleans()) else json.dumps(value)

    def member(key: str, value: str) -> str:
        return f"{blank()}{key}{blank()}:{blank()}{value}"

    def inputs() -> str:
        found = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["string", "string", "link", "link", "nested", "number"]))
            if kind == "string":
                found.append(member(string(draw(_TRAPS)), string(draw(_TRAPS))))
            elif kind == "link":
                found.append(member('"x"', f'[{blank()}"{draw(st.integers(1, 9))}",{blank()}0]'))
            elif kind == "nested" and draw(st.booleans()):  # keyed by digits below a node: a cut there fails
                found.append(member(f'"{draw(st.integers(1, 9))}"', "{" + member('"7"', "{}") + "," +
                                    member('"8"', '{"y": "}, \\"9\\": {"}') + "}"))
            else:
                found.append(member('"n"', str(draw(st.integers(-5, 5)))))
        return "{" + ",".join(found) + "}"

    members = []
    for i in range(1, draw(st.integers(1, 8)) + 1):
        key = str(i) if draw(st.integers(0, 3)) else draw(st.sampled_from(["1", "2", "10", "4:5", "a", "\\u0033"]))
        if draw(st.integers(0, 19)) == 0:
            value = draw(st.sampled_from(["3", '"node"', "[]", "null"]))
        else:
            value = "{" + member('"class_type"', '"A"') + "," + member('"inputs"', inputs()) + blank() + "}"
        members.append(member(f'"{key}"', value))
    # members that make the whole no bare workflow: a `/prompt` body, a UI file
    members += draw(st.sampled_from([[]] * 6 + [[member('"prompt"', '{"5": {"class_type": "A", "inputs": {}}}')],
                                                [member('"nodes"', "[]"), member('"links"', "[]")]]))
    body = blank() + "{" + ",".join(members) + blank() + "}" + blank()
    return draw(st.sampled_from(["%s", "%s", "%s", '{"input": {"workflow": %s}}', '{"prompt": %s}'])) % body


def _check_parts(text: str) -> None:
    whole = json.loads(text)
    parts: list = []
    decoded = _decode_in_parts(text, parts.append)
    if decoded is not None:
        merged, once = decoded
        assert merged == whole and list(merged) == list(whole), text  # the same members, in order
        again: dict = {}
        for part in parts:
            again.update(part)
        assert list(again.items()) == list(merged.items())
        if once:  # each id in one part, once: no duplicate to find
            assert sum(map(len, parts)) == len(merged)
            assert not getattr(parse_json(text), "dups", None), text
    doc = read_document(text, "w.json")
    if doc.read_in_parts:
        assert doc.kind == "api" and decoded is not None and doc.workflow == decoded[0]
        assert sum(map(len, parts)) == len(doc.workflow) and not doc.duplicates
    same(text)


@settings(max_examples=400, deadline=None)
@given(texts_to_cut(), st.sampled_from([1, 8, 60]))
def test_texts_decoded_in_parts_read_as_they_do_whole(text, chars):
    with in_parts(chars):
        _check_parts(text)


@settings(max_examples=300, deadline=None)
@given(texts_to_cut(), st.data())
def test_broken_texts_decoded_in_parts_report_what_they_do_whole(text, data):
    at = data.draw(st.integers(0, len(text) - 1))
    broken = data.draw(st.sampled_from([text[:at] + text[at + 1:], text[:at] + "," + text[at:],
                                        text[:at] + '"' + text[at:], text[:at]]))
    whole = read_document(broken, "w.json")
    with in_parts(1):
        cut = read_document(broken, "w.json")
    assert (cut.kind, cut.envelope, cut.duplicates, cut.workflow) == (whole.kind, whole.envelope, whole.duplicates,
                                                                      whole.workflow)
    assert [d.to_dict() for d in cut.diagnostics] == [d.to_dict() for d in whole.diagnostics]


def _long_workflow(n: int) -> dict:
    return {str(i): {"class_type": "A", "inputs": {"seed": i, "m": [str(i - 1), 0], "t": "}, \"5\": {"}}
            for i in range(1, n + 1)}


def test_the_blanks_around_the_cuts_are_kept_out_of_the_parts():
    # every blank JSON allows, around each comma between two nodes
    for comma in (",", " , ", "\n,\n", "\t,"):
        members = [f'"{i}" : {{"class_type": "A", "inputs": {{"m": ["{i - 1}", 0]}}}}' for i in range(1, 40)]
        text = "\n {" + comma.join(members) + "} \n"
        parts: list = []
        with in_parts(30):
            doc = read_document(text, "w.json", on_part=parts.append)
        assert doc.read_in_parts and len(parts) > 10, comma
        assert list(doc.workflow.items()) == list(json.loads(text).items())
    # objects keyed by digits that hold no node: decoded in parts all the same, but no workflow
    text = "{" + ", ".join(f'"{i}": {{"x": {{}}}}' for i in range(1, 40)) + "}"
    parts.clear()
    with in_parts(30):
        doc = read_document(text, "w.json", on_part=parts.append)
    assert len(parts) > 10 and doc.kind == "other" and not doc.read_in_parts


def test_long_workflows_are_decoded_in_parts_at_the_real_sizes():
    text = json.dumps(_long_workflow(30_000), indent=1)
    assert len(text) > document.PARTS_FROM
    parts: list = []
    doc = read_document(text, "w.json", on_part=parts.append)
    assert doc.read_in_parts and doc.kind == "api" and not doc.diagnostics
    assert len(parts) > 20 and all(len(json.dumps(p)) < 3 * document.PART_CHARS for p in parts)
    assert list(doc.workflow.items()) == list(json.loads(text).items())
    # a node id written twice, in two parts: found, and the parts are not the workflow
    twice = text.replace('"29999": {', '"17": {')
    doc = read_document(twice, "w.json", on_part=parts.append)
    assert doc.duplicates == {"17": 2} and not doc.read_in_parts
    assert doc.workflow == json.loads(twice)
    # an error near the end: located where reading the whole text locates it
    broken = text[:-40] + "," + text[-40:]
    found = read_document(broken, "w.json").diagnostics
    assert [d.code for d in found] == ["CD001"]
    with pytest.raises(json.JSONDecodeError) as error:
        json.loads(broken)
    assert found[0].span.start == error.value.pos
    # texts that are not a bare workflow are read whole, as before
    for wrapped in ('{"input": {"workflow": %s}}' % text, "[%s]" % text, "\ufeff" + text):
        doc = read_document(wrapped, "w.json", on_part=parts.append)
        assert not doc.read_in_parts


def test_a_part_nested_too_deeply_is_reported_as_the_whole_text_is():
    deep = "[" * 100_000 + "]" * 100_000
    text = '{"1": {"class_type": "A", "inputs": {}}, "2": {"class_type": "A", "inputs": {"x": ' + deep + "}}}"
    whole = read_document(text, "w.json")
    with in_parts(1):
        cut = read_document(text, "w.json", on_part=lambda part: None)
    assert [d.message for d in cut.diagnostics] == [d.message for d in whole.diagnostics] == [
        "not readable JSON: nested too deeply"]
    assert not cut.read_in_parts
