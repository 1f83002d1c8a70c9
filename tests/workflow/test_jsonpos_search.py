"""JSON positions found by searching (the decoded document at hand) agree with the scan.

`JsonPositions(text, root, path, data)` finds a key written once in an ancestor's text by a
plain search; everything else falls back to scanning the container member by member. These
tests compare both ways with a straightforward token-by-token reading written here, on texts
with duplicate keys, escaped keys, odd blanks, envelopes, deep nesting and non-objects.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.diagnostics import Diagnostic, Location, Severity, Span
from comfydsl.workflow import jsonpos
from comfydsl.workflow.document import read_document
from comfydsl.workflow.jsonpos import JsonPositions, Member, attach_spans

# -- the reference: one token at a time, every container scanned in full -------------------

_BLANK = re.compile(r"[ \t\n\r]*")
_SCAN = json.JSONDecoder().scan_once
_STRING = json.decoder.scanstring  # type: ignore[attr-defined]


def _blank(text: str, pos: int) -> int:
    return _BLANK.match(text, pos).end()  # type: ignore[union-attr]


def _value_end(text: str, pos: int) -> int | None:
    try:
        return _SCAN(text, pos)[1]
    except (StopIteration, ValueError, RecursionError):
        return None


def reference_members(text: str, start: int) -> dict[Any, list[Member]] | None:
    """The members of the container at `start`, read token by token."""
    out: dict[Any, list[Member]] = {}
    try:
        if text[start] == "{":
            pos = _blank(text, start + 1)
            while pos < len(text) and text[pos] == '"':
                key, key_end = _STRING(text, pos + 1)
                colon = _blank(text, key_end)
                if not text.startswith(":", colon):
                    break
                value_start = _blank(text, colon + 1)
                value_end = _value_end(text, value_start)
                if value_end is None:
                    break
                out.setdefault(key, []).append(Member(pos, key_end, value_start, value_end))
                pos = _blank(text, value_end)
                if not text.startswith(",", pos):
                    break
                pos = _blank(text, pos + 1)
            return out
        if text[start] == "[":
            items = []
            pos = _blank(text, start + 1)
            while pos < len(text) and not text.startswith("]", pos):
                end = _value_end(text, pos)
                if end is None:
                    break
                items.append(Member(pos, end, pos, end))
                pos = _blank(text, end)
                if not text.startswith(",", pos):
                    break
                pos = _blank(text, pos + 1)
            for i, item in enumerate(items):
                out[i] = out[i - len(items)] = [item]
            return out
    except ValueError:
        return None
    return None


def reference_last(text: str, path: tuple[Any, ...]) -> Member | None:
    """The member at `path` (last copies all the way down), by full scans only."""
    start = _blank(text, 0)
    if start >= len(text):
        return None
    member = Member(start, start, start, len(text.rstrip(" \t\n\r")))
    for key in path:
        members = reference_members(text, member.value_start)
        copies = members.get(key) if members is not None else None
        if not copies:
            return None
        member = copies[-1]
    return member


# -- documents written with duplicates, escapes and odd blanks ------------------------------

BLANKS = st.sampled_from(["", " ", "\n", "\t", "\r\n  ", " \n\t "])
# keys that collide on purpose: node ids that are also input names, words used at every level
KEYS = st.one_of(st.sampled_from(["3", "10", "30:7", "3:", "seed", "inputs", "class_type", "a b", "é", "😀", "", ":x",
                                  "}", " 3", "x\"y", "back\\slash", "\ud800", ":1,", ",", 'x"3', "a/b"]),
                 st.text(max_size=4))


@st.composite
def documents(draw: Any, depth: int = 0) -> Any:
    """A JSON value as nested ("obj", [(key, value)]) / ("arr", [values]) / scalar, so that an
    object may hold one key twice."""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.one_of(st.none(), st.booleans(), st.integers(-5, 99), st.sampled_from(
            ["3", "seed", 'say "seed": 1', "a\\b", '"10": [1]', "é\n"])))
    if draw(st.booleans()):
        pairs = draw(st.lists(st.tuples(KEYS, documents(depth + 1)), max_size=4))
        if pairs and draw(st.integers(0, 3)) == 0:  # the same key again
            pairs.append((pairs[0][0], draw(documents(depth + 1))))
        return ("obj", pairs)
    return ("arr", draw(st.lists(documents(depth + 1), max_size=3)))


def write(value: Any, draw: Any) -> str:
    """JSON text for a drawn document, each string written plainly or escaped, blanks anywhere."""
    b = lambda: draw(BLANKS)  # noqa: E731
    if isinstance(value, tuple) and value[0] == "obj":
        inner = ",".join(f"{b()}{quote(k, draw)}{b()}:{b()}{write(v, draw)}{b()}" for k, v in value[1])
        return "{" + (inner or b()) + "}"
    if isinstance(value, tuple):
        return "[" + (",".join(b() + write(v, draw) + b() for v in value[1]) or b()) + "]"
    if isinstance(value, str):
        return quote(value, draw)
    return json.dumps(value)


def quote(text: str, draw: Any) -> str:
    style = draw(st.sampled_from(["plain", "ascii", "all"]))
    if style == "plain":
        return json.dumps(text, ensure_ascii=False)
    if style == "ascii":
        return json.dumps(text)
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in text) + '"'


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a drawn document, dropped copies included, plus a few that miss."""
    out = [prefix, prefix + ("missing",), prefix + (7,)]
    if isinstance(value, tuple) and value[0] == "obj":
        for key, item in value[1]:
            out += paths_of(item, prefix + (key,))
    elif isinstance(value, tuple):
        for i, item in enumerate(value[1]):
            out += paths_of(item, prefix + (i,)) + [prefix + (i - len(value[1]),)]
    return out


def exhausted(positions: JsonPositions) -> JsonPositions:
    """`positions` with no search budget left, as after many lookups in a large text (with
    `_SMALL_REGION` patched below 0, every region counts as large): node ids are then found
    in the index of ids (`_ids`), other keys by scanning."""
    positions._budget = 0
    return positions


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_search_finds_what_the_full_scan_finds(data):
    doc = data.draw(documents())
    text = data.draw(BLANKS) + write(doc, data.draw) + data.draw(BLANKS)
    decoded = json.loads(text)
    paths = paths_of(doc)
    order = data.draw(st.permutations(range(len(paths))))  # lookups in any order share the caches
    with_data = JsonPositions(text, (), None, decoded)
    without = JsonPositions(text)
    indexed = exhausted(JsonPositions(text, (), None, decoded))
    for i in order:
        path = paths[i]
        expected = reference_last(text, path)
        assert with_data.last(path) == expected, path
        assert without.last(path) == expected, path
        with patch.object(jsonpos, "_SMALL_REGION", -1):
            assert indexed.last(path) == expected, path
        if path:
            members = reference_members(text, reference_last(text, path[:-1]).value_start) \
                if reference_last(text, path[:-1]) is not None else None
            copies = (members or {}).get(path[-1], [])
            assert with_data.absolute(path) == copies
            assert without.absolute(path) == copies
            # told how many copies there are (as reading counts node ids)
            told = JsonPositions(text, (), None, decoded)
            assert told.copies(path, len(copies)) == copies, path
            assert told.last(path) == expected, path


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_search_inside_an_envelope(data):
    doc = data.draw(documents())
    workflow = write(doc, data.draw)
    text = '{"id": "x",' + data.draw(BLANKS) + '"input":{"images": [], "workflow":' + workflow + "}}"
    pos = JsonPositions(text, ("input", "workflow"), None, json.loads(text))
    indexed = exhausted(JsonPositions(text, ("input", "workflow"), None, json.loads(text)))
    for path in paths_of(doc):
        assert pos.member(path) == reference_last(text, ("input", "workflow") + path)
        with patch.object(jsonpos, "_SMALL_REGION", -1):
            assert indexed.member(path) == reference_last(text, ("input", "workflow") + path)


# -- cases the search must leave to the scan --------------------------------------------------


def test_copies_of_a_node_are_found_without_a_scan():
    text = '{"7": {"inputs": {"y": 1}},\n "8": {"inputs": {"x": ["7", 0]}},\n "7" : {"inputs": {"x": 2}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert pos.copies(("7",), 2) == reference_members(text, 0)["7"]
    assert pos._containers == {}  # the search told them apart
    assert pos.member(("7",)) == reference_last(text, ("7",))
    # a key also written deeper, or a count that does not match: the scan decides
    deeper = text.replace('"y"', '"7"')
    for source, node, times in ((deeper, "7", 2), (text, "7", 3), (text, "7", 1)):
        pos = JsonPositions(source, (), None, json.loads(source))
        assert pos.copies((node,), times) == reference_members(source, 0).get(node, [])
        assert () in pos._containers
    # a key that begins with a colon could hide behind a string value that begins with one
    text = '{"a":":", ":":1, "b":{":":2}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert pos.copies((":",), 1) == reference_members(text, 0)[":"]
    envelope = '{"input": {"workflow": {"3": {"inputs": {}}, "3": {"inputs": {}}}}}'
    pos = JsonPositions(envelope, ("input", "workflow"), None, json.loads(envelope))
    assert pos.copies(("3",), 2) == reference_members(envelope, envelope.index('{"3"'))["3"]


def test_a_key_also_written_with_an_escape_is_a_duplicate():
    text = '{"3": {"class_type": "A", "inputs": {}}, "\\u0033": {"class_type": "B", "inputs": {}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    last = pos.member(("3",))
    assert text[last.key_start:last.key_end] == '"\\u0033"'
    assert len(pos.occurrences(("3",))) == 2


def test_duplicate_node_and_input_keys_point_at_the_last_copy():
    text = '{"7": {"inputs": {"x": 1, "x": 2}},\n "7": {"inputs": {"x": 3,\n"x" : 4}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert text[pos.member(("7", "inputs", "x")).value_start] == "4"
    assert text[pos.member(("7",)).key_start - 1] == " "


def test_a_node_id_that_is_also_an_input_name():
    text = '{"3": {"inputs": {"3": ["3", 0], "seed": 3}}, "seed": {"inputs": {}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert pos.member(("3",)).key_start == 1
    assert text[pos.member(("3", "inputs", "3")).value_start:][:8] == '["3", 0]'
    assert pos.member(("seed",)) == reference_last(text, ("seed",))
    assert pos.member(("3", "inputs", "seed")) == reference_last(text, ("3", "inputs", "seed"))


def test_keys_in_strings_are_not_keys():
    # a string value may read like a key only with escaped quotes: the search leaves such regions
    text = '{"1": {"inputs": {"text": "\\"seed\\": 4", "seed": 5}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert text[pos.member(("1", "inputs", "seed")).value_start] == "5"


def test_line_breaks_and_backslashes_in_strings_are_searched():
    # the usual escapes of a prompt or a Windows path leave every quote a string's end
    text = '{"1": {"inputs": {"text": "a\\nb\\tc \\\\ d", "seed": 5}}, "2": {"inputs": {"seed": 6}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert pos.member(("1", "inputs", "seed")) == reference_last(text, ("1", "inputs", "seed"))
    assert pos.member(("2",)) == reference_last(text, ("2",))
    assert pos._containers == {}
    # quotes in a prompt too; a key that ends with an escaped quote and the key searched for
    # is one more match, never the only one
    text = '{"1": {"inputs": {"text": "say \\"seed\\": 4", "x\\"seed": 3, "seed": 5}}}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert text[pos.member(("1", "inputs", "seed")).value_start] == "5"
    assert pos.member(("1", "inputs", 'x"seed')) == reference_last(text, ("1", "inputs", 'x"seed'))
    # a key spelled with `\/` or `\u` is another way to write it: those regions are scanned
    for spelled in ('"se\\u0065d"', '"a\\/b"'):
        key = json.loads(spelled)
        text = '{"1": {"inputs": {' + spelled + ': 1}}, "2": {"inputs": {"' + key + '": 2, "x": "\\n"}}}'
        pos = JsonPositions(text, (), None, json.loads(text))
        for node in ("1", "2"):
            assert pos.member((node, "inputs", key)) == reference_last(text, (node, "inputs", key)), text


def test_escapes_of_other_characters_than_the_key_has_are_searched():
    # `json.dumps` writes accents, other scripts and emoji as \\u escapes: no ASCII key can be
    # spelled with those, so such texts are searched for ASCII keys
    wf = {"1": {"inputs": {"text": "café 😀 中", "seed": 5}}, "2": {"inputs": {"seed": 6, "é": 1}}}
    text = json.dumps(wf, indent=1)
    assert "\\u00e9" in text
    pos = JsonPositions(text, (), None, json.loads(text))
    for path in [("1", "inputs", "seed"), ("2",), ("2", "inputs", "seed")]:
        assert pos.member(path) == reference_last(text, path)
    assert pos._containers == {}
    assert pos.member(("2", "inputs", "é")) == reference_last(text, ("2", "inputs", "é"))  # scanned
    assert pos._containers
    # an ASCII key spelled with an escape: the regions that hold it are scanned
    text = text.replace('"seed": 6', '"s\\u0065ed": 6')
    pos = JsonPositions(text, (), None, json.loads(text))
    for path in [("1", "inputs", "seed"), ("2", "inputs", "seed")]:
        assert pos.member(path) == reference_last(text, path)


def test_keys_that_a_match_from_a_closing_quote_could_hide():
    # from the end of "a", `":1,":` reads like the key ":1," itself, which starts inside it
    for text in ('{"a":1,":1,":2}', '{"a":1, ":1, ":2, "b": {":1, ": 3}}', '{"a":[" :"],"\\t:":1}', '{"a":" :", " :":1}'):
        decoded = json.loads(text)
        pos = JsonPositions(text, (), None, decoded)
        for key in decoded:
            assert pos.member((key,)) == reference_last(text, (key,)), (text, key)
            assert pos.copies((key,), 1) == reference_members(text, 0)[key], (text, key)


def test_unicode_and_surrogate_keys():
    text = '{"é": {"inputs": {"😀": 1, "\\ud83d\\ude00": 2, "\\ud800": 3}}, "\\u00e9x": 0}'
    pos = JsonPositions(text, (), None, json.loads(text))
    assert text[pos.member(("é", "inputs", "😀")).value_start] == "2"
    assert text[pos.member(("é", "inputs", "\ud800")).value_start] == "3"
    assert pos.member(("éx",)) == reference_last(text, ("éx",))


def test_blank_variations_around_keys():
    text = '\r\n{ "1"\n:\t{"inputs"  :{"seed"\r\n:\n5 } } }\n'
    pos = JsonPositions(text, (), None, json.loads(text))
    member = pos.member(("1", "inputs", "seed"))
    assert (text[member.key_start:member.key_end], text[member.value_start:member.value_end]) == ('"seed"', "5")


def test_deep_nesting():
    depth = 3000
    text = '{"a": ' * depth + "1" + "}" * depth
    path = ("a",) * depth
    with_data = JsonPositions(text, (), None, None)  # the decoder cannot read it: positions must not need it
    assert with_data.member(path[:5]) == reference_last(text, path[:5])
    shallow = '{"a": ' * 60 + '{"b": 1}' + "}" * 60
    pos = JsonPositions(shallow, (), None, json.loads(shallow))
    assert shallow[pos.member(("a",) * 60 + ("b",)).value_start] == "1"


def test_texts_that_are_not_objects():
    for text in ('[{"a": 1}, {"a": 2}]', '"a"', "3", "", "  ", "null", '{"a": [1, 2}'):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        pos = JsonPositions(text, (), None, data)
        for path in [(), ("a",), (0,), (1, "a"), (-1, "a"), (0, "b")]:
            assert pos.last(path) == reference_last(text, path), (text, path)


def test_location_fields_are_the_ones_spans_are_set_on():
    # `_with_span` builds Locations field by field; a new field must be added there too
    assert jsonpos._LOCATION_FIELDS, [f.name for f in fields(Location)]
    loc = Location(node_id="1", class_type="A", input="x", json_path="$['1']", label="l")
    span = Span("p", 1, 2)
    assert jsonpos._with_span(loc, span) == replace(loc, span=span)


def test_attach_spans_with_and_without_the_decoded_document():
    text = '{"input": {"workflow": {"3": {"class_type": "KSampler", "inputs": {"seed": "x"}},\n' \
           ' "4": {"class_type": "A", "inputs": {"seed": 1}}}}}'
    doc = read_document(text, "r.json")

    def found() -> list[Diagnostic]:
        return [Diagnostic("CD201", "x", Severity.ERROR, "m", Location(node_id=n, json_path=p))
                for n, p in [("3", "$['3'].inputs.seed"), ("4", "$['4'].inputs.seed"), ("4", "$['4']"),
                             ("9", "$['9'].inputs.seed"), (None, "$")]]

    plain, fast = found(), found()
    attach_spans(plain, text, path="r.json", envelope=doc.envelope)
    attach_spans(fast, text, path="r.json", envelope=doc.envelope, data=doc.body)
    assert [d.span for d in plain] == [d.span for d in fast]
    assert text[fast[1].span.start:fast[1].span.end] == '"seed": 1'


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab\n\r é", max_size=60), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)),
                                                       min_size=1, max_size=12))
def test_spans_have_the_lines_and_columns_of_both_ends(text, ranges):
    # the first few lookups count newlines, later ones use a table: both give the same
    pos = JsonPositions(text, (), "p")
    for start, end in ranges:
        start, end = min(start, len(text)), min(end, len(text))
        span = pos.span(start, end)
        line, column = (text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start))
        last = max(start, end)
        end_line, end_column = (text.count("\n", 0, last) + 1, last - text.rfind("\n", 0, last))
        assert (span.line, span.column, span.end_line, span.end_column) == (line, column, end_line, end_column)
        assert (span.start, span.end, span.path) == (start, end, "p")


@pytest.mark.parametrize("text", [
    '{"3": {"inputs": {"3": 1}}, "4": {"inputs": {"x": ["3", 0]}}}',  # an id also an input name
    '{"1": {"inputs": {"3": 1}}, "3": {"inputs": {}}}',  # ... written before the node
    '{"1": {"inputs": {"t": "say \\"3\\": 1"}}, "3": {}}',  # in a string, between escaped quotes
    '{"30:7:5": {"inputs": {"x": ["30:7", 0]}}, "30:7": {"inputs": {}}, "3": {"30:7": 1}}',
    '{"x": ":", "3": 1, "y": ":3\\":", "4": {"3": 2}}',  # matches from closing quotes
    '{"\\u0033": {"inputs": {}}, "4": {"inputs": {"x": ["3", 0]}}}',  # an id spelled with an escape
    '{"3": 1, "3" : {"inputs": {"a": 2}}}',  # a duplicate node
])
def test_node_ids_in_the_index_of_ids_agree_with_the_scan(text):
    decoded = json.loads(text)
    for path in [("3",), ("3", "inputs"), ("3", "inputs", "3"), ("3", "inputs", "a"), ("30:7",), ("30:7:5",),
                 ("30:7:5", "inputs", "x"), ("3", "30:7"), ("4",), ("4", "3"), ("1",), ("1", "inputs", "t")]:
        with patch.object(jsonpos, "_SMALL_REGION", -1):
            assert exhausted(JsonPositions(text, (), None, decoded)).last(path) == reference_last(text, path), path


def test_many_lookups_in_a_large_text_fall_back_to_one_scan():
    # searching the whole text for every node would cost the text's length each time: after
    # a budget of a few lengths, node ids are found in an index of ids made by one search, and
    # other keys by scanning their container once
    wf = {str(i): {"class_type": "A", "inputs": {"x": [str(i - 1), 0], "seed": i}} for i in range(1, 3000)}
    text = json.dumps(wf, indent=1)
    pos = JsonPositions(text, (), None, json.loads(text))
    scanned = JsonPositions(text)  # the scan alone (compared with the reference above)
    for i in range(2999, 0, -7):
        member = pos.member((str(i), "inputs", "seed"))
        assert member == scanned.member((str(i), "inputs", "seed"))
        assert text[member.value_start:member.value_end] == str(i)
    assert () not in pos._containers and pos._id_index is not None and pos._budget < len(text)
    named = {f"n{k}": v for k, v in wf.items()}  # keys that are no id: the container is scanned once
    text = json.dumps(named, indent=1)
    pos = JsonPositions(text, (), None, json.loads(text))
    scanned = JsonPositions(text)
    for i in range(2999, 0, -7):
        assert pos.member((f"n{i}", "inputs", "seed")) == scanned.member((f"n{i}", "inputs", "seed"))
    assert () in pos._containers and pos._id_index is None
    hub = {"1": {"class_type": "A", "inputs": {}}}
    hub.update({str(i): {"class_type": "B", "inputs": {"a": ["1", 0]}} for i in range(2, 3000)})
    text = json.dumps(hub)
    pos = JsonPositions(text, (), None, json.loads(text))
    assert pos.member(("1",)) == reference_last(text, ("1",))  # "1" is written 3000 times


def test_escapes_in_a_large_text_are_looked_for_once_per_region():
    # a big text whose strings have escapes that spell no key (line breaks, accents): whether a
    # large region hides a key is asked for every lookup, and each answer is a pass over the
    # region, so it is kept (found by the fuzzer: 15,000 findings on a 1.6 MB text took 50 s)
    wf = {str(i): {"class_type": "A", "inputs": {"x": [str(i - 1), 0], "t": "é\nb", "seed": i}}
          for i in range(1, 3000)}
    text = json.dumps(wf, indent=1)
    assert "\\u00e9" in text and "\\n" in text
    pos = JsonPositions(text, (), None, json.loads(text))
    scanned = JsonPositions(text)
    asked: list[tuple[int, int]] = []
    escape_in = JsonPositions._escape_in

    def counted(self, start, end, slash, ascii_key):
        if end - start > jsonpos._SMALL_REGION:
            asked.append((start, end))
        return escape_in(self, start, end, slash, ascii_key)

    with patch.object(JsonPositions, "_escape_in", counted):
        for i in range(2999, 0, -3):
            assert pos.member((str(i), "inputs", "seed")) == scanned.member((str(i), "inputs", "seed"))
            assert pos.member((str(i),)) == scanned.member((str(i),))
    assert asked and len(asked) == len(set(asked)) <= 2, asked  # the whole text, once
