"""API workflow -> UI-format file that ComfyUI's editor opens, with an automatic layout.

Nodes are placed in columns by graph depth (a node sits one column right of its deepest
source), stacked top to bottom inside a column with a gap, so no two nodes overlap. Widget
values are written in the order the editor rebuilds widgets (`widgets.py`), with `fixed` as the
control value after seeds so that queueing the file sends the same seed, and `image` for upload
buttons. Converting the written file back (`convert_ui`) gives the same API workflow.
"""

from __future__ import annotations

from typing import Any

from ..catalog.nodes import NodeCatalog, NodeSpec
from ..diagnostics import Diagnostic
from .convert import _id_sort_key, _is_link
from ..rules.ui import UI_RULES
from .widgets import Widget, widget_plan

_NOT_REPRESENTABLE = UI_RULES[6]

NODE_WIDTH = 320
COLUMN_GAP = 80
ROW_GAP = 40
SLOT_HEIGHT = 20
WIDGET_HEIGHT = 24
TITLE_HEIGHT = 30
_CONTROL_VALUE = {"control": "fixed", "filter": "", "upload": "image", "ui": None, "forced": None}


def write_ui(workflow: dict[str, Any], catalog: NodeCatalog) -> tuple[dict[str, Any], list[Diagnostic]]:
    """A UI-format (version 0.4) document for an API workflow, and what could not be written."""
    diags: list[Diagnostic] = []
    ids = sorted(workflow, key=_id_sort_key)
    numbers = _numbering(ids)
    links: list[list[Any]] = []
    nodes: list[dict[str, Any]] = []
    out_links: dict[tuple[str, int], list[int]] = {}
    for api_id in ids:
        node = workflow[api_id] if isinstance(workflow[api_id], dict) else {}
        nodes.append(_node(api_id, node, numbers, catalog, links, out_links, diags))
    _add_missing_outputs(nodes, ids, out_links)
    _layout(nodes, ids, workflow)
    doc = {
        "last_node_id": max((n["id"] for n in nodes), default=0),
        "last_link_id": len(links),
        "nodes": nodes,
        "links": links,
        "groups": [],
        "config": {},
        "extra": {"ds": {"scale": 1, "offset": [0, 0]}},
        "version": 0.4,
    }
    return doc, diags


def _numbering(ids: list[str]) -> dict[str, int]:
    """UI node ids: the API id when it is a number, else the next free number."""
    used = {int(i) for i in ids if i.isdigit()}
    out, nxt = {}, max(used, default=0) + 1
    for api_id in ids:
        if api_id.isdigit():
            out[api_id] = int(api_id)
        else:
            out[api_id] = nxt
            nxt += 1
    return out


def _node(api_id: str, node: dict, numbers: dict[str, int], catalog: NodeCatalog, links: list, out_links: dict,
          diags: list[Diagnostic]) -> dict[str, Any]:
    class_type = raw_type if isinstance(raw_type := node.get("class_type"), str) else "Unknown"
    inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs := node.get("inputs"), dict) else {}
    spec = catalog[class_type] if class_type in catalog else None
    ui_inputs: list[dict[str, Any]] = []
    widgets_values: Any
    if spec is not None:
        plan = widget_plan(spec, lambda i, w: _unwrap(inputs.get(w.name)) if w.in_prompt else None)
        # the widgets the editor does not save (a compare preview) are left out, as the editor does
        widgets_values = [_widget_value(w, inputs, spec) for w in plan if w.saved]
        widget_names = {w.name for w in plan if w.in_prompt}
    else:
        plan, widget_names = [], set()
        widgets_values = {k: _unwrap(v) for k, v in inputs.items() if not _is_link(v)}
        if widgets_values:
            diags.append(_NOT_REPRESENTABLE.report(
                f"node `{api_id}` (`{class_type}`) is not in the catalogue; its values are written by name, "
                "which the editor may not restore", node_id=api_id, class_type=class_type))
    socket_names = [s.name for s in spec.inputs.values() if not s.hidden and s.name not in widget_names] \
        if spec is not None else []
    for name in socket_names:
        assert spec is not None  # socket_names is empty without a spec
        ui_inputs.append({"name": name, "type": spec.inputs[name].type, "link": None})
    for name, value in inputs.items():
        if _is_link(value):
            if not any(i["name"] == name for i in ui_inputs):
                entry: dict[str, Any] = {"name": name, "type": _input_type(spec, name), "link": None}
                if name in widget_names:
                    entry["widget"] = {"name": name}
                ui_inputs.append(entry)
            slot = next(i for i, e in enumerate(ui_inputs) if e["name"] == name)
            src, src_slot = value
            if src not in numbers:
                diags.append(_NOT_REPRESENTABLE.report(
                    f"input `{name}` links to node `{src}`, which is not in the workflow; the link is left out",
                    node_id=api_id, class_type=class_type, input=name))
                continue
            link_id = len(links) + 1
            links.append([link_id, numbers[src], src_slot, numbers[api_id], slot, _input_type(spec, name)])
            ui_inputs[slot]["link"] = link_id
            out_links.setdefault((src, src_slot), []).append(link_id)
        elif spec is not None and name not in widget_names:
            diags.append(_NOT_REPRESENTABLE.report(
                f"input `{name}` of node `{api_id}` (`{class_type}`) holds a literal but is no widget; "
                "the UI file cannot store it", node_id=api_id, class_type=class_type, input=name))
    outputs = [{"name": o.name, "type": o.type, "links": None, "slot_index": o.index} for o in spec.outputs] \
        if spec is not None else []
    meta: dict[str, Any] = raw_meta if isinstance(raw_meta := node.get("_meta"), dict) else {}
    ui: dict[str, Any] = {
        "id": numbers[api_id], "type": class_type, "pos": [0, 0], "size": [NODE_WIDTH, 100], "flags": {},
        "order": 0, "mode": 0, "inputs": ui_inputs, "outputs": outputs,
        "properties": {"Node name for S&R": class_type}, "widgets_values": widgets_values,
    }
    display = (spec.display_name if spec is not None else None) or class_type
    title = meta.get("title")
    if isinstance(title, str) and title != display:
        ui["title"] = title
    return ui


def _widget_value(widget: Widget, inputs: dict, spec: NodeSpec) -> Any:
    if not widget.in_prompt:
        return _CONTROL_VALUE.get(widget.kind)
    value = inputs.get(widget.name)
    if value is None or _is_link(value):  # a linked widget keeps a stored value; use the default
        cfg = widget.spec.config if widget.spec is not None else {}
        if "default" in cfg:
            return cfg["default"]
        options = widget.spec.options if widget.spec is not None else None
        return options[0] if options else None
    return _unwrap(value)


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__value__"} and isinstance(value["__value__"], list):
        return value["__value__"]
    return value


def _input_type(spec: NodeSpec | None, name: str) -> str:
    if spec is not None and name in spec.inputs:
        return spec.inputs[name].type
    return "*"


def _add_missing_outputs(nodes: list[dict], ids: list[str], out_links: dict) -> None:
    """Unknown classes have no output list: give them the slots their links use."""
    index = {api_id: n for api_id, n in zip(ids, nodes)}
    for (src, slot), link_ids in out_links.items():
        outs = index[src]["outputs"]
        while len(outs) <= slot:
            outs.append({"name": f"output{len(outs)}", "type": "*", "links": None, "slot_index": len(outs)})
        outs[slot]["links"] = link_ids


def _layout(nodes: list[dict], ids: list[str], workflow: dict) -> None:
    """Columns by depth, stacked rows; sizes from the slot and widget counts."""
    depth: dict[str, int] = {}

    def level(api_id: str, seen: frozenset = frozenset()) -> int:
        if api_id in depth:
            return depth[api_id]
        node = workflow.get(api_id)
        raw = node.get("inputs") if isinstance(node, dict) else None
        inputs: dict[str, Any] = raw if isinstance(raw, dict) else {}
        srcs = [v[0] for v in inputs.values() if _is_link(v) and v[0] in workflow and v[0] not in seen]
        depth[api_id] = 1 + max((level(s, seen | {api_id}) for s in srcs), default=-1)
        return depth[api_id]

    columns: dict[int, list[dict]] = {}
    for api_id, node in zip(ids, nodes):
        columns.setdefault(level(api_id), []).append(node)
    order = 0
    for col in sorted(columns):
        y = 0
        for node in columns[col]:
            n_widgets = len(node["widgets_values"]) if isinstance(node["widgets_values"], list) \
                else len(node["widgets_values"])
            slots = max(len(node["inputs"]), len(node["outputs"]))
            height = TITLE_HEIGHT + SLOT_HEIGHT * slots + WIDGET_HEIGHT * n_widgets + 10
            node["pos"] = [col * (NODE_WIDTH + COLUMN_GAP), y]
            node["size"] = [NODE_WIDTH, height]
            node["order"] = order
            order += 1
            y += height + ROW_GAP
