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

from ..diagnostics import Diagnostic, Severity, Span
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


def render(run: LintRun) -> str:
    """The run as indented JSON text (`to_dict(run)` written with an indent of 2)."""
    parts: list[str] = []
    if not _write_run(run, parts):  # something the writer leaves to the json module
        return dumps_indented(to_dict(run), end="\n")
    return "".join(parts)


def _write_run(run: LintRun, out: list[str]) -> bool:
    """Append `to_dict(run)` as `dumps_indented(..., end="\n")` writes it; False (and `out` of
    no use) where a value needs the general writer.

    A run is mostly files and their findings, always of the same shape: their keys and
    indents are written as fixed text, and each finding straight from the Diagnostic (no
    dictionary is built for it)."""
    models_checked = run.models_checked
    if type(models_checked) is not bool:
        return False
    out.append(f'{{\n  "version": {int.__repr__(VERSION)},\n  "models_checked": '
               f'{"true" if models_checked else "false"},\n  "files": ')
    if not run.files:
        out.append("[]")
    lead = "[\n    "
    for result in run.files:
        path, kind = _text(result.path), _text(result.kind)
        if path is None or kind is None:
            return False
        out.append(f'{lead}{{\n      "path": {path},\n      "kind": {kind},\n      "diagnostics": ')
        lead = ",\n    "
        if not result.diagnostics:
            out.append("[]\n    }")
            continue
        before = "[\n        "
        for diag in result.diagnostics:
            out.append(before)
            before = ",\n        "
            # (depth 4: where the general writer meets a finding, for its limit on nesting)
            if not _write_diagnostic(diag, out, "\n        ", "  ", 4):
                return False
        out.append("\n      ]\n    }")
    if run.files:
        out.append("\n  ]")
    out.append(',\n  "summary": ')
    if not _write(run.summary(), out, "\n  ", "  ", 1):
        return False
    out.append("\n}\n")
    return True


# -- indented JSON, written directly ------------------------------------------------------
#
# `json.dumps(..., indent=2)` cannot use the C encoder (it only writes compact JSON) and its
# Python encoder costs several generator steps per value. The output here is the same text,
# byte for byte (a test compares the two), written by one recursive function; strings go
# through the C string encoder.

_encode_str = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


#: Each Severity as JSON text.
_SEVERITY_TEXTS = {severity: _encode_str(severity.value) for severity in Severity}

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


def _write(value: Any, out: list[str], newline: str, step: str, depth: int) -> bool:
    """Append `value`'s text to `out`; False (and `out` of no use) for a value to leave to
    the json module.

    Members that are strings, null, integers or booleans (most of a run's values) are
    written with their key or comma, as one piece."""
    if depth > 200:
        return False
    kind = type(value)
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
                head = _encode_str(key) + ": "
                if len(heads) < _KEY_HEADS_KEPT:
                    heads[key] = head
            if not _write_member(lead + head, item, out, inner, step, depth):
                return False
            lead = comma
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return True
        inner = newline + step
        lead = "[" + inner
        comma = "," + inner
        for item in value:
            if not _write_member(lead, item, out, inner, step, depth):
                return False
            lead = comma
        out.append(newline + "]")
    else:
        text = _scalar(value)
        if text is None:
            if kind is not float or value != value or value in (float("inf"), float("-inf")):
                return False
            text = float.__repr__(value)
        out.append(text)
    return True


def _write_member(head: str, item: Any, out: list[str], inner: str, step: str, depth: int) -> bool:
    """Append a member of a container at `depth`, after `head` (its key, or the comma)."""
    text = _scalar(item)
    if text is not None:
        out.append(head + text)
        return True
    out.append(head)
    return _write(item, out, inner, step, depth + 1)


def _scalar(value: Any) -> str | None:
    """A string, null, integer or boolean as JSON text; None for anything else."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return None


def _text(value: Any) -> str | None:
    """A string or null as JSON text; None for anything else (left to the general writer)."""
    if type(value) is str:
        return _encode_str(value)
    return "null" if value is None else None


def _span_text(span: Span | None, newline: str, step: str) -> str | None:
    if span is None:
        return "null"
    line, column, end_line, end_column = span.line, span.column, span.end_line, span.end_column
    if end_line is None:
        end_line = line
    if end_column is None:
        end_column = column
    path = _text(span.path)
    if path is None or not (type(line) is int and type(column) is int and type(end_line) is int
                            and type(end_column) is int):
        return None
    inner = newline + step
    return (f'{{{inner}"path": {path},{inner}"line": {int.__repr__(line)},{inner}"column": '
            f'{int.__repr__(column)},{inner}"end_line": {int.__repr__(end_line)},{inner}"end_column": '
            f'{int.__repr__(end_column)}{newline}}}')


def _write_diagnostic(diag: Diagnostic, out: list[str], newline: str, step: str, depth: int) -> bool:
    """Write `diag.to_dict()`: the fields that are strings, nulls and the span in one piece, the
    notes and related locations (mostly empty) by `_write`; anything unusual by `_write` alone."""
    location = diag.location
    inner = newline + step
    encode = _encode_str
    # each field that is a string or null as JSON text; "" (never the text of a string) marks
    # anything else, which the general writer takes
    texts = [encode(value) if type(value) is str else "null" if value is None else ""
             for value in (diag.code, diag.name, diag.message, diag.help, location.node_id,
                           location.class_type, location.input, location.json_path)]
    severity = diag.severity
    # (a Severity's value is read through the enum's descriptor, which costs more than the rest)
    severity_text = _SEVERITY_TEXTS.get(severity) if type(severity) is Severity else _text(severity.value)
    span = _span_text(location.span, inner, step)
    if span is None or severity_text is None or "" in texts:
        return _write(diag.to_dict(), out, newline, step, depth)
    code, name, message, help, node_id, class_type, input, json_path = texts
    out.append(f'{{{inner}"code": {code},{inner}"name": {name},{inner}"severity": {severity_text},{inner}"message": '
               f'{message},{inner}"help": {help},{inner}"notes": ')
    if diag.notes and not _write(list(diag.notes), out, inner, step, depth + 1):
        return False
    out.append(f'{"" if diag.notes else "[]"},{inner}"node_id": {node_id},{inner}"class_type": {class_type},'
               f'{inner}"input": {input},{inner}"json_path": {json_path},{inner}"span": {span},{inner}"related": ')
    if not diag.related:
        out.append("[]" + newline + "}")
        return True
    if not _write([loc.to_dict() for loc in diag.related], out, inner, step, depth + 1):
        return False
    out.append(newline + "}")
    return True
