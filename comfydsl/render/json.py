"""JSON output, version 1 (documented in docs/lint.md).

```json
{"version": 1, "models_checked": true,
 "files": [{"path": "wf.json", "kind": "api", "diagnostics": [{"code": "CD201", ...}]}],
 "summary": {"errors": 1, "warnings": 0, "notes": 0, "files": 1}}
```

Fields may be added in later releases of version 1; none is removed or changes meaning.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..diagnostics import Diagnostic, Span
from . import LintRun

#: The version of the output's shape.
VERSION = 1


def to_dict(run: LintRun, *, diagnostic: Callable[[Diagnostic], Any] | None = None) -> dict[str, Any]:
    """The run as the JSON document `--format json` prints (`diagnostic` makes each finding's
    entry; the default is `Diagnostic.to_dict`)."""
    entry = diagnostic or Diagnostic.to_dict
    return {
        "version": VERSION,
        "models_checked": run.models_checked,
        "files": [
            {"path": result.path, "kind": result.kind,
             "diagnostics": [entry(d) for d in result.diagnostics]}
            for result in run.files
        ],
        "summary": run.summary(),
    }


class _Prewritten:
    """A finding left in the document for the writer, which writes the fields `to_dict` would
    give in one go (`_write_diagnostic`): a run is mostly findings, all of the same shape."""

    __slots__ = ("diagnostic",)

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def render(run: LintRun) -> str:
    """The run as indented JSON text (`to_dict(run)` written with an indent of 2)."""
    text = _dumps_fast(to_dict(run, diagnostic=_Prewritten), 2, "\n")
    if text is None:  # something the writer leaves to the json module: the plain document
        return dumps_indented(to_dict(run), end="\n")
    return text


# -- indented JSON, written directly ------------------------------------------------------
#
# `json.dumps(..., indent=2)` cannot use the C encoder (it only writes compact JSON) and its
# Python encoder costs several generator steps per value. The output here is the same text,
# byte for byte (a test compares the two), written by one recursive function; strings go
# through the C string encoder.

_encode_str = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


#: Keys as written before their values (`"code": `): a run repeats the same few keys.
_KEY_HEADS: dict[str, str] = {}
_KEY_HEADS_KEPT = 512


def dumps_indented(value: Any, indent: int = 2, end: str = "") -> str:
    """`json.dumps(value, indent=indent, ensure_ascii=False, default=str) + end`, faster."""
    parts: list[str] = []
    if not _write(value, parts, "\n", " " * indent, 0):
        # a value this writer leaves to the json module: non-string keys, nesting past 200
        # levels, floats that are not finite, other types
        return json.dumps(value, indent=indent, ensure_ascii=False, default=str) + end
    parts.append(end)  # joined with the rest: no copy of a long text to add a newline
    return "".join(parts)


def _dumps_fast(value: Any, indent: int, end: str) -> str | None:
    """`value` as indented JSON text (and `end`) by the writer alone; None where it would need
    the json module."""
    parts: list[str] = []
    if not _write(value, parts, "\n", " " * indent, 0):
        return None
    parts.append(end)
    return "".join(parts)


def _write(value: Any, out: list[str], newline: str, step: str, depth: int) -> bool:
    """Append `value`'s text to `out`; False (and `out` of no use) for a value to leave to
    the json module.

    Members that are strings, null, integers or booleans (most of a run's values) are
    written in the loop over their container, with their key or comma, as one piece."""
    if depth > 200:
        return False
    kind = type(value)
    encode = _encode_str
    if kind is dict:
        if not value:
            out.append("{}")
            return True
        inner = newline + step
        lead = "{" + inner
        comma = "," + inner
        heads = _KEY_HEADS
        for key, item in value.items():
            head = heads.get(key)
            if head is None:
                if type(key) is not str:
                    return False
                head = encode(key) + ": "
                if len(heads) < _KEY_HEADS_KEPT:
                    heads[key] = head
            head = lead + head
            lead = comma
            kind = type(item)
            if kind is str:
                out.append(head + encode(item))
            elif item is None:
                out.append(head + "null")
            elif kind is int:
                out.append(head + int.__repr__(item))
            elif item is True:
                out.append(head + "true")
            elif item is False:
                out.append(head + "false")
            else:
                out.append(head)
                if not _write(item, out, inner, step, depth + 1):
                    return False
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return True
        inner = newline + step
        lead = "[" + inner
        comma = "," + inner
        for item in value:
            kind = type(item)
            if kind is str:
                out.append(lead + encode(item))
            elif item is None:
                out.append(lead + "null")
            elif kind is int:
                out.append(lead + int.__repr__(item))
            elif item is True:
                out.append(lead + "true")
            elif item is False:
                out.append(lead + "false")
            else:
                out.append(lead)
                if not _write(item, out, inner, step, depth + 1):
                    return False
            lead = comma
        out.append(newline + "]")
    elif kind is str:
        out.append(encode(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            return False
        out.append(float.__repr__(value))
    elif kind is _Prewritten:
        return _write_diagnostic(value.diagnostic, out, newline, step, depth)
    else:
        return False
    return True


def _text(value: Any) -> str | None:
    """A string or null as JSON text; None for anything else (left to the general writer)."""
    if type(value) is str:
        return _encode_str(value)
    return "null" if value is None else None


def _span_text(span: Span | None, newline: str, step: str) -> str | None:
    if span is None:
        return "null"
    end_line = span.end_line if span.end_line is not None else span.line
    end_column = span.end_column if span.end_column is not None else span.column
    path = _text(span.path)
    if path is None or not all(type(n) is int for n in (span.line, span.column, end_line, end_column)):
        return None
    inner = newline + step
    return (f'{{{inner}"path": {path},{inner}"line": {int.__repr__(span.line)},{inner}"column": '
            f'{int.__repr__(span.column)},{inner}"end_line": {int.__repr__(end_line)},{inner}"end_column": '
            f'{int.__repr__(end_column)}{newline}}}')


def _write_diagnostic(diag: Diagnostic, out: list[str], newline: str, step: str, depth: int) -> bool:
    """Write `diag.to_dict()`: the fields that are strings, nulls and the span in one piece, the
    notes and related locations (mostly empty) by `_write`; anything unusual by `_write` alone."""
    location = diag.location
    inner = newline + step
    texts = [_text(diag.code), _text(diag.name), _text(diag.severity.value), _text(diag.message),
             _text(diag.help), _text(location.node_id), _text(location.class_type), _text(location.input),
             _text(location.json_path), _span_text(location.span, inner, step)]
    if None in texts:
        return _write(diag.to_dict(), out, newline, step, depth)
    code, name, severity, message, help, node_id, class_type, input, json_path, span = texts
    out.append(f'{{{inner}"code": {code},{inner}"name": {name},{inner}"severity": {severity},{inner}"message": '
               f'{message},{inner}"help": {help},{inner}"notes": ')
    if not _write(list(diag.notes), out, inner, step, depth + 1):
        return False
    out.append(f',{inner}"node_id": {node_id},{inner}"class_type": {class_type},{inner}"input": {input},'
               f'{inner}"json_path": {json_path},{inner}"span": {span},{inner}"related": ')
    if not diag.related:
        out.append("[]" + newline + "}")
        return True
    if not _write([loc.to_dict() for loc in diag.related], out, inner, step, depth + 1):
        return False
    out.append(newline + "}")
    return True
