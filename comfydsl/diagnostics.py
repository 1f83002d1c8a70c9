"""Diagnostics: what a check found, where, and how bad it is.

This module uses the standard library only, so renderers and the CLI can import it
without pulling in the graph or the catalogue.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar


class Severity(str, enum.Enum):
    """How serious a finding is. Errors fail a lint run; warnings fail it under `--strict`."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "note": 2}[self.value]


# Span and Location are frozen, and one of each is built for every finding located. The
# `__init__` dataclasses writes for a frozen class stores each field through
# `object.__setattr__`, to get past the class's own refusal; the ones below store each field
# through its slot's descriptor instead, which comes to the same object about three times
# faster. A test compares both with the fields as declared.


@dataclass(frozen=True, slots=True, init=False)
class Span:
    """A region of a source file; lines and columns are 1-based, offsets 0-based."""

    path: str | None
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    start: int | None = None
    end: int | None = None

    def __init__(self, path: str | None, line: int, column: int, end_line: int | None = None,
                 end_column: int | None = None, start: int | None = None, end: int | None = None) -> None:
        set_path, set_line, set_column, set_end_line, set_end_column, set_start, set_end = _SPAN_SLOTS
        set_path(self, path)
        set_line(self, line)
        set_column(self, column)
        set_end_line(self, end_line)
        set_end_column(self, end_column)
        set_start(self, start)
        set_end(self, end)

    def with_path(self, path: str | None) -> Span:
        return replace(self, path=path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "end_column": self.end_column if self.end_column is not None else self.column,
        }


@dataclass(frozen=True, slots=True, init=False)
class Location:
    """Where a finding points: a node, one of its inputs, a JSON path, a source span."""

    node_id: str | None = None
    class_type: str | None = None
    input: str | None = None
    json_path: str | None = None
    span: Span | None = None
    label: str | None = None

    def __init__(self, node_id: str | None = None, class_type: str | None = None, input: str | None = None,
                 json_path: str | None = None, span: Span | None = None, label: str | None = None) -> None:
        set_node_id, set_class_type, set_input, set_json_path, set_span, set_label = _LOCATION_SLOTS
        set_node_id(self, node_id)
        set_class_type(self, class_type)
        set_input(self, input)
        set_json_path(self, json_path)
        set_span(self, span)
        set_label(self, label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "class_type": self.class_type,
            "input": self.input,
            "json_path": self.json_path,
            "span": self.span.to_dict() if self.span else None,
            "label": self.label,
        }


def _slot_setters(cls: type) -> tuple[Any, ...]:
    """What stores each field of a slots dataclass, in the order of its fields."""
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))


_SPAN_SLOTS = _slot_setters(Span)
_LOCATION_SLOTS = _slot_setters(Location)


def json_path(node_id: str | None, *parts: str | int) -> str:
    """The JSONPath of a node (and a key below it) in an API workflow: `$['5'].inputs.seed`."""
    if node_id is None:
        return "$"
    text = "$[" + _quote(node_id) + "]"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += "." + part
        else:
            text += "[" + _quote(part) + "]"
    return text


def _quote(key: str) -> str:
    return "'" + key.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(slots=True)
class Diagnostic:
    """One finding. `ctx` holds the values that filled the message, for tools."""

    code: str
    name: str
    severity: Severity
    message: str
    location: Location = field(default_factory=Location)
    help: str | None = None
    notes: tuple[str, ...] = ()
    related: tuple[Location, ...] = ()
    ctx: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """The one-line form every command prints: `path:line:col: CODE [severity] message`."""
        return diagnostic_line(self)

    @property
    def node_id(self) -> str | None:
        return self.location.node_id

    @property
    def class_type(self) -> str | None:
        return self.location.class_type

    @property
    def input(self) -> str | None:
        return self.location.input

    @property
    def json_path(self) -> str | None:
        return self.location.json_path

    @property
    def span(self) -> Span | None:
        return self.location.span

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[Any, ...]:
        span = self.location.span
        return (
            (span.path or "") if span else "",
            span.line if span else 0,
            span.column if span else 0,
            _id_key(self.location.node_id),
            self.location.input or "",
            self.code,
        )

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic in the shape of the versioned JSON output (see the README)."""
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "help": self.help,
            "notes": list(self.notes),
            "node_id": self.location.node_id,
            "class_type": self.location.class_type,
            "input": self.location.input,
            "json_path": self.location.json_path,
            "span": self.location.span.to_dict() if self.location.span else None,
            "related": [loc.to_dict() for loc in self.related],
        }


def diagnostic_line(diag: Diagnostic, path: str | None = None) -> str:
    """One finding on one line, as every command prints it: `path:line:col: CODE [severity] message`.

    The file is the span's own (a recipe fragment's) or else `path`; a finding without a
    span is shown at `path` alone, without either at its node (`node 5: ...`), and without
    any location as `CODE [severity] message`.
    """
    span = diag.location.span
    shown = (span.path if span is not None and span.path else None) or path
    if span is not None:
        where = f"{shown or '<unknown>'}:{span.line}:{span.column}: "
    elif shown:
        where = f"{shown}: "
    else:
        where = f"node {diag.location.node_id}: " if diag.location.node_id is not None else ""
    return f"{where}{diag.code} [{diag.severity.value}] {diag.message}"


def _id_key(node_id: str | None) -> tuple[int, int, str]:
    if node_id is None:
        return (0, 0, "")
    return (1, int(node_id), "") if node_id.isdigit() else (2, 0, node_id)


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sort by file position, then node id, input and code, so output is stable."""
    if len(diagnostics) < 2:  # most texts have no finding or one
        return list(diagnostics)
    return sorted(diagnostics, key=Diagnostic.sort_key)


def count(diagnostics: list[Diagnostic]) -> dict[str, int]:
    """Counts by severity, in the shape of the JSON output's `summary`."""
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    notes = sum(1 for d in diagnostics if d.severity is Severity.NOTE)
    return {"errors": errors, "warnings": warnings, "notes": notes}


class Rule:
    """Base of every check. Subclasses set the class attributes and document themselves.

    The docstring of a rule says what it does, why it matters, an example, and the
    ComfyUI validation error it heads off; `comfydsl rules` prints it.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    #: ComfyUI's own error type this rule heads off, if any.
    comfy_error: ClassVar[str | None] = None
    #: Whether findings on nodes that feed no output node are lowered to warnings
    #: (ComfyUI never validates those nodes).
    lenient_when_unused: ClassVar[bool] = True

    def report(
        self,
        message: str,
        *,
        node_id: str | None = None,
        class_type: str | None = None,
        input: str | None = None,
        path: tuple[str | int, ...] | None = None,
        help: str | None = None,
        severity: Severity | None = None,
        notes: tuple[str, ...] = (),
        related: tuple[Location, ...] = (),
        span: Span | None = None,
        **ctx: Any,
    ) -> Diagnostic:
        """Build a diagnostic of this rule, located at a node (and input)."""
        if path is None:
            path = ("inputs", input) if input is not None else ()
        location = Location(
            node_id=node_id,
            class_type=class_type,
            input=input,
            json_path=json_path(node_id, *path) if node_id is not None else None,
            span=span,
        )
        return Diagnostic(
            code=self.code,
            name=self.name,
            severity=severity or self.severity,
            message=message,
            location=location,
            help=help,
            notes=notes,
            related=related,
            ctx=ctx,
        )

    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")


#: `json.dumps(value, ensure_ascii=False)`, without building an encoder for every call
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def show(value: Any, limit: int = 60) -> str:
    """A value as JSON text, shortened for messages."""
    try:
        # an int is written as its repr (as the encoder writes it), without the encoder's steps
        text = int.__repr__(value) if type(value) is int else _to_json(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
