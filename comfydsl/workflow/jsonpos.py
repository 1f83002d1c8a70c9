"""Positions in JSON text: where a node, one of its inputs, or a value sits in the file.

The checks work on decoded workflows and locate findings by JSON path
(`$['5'].inputs.seed`). This module maps such paths back to the text, so that every
output format can show `file:line:column`.

The index is built lazily. Given the decoded document, most lookups need no index at all:
a key written once in its container's text (or in any ancestor's) is found by a search
for its text, and only that member's value is skipped (see `JsonPositions`); a key the
decoded document does not have is not looked for at all. Otherwise the
members of the container are scanned once (one regex match per key, each value skipped by
the C scanner of the `json` module), and a node's own members are scanned only when a
finding points into that node. So the cost is at most linear in the size of the file, and
files without findings are never scanned. Duplicate keys are kept: lookups point at the
last copy (the one every JSON reader keeps), and the earlier copies remain available
(`occurrences`, or `copies` when their number is known, as for a duplicated node).

Only the standard library is used.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import fields, replace
from itertools import accumulate, repeat
from operator import add
from typing import Any, Callable, Iterable, Literal, NamedTuple

from ..diagnostics import Diagnostic, Location, Span
from .document import ID_KEY

_WS = re.compile(r"[ \t\n\r]*")
#: Blanks, a key without control characters (group 1: its text between the quotes), blanks,
#: the colon and the blanks before the value.
_MEMBER = re.compile(r'[ \t\n\r]*"([^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*)"[ \t\n\r]*:[ \t\n\r]*')
#: Blanks and the comma after a value.
_COMMA = re.compile(r"[ \t\n\r]*,")
#: Keys that `JsonPositions` may search for as they are: a key with a quote, a backslash or a
#: control character is always written with an escape.
_PLAIN_KEY = re.compile(r'[^"\\\x00-\x1f]*\Z')
#: Regions up to this size are always searched; larger ones only within the budget of
#: `_SEARCH_BUDGET_TIMES` the length of the text (a search goes through the region once).
_SMALL_REGION = 4096
_SEARCH_BUDGET_TIMES = 2
#: Lookups that count lines before building a table of line starts.
_COUNTED_LOOKUPS = 8
_NO_DATA: Any = object()
#: No span looked up yet (in `attach_spans`).
_NO_SPAN: Any = object()
#: For each key searched for (without escapes, see `_PLAIN_KEY`): its text in quotes (group 1),
#: then blanks, the colon and the blanks before the value. Keys recur from file to file (node ids,
#: `inputs`, input names), so the patterns are kept, up to a bound.
_KEY_WRITTEN: dict[str, re.Pattern[str]] = {}
_KEY_WRITTEN_KEPT = 4096
#: A node id that `JsonPositions._ids` answers for: digits and colons, not beginning with a
#: colon (`3`, `30:7:5`).
_ID_TEXT = re.compile(r"[0-9][0-9:]*\Z")
#: In `JsonPositions._ids`: a key written more than once.
_TWICE = (-1, -1, -1)
#: A `\\u` escape of an ASCII character (U+0000 to U+007F).
_ASCII_ESCAPE = re.compile(r"\\u00[0-7]")
#: First characters of keys that `_key_pattern` leaves to the scan.
_HIDING_STARTS = (" ", "\t", "\n", "\r", ":")
_PATH_PART = re.compile(r"\.([^.[]+)|\['((?:[^'\\]|\\.)*)'\]|\[(-?\d+)\]")
_DECODER = json.JSONDecoder()
#: The decoder's scanner itself: one value at an offset, without `raw_decode`'s extra steps.
_scan_once: Callable[[str, int], tuple[Any, int]] = getattr(_DECODER, "scan_once")
_scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")


def _after_ws(text: str, pos: int) -> int:
    """The offset of the first non-blank character at or after `pos`."""
    found = _WS.match(text, pos)
    return found.end() if found is not None else pos


class Member(NamedTuple):
    """One member of a JSON object (or one element of an array): offsets into the text.

    `key_start`/`key_end` cover the quoted key (for array elements they equal the value's);
    `value_start`/`value_end` cover the value. Ends are exclusive. (A named tuple: one is
    made for every member of a scanned container, so it is kept cheap to build.)
    """

    key_start: int
    key_end: int
    value_start: int
    value_end: int


#: A member not looked up yet (in `JsonPositions._last`).
_UNKNOWN = Member(-1, -1, -1, -1)
#: What `JsonPositions._search` gives when the text alone cannot tell where a member is.
_UNSURE = Member(-2, -2, -2, -2)


class JsonPositions:
    """A lazy index of member positions in one JSON text.

    `root` is the key path of the object that paths are relative to (a document's envelope,
    such as `("input", "workflow")`); lookups take paths below it.

    `data`, when given, must be the text as `json.loads` decodes it (not changed since). It
    lets most lookups skip the scan of whole containers. A member lies inside the text of
    each of its ancestors; where that text has no escape that could spell one of the key's
    characters another way (`\\/`, `\\u`; see `_hides_keys`), a key without a quote, a
    backslash or a control character is spelled as it is. So when the decoded document has
    the member, and its key (in quotes, followed by a colon) occurs exactly once in such an
    ancestor's text, that occurrence is the member: any other would be a second one. A key
    found twice, or only in text with such escapes, or an array index, is left to the scan.
    """

    def __init__(self, text: str, root: Iterable[str | int] = (), path: str | None = None,
                 data: Any = _NO_DATA) -> None:
        self.text = text
        self.path = path
        self.root = tuple(root)
        self._data = data
        self._containers: dict[tuple[Any, ...], dict[Any, list[Member]] | None] = {}
        self._last: dict[tuple[Any, ...], Member | None] = {}
        self._lines: list[int] | None = None
        self._escapes = "\\" in text  # (a search for one character: quick even in a big text)
        # characters that searches of large regions may still go through: a few times the
        # text, so that many lookups in a big file cost no more than scanning it once
        self._budget = _SEARCH_BUDGET_TIMES * len(text)
        self._looked_up = 0
        self._top: Member | Literal[False] | None = None
        self._id_index: dict[str, tuple[int, int, int]] | None = None
        #: `_hides_keys` of each large region asked about, by (start, end, kind of key): many
        #: findings ask about the same few (the whole text above all), each a pass over it
        self._hidden: dict[tuple[int, int, bool, bool], bool] = {}

    # -- lines and columns -------------------------------------------------------------

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of a 0-based offset."""
        if self._lines is None:
            if self._looked_up < _COUNTED_LOOKUPS:
                # a few lookups (the usual case: a handful of findings) count the newlines
                # before the offset; more build the table of line starts once
                self._looked_up += 1
                text = self.text
                return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
            # the offset where each line starts, from the lengths of the lines (all in C)
            self._lines = list(accumulate(map(add, map(len, self.text.split("\n")), repeat(1)), initial=0))
        line = bisect.bisect_right(self._lines, offset) - 1
        return line + 1, offset - self._lines[line] + 1

    def span(self, start: int, end: int) -> Span:
        """A Span over `text[start:end]`."""
        if self._lines is None and self._looked_up < _COUNTED_LOOKUPS:  # `line_col`, written out:
            self._looked_up += 1                                         # a span per finding
            text = self.text
            line, column = text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
        else:
            line, column = self.line_col(start)
        if end <= start:
            return Span(self.path, line, column, line, column, start, end)
        if self.text.find("\n", start, end) == -1:  # on one line: no second lookup
            return Span(self.path, line, column, line, column + end - start, start, end)
        end_line, end_column = self.line_col(end)
        return Span(self.path, line, column, end_line, end_column, start, end)

    # -- members -----------------------------------------------------------------------

    def member(self, path: Iterable[str | int]) -> Member | None:
        """The member at `path` below the root (last copy of a duplicate key), or None."""
        return self.last(self.root + tuple(path))

    def occurrences(self, path: Iterable[str | int]) -> list[Member]:
        """Every copy of the member at `path` below the root, in text order."""
        return self.absolute(self.root + tuple(path))

    def copies(self, path: Iterable[str | int], times: Any) -> list[Member]:
        """Every copy of the member at `path` below the root, in text order, for a caller that
        knows how many there are (`times`, as reading counted them; a wrong count gives a
        wrong answer): the same as `occurrences`, found by one search where the text allows
        (no scan of the container).

        The search for the key in its container's text finds each copy, and may find the
        key at other depths or matches that are no key (see `_key_pattern`), but never hides
        a copy. So when it finds exactly `times` matches, they are the copies."""
        full = self.root + tuple(path)
        key = full[-1] if full else None
        found = None
        if type(key) is str and type(times) is int and full[:-1] not in self._containers:
            found = self._all_written(full, key, times)
        if found is None:
            return self.absolute(full)
        if found:
            self._last[full] = found[-1]  # the last copy, as `last` would find it
        return found

    def _all_written(self, full: tuple[str | int, ...], key: str, times: int) -> list[Member] | None:
        pattern = _key_pattern(key)
        holder = self.last(full[:-1])
        if pattern is None or holder is None:
            return None
        start, end = holder.value_start, holder.value_end
        text = self.text
        if end - start > self._budget or self._hides_keys(start, end, key):
            return None
        if end - start > _SMALL_REGION:
            self._budget -= end - start
        matches = list(pattern.finditer(text, start, end))
        if len(matches) != times:
            return None
        out = []
        for match in matches:
            value_end = self._skip(match.end())
            if value_end is None:
                return None
            out.append(Member(match.start(), match.end(1), match.end(), value_end))
        return out

    def absolute(self, path: tuple[str | int, ...]) -> list[Member]:
        """Every copy of the member at `path` from the top of the document (not the root)."""
        if not path:
            whole = self._whole()
            return [whole] if whole else []
        members = self._members(path[:-1])
        return list(members.get(path[-1], ())) if members is not None else []

    def last(self, path: tuple[str | int, ...]) -> Member | None:
        """The member at `path` from the top of the document (last copy of a duplicate key)."""
        found = self._last.get(path, _UNKNOWN)
        if found is not _UNKNOWN:
            return found
        if not path:
            found = self._whole()
        else:
            found = self._search(path) if self._data is not _NO_DATA else _UNSURE
            if found is _UNSURE:  # scan the container
                members = self._members(path[:-1])
                copies = members.get(path[-1]) if members is not None else None
                found = copies[-1] if copies else None
        self._last[path] = found
        return found

    def _search(self, path: tuple[str | int, ...]) -> Member | None:
        """The member at `path` found by searching the text; None when the decoded document
        says there is no such member; `_UNSURE` when the search cannot tell (the caller scans
        the container then).

        The member lies inside the value of each of its ancestors, so a key written once in
        any ancestor's text is the member: the widest region (the whole document) is tried
        first, as it needs no value in between to be skipped, then narrower ones."""
        key = path[-1]
        if type(key) is not str:
            return _UNSURE
        is_id = _ID_TEXT.match(key) is not None
        pattern = None if is_id else _KEY_WRITTEN.get(key) or _key_pattern(key)  # (an id's: when searched)
        if pattern is None and not is_id:
            return _UNSURE
        if self._containers and path[:-1] in self._containers:
            return _UNSURE
        value = self._data
        size = len(path)
        if size > 1:
            for part in path[:-1]:  # the decoded document has the container (the last copy of each)
                if isinstance(value, dict):
                    value = value.get(part, _UNKNOWN)  # (JSON keys are strings: an index is not there)
                    if value is _UNKNOWN:
                        return _UNSURE
                elif type(part) is int and isinstance(value, list) and -len(value) <= part < len(value):
                    value = value[part]
                else:
                    return _UNSURE
        if not isinstance(value, dict):
            return _UNSURE
        if key not in value:
            # The decoded document keeps the last copy of every key, as the lookups do, so
            # the container the lookups would scan (the last copy) has no such key either.
            return None
        text = self.text
        escapes = self._escapes
        holder = self._top or self._whole()
        depth = 0
        while holder is not None:
            start, end = holder[2], holder[3]  # (value_start, value_end: by index, a little quicker)
            searched = indexed = True
            if end - start > _SMALL_REGION:
                if end - start > self._budget:
                    # searched enough large regions: the scan (made once) is cheaper now, or
                    # for a node id in the whole text, its entry in the index of ids
                    searched = False
                    indexed = is_id and depth == 0
                else:
                    self._budget -= end - start
            if escapes and self._hides_keys(start, end, key):
                # an escape could spell the key another way: a narrower region may have none
                searched = indexed = False
            if not searched and indexed:
                entry = self._ids().get(key)
                if entry is None:
                    return _UNSURE
                if entry is not _TWICE:
                    try:
                        value_end = _scan_once(text, entry[2])[1]
                    except (StopIteration, ValueError, RecursionError):
                        return _UNSURE
                    return Member(entry[0], entry[1], entry[2], value_end)
            elif searched:
                if pattern is None:
                    pattern = _key_pattern(key)
                    assert pattern is not None  # (an id has one)
                written = pattern.search
                first = written(text, start, end)
                if first is None:
                    return _UNSURE
                # The key is written at least once, and no match hides another (see
                # `_key_pattern`): a single match is the key.
                if written(text, first.end(), end) is None:
                    value_start = first.end()
                    try:
                        value_end = _scan_once(text, value_start)[1]
                    except (StopIteration, ValueError, RecursionError):
                        return _UNSURE
                    return Member(first.start(), first.end(1), value_start, value_end)
                # written twice in this region: try the next narrower one
            depth += 1
            if depth == size:
                break
            holder = self.last(path[:depth])
        return _UNSURE

    def _ids(self) -> dict[str, tuple[int, int, int]]:
        """The keys of digits and colons written anywhere in the text, each with where it is
        (the key's start and end, the value's start) when it is written once, or `_TWICE`.

        Made once, by one search through the text, for many findings on the nodes of a big
        file: it tells for each id what a search of the whole text for it would (`_search`).
        A match of `ID_KEY` that is no key (starting at the closing quote of a string,
        or at an escaped quote) ends at the next quote, so it could only take the opening
        quote of a key that begins with a blank or a colon, which no id that `_search` asks
        for does (`_ID_TEXT`): each such id is matched wherever it is written, and the other
        matches only make some key `_TWICE`.
        """
        index = self._id_index
        if index is None:
            index = self._id_index = {}
            for found in ID_KEY.finditer(self.text):
                key = found[1]
                index[key] = _TWICE if key in index else (found.start(), found.end(1) + 1, found.end())
        return index

    def _hides_keys(self, start: int, end: int, key: str) -> bool:
        """Whether `text[start:end]` has an escape that could spell a character of `key`
        another way: `\\/` for a slash, `\\u` for any character (`\\u00` and 0 to 7 for an
        ASCII one, so that the escapes of accents, other scripts and emoji do not count for
        an ASCII key). Any other escape gives a quote, a backslash or a control character,
        which keys searched for never hold (`_PLAIN_KEY`), so prompts with line breaks or
        quotes are searched too. (An escaped quote is no string's end, so a match may start
        there, inside a key that ends with the one searched for: that is one more match,
        which never hides another; see `_key_pattern`.)"""
        if not self._escapes:
            return False
        if end - start <= _SMALL_REGION:
            return self._escape_in(start, end, "/" in key, key.isascii())
        asked = (start, end, "/" in key, key.isascii())
        hidden = self._hidden.get(asked)
        if hidden is None:
            hidden = self._hidden[asked] = self._escape_in(*asked)
        return hidden

    def _escape_in(self, start: int, end: int, slash: bool, ascii_key: bool) -> bool:
        text = self.text
        if text.find("\\", start, end) == -1:
            return False
        if slash and text.find("\\/", start, end) != -1:
            return True
        if ascii_key:
            return _ASCII_ESCAPE.search(text, start, end) is not None
        return text.find("\\u", start, end) != -1

    def _whole(self) -> Member | None:
        # The text decoded as a whole, so the top value runs to its last non-blank character.
        top = self._top
        if top is None:
            start = _after_ws(self.text, 0)
            end = len(self.text.rstrip(" \t\n\r"))
            top = self._top = Member(start, start, start, end) if start < len(self.text) else False
        return top or None  # (a Member is a tuple of four: never false)

    def _members(self, container: tuple[Any, ...]) -> dict[Any, list[Member]] | None:
        if container in self._containers:
            return self._containers[container]
        holder = self.last(container)
        members = self._scan(holder.value_start) if holder is not None else None
        self._containers[container] = members
        return members

    def _scan(self, start: int) -> dict[Any, list[Member]] | None:
        opener = self.text[start]
        try:
            if opener == "{":
                return self._scan_object(start)
            if opener == "[":
                return self._scan_array(start)
        except ValueError:  # not JSON after all: keep no positions rather than fail
            return None
        return None

    def _scan_object(self, start: int) -> dict[Any, list[Member]] | None:
        # One regex match per member takes the blanks, the key, the colon and the blanks up
        # to the value; the C scanner skips the value; one more match takes the comma. Keys
        # without a backslash are their own text; others go through the JSON string decoder.
        # Whatever the regex does not take (a control character in a key, a missing colon,
        # the end of the object) is left to `_scan_members_slowly`, which stops exactly where
        # a token-by-token reading stops.
        text = self.text
        member_at = _MEMBER.match
        comma_at = _COMMA.match
        scan_value = _scan_once
        out: dict[Any, list[Member]] = {}
        pos = start + 1
        while True:
            found = member_at(text, pos)
            if found is None:
                return self._scan_members_slowly(pos, out)
            value_start = found.end()
            key = found.group(1)
            key_start = found.start(1) - 1
            key_end = found.end(1) + 1
            if "\\" in key:
                key, end = _scanstring(text, key_start + 1)  # ValueError: no positions at all
                if end != key_end:  # pragma: no cover - the regex takes escapes as the decoder does
                    return self._scan_members_slowly(pos, out)
            try:
                value_end = scan_value(text, value_start)[1]
            except (StopIteration, ValueError, RecursionError):
                return out
            copies = out.get(key)
            if copies is None:
                out[key] = [Member(key_start, key_end, value_start, value_end)]
            else:
                copies.append(Member(key_start, key_end, value_start, value_end))
            found = comma_at(text, value_end)
            if found is None:
                return out
            pos = found.end()

    def _scan_members_slowly(self, pos: int, out: dict[Any, list[Member]]) -> dict[Any, list[Member]]:
        """Members from `pos` (just inside the braces or after a comma), one token at a time."""
        text = self.text
        size = len(text)
        blank = _WS.match  # always matches (maybe nothing): `.end()` is the next token
        pos = blank(text, pos).end()  # type: ignore[union-attr]
        while pos < size and text[pos] == '"':
            key_start = pos
            key, key_end = _scanstring(text, pos + 1)
            pos = blank(text, key_end).end()  # type: ignore[union-attr]
            if not text.startswith(":", pos):
                return out
            value_start = blank(text, pos + 1).end()  # type: ignore[union-attr]
            value_end = self._skip(value_start)
            if value_end is None:
                return out
            out.setdefault(key, []).append(Member(key_start, key_end, value_start, value_end))
            pos = blank(text, value_end).end()  # type: ignore[union-attr]
            if not text.startswith(",", pos):
                break
            pos = blank(text, pos + 1).end()  # type: ignore[union-attr]
        return out

    def _scan_array(self, start: int) -> dict[Any, list[Member]] | None:
        text, index = self.text, 0
        out: dict[Any, list[Member]] = {}
        pos = _after_ws(text, start + 1)
        if text.startswith("]", pos):
            return out
        while pos < len(text):
            end = self._skip(pos)
            if end is None:
                return out
            member = Member(pos, end, pos, end)
            out[index] = [member]
            index += 1
            found = _COMMA.match(text, end)
            if found is None:
                break
            pos = _after_ws(text, found.end())
        for i, members in list(out.items()):
            out[i - index] = members  # negative indexes, as Python and JSONPath allow
        return out

    def _skip(self, start: int) -> int | None:
        """The end of the JSON value at `start` (decoded by the C scanner), or None."""
        try:
            return _scan_once(self.text, start)[1]
        except (StopIteration, ValueError, RecursionError):
            return None


def _key_pattern(key: Any) -> re.Pattern[str] | None:
    """The pattern of `_KEY_WRITTEN` for `key` (made and kept on first use); None for a key
    that cannot be searched for as it is: not a string, one written with escapes, or one
    that begins with a blank or a colon.

    A match of the pattern may start at a string's closing quote and take what follows up
    to the next quote as the key (`"a":1,":1,":2` holds `":1,":` twice, from the end of
    `"a"` and at the key itself). The key such a match takes lies between two strings, so it
    holds a colon or a comma; when it begins with a blank or a colon, the match may take the
    opening quote of the key it looks for, which a later search then misses."""
    pattern = _KEY_WRITTEN.get(key) if type(key) is str else None
    if pattern is None and type(key) is str and _PLAIN_KEY.match(key) and key[:1] not in _HIDING_STARTS:
        if len(_KEY_WRITTEN) >= _KEY_WRITTEN_KEPT:
            _KEY_WRITTEN.clear()
        pattern = _KEY_WRITTEN[key] = re.compile("(" + re.escape('"' + key + '"') + ")[ \t\n\r]*:[ \t\n\r]*")
    return pattern


def parse_json_path(path: str) -> tuple[str | int, ...] | None:
    """The keys of a JSONPath in the form `json_path()` writes (`$['5'].inputs.seed`)."""
    if not path.startswith("$"):
        return None
    parts: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _PATH_PART.match(path, pos)
        if match is None:
            return None
        name, quoted, index = match.groups()
        if name is not None:
            parts.append(name)
        elif quoted is not None:
            parts.append(re.sub(r"\\(.)", r"\1", quoted) if "\\" in quoted else quoted)
        else:
            parts.append(int(index))
        pos = match.end()
    return tuple(parts)


#: Paths parsed before: findings of many workflows share them (`$['3'].inputs.seed`).
_PARSED: dict[str, tuple[str | int, ...] | None] = {}
_PARSED_KEPT = 4096


def _parsed(path: str) -> tuple[str | int, ...] | None:
    try:
        return _PARSED[path]
    except KeyError:
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.clear()
        keys = _PARSED[path] = parse_json_path(path)
        return keys


#: Whether Location has the fields `_with_span` names (a test checks it; if a field is added,
#: `replace` takes over until `_with_span` learns it).
_LOCATION_FIELDS = tuple(f.name for f in fields(Location)) == (
    "node_id", "class_type", "input", "json_path", "span", "label")


def _with_span(location: Location, span: Span | None) -> Location:
    """`replace(location, span=span)`, without `replace`'s look at the fields on every call."""
    if _LOCATION_FIELDS:
        return Location(location.node_id, location.class_type, location.input, location.json_path, span,
                        location.label)
    return replace(location, span=span)


def locate(positions: JsonPositions, keys: tuple[str | int, ...]) -> Span | None:
    """The span a finding at `keys` points at.

    A node (or any key whose value runs over several lines) is shown by its key; an input
    whose value sits on the key's line by the key and the value together. A path that goes
    further than the text does (a missing input, `inputs` that is not an object) falls back
    to the deepest part that exists.
    """
    root = positions.root
    for depth in range(len(keys), 0, -1):
        member = positions.last(root + keys[:depth])
        if member is None:
            continue
        if depth > 1 and positions.text.find("\n", member.key_start, member.value_end) == -1:
            return positions.span(member.key_start, member.value_end)
        return positions.span(member.key_start, member.key_end)
    return root_span(positions)


def root_span(positions: JsonPositions) -> Span | None:
    """The workflow as a whole: its envelope key, or the first character of the document."""
    found = positions.absolute(positions.root)
    if not found:
        found = positions.absolute(())
    if not found:
        return None
    member = found[-1]
    if member.key_end > member.key_start:
        return positions.span(member.key_start, member.key_end)
    return positions.span(member.value_start, member.value_start + 1)


def attach_spans(diagnostics: list[Diagnostic], text: str, *, path: str | None,
                 envelope: tuple[str, ...] = (), data: Any = _NO_DATA) -> list[Diagnostic]:
    """Give every diagnostic of a JSON document (and its related locations) a span.

    Diagnostics that already carry a span keep it. A `duplicate-node-id` finding points at
    the last copy of the node and gains the earlier copies as related locations. `data` is
    the text decoded (a Document's `body`), if at hand: lookups are quicker with it.
    """
    positions = JsonPositions(text, envelope, path, data)

    found: dict[str | None, Span | None] = {}  # findings often share a path (a node, its inputs)

    def where(location: Location) -> Location:
        if location.span is not None:
            return location
        json_path = location.json_path
        span = found.get(json_path, _NO_SPAN)
        if span is _NO_SPAN:
            keys = _PARSED.get(json_path) if json_path else ()  # (`_parsed`, without a call when known)
            if keys is None and json_path:
                keys = _parsed(json_path)
            span = found[json_path] = locate(positions, keys) if keys is not None else root_span(positions)
        return _with_span(location, span)

    for diag in diagnostics:
        earlier: list[Member] = []
        if diag.code == "CD004" and diag.node_id is not None:  # (before `where`, which finds the last copy)
            earlier = positions.copies((diag.node_id,), diag.ctx.get("times"))[:-1]
        diag.location = where(diag.location)
        diag.related = tuple(map(where, diag.related)) if diag.related else ()
        if earlier:
            diag.related += tuple(
                Location(node_id=diag.node_id, class_type=diag.class_type,
                         json_path=diag.json_path, label="an earlier copy, dropped by JSON readers",
                         span=positions.span(m.key_start, m.key_end))
                for m in earlier)
    return diagnostics
