"""Reading UI files, PNG and WebP images as workflows, and placing findings in the UI file."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from ..catalog.nodes import NodeCatalog
from ..diagnostics import Diagnostic, Location, Span, sort_diagnostics
from ..errors import ConversionError, WorkflowError
from ..workflow.document import Document, read_document
from ..workflow.jsonpos import JsonPositions, locate, root_span
from .convert import Conversion, convert_ui, is_ui_workflow, ui_json_path
from .png import ImageMetadataError, image_kind, read_image_metadata
from ..rules.ui import UI_RULES

_MALFORMED = UI_RULES[2]


def convert_text(text: str, catalog: NodeCatalog, *, path: str | None = None, data: Any = None) -> Conversion:
    """Convert UI-format JSON text; diagnostics carry line and column in the text. `data`:
    the text already decoded, if at hand (None: decoded here; a text of `null` decodes to
    None all the same)."""
    if data is None:
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


def _positions(conv: Conversion, text: str, path: str | None) -> JsonPositions:
    """The positions in `text`, shared by `locate_conversion` and `relocate` of one conversion."""
    positions = conv.positions
    if not (isinstance(positions, JsonPositions) and positions.text is text and positions.path == path):
        positions = conv.positions = JsonPositions(text, (), path)
    return positions


def locate_conversion(conv: Conversion, text: str, path: str | None) -> Conversion:
    """Give the conversion's own diagnostics line and column in the UI text."""
    positions = _positions(conv, text, path)
    for diag in conv.diagnostics:
        keys = diag.ctx.get("ui_keys")
        if diag.location.span is None and keys is not None:
            diag.location = replace(diag.location, span=locate(positions, tuple(keys)) or root_span(positions))
    return conv


def relocate(diagnostics: list[Diagnostic], conv: Conversion, text: str, path: str | None) -> list[Diagnostic]:
    """Point findings about the converted prompt at the UI file: the UI node, its title, its subgraphs.

    A finding on API node `12:5`, input `seed` moves to the widget value or input slot that set
    `seed` on UI node 5 inside instance 12, with line and column in `text`; the message names the
    UI node (id, title, subgraphs), so every output format shows it. The API node id stays in
    `node_id`, the UI key path goes into `json_path`.
    """
    positions = _positions(conv, text, path)
    for diag in diagnostics:
        if "ui_keys" in diag.ctx:
            continue
        diag.location = _ui_location(diag.location, conv, positions)
        diag.related = tuple(_ui_location(loc, conv, positions) for loc in diag.related)
        source = conv.sources.get(diag.node_id or "")
        if source is not None:  # in the message, so that every output format shows it
            diag.message = f"{diag.message} (at {source.describe()})"
    return diagnostics


def _ui_location(loc: Location, conv: Conversion, positions: JsonPositions) -> Location:
    source = conv.sources.get(loc.node_id or "")
    if source is None:  # a workflow-wide finding, or a node the UI file does not have
        return replace(loc, span=loc.span or root_span(positions))
    keys = source.keys
    if loc.input is not None and loc.input in source.inputs:
        keys = source.inputs[loc.input]
    return replace(loc, span=locate(positions, keys) or root_span(positions), json_path=ui_json_path(keys))


def to_api(data: Any, catalog: NodeCatalog | None = None) -> Any:
    """The API workflow that decoded JSON stands for: API data (a workflow, a RunPod or `/prompt`
    body) as it is, a UI-format workflow converted (the built-in catalogue when none is given).

    The one place the Python API converts documents it is handed (`Graph.from_workflow`,
    `decompile`). Raises ConversionError (a ValueError) carrying the diagnostics when a UI
    workflow cannot be converted exactly.
    """
    if not is_ui_workflow(data):
        return data
    if catalog is None:
        from ..catalog import builtin_catalog

        catalog = builtin_catalog()
    conv = convert_ui(data, catalog)
    if not conv.ok:
        raise ConversionError(conv.diagnostics)
    return conv.workflow


#: Image file endings read as workflows (ComfyUI writes its metadata into both).
IMAGE_SUFFIXES = (".png", ".webp")


def is_image_path(path: str) -> bool:
    """Whether a path names a PNG or WebP file (by its ending, any case)."""
    return path.lower().endswith(IMAGE_SUFFIXES)


def read_workflow(path: str, catalog: NodeCatalog, *, models: Any = None, check: bool = False,
                  data: bytes | None = None) -> tuple[Document, list[Diagnostic]]:
    """Read a workflow file of any kind as the API workflow it stands for, with its findings.

    The one function `run`, `decompile` and `graph` read workflow files with:

    - API JSON, a RunPod or `/prompt` body: as `read_document` reads it;
    - a UI-format file: converted (kind `"ui"`); the findings are the conversion's, and
      `workflow` is None when the conversion is not exact;
    - a PNG or WebP image ComfyUI saved: its `prompt` metadata (the API prompt that ran), or
      else its `workflow` metadata converted; line and column refer to that embedded text.

    With `check`, the findings include every check of the workflow, located in the file (in
    a UI file: at the UI node). `data` gives the file's bytes when they are at hand. Raises
    WorkflowError when the file cannot be read, is not UTF-8, or is an image without ComfyUI
    metadata.
    """
    from ..validate import check_document, check_workflow

    if data is None:
        from ..workflow.files import read_bytes

        try:
            data = read_bytes(path)
        except OSError as exc:
            raise WorkflowError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if image_kind(data):
        found = image_workflow_text(data)
        if found is None:
            raise WorkflowError(f"{path}: the image carries no ComfyUI `prompt` or `workflow` metadata")
        text = found[1]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise WorkflowError(f"{path}: not UTF-8 text") from None
    doc = read_document(text, path)
    if doc.kind != "ui":
        return doc, (check_document(doc, catalog=catalog, models=models) if check else list(doc.diagnostics))
    conv = convert_text(text, catalog, path=path)
    found_ui = list(conv.diagnostics)
    if check and conv.workflow:
        found_ui += relocate(check_workflow(conv.workflow, catalog=catalog, models=models), conv, text, path)
    doc = Document(path, text, "ui", workflow=conv.workflow if conv.ok else None, diagnostics=list(conv.diagnostics),
                   body=doc.body)
    return doc, sort_diagnostics(found_ui)
