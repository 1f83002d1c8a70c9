"""Reading UI files, PNG and WebP images as workflows, and placing findings in the UI file."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ..catalog.nodes import NodeCatalog
from ..diagnostics import Diagnostic, Location, Span
from ..workflow.jsonpos import JsonPositions, locate, root_span
from .convert import Conversion, convert_ui, is_ui_workflow, ui_json_path
from .png import ImageMetadataError, image_kind, read_image_metadata
from ..rules.ui import UI_RULES

_MALFORMED = UI_RULES[2]


def convert_text(text: str, catalog: NodeCatalog, *, path: str | None = None) -> Conversion:
    """Convert UI-format JSON text; diagnostics carry line and column in the text."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        line, col = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (1, 1)
        diag = _MALFORMED.report(f"not valid JSON: {getattr(exc, 'msg', str(exc)).lower()}",
                                 span=Span(path, line, col))
        return Conversion({}, [diag])
    conv = convert_ui(data, catalog)
    conv.text = text
    locate_conversion(conv, text, path)
    return conv


def convert_file(path: str, catalog: NodeCatalog) -> Conversion:
    """Convert a UI-format JSON file, or the `workflow` a ComfyUI PNG/WebP image carries."""
    from ..workflow.files import read_bytes

    data = read_bytes(path)
    if image_kind(data):
        text = workflow_text_from_image(data, path)
        if text is None:
            diag = _MALFORMED.report("the image carries no ComfyUI `workflow` metadata",
                                     span=Span(path, 1, 1))
            return Conversion({}, [diag])
        return convert_text(text, catalog, path=path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Conversion({}, [_MALFORMED.report(f"not UTF-8 text (byte {exc.start})", span=Span(path, 1, 1))])
    return convert_text(text, catalog, path=path)


def workflow_text_from_image(data: bytes, path: str | None = None) -> str | None:
    """The UI `workflow` text in an image's metadata (None if it has none or cannot be read)."""
    try:
        return read_image_metadata(data).get("workflow")
    except ImageMetadataError:
        return None


def image_workflow_text(data: bytes) -> tuple[str, str] | None:
    """The workflow in an image as (`api` or `ui`, text): the `prompt` when present, else the `workflow`."""
    try:
        meta = read_image_metadata(data)
    except ImageMetadataError:
        return None
    if "prompt" in meta:
        return "api", meta["prompt"]
    if "workflow" in meta:
        return "ui", meta["workflow"]
    return None


def locate_conversion(conv: Conversion, text: str, path: str | None) -> Conversion:
    """Give the conversion's own diagnostics line and column in the UI text."""
    positions = JsonPositions(text, (), path)
    for diag in conv.diagnostics:
        keys = diag.ctx.get("ui_keys")
        if diag.location.span is None and keys is not None:
            diag.location = replace(diag.location, span=locate(positions, tuple(keys)) or root_span(positions))
    return conv


def relocate(diagnostics: list[Diagnostic], conv: Conversion, text: str, path: str | None) -> list[Diagnostic]:
    """Point findings about the converted prompt at the UI file: the UI node, its title, its subgraphs.

    A finding on API node `12:5`, input `seed` moves to the widget value or input slot that set
    `seed` on UI node 5 inside instance 12, with line and column in `text`; a note names the UI
    node. The API node id stays in `node_id`, the UI path goes into `json_path`.
    """
    positions = JsonPositions(text, (), path)
    for diag in diagnostics:
        if "ui_keys" in diag.ctx:
            continue
        diag.location = _ui_location(diag.location, conv, positions)
        diag.related = tuple(_ui_location(loc, conv, positions) for loc in diag.related)
        source = conv.sources.get(diag.node_id or "")
        if source is not None:
            diag.notes = diag.notes + (f"in the UI file: {source.describe()}",)
    return diagnostics


def _ui_location(loc: Location, conv: Conversion, positions: JsonPositions) -> Location:
    source = conv.sources.get(loc.node_id or "")
    if source is None:  # a workflow-wide finding, or a node the UI file does not have
        return replace(loc, span=loc.span or root_span(positions))
    keys = source.keys
    if loc.input is not None and loc.input in source.inputs:
        keys = source.inputs[loc.input]
    return replace(loc, span=locate(positions, keys) or root_span(positions), json_path=ui_json_path(keys))


def to_api(data: Any, catalog: NodeCatalog) -> Conversion:
    """An API workflow as is (no diagnostics), or the conversion of a UI one."""
    if is_ui_workflow(data):
        return convert_ui(data, catalog)
    return Conversion(data if isinstance(data, dict) else {}, [])
