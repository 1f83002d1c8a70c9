"""Reading workflow documents: bare API JSON, RunPod request bodies, `/prompt` bodies.

`read_document` never raises on bad input: what cannot be read becomes diagnostics on the
returned Document, located in the file.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from ..diagnostics import Diagnostic, Rule, Span
from .gcpause import gc_paused


class InvalidJson(Rule):
    """The file is not valid JSON.

    **Why is this bad?** Nothing can read it: ComfyUI answers `POST /prompt` with HTTP 400,
    and the RunPod worker fails the job.

    **Example:** a trailing comma after the last node: `{"3": {...},}`.

    **Use instead:** valid JSON; the location points at the first character that broke it.
    """

    code = "CD001"
    name = "invalid-json"
    lenient_when_unused = False


class NotAWorkflow(Rule):
    """The document is valid JSON but not an API-format workflow.

    An API workflow is an object of nodes: `{"3": {"class_type": "KSampler", "inputs": {...}}}`.
    Also accepted are the RunPod request body `{"input": {"workflow": {...}}}` and ComfyUI's
    `POST /prompt` body `{"prompt": {...}}`.

    **Why is this bad?** ComfyUI rejects it (`invalid_prompt`) or finds no node in it.

    **Example:** a `package.json`, or `[{"class_type": ...}]` (a list, not an object).

    **Use instead:** an object of nodes keyed by node id.
    """

    code = "CD002"
    name = "not-a-workflow"
    lenient_when_unused = False


class UiFormatWorkflow(Rule):
    """The file is a UI-format workflow (top-level `nodes` and `links`), not API format.

    **Why is this bad?** `POST /prompt` and RunPod workers take API format only; a UI file
    sent as is fails at once.

    **Example:** the file ComfyUI's "Save" writes: `{"last_node_id": 9, "nodes": [...], "links": [...]}`.

    **Use instead:** export the workflow with ComfyUI's "Export (API)" menu entry.
    """

    code = "CD003"
    name = "ui-format-workflow"
    lenient_when_unused = False


class DuplicateNodeId(Rule):
    """A node id occurs twice in the file.

    **Why is this bad?** JSON parsers, ComfyUI's among them, silently keep the last copy:
    the first node is lost without a word, and whatever linked to it now gets the other one.

    **Example:** two `"9": {...}` entries in one workflow.

    **Use instead:** give every node its own id.
    """

    code = "CD004"
    name = "duplicate-node-id"
    lenient_when_unused = False


# What reading reports through. These classes are listed in `comfydsl.rules.codes` with every
# other rule; they live here because reading is part of the wire format, which imports no rules.
INVALID_JSON = InvalidJson()
NOT_A_WORKFLOW = NotAWorkflow()
UI_FORMAT_WORKFLOW = UiFormatWorkflow()
DUPLICATE_NODE_ID = DuplicateNodeId()


@dataclass
class Document:
    """A workflow file as read: its kind, the workflow in it, uploads, and reading problems."""

    path: str | None
    text: str
    kind: str  # "api", "runpod", "prompt", "ui", "invalid", or "other" (JSON that is no workflow)
    workflow: dict[str, Any] | None = None
    images: list[Any] | None = None
    envelope: tuple[str, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    body: Any = None
    #: whether the workflow was decoded in parts, each handed to `read_document`'s `on_part`
    #: as it was decoded: then those parts, merged in order, are `workflow`, and no two of
    #: them share a node id
    read_in_parts: bool = False

    @property
    def upload_names(self) -> set[str] | None:
        """Names of the images the RunPod body uploads (None for other kinds)."""
        if self.images is None:
            return None
        return {img["name"] for img in self.images if isinstance(img, dict) and isinstance(img.get("name"), str)}


class _Obj(dict[str, Any]):
    """A dict that remembers keys that occurred more than once in the JSON text."""

    __slots__ = ("dups",)
    dups: dict[str, int]


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    dups: dict[str, int] = {}
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            dups[key] = dups.get(key, 1) + 1
        seen.add(key)
    marked = _Obj(obj)
    marked.dups = dups
    return marked


def parse_json(text: str) -> Any:
    """json.loads that records duplicate keys on the objects that had them (as `dups`)."""
    return json.loads(text, object_pairs_hook=_pairs_hook)


#: A key of digits and colons (the usual node ids: `3`, and `30:7:5` for a node of a subgraph)
#: in quotes (group 1: its text), then blanks, the colon and the blanks before the value. Locating
#: indexes its matches (`jsonpos`).
ID_KEY = re.compile(r'"([0-9:]+)"[ \t\n\r]*:[ \t\n\r]*')

#: Where one node ends and the next begins: the closing brace of an object, the comma (group 1),
#: then a key of digits and colons opening an object. Long texts are cut at its matches
#: (`_decode_in_parts`).
_NODE_BOUNDARY = re.compile(r'\}[ \t\n\r]*(,)[ \t\n\r]*"[0-9:]+"[ \t\n\r]*:[ \t\n\r]*\{')

#: A comma, then a key of digits and colons (group 1: empty, so that `findall` makes no string
#: per match) and its colon: where the text may write a node id, but its first (`_no_duplicate_nodes`).
_ID_AFTER_COMMA = re.compile(r',[ \t\n\r]*"[0-9:]+"[ \t\n\r]*:()')


def _no_duplicate_nodes(workflow: dict[str, Any], text: str) -> bool:
    """True when `text` surely holds each key of `workflow` (an object decoded from it) once
    only; False when it may not (the caller then reads the text again, counting).

    When every node id is made of digits and colons, each is written as such at least once:
    only a `\\u003.` escape could spell such a character another way (escaped backslashes are
    taken out first, left to right, pair by pair, as JSON reads them, so that `\\\\u0031` is
    not taken for one). Every member of the workflow but its first is then written after a
    comma as `_ID_AFTER_COMMA` matches it. A match elsewhere is counted in excess, and never
    takes the comma before a member, as each match has one comma, its first character. One
    that starts at a comma inside a string has its quote close that string (an escaped quote
    has a backslash before it), which must then be a key whose value is a string that begins
    with a colon (nothing else is written right after a quote with no blank); it ends inside
    that value, where no match can leave (a value's closing quote is never followed by a digit
    or a colon). So if the text has no more matches than ids, less one, each id occurs exactly
    once; with more (a true duplicate, or a deeper key that looks like one) it is read again.
    """
    if not workflow:
        return True
    joined = "".join(workflow)
    # (`"" in workflow`: an empty id, which the joined text cannot show)
    if not (joined.isascii() and joined.replace(":", "").isdecimal()) or "" in workflow:
        return False
    # (a search for one character first: quick, and most texts have no escape)
    if "\\" in text and "\\u003" in text.replace("\\\\", ""):
        return False
    return len(_ID_AFTER_COMMA.findall(text)) + 1 == len(workflow)


def _long_number_span(text: str, path: str | None) -> Span:
    """Where the first over-long run of digits starts (1:1 if none is found)."""
    found = re.search(r"\d{%d,}" % (sys.get_int_max_str_digits() + 1), text)
    if found is None:
        return Span(path, 1, 1, start=0, end=0)
    start = found.start()
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return Span(path, line, column, end_line=line, end_column=column + found.end() - start, start=start,
                end=found.end())


#: Texts of at least this many characters are decoded in parts of about `PART_CHARS` (see
#: `_decode_in_parts`).
PARTS_FROM = 1 << 20
PART_CHARS = 1 << 16

_OPENING = re.compile(r"[ \t\n\r]*\{")


def _decode_in_parts(text: str, on_part: Callable[[dict[str, Any]], object] | None
                     ) -> tuple[dict[str, Any], bool] | None:
    """What `json.loads(text)` gives, decoded in parts of about `PART_CHARS` characters, each
    handed to `on_part` once decoded, and whether each of its keys surely occurs once only in
    the text; None (and perhaps some parts handed over) when the text is not cut so, and must
    be decoded in one piece.

    A long workflow decoded at once costs more per node than a short one: the decoder's table
    of keys and the objects made grow past the processor's caches, and what reads the nodes
    next finds them in memory only. In parts, each part is decoded with a table of its own,
    and `on_part` and the check for keys written twice read it while it is still in the caches.

    The text is cut at commas between a node's closing brace and the next id (`_NODE_BOUNDARY`),
    and each part is decoded as an object of its own (`{` part `}`). A part before a cut that
    decodes so holds whole members of the top-level object: JSON is read left to right with
    one outcome, and the top-level object's reader, given the same characters from the same
    start, would be at its own level after them, where a comma separates two members. So the
    parts together hold the same members in the same order, and merging them (the last value
    of a key at the place of its first, as the decoder does) gives the same object. A cut that
    falls anywhere else (say inside a string) leaves a part that does not decode: the text is
    then decoded in one piece, which also reports any error of the text at its true place.
    """
    opening = _OPENING.match(text)
    if opening is None:
        return None
    start = opening.end()
    cut = _NODE_BOUNDARY.search(text, start + PART_CHARS)
    if cut is None:
        return None
    merged: dict[str, Any] = {}
    decode = json.loads
    once = True  # each key of the parts so far occurs once in its part
    count = 0  # the keys of the parts so far, one per part they are in
    while True:
        piece = "{" + text[start:] if cut is None else "{" + text[start:cut.start(1)] + "}"
        try:
            part = decode(piece)
        except (ValueError, RecursionError):  # (JSONDecodeError is a ValueError)
            return None
        once = once and _no_duplicate_nodes(part, piece)
        count += len(part)
        merged.update(part)
        if on_part is not None:
            on_part(part)
        if cut is None:
            # no key in two parts either when the merged object has as many keys as the parts
            return merged, once and count == len(merged)
        start = cut.start(1) + 1
        cut = _NODE_BOUNDARY.search(text, start + PART_CHARS)


def read_document(text: str, path: str | None = None, *,
                  on_part: Callable[[dict[str, Any]], object] | None = None) -> Document:
    """Read a workflow document from JSON text.

    `on_part`: called with each part of a long text decoded in parts (`_decode_in_parts`) as
    it is decoded. When the document is a bare workflow read so, `Document.read_in_parts` is
    true and the parts make the workflow; otherwise what `on_part` was given is to be ignored.
    """
    with gc_paused():  # `lint` has paused it already; a caller reading alone gets the pause too
        try:
            parts = _decode_in_parts(text, on_part) if len(text) >= PARTS_FROM else None
            # the C decoder as it is: duplicates are looked for below
            data = json.loads(text) if parts is None else parts[0]
            doc = classify(data, path=path, text=text)
            in_parts = parts is not None and doc.workflow is data
            if parts is not None and in_parts:
                once = parts[1]  # looked for part by part
            else:
                once = doc.workflow is None or _no_duplicate_nodes(doc.workflow, text)
            if not once:
                # a node id may occur twice: read again, counting duplicate keys
                doc = classify(parse_json(text), path=path, text=text)
                in_parts = False
            doc.read_in_parts = in_parts
        except json.JSONDecodeError as exc:
            span = Span(path, exc.lineno, exc.colno, start=exc.pos, end=exc.pos)
            if exc.msg.startswith("Unexpected UTF-8 BOM"):  # Python's wording names its own codec
                diag = INVALID_JSON.report("not valid JSON: the text starts with a byte order mark (U+FEFF)",
                                           span=span, help="save the file as UTF-8 without a byte order mark")
                return Document(path, text, "invalid", diagnostics=[diag])
            diag = INVALID_JSON.report(f"not valid JSON: {exc.msg.lower()}", span=span,
                                       help="fix the JSON syntax at the position shown")
            return Document(path, text, "invalid", diagnostics=[diag])
        except RecursionError:
            diag = INVALID_JSON.report("not readable JSON: nested too deeply", span=Span(path, 1, 1, start=0, end=0))
            return Document(path, text, "invalid", diagnostics=[diag])
        except ValueError:  # an integer literal longer than Python's digit limit (ComfyUI cannot read it either)
            limit = sys.get_int_max_str_digits()
            diag = INVALID_JSON.report(f"not readable JSON: a number has more than {limit} digits",
                                       span=_long_number_span(text, path),
                                       help="write such a value as a string, or make it shorter")
            return Document(path, text, "invalid", diagnostics=[diag])
    return doc


def classify(data: Any, *, path: str | None = None, text: str = "") -> Document:
    """Find the workflow inside a decoded document and say what kind of document it is."""
    if not isinstance(data, dict):
        diag = NOT_A_WORKFLOW.report(
            f"expected a JSON object of nodes, found {json_kind(data)}",
            help='an API workflow looks like {"3": {"class_type": "KSampler", "inputs": {...}}}')
        return Document(path, text, "other", diagnostics=[diag], body=data)
    if "nodes" in data and "links" in data:
        diag = UI_FORMAT_WORKFLOW.report(
            "this is a UI-format workflow (it has `nodes` and `links`); workers take API format",
            help='export it from ComfyUI with "Export (API)"; workers and `POST /prompt` take API format only')
        return Document(path, text, "ui", diagnostics=[diag], body=data)
    inner = data.get("input")
    if isinstance(inner, dict) and "workflow" in inner:
        doc = _workflow_doc(inner["workflow"], path, text, "runpod", ("input", "workflow"), data)
        images = inner.get("images")
        # only a list is kept: whatever else stood there is reported below, never iterated
        doc.images = images if isinstance(images, list) else []
        if images is not None and not _images_ok(images):
            doc.diagnostics.append(NOT_A_WORKFLOW.report(
                "`input.images` must be a list of {\"name\": ..., \"image\": ...} objects",
                help="give each uploaded image a `name` (the file name the workflow uses) and an `image` (base64)"))
        return doc
    if "prompt" in data and isinstance(data["prompt"], dict) and not _looks_like_node(data["prompt"]):
        return _workflow_doc(data["prompt"], path, text, "prompt", ("prompt",), data)
    for value in data.values():  # (a loop rather than `any(...)`: every file passes here)
        if _looks_like_node(value):
            break  # a node: usually the first value already
    else:
        if data:
            keys = ", ".join(f"`{k}`" for k in list(data)[:5])
            diag = NOT_A_WORKFLOW.report(
                f"no node found: the top-level keys ({keys}) hold no `class_type` objects",
                help='an API workflow looks like {"3": {"class_type": "KSampler", "inputs": {...}}}')
            return Document(path, text, "other", diagnostics=[diag], body=data)
    return _workflow_doc(data, path, text, "api", (), data)


def _workflow_doc(workflow: Any, path: str | None, text: str, kind: str, envelope: tuple[str, ...],
                  body: Any) -> Document:
    if not isinstance(workflow, dict):
        where = ".".join(envelope)
        diag = NOT_A_WORKFLOW.report(f"`{where}` must be an object of nodes, found {json_kind(workflow)}")
        return Document(path, text, "invalid", envelope=envelope, diagnostics=[diag], body=body)
    dups = dict(workflow.dups) if isinstance(workflow, _Obj) else {}  # only objects with duplicates are _Obj
    # (every field given in order: the quickest way to build a dataclass, once per file)
    doc = Document(path, text, kind, workflow, None, envelope, [], dups, body)
    for node_id, times in dups.items():
        node = workflow.get(node_id)
        cls = node.get("class_type") if isinstance(node, dict) else None
        doc.diagnostics.append(DUPLICATE_NODE_ID.report(
            f"node id `{node_id}` occurs {times} times; only the last copy is used",
            node_id=node_id, class_type=cls if isinstance(cls, str) else None,
            help="give each node its own id; the earlier copies are silently dropped by every JSON reader",
            times=times))
    return doc


def _looks_like_node(value: Any) -> bool:
    return isinstance(value, dict) and ("class_type" in value or "inputs" in value)


def _images_ok(images: Any) -> bool:
    return isinstance(images, list) and all(
        isinstance(img, dict) and isinstance(img.get("name"), str) and isinstance(img.get("image"), str)
        for img in images)


def json_kind(value: Any) -> str:
    """The JSON type of a value with its article, for messages: `an object`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
