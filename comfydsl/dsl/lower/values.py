"""What recipe expressions evaluate to, besides plain JSON values and graph nodes/outputs:
a failed value (`BAD`), a fragment's missing result (`NO_VALUE`), a fragment (`FragmentDef`)
and the several results of a fragment call (`Results`); and how values are named in messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...graph.model import Node, OutputRef
from .. import ast


class _Bad:
    """The value of an expression that failed; its problem is already reported."""

    def __repr__(self) -> str:
        return "<bad>"


BAD = _Bad()


class _NoValue:
    """What a fragment without `return` gives."""


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class FragmentDef:
    """A fragment and the fragments visible from its file (its own and imported ones)."""

    fragment: ast.Fragment
    scope: dict[str, FragmentDef] = field(compare=False, hash=False, repr=False)

    @property
    def name(self) -> str:
        return self.fragment.name.name

    def signature(self) -> str:
        parts = []
        for p in self.fragment.params:
            text = p.name.name + (f": {p.type}" if p.type else "")
            parts.append(text + (" = …" if p.default is not None else ""))
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class Results:
    """The several results of a fragment call, to be unpacked: `a, b = frag(...)`."""

    values: tuple[Any, ...]
    fragment: str


def is_number(value: Any) -> bool:
    """Whether `value` is an integer or a float (booleans are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def describe(value: Any) -> str:
    """How a value is named in messages: "an integer", "a node output (a link)"..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (Node, OutputRef)):
        return "a node output (a link)"
    if isinstance(value, FragmentDef):
        return f"fragment `{value.name}`"
    if isinstance(value, Results):
        return "several fragment results"
    return "no value"


def outputs_help(node: Node) -> str:
    """The outputs of a node, by index and name, for a help line."""
    spec = node.spec
    if spec is None or not spec.outputs:
        return f"`{node.class_type}` has no outputs"
    return f"`{node.class_type}` outputs " + ", ".join(f"{o.index} `{o.name}`" for o in spec.outputs)
