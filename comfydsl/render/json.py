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
from typing import Any

from . import LintRun

#: The version of the output's shape.
VERSION = 1


def to_dict(run: LintRun) -> dict[str, Any]:
    """The run as the JSON document `--format json` prints."""
    return {
        "version": VERSION,
        "models_checked": run.models_checked,
        "files": [
            {"path": result.path, "kind": result.kind,
             "diagnostics": [d.to_dict() for d in result.diagnostics]}
            for result in run.files
        ],
        "summary": run.summary(),
    }


def render(run: LintRun) -> str:
    """The run as indented JSON text."""
    return dumps_indented(to_dict(run), end="\n")


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
    else:
        return False
    return True
