"""What ComfyUI makes of a literal before it checks it: `int()` for INT, `float()` for FLOAT,
`str()` for STRING, `bool()` for BOOLEAN, with a `{"__value__": ...}` object unwrapped first.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from ..diagnostics import show


class Conversion(NamedTuple):
    """What ComfyUI makes of a literal: the value, or why it fails, and whether it changed.

    (A named tuple: several rules convert every literal, so it is kept cheap to build.)
    """

    ok: bool
    value: Any = None
    coerced: bool = False
    reason: str | None = None


def convert(type_name: str, value: Any) -> Conversion:
    """Convert a literal the way ComfyUI does for an input of `type_name`."""
    if isinstance(value, dict) and "__value__" in value:
        value = value["__value__"]
    if type_name == "INT":
        return _to_int(value)
    if type_name == "FLOAT":
        return _to_float(value)
    if type_name == "STRING":
        if isinstance(value, str):
            return Conversion(True, value)
        if isinstance(value, (dict, list)):
            return Conversion(False, reason=f"`STRING` input holds {_what(value)}")
        return Conversion(True, str(value), coerced=True)
    if type_name == "BOOLEAN":
        if isinstance(value, bool):
            return Conversion(True, value)
        return Conversion(True, bool(value), coerced=True)
    return Conversion(True, value)


def _to_int(value: Any) -> Conversion:
    if type(value) is int:
        return Conversion(True, value)
    if isinstance(value, bool):
        return Conversion(True, int(value), coerced=True)
    if isinstance(value, float):
        if not math.isfinite(value):
            return Conversion(False, reason=f"{show(value)} is not a finite number")
        return Conversion(True, int(value), coerced=True)
    if isinstance(value, str):
        try:
            return Conversion(True, int(value), coerced=True)
        except ValueError:
            return Conversion(False, reason=f"{show(value)} is not a whole number")
    return Conversion(False, reason=f"`INT` input holds {_what(value)}")


def _to_float(value: Any) -> Conversion:
    if isinstance(value, bool):
        return Conversion(True, float(value), coerced=True)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return Conversion(False, reason=f"{show(value)} is not a finite number")
        return Conversion(True, value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return Conversion(False, reason=f"{show(value)} is not a number")
        if not math.isfinite(number):
            return Conversion(False, reason=f"{show(value)} is not a finite number")
        return Conversion(True, number, coerced=True)
    return Conversion(False, reason=f"`FLOAT` input holds {_what(value)}")


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return show(value)
