"""UI-format workflow -> API prompt, as ComfyUI's editor builds it when you press "Queue".

The rules follow the editor (ComfyUI_frontend `graphToPrompt` and `ExecutableNodeDTO`):

- widget values are named by the class definition's widget order (see `widgets.py`); values the
  editor adds itself (control values, the upload button) are dropped; list values are wrapped as
  `{"__value__": [...]}`; dynamic-combo sub-widgets get dotted names;
- a linked input is a link `[source id, output index]`; a linked widget keeps its place among the
  widget values, and keeps its stored value when the link leads nowhere;
- Reroute nodes pass links through, PrimitiveNode values go into their targets, Note and
  MarkdownNote nodes vanish;
- muted nodes (mode 2) vanish with the inputs they fed; bypassed nodes (mode 4) hand each output
  on from the input of the matching type;
- subgraph instances are flattened into `"<instance id>:<inner id>"` (nested `"12:7:5"`), with the
  instance's promoted widget values; legacy group nodes into `"<group node id>:<index>"`;
- `_meta.title` is the node's title (else the class's display name).

What cannot be converted (a class the catalogue lacks while its values are positional, a widget
count that does not match) is a located diagnostic; `Conversion.ok` is then false.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..catalog.nodes import NodeCatalog, NodeSpec, types_compatible
from ..diagnostics import Diagnostic, Location, Severity
from ..errors import UILinkLoop as _Loop
from ..errors import UIStructureError as _Bad
from ..rules.ui import UI_RULES
from .widgets import UI_ONLY_NAMES, Widget, widget_plan

_UNKNOWN, _COUNT, _MALFORMED, _MISSING_LINK, _LOOP, _VIRTUAL, _ = UI_RULES

MUTED, BYPASSED = 2, 4
SUBGRAPH_INPUT, SUBGRAPH_OUTPUT = -10, -20
#: Nodes that exist only in the editor and never reach the prompt.
VIRTUAL_TYPES = frozenset({"Reroute", "PrimitiveNode", "Note", "MarkdownNote"})
#: Custom-pack nodes that rewire links in the browser only; they cannot be followed here.
BROWSER_ONLY_TYPES = frozenset({"GetNode", "SetNode", "Anything Everywhere", "Anything Everywhere3",
                                "Prompts Everywhere", "Anything Everywhere?"})
_MAX_DEPTH = 400


def is_ui_workflow(data: Any) -> bool:
    """Whether decoded JSON is a UI-format workflow (top-level `nodes` and `links`)."""
    return isinstance(data, dict) and "nodes" in data and "links" in data


@dataclass(frozen=True, slots=True)
class UiSource:
    """Where an API node came from in the UI file.

    `keys` is the JSON key path of the UI node; `inputs` maps an API input name to the key path of
    what set it (a `widgets_values` element or an `inputs` slot); `subgraphs` names the subgraphs
    the node sits in, outermost first.
    """

    ui_id: str
    class_type: str
    title: str | None
    keys: tuple[str | int, ...]
    subgraphs: tuple[str, ...] = ()
    inputs: Mapping[str, tuple[str | int, ...]] = field(default_factory=dict)

    def describe(self) -> str:
        """`UI node 5 ("Sampler") in subgraph `Upscale``, for notes."""
        text = f"UI node {self.ui_id}"
        if self.title:
            text += f' ("{self.title}")'
        if self.subgraphs:
            text += " in subgraph " + " > ".join(f"`{name}`" for name in self.subgraphs)
        return text


@dataclass
class Conversion:
    """The result of converting a UI workflow: the API prompt, diagnostics, and a source map."""

    workflow: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, UiSource] = field(default_factory=dict)
    #: The UI JSON text converted, when it was read from text (a file or an image's metadata).
    text: str | None = None
    #: Positions in `text` found while locating (a `JsonPositions`), kept for `relocate`:
    #: finding them means skipping over values, as costly as reading them
    positions: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when nothing kept the conversion from being exact (no error diagnostic)."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics)


def ui_json_path(keys: tuple[str | int, ...]) -> str:
    """`$.nodes[3].widgets_values[2]` for the key path `("nodes", 3, "widgets_values", 2)`."""
    out = "$"
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        elif key.isidentifier():
            out += "." + key
        else:
            out += "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']"
    return out


# -- the graphs of a file ------------------------------------------------------------------


@dataclass(slots=True)
class _Link:
    origin: Any
    origin_slot: int
    target: Any
    target_slot: int
    type: Any




def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


@dataclass
class _Graph:
    """One graph of the file (the root, a subgraph definition, a legacy group) with its nodes and links."""

    keys: tuple
    name: str | None
    nodes: dict[str, tuple[dict, int]]
    links: dict[Any, _Link]
    inputs: list[dict] = field(default_factory=list)  # a subgraph's input slots
    outputs: list[dict] = field(default_factory=list)

    @classmethod
    def read(cls, data: Any, keys: tuple, name: str | None = None) -> _Graph:
        if not isinstance(data, dict):
            raise _Bad("a graph must be a JSON object", keys)
        nodes_raw = data.get("nodes")
        if not isinstance(nodes_raw, list):
            raise _Bad("`nodes` must be a list of nodes", keys + ("nodes",))
        nodes: dict[str, tuple[dict, int]] = {}
        for i, node in enumerate(nodes_raw):
            if not isinstance(node, dict) or not isinstance(node.get("type"), str) or not _valid_id(node.get("id")):
                raise _Bad("a node needs an `id` (a number or string) and a `type` (a string)", keys + ("nodes", i))
            nodes[str(node["id"])] = (node, i)
        links_raw = data.get("links") or []
        if not isinstance(links_raw, list):
            raise _Bad("`links` must be a list", keys + ("links",))
        links = {}
        for i, raw in enumerate(links_raw):
            link_id, link = _read_link(raw, keys + ("links", i))
            links[link_id] = link
        graph = cls(keys, name, nodes, links)
        for side in ("inputs", "outputs"):
            slots = data.get(side)
            if isinstance(slots, list):
                setattr(graph, side, [s if isinstance(s, dict) else {} for s in slots])
        return graph


def _valid_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and value != "")


def _read_link(raw: Any, keys: tuple) -> tuple[Any, _Link]:
    if isinstance(raw, list) and len(raw) >= 5:
        link_id, origin, oslot, target, tslot = raw[:5]
        ltype = raw[5] if len(raw) > 5 else "*"
    elif isinstance(raw, dict) and all(k in raw for k in ("id", "origin_id", "origin_slot", "target_id", "target_slot")):
        link_id, origin, oslot, target, tslot = (raw[k] for k in ("id", "origin_id", "origin_slot", "target_id",
                                                                   "target_slot"))
        ltype = raw.get("type", "*")
    else:
        raise _Bad("a link must be `[id, origin, origin_slot, target, target_slot, type]` or a link object", keys)
    origin_slot, target_slot = _int(oslot), _int(tslot)
    if origin_slot is None or target_slot is None or not _valid_id(link_id) or not _valid_id(origin) \
            or not _valid_id(target):
        raise _Bad("a link's ids and slots must be numbers", keys)
    return _key(link_id), _Link(_key(origin), origin_slot, _key(target), target_slot, ltype)


def _key(value: Any) -> Any:
    """Ids compare as strings (`5` and `"5"` are one node)."""
    return str(_int(value)) if _int(value) is not None else str(value)


# -- scopes: a graph placed at a path of instances ----------------------------------------------


@dataclass
class _Scope:
    graph: _Graph
    prefix: str = ""
    instance: dict | None = None
    parent: _Scope | None = None
    names: tuple[str, ...] = ()
    promoted: dict[str, Any] = field(default_factory=dict)  # subgraph input name -> instance value
    group_inputs: list[tuple[str, int]] = field(default_factory=list)  # legacy group: outer slot -> inner
    group_outputs: list[tuple[str, int]] = field(default_factory=list)


class _Converter:
    def __init__(self, data: dict, catalog: NodeCatalog) -> None:
        self.data = data
        self.catalog = catalog
        self.out: dict[str, dict] = {}
        self.diags: list[Diagnostic] = []
        self.sources: dict[str, UiSource] = {}
        self.subgraphs: dict[str, _Graph] = {}
        self.raw_subgraphs: dict[str, dict] = {}
        self.groups: dict[str, tuple[dict, tuple]] = {}
        self.depth = 0

    # -- diagnostics ---------------------------------------------------------------------

    def report(self, rule, message: str, keys: tuple, *, node_id: str | None = None, class_type: str | None = None,
               input: str | None = None, help: str | None = None, notes: tuple[str, ...] = ()) -> None:
        diag = rule.report(message, help=help, notes=notes)
        diag.location = Location(node_id=node_id, class_type=class_type, input=input, json_path=ui_json_path(keys))
        diag.ctx["ui_keys"] = keys
        self.diags.append(diag)

    # -- reading -------------------------------------------------------------------------

    def collect_definitions(self, data: dict, keys: tuple) -> None:
        defs = data.get("definitions")
        subs = defs.get("subgraphs") if isinstance(defs, dict) else None
        if subs is None:
            return
        if not isinstance(subs, list):
            raise _Bad("`definitions.subgraphs` must be a list", keys + ("definitions", "subgraphs"))
        for i, sub in enumerate(subs):
            where = keys + ("definitions", "subgraphs", i)
            if not isinstance(sub, dict) or not isinstance(sub.get("id"), str):
                raise _Bad("a subgraph definition needs an `id` (a string)", where)
            name = sub.get("name") if isinstance(sub.get("name"), str) else sub["id"]
            self.subgraphs[sub["id"]] = _Graph.read(sub, where, name)
            self.raw_subgraphs[sub["id"]] = sub
            self.collect_definitions(sub, where)

    def collect_groups(self) -> None:
        extra = self.data.get("extra")
        groups = extra.get("groupNodes") if isinstance(extra, dict) else None
        if isinstance(groups, dict):
            for name, group in groups.items():
                if isinstance(group, dict):
                    self.groups[name] = (group, ("extra", "groupNodes", name))

    def run(self) -> None:
        root = _Graph.read(self.data, ())
        self.collect_definitions(self.data, ())
        self.collect_groups()
        self.walk(_Scope(root))
        self.drop_dangling()

    # -- walking -------------------------------------------------------------------------

    def group_name(self, node_type: str) -> str | None:
        for sep in (">", "/"):
            head = "workflow" + sep
            if node_type.startswith(head) and node_type[len(head):] in self.groups:
                return node_type[len(head):]
        return None

    def walk(self, scope: _Scope) -> None:
        for node_id, (node, index) in scope.graph.nodes.items():
            node_type = node["type"]
            mode = node.get("mode")
            if node_type in VIRTUAL_TYPES or mode in (MUTED, BYPASSED):
                continue
            keys = scope.graph.keys + ("nodes", index)
            if node_type in BROWSER_ONLY_TYPES:
                self.report(_VIRTUAL, f"node `{node_id}` (`{node_type}`) rewires links in the editor only; "
                            "inputs fed through it are left out", keys, node_id=scope.prefix + node_id,
                            class_type=node_type, help="wire those inputs directly")
                continue
            if node_type in self.subgraphs:
                if len(scope.names) > 32:
                    raise _Bad("subgraphs nest more than 32 deep (a subgraph contains itself)", keys)
                self.walk(self.child_scope(scope, node, node_id))
            elif self.group_name(node_type):
                self.walk(self.group_scope(scope, node, node_id, keys))
            else:
                self.emit(scope, node, node_id, keys)

    def child_scope(self, scope: _Scope, node: dict, node_id: str) -> _Scope:
        graph = self.subgraphs[node["type"]]
        promoted: dict[str, Any] = {}
        values = node.get("widgets_values")
        if isinstance(values, list):
            names = _promoted_names(graph)
            if len(names) != len(values):  # not the definition's widgets: the instance's own sockets
                names = [i.get("name") for i in node.get("inputs") or () if isinstance(i, dict) and i.get("widget")]
            for name, value in zip(names, values):
                if isinstance(name, str):
                    promoted[name] = value
        return _Scope(graph, f"{scope.prefix}{node_id}:", node, scope, scope.names + (graph.name or "",), promoted)

    # -- legacy group nodes ----------------------------------------------------------------

    def group_scope(self, scope: _Scope, node: dict, node_id: str, keys: tuple) -> _Scope:
        name = self.group_name(node["type"])
        assert name is not None, "group_scope is called for group node types only"
        group, gkeys = self.groups[name]
        inner = group.get("nodes")
        if not isinstance(inner, list):
            raise _Bad("a group node definition needs a `nodes` list", gkeys)
        nodes: dict[str, tuple[dict, int]] = {}
        for i, raw in enumerate(inner):
            if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
                raise _Bad("a group node member needs a `type`", gkeys + ("nodes", i))
            member = dict(raw)
            member["id"] = str(_int(raw.get("index")) if _int(raw.get("index")) is not None else i)
            nodes[member["id"]] = (member, i)
        links: dict[Any, _Link] = {}
        internal: set[tuple[str, int]] = set()
        for i, raw in enumerate(group.get("links") or ()):
            numbers = [n for n in map(_int, raw[:4]) if n is not None] if isinstance(raw, list) else []
            if len(numbers) < 4:
                raise _Bad("a group node link must be `[origin index, slot, target index, slot, ...]`",
                           gkeys + ("links", i))
            o, os_, t, ts = numbers
            links[f"g{i}"] = _Link(str(o), os_, str(t), ts, raw[5] if len(raw) > 5 else "*")
            internal.add((str(t), ts))
        group_inputs: list[tuple[str, int]] = []
        group_outputs: list[tuple[str, int]] = []
        for member_id, (member, _) in nodes.items():
            for slot, inp in enumerate(member.get("inputs") or ()):
                if (member_id, slot) not in internal and isinstance(inp, dict) and not inp.get("widget"):
                    group_inputs.append((member_id, slot))
            for slot, _out in enumerate(member.get("outputs") or ()):
                group_outputs.append((member_id, slot))
        # Point every member input at its link: internal ones, and the group node's own inputs (-10).
        feeds = {(link.target, link.target_slot): key for key, link in links.items()}
        for outer, (member_id, slot) in enumerate(group_inputs):
            key = f"x{outer}"
            links[key] = _Link(str(SUBGRAPH_INPUT), outer, member_id, slot, "*")
            feeds[(member_id, slot)] = key
        for (target, slot), key in feeds.items():
            if target in nodes:
                member = nodes[target][0]
                ins = [dict(i) if isinstance(i, dict) else {} for i in member.get("inputs") or ()]
                while len(ins) <= slot:
                    ins.append({"name": f"input{len(ins)}", "type": "*", "link": None})
                ins[slot]["link"] = key
                member["inputs"] = ins
        self.spread_group_values(node, nodes)
        graph = _Graph(gkeys, name, nodes, links)
        return _Scope(graph, f"{scope.prefix}{node_id}:", node, scope, scope.names + (name,),
                      group_inputs=group_inputs, group_outputs=group_outputs)

    def spread_group_values(self, node: dict, nodes: dict[str, tuple[dict, int]]) -> None:
        values = node.get("widgets_values")
        if not isinstance(values, list):
            return
        counts = []
        for member, _ in nodes.values():
            mine = member.get("widgets_values")
            counts.append(len(mine) if isinstance(mine, list) else 0)
        if sum(counts) != len(values):
            return  # the members keep their own values
        pos = 0
        for (member, _), n in zip(nodes.values(), counts):
            member["widgets_values"] = list(values[pos:pos + n])
            pos += n

    # -- one node ------------------------------------------------------------------------

    def emit(self, scope: _Scope, node: dict, node_id: str, keys: tuple) -> None:
        api_id = scope.prefix + node_id
        class_type = node["type"]
        spec = self.catalog.get(class_type) if class_type in self.catalog else None
        title = node.get("title") if isinstance(node.get("title"), str) else None
        input_keys: dict[str, tuple] = {}
        inputs: dict[str, Any] = {}
        for name, (value, where) in self.widget_values(node, spec, api_id, keys).items():
            inputs[name] = _wrap(value)
            input_keys[name] = where
        for slot, inp in enumerate(node.get("inputs") or ()):
            if not isinstance(inp, dict) or inp.get("link") is None:
                continue
            widget = inp.get("widget")
            named = widget.get("name") if isinstance(widget, dict) and isinstance(widget.get("name"), str) \
                else inp.get("name")
            if not isinstance(named, str):
                continue
            name = named
            found = self.resolve_input(scope, node, slot, inp.get("type"), keys)
            if found is None:
                continue
            inputs[name] = _wrap(found.value) if isinstance(found, _Value) else list(found)
            input_keys[name] = keys + ("inputs", slot)
        display = spec.display_name if spec is not None and spec.display_name else class_type
        self.out[api_id] = {"inputs": inputs, "class_type": class_type, "_meta": {"title": title or display}}
        self.sources[api_id] = UiSource(node_id, class_type, title, keys, scope.names, input_keys)

    def widget_values(self, node: dict, spec: NodeSpec | None, api_id: str, keys: tuple) -> dict[str, tuple]:
        """API input name -> (value, key path of the value) for a node's stored widget values."""
        values = node.get("widgets_values")
        named = node.get("widgets_values_named")
        class_type = node["type"]
        if values is None or values == [] or values == {}:
            values = None
        if isinstance(values, dict):
            names = {w.name for w in self.plan(spec, [])} if spec is not None else None
            return {k: (v, keys + ("widgets_values", k)) for k, v in values.items()
                    if isinstance(k, str) and k not in UI_ONLY_NAMES and not k.startswith("$$")
                    and (names is None or k in names)}
        if values is not None and not isinstance(values, list):
            self.report(_MALFORMED, f"node `{api_id}` (`{class_type}`): `widgets_values` must be a list or an "
                        "object", keys + ("widgets_values",), node_id=api_id, class_type=class_type)
            return {}
        if spec is None:
            if values is None:
                return {}
            if isinstance(named, dict):
                return self.from_named(named, None, keys)
            self.report(_UNKNOWN, f"node `{api_id}` (`{class_type}`) has {len(values)} widget values, but its class "
                        "is not in the catalogue, so they cannot be named", keys + ("type",), node_id=api_id,
                        class_type=class_type,
                        help="add the catalogue of a server that has this class: `--catalog URL|FILE`")
            return {}
        values = values or []
        plan = self.plan(spec, values)
        if len(values) < len(plan) and not any(w.in_prompt for w in plan[len(values):]):
            plan = plan[:len(values)]  # widgets the editor does not store (previews) are missing at the end
        unsaved: dict[str, tuple] = {}
        if len(plan) != len(values) and not all(w.saved for w in plan):
            saved = self.plan(spec, values, saved_only=True)
            if len(saved) == len(values) or (len(values) < len(saved)
                                             and not any(w.in_prompt for w in saved[len(values):])):
                # a widget the current editor sends but does not save: it holds its initial value
                unsaved = {w.name: (list(w.default) if isinstance(w.default, tuple) else w.default, keys)
                           for w in plan if not w.saved}
                plan = saved[:len(values)]
        if len(plan) != len(values):
            legacy = self.plan(spec, values, legacy=True)
            if len(legacy) == len(values) and len(legacy) != len(plan):
                plan = legacy  # saved before frontend 1.16: a dummy value for every forceInput input
            elif isinstance(named, dict):
                return self.from_named(named, plan, keys)
            else:
                shown = ", ".join(w.name.replace("#control", " (control)").replace("#filter", " (filter)")
                                  for w in plan) or "none"
                self.report(_COUNT, f"node `{api_id}` (`{class_type}`) stores {len(values)} widget values, but the "
                            f"class has {len(plan)} widgets", keys + ("widgets_values",), node_id=api_id,
                            class_type=class_type, notes=(f"the widgets of `{class_type}`, in order: {shown}",),
                            help="convert with the catalogue of the ComfyUI version that saved the file")
                return {}
        stored = {w.name: (v, keys + ("widgets_values", i)) for i, (w, v) in enumerate(zip(plan, values))
                  if w.in_prompt}
        return {**unsaved, **stored}

    def plan(self, spec: NodeSpec, values: list, *, legacy: bool = False, saved_only: bool = False) -> list[Widget]:
        def value_at(i: int, _w: Widget) -> Any:
            return values[i] if i < len(values) else None
        return widget_plan(spec, value_at, legacy=legacy, saved_only=saved_only)

    def from_named(self, named: dict, plan: list[Widget] | None, keys: tuple) -> dict[str, tuple]:
        order = [w.name for w in plan if w.in_prompt] if plan is not None else None
        out = {k: (v, keys + ("widgets_values_named", k)) for k, v in named.items()
               if isinstance(k, str) and k not in UI_ONLY_NAMES and not k.startswith("$$")
               and (order is None or k in order)}
        if order is not None:
            out = {k: out[k] for k in order if k in out}
        return out

    # -- following links -------------------------------------------------------------------

    def resolve_input(self, scope: _Scope, node: dict, slot: int, requested: Any, keys: tuple):
        """What feeds input `slot` of `node`: a link (id, slot), a _Value, or None."""
        inputs = node.get("inputs") or ()
        if slot >= len(inputs) or not isinstance(inputs[slot], dict):
            return None
        link_id = inputs[slot].get("link")
        if link_id is None:
            return None
        link = scope.graph.links.get(_key(link_id)) if _valid_id(link_id) else None
        if link is None:
            where = keys + ("inputs", slot)
            self.report(_MISSING_LINK, f"node `{scope.prefix}{node.get('id')}`: input `{inputs[slot].get('name')}` "
                        f"refers to link {link_id!r}, which `links` does not hold; the input is left out",
                        where, node_id=f"{scope.prefix}{node.get('id')}", class_type=node.get("type"),
                        input=inputs[slot].get("name") if isinstance(inputs[slot].get("name"), str) else None)
            return None
        return self.resolve_link(scope, link, requested)

    def resolve_link(self, scope: _Scope, link: _Link, requested: Any):
        self.depth += 1
        try:
            if self.depth > _MAX_DEPTH:
                raise _Loop()
            if link.origin == str(SUBGRAPH_INPUT):
                return self.from_instance_input(scope, link.origin_slot, requested)
            found = scope.graph.nodes.get(link.origin)
            if found is None:
                return None
            return self.resolve_output(scope, found[0], link.origin_slot, requested)
        finally:
            self.depth -= 1

    def from_instance_input(self, scope: _Scope, slot: int, requested: Any):
        instance, parent = scope.instance, scope.parent
        if instance is None or parent is None or slot < 0:
            return None
        if not scope.group_inputs and slot >= len(scope.graph.inputs):
            return None
        if scope.group_inputs:  # a legacy group node: its inputs in order
            return self.resolve_input(parent, instance, slot, requested, ())
        name = scope.graph.inputs[slot].get("name")
        outer = [i for i, inp in enumerate(instance.get("inputs") or ())
                 if isinstance(inp, dict) and inp.get("name") == name]
        # the saved instance lists only the sockets that are linked (or labelled): match by name
        found = self.resolve_input(parent, instance, outer[0], requested, ()) if outer else None
        if found is not None:
            return found
        if name in scope.promoted:
            return _Value(scope.promoted[name])
        return None

    def resolve_output(self, scope: _Scope, node: dict, slot: int, requested: Any):
        node_type = node["type"]
        mode = node.get("mode")
        node_id = str(node["id"])
        if mode == MUTED:
            return None
        if mode == BYPASSED:
            index = _bypass_slot(node, slot, requested)
            return None if index is None else self.resolve_input(scope, node, index, requested, ())
        if node_type == "Reroute":
            return self.resolve_input(scope, node, 0, requested, ())
        if node_type == "PrimitiveNode":
            values = node.get("widgets_values")
            return _Value(values[0]) if isinstance(values, list) and values else None
        if node_type in VIRTUAL_TYPES or node_type in BROWSER_ONLY_TYPES:
            return None
        if node_type in self.subgraphs:
            child = self.child_scope(scope, node, node_id)
            for link in child.graph.links.values():
                if link.target == str(SUBGRAPH_OUTPUT) and link.target_slot == slot:
                    return self.resolve_link(child, link, requested)
            return None
        if self.group_name(node_type):
            child = self.group_scope(scope, node, node_id, ())
            if 0 <= slot < len(child.group_outputs):
                member_id, member_slot = child.group_outputs[slot]
                return self.resolve_output(child, child.graph.nodes[member_id][0], member_slot, requested)
            return None
        return (scope.prefix + node_id, slot)

    def drop_dangling(self) -> None:
        """Inputs linking to nodes that were not emitted go (the editor's last step)."""
        for node in self.out.values():
            for name in [k for k, v in node["inputs"].items() if _is_link(v) and v[0] not in self.out]:
                del node["inputs"][name]


@dataclass(frozen=True, slots=True)
class _Value:
    value: Any


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def _wrap(value: Any) -> Any:
    return {"__value__": value} if isinstance(value, list) else value


def _slot_type(slot: Any) -> Any:
    return slot.get("type") if isinstance(slot, dict) else None


def _compatible(a: Any, b: Any) -> bool:
    if not isinstance(a, str) or not isinstance(b, str):
        return a == b
    return types_compatible(a, b)


def _promoted_names(graph: _Graph) -> list[Any]:
    """The subgraph inputs that carry a promoted widget, in order: those linked to a widget input.

    The editor rebuilds an instance's inputs from the definition and hands the instance's
    `widgets_values` to these in order (the saved instance keeps only linked sockets).
    """
    names = []
    for slot in graph.inputs:
        for link_id in slot.get("linkIds") or ():
            link = graph.links.get(_key(link_id)) if _valid_id(link_id) else None
            target = graph.nodes.get(link.target) if link is not None else None
            inputs = target[0].get("inputs") if target is not None else None
            if link is not None and isinstance(inputs, list) and 0 <= link.target_slot < len(inputs) \
                    and isinstance(inputs[link.target_slot], dict) and inputs[link.target_slot].get("widget"):
                names.append(slot.get("name"))
                break
    return names


def _bypass_slot(node: dict, slot: int, requested: Any) -> int | None:
    """Which input of a bypassed node stands in for its output `slot` (the editor's choice)."""
    inputs = [i for i in node.get("inputs") or ()]
    outputs = node.get("outputs") or ()
    if not inputs:
        return None
    if requested in ("*", "", None):
        return slot if slot < len(inputs) else 0
    out_type = _slot_type(outputs[slot]) if 0 <= slot < len(outputs) else None
    if slot < len(inputs):
        in_type = _slot_type(inputs[slot])
        if _compatible(out_type, in_type) and _compatible(requested, in_type):
            return slot
    for i, inp in enumerate(inputs):
        if _slot_type(inp) == requested:
            return i
    for i, inp in enumerate(inputs):
        if _compatible(_slot_type(inp), requested) and _compatible(_slot_type(inp), out_type):
            return i
    return None


def convert_ui(data: Any, catalog: NodeCatalog) -> Conversion:
    """Convert decoded UI-format JSON into the API prompt the editor would send.

    Never raises on bad input: problems are diagnostics (located by `json_path` into the UI file;
    `locate_conversion` adds line and column when the text is at hand).
    """
    conv = _Converter(data if isinstance(data, dict) else {}, catalog)
    if not is_ui_workflow(data):
        conv.report(_MALFORMED, "not a UI-format workflow: expected an object with `nodes` and `links`", ())
        return Conversion({}, conv.diags, {})
    try:
        conv.run()
    except _Bad as exc:
        conv.report(_MALFORMED, str(exc), exc.keys, help="open the file in ComfyUI's editor and save it again")
        return Conversion({}, conv.diags, {})
    except _Loop:
        conv.report(_LOOP, "links through reroutes, bypassed nodes or subgraphs form a loop", ("links",),
                    help="break the loop in the editor")
        return Conversion({}, conv.diags, {})
    except RecursionError:
        conv.report(_LOOP, "the workflow nests too deeply to convert", ())
        return Conversion({}, conv.diags, {})
    ordered = {k: conv.out[k] for k in sorted(conv.out, key=_id_sort_key)}
    return Conversion(ordered, conv.diags, conv.sources)


def _id_sort_key(node_id: str) -> tuple:
    parts = node_id.split(":")
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _finite(value: Any) -> bool:
    return not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))
