"""The Python graph API: build, load, edit, check and compile workflows in code.

```python
from comfydsl import Graph

g = Graph()
ckpt = g.CheckpointLoaderSimple(ckpt_name="sd_xl_base_1.0.safetensors")
pos = g.CLIPTextEncode(text="a lighthouse", clip=ckpt.CLIP)
neg = g.CLIPTextEncode(text="", clip=ckpt[1])
latent = g.EmptyLatentImage(width=1024, height=1024, batch_size=1)
samples = g.KSampler(model=ckpt.MODEL, positive=pos, negative=neg, latent_image=latent,
                     seed=1, steps=20, cfg=7, sampler_name="euler", scheduler="normal", denoise=1)
g.SaveImage(images=g.VAEDecode(samples=samples, vae=ckpt.VAE), filename_prefix="out")
workflow = g.compile()          # the API dict, or CompileError with every diagnostic
```
"""

from __future__ import annotations

import difflib
import os
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from ..diagnostics import Diagnostic, Location, Span, sort_diagnostics
from ..errors import CompileError
from ..workflow.envelopes import wrap
from ..workflow.links import NODE_KEYS, is_link, sorted_ids

if TYPE_CHECKING:  # pragma: no cover
    from ..catalog.models import ModelCatalog
    from ..catalog.nodes import NodeCatalog, NodeSpec


class OutputRef:
    """One output of a node, usable as an input value: it becomes a link `[id, index]`."""

    __slots__ = ("node", "index")

    def __init__(self, node: Node, index: int) -> None:
        self.node = node
        self.index = index

    @property
    def name(self) -> str | None:
        spec = self.node.spec
        return spec.outputs[self.index].name if spec and 0 <= self.index < len(spec.outputs) else None

    @property
    def type(self) -> str | None:
        spec = self.node.spec
        return spec.outputs[self.index].type if spec and 0 <= self.index < len(spec.outputs) else None

    def to_link(self) -> list:
        return [self.node.id, self.index]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutputRef) and other.node is self.node and other.index == self.index

    def __hash__(self) -> int:
        return hash((id(self.node), self.index))

    def __repr__(self) -> str:
        label = f".{self.name}" if self.name else f"[{self.index}]"
        return f"<OutputRef {self.node.id}{label}>"


class Node:
    """A node in a Graph. Outputs by name (`node.MODEL`, `node.out("MODEL")`) or index (`node[0]`).

    Inputs are in `node.inputs`; values are literals or OutputRefs. `span` and
    `input_spans` locate the node in a recipe, when it came from one. `keys`, when set,
    orders this node's `class_type`/`inputs`/`_meta` in the JSON (keys it leaves out
    follow, in that order) instead of the graph's `node_keys`.
    """

    __slots__ = ("graph", "id", "class_type", "inputs", "title", "span", "input_spans", "meta", "keys")

    def __init__(self, graph: Graph, node_id: str, class_type: str, inputs: dict[str, Any],
                 title: str | None = None, span: Span | None = None, meta: dict | None = None) -> None:
        self.graph = graph
        self.id = node_id
        self.class_type = class_type
        self.inputs = inputs
        self.title = title
        self.span = span
        self.input_spans: dict[str, Span] = {}
        self.meta = dict(meta or {})
        self.keys: tuple[str, ...] | None = None

    @property
    def spec(self) -> NodeSpec | None:
        return self.graph.catalog.get(self.class_type) if isinstance(self.class_type, str) else None

    def out(self, key: int | str) -> OutputRef:
        """An output by index or name; raises KeyError naming the real outputs (TypeError
        when `key` is neither an integer nor a string)."""
        if not isinstance(key, (int, str)) or isinstance(key, bool):
            raise TypeError(f"node.out() takes an output name or index, not {_kind(key)}")
        spec = self.spec
        if isinstance(key, int) and not isinstance(key, bool):
            if spec is not None and not 0 <= key < len(spec.outputs):
                raise KeyError(f"node `{self.id}` (`{self.class_type}`) has no output {key}; {_outputs(spec)}")
            return OutputRef(self, key)
        if spec is None:
            raise KeyError(f"outputs of `{self.class_type}` are unknown to the catalogue; use an index: node[0]")
        try:
            return OutputRef(self, spec.output(key).index)
        except KeyError:
            close = difflib.get_close_matches(str(key), [o.name for o in spec.outputs], n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise KeyError(f"`{self.class_type}` has no output `{key}`; {_outputs(spec)}{hint}") from None

    def __getitem__(self, key: int | str) -> OutputRef:
        return self.out(key)

    def __getattr__(self, name: str) -> OutputRef:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self.out(name)
        except KeyError as exc:
            raise AttributeError(exc.args[0]) from None

    def single_output(self) -> OutputRef:
        """The node's only output; TypeError when it has several (or none)."""
        spec = self.spec
        if spec is None:
            return OutputRef(self, 0)
        if len(spec.outputs) == 1:
            return OutputRef(self, 0)
        if not spec.outputs:
            raise TypeError(f"node `{self.id}` (`{self.class_type}`) has no outputs to link from")
        names = ", ".join(f"`{o.name}`" for o in spec.outputs)
        raise TypeError(f"node `{self.id}` (`{self.class_type}`) has several outputs ({names}); pick one, "
                        f"e.g. node.{spec.outputs[0].name} or node[0]")

    def set(self, *args: Any, **inputs: Any) -> Node:
        """Set (or replace) inputs; returns the node. All or nothing: when a value is
        refused (TypeError/ValueError), no input changes."""
        if args:
            raise TypeError(f"`{self.class_type}` inputs are set by keyword only: write `input_name=value`")
        values = {name: self.graph._value(value, name) for name, value in inputs.items()}
        before = dict(self.inputs)
        self.inputs.update(values)
        if self.graph.eager:
            try:
                self.graph._check_now(self)
            except BaseException:
                self.inputs.clear()
                self.inputs.update(before)
                raise
        return self

    def to_api(self) -> dict[str, Any]:
        inputs = {name: _emit_value(value) for name, value in self.inputs.items()}
        meta = dict(self.meta)
        if self.title is not None:
            meta["title"] = self.title
        parts: dict[str, Any] = {"class_type": self.class_type, "inputs": inputs}
        if meta or (self.keys is not None and "_meta" in self.keys):  # `@keys(..., "_meta")` keeps an empty one
            parts["_meta"] = meta
        if self.keys is None:
            return {key: parts[key] for key in self.graph.node_keys if key in parts}
        out = {key: parts[key] for key in self.keys if key in parts}
        out.update((key, value) for key, value in parts.items() if key not in out)
        return out

    def __repr__(self) -> str:
        return f"<Node {self.id} {self.class_type}>"


#: Findings about the whole graph, which eager mode cannot judge while it is being built.
_WHOLE_GRAPH_RULES = ("CD601", "CD602", "CD603")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_span() -> Span | None:
    """The Python file and line of the call that reached here from outside comfydsl."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE + os.sep):
        frame = frame.f_back
    if frame is None:
        return None
    return Span(frame.f_code.co_filename, frame.f_lineno, 1)


def _kind(value: Any) -> str:
    """How a wrong argument is named in a TypeError: "an int (5)", "a bytes value"..."""
    text = repr(value)
    shown = f" ({text})" if len(text) <= 40 else ""
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}{shown}"


def _is_json(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if depth > 100:
        return False
    if isinstance(value, list):
        return all(isinstance(v, OutputRef) or _is_json(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v, depth + 1) for k, v in value.items())
    return False


def _emit_value(value: Any) -> Any:
    if isinstance(value, OutputRef):
        return value.to_link()
    return value


def _outputs(spec) -> str:
    if not spec.outputs:
        return "it has no outputs"
    return "its outputs are " + ", ".join(f"{o.index} `{o.name}`" for o in spec.outputs)


class Graph:
    """A workflow under construction. Every compile goes through the same checks as `lint`."""

    def __init__(self, catalog: NodeCatalog | None = None, *, models: ModelCatalog | None = None,
                 eager: bool = False) -> None:
        from ..catalog.models import ModelCatalog
        from ..catalog.nodes import NodeCatalog

        if catalog is None:
            from ..catalog import builtin_catalog

            catalog = builtin_catalog()
        if not isinstance(catalog, NodeCatalog):
            hint = "; load a file with NodeCatalog.from_file(path)" if isinstance(catalog, (str, os.PathLike)) else ""
            raise TypeError(f"Graph(catalog=...) takes a NodeCatalog, not {_kind(catalog)}{hint}")
        if models is not None and not isinstance(models, ModelCatalog):
            hint = "; load one with ModelCatalog.from_dir(root) or ModelCatalog.from_manifest(path)" if isinstance(models, (str, os.PathLike)) else ""
            raise TypeError(f"Graph(models=...) takes a ModelCatalog, not {_kind(models)}{hint}")
        if not isinstance(eager, bool):
            raise TypeError(f"Graph(eager=...) takes true or false, not {_kind(eager)}")
        self.catalog = catalog
        self.models = models
        #: check every node as it is added or changed, raising CompileError at that call
        self.eager = eager
        self.nodes: dict[str, Node] = {}
        self.images: dict[str, str] = {}
        #: write nodes in the order they were added, not in id order (see `to_workflow`)
        self.keep_order = False
        #: the order of each node's keys in `to_workflow`: `class_type` first, or `inputs`
        #: first as ComfyUI's own exports (a loaded workflow keeps its own)
        self.node_keys: tuple[str, ...] = NODE_KEYS
        self._next_id = 1

    # -- building -----------------------------------------------------------------
    def node(self, class_type: str, /, *args: Any, id: str | int | None = None, title: str | None = None,
             span: Span | None = None, **inputs: Any) -> Node:
        """Add a node of `class_type` with the given inputs and return it.

        `id` pins the node id; otherwise ids are 1, 2, 3... in order of creation, skipping
        ids already taken. `title` sets `_meta.title`. The node remembers the Python file
        and line of the call (its `span`), so that diagnostics point there. Creating a node
        is atomic: when the call raises, the graph is as it was. With `eager`, the node is
        checked at once and CompileError raised here.
        """
        if not isinstance(class_type, str) or not class_type:
            raise TypeError(f"graph.node() takes the class name first, a non-empty string, not {_kind(class_type)}")
        if args:
            raise TypeError(f"node class `{class_type}` takes keyword arguments only: write `input_name=value`")
        if id is not None and (isinstance(id, bool) or not isinstance(id, (str, int))):
            raise TypeError(f"`id` must be a string or an integer, not {_kind(id)}")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"`title` must be a string, not {_kind(title)}")
        values = {name: self._value(value, name) for name, value in inputs.items()}
        node_id = self._take_id(id)
        node = Node(self, node_id, class_type, values, title=title, span=span or _caller_span())
        self.nodes[node_id] = node
        if self.eager:
            try:
                self._check_now(node)
            except BaseException:
                del self.nodes[node_id]
                raise
        return node

    def _check_now(self, node: Node) -> None:
        """Eager mode: the values, types and links of `node` (against the nodes it links
        from), raising CompileError with the errors, located at the creating call."""
        from ..validate import check_workflow

        part = {node.id: node}
        for value in node.inputs.values():
            if isinstance(value, OutputRef) and value.node.id in self.nodes:
                part.setdefault(value.node.id, value.node)
        workflow = {node_id: item.to_api() for node_id, item in part.items()}
        found = check_workflow(workflow, catalog=self.catalog, models=self.models, input_files=set(self.images),
                               ignore=list(_WHOLE_GRAPH_RULES))
        errors = [self.locate(d) for d in found if d.is_error and d.node_id == node.id]
        if errors:
            raise CompileError(sort_diagnostics(errors))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        catalog = self.__dict__.get("catalog")
        if catalog is not None and name in catalog:
            def make(*args: Any, **inputs: Any) -> Node:
                if args:
                    raise TypeError(f"node class `{name}` takes keyword arguments only: write `input_name=value`")
                if "span" not in inputs:
                    inputs["span"] = _caller_span()
                return self.node(name, **inputs)

            make.__name__ = name
            make.__doc__ = f"Add a `{name}` node."
            return make
        close = difflib.get_close_matches(name, list(catalog or ()), n=2)
        hint = (" a node class with a similar name exists: " + " or ".join(f"`{c}`" for c in close)) if close else ""
        raise AttributeError(f"no node class `{name}` in the catalogue;{hint} (use graph.node(...) for others)")

    def _take_id(self, wanted: str | int | None) -> str:
        if wanted is not None:
            node_id = str(wanted)
            if node_id in self.nodes:
                raise ValueError(f"node id `{node_id}` is already used by `{self.nodes[node_id].class_type}`")
            return node_id
        while str(self._next_id) in self.nodes:
            self._next_id += 1
        node_id = str(self._next_id)
        self._next_id += 1
        return node_id

    def _value(self, value: Any, name: str = "") -> Any:
        """An input value as stored: nodes become their single output; a value that is not
        JSON (or a link) raises TypeError naming the input."""
        if isinstance(value, Node):
            if value.graph is not self:
                raise ValueError(f"node `{value.id}` belongs to another graph")
            return value.single_output()
        if isinstance(value, OutputRef):
            if value.node.graph is not self:
                raise ValueError(f"output of node `{value.node.id}` belongs to another graph")
            return value
        if not _is_json(value):
            raise TypeError(f"input `{name}` cannot hold {_kind(value)}: give a string, number, boolean, None, "
                            "list, dict or a node output")
        return value

    def remove(self, node: Node | str) -> None:
        """Remove a node. Links to it stay, and are reported by the checks."""
        node_id = node.id if isinstance(node, Node) else str(node)
        del self.nodes[node_id]

    def __getitem__(self, node_id: str | int) -> Node:
        return self.nodes[str(node_id)]

    def __contains__(self, node_id: object) -> bool:
        return str(node_id) in self.nodes

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def attach(self, name: str, data: bytes | str) -> str:
        """Add an image uploaded with the job (RunPod `input.images`); returns its name."""
        import base64

        if not isinstance(name, str) or not name:
            raise TypeError(f"attach() takes the image's file name first, a non-empty string, not {_kind(name)}")
        if isinstance(data, (bytes, bytearray)):
            data = base64.b64encode(bytes(data)).decode("ascii")
        elif not isinstance(data, str):
            raise TypeError(f"attach() takes the image as bytes or a base64 string, not {_kind(data)}")
        self.images[name] = data
        return name

    # -- loading --------------------------------------------------------------------
    @classmethod
    def from_workflow(cls, data: Mapping[str, Any], catalog: NodeCatalog | None = None, *,
                      models: ModelCatalog | None = None) -> Graph:
        """Load an API workflow (or a RunPod / `/prompt` body, or a UI-format workflow) to edit it.

        Well-formed links to existing nodes become OutputRefs; anything else is kept as it
        was, so that the checks can report it. A UI-format workflow is converted first
        (ConversionError, a ValueError, when it cannot be converted exactly).
        """
        from ..workflow.document import classify
        from ..ui.api import to_api

        if not isinstance(data, Mapping):
            raise TypeError(f"from_workflow() takes a workflow dict (or a RunPod / `/prompt` body), not {_kind(data)}")
        doc = classify(dict(to_api(data, catalog)))
        if doc.workflow is None:
            raise ValueError(doc.diagnostics[0].message if doc.diagnostics else "not a workflow")
        graph = cls(catalog, models=models)
        graph.keep_order = True
        if doc.workflow and all(isinstance(raw, dict) and [k for k in raw if k in NODE_KEYS]
                                [:2] == ["inputs", "class_type"] for raw in doc.workflow.values()):
            graph.node_keys = ("inputs", "class_type", "_meta")
        for img in doc.images or ():
            if isinstance(img, dict) and isinstance(img.get("name"), str):
                graph.images[img["name"]] = img.get("image", "")
        for node_id, raw in doc.workflow.items():
            if not isinstance(raw, dict):
                raise ValueError(f"node `{node_id}` is not an object")
            meta = dict(raw.get("_meta") or {}) if isinstance(raw.get("_meta"), dict) else {}
            title = meta.pop("title", None)
            inputs = raw.get("inputs")
            class_type: Any = raw.get("class_type")  # not always a string: the checks report it
            node = Node(graph, str(node_id), class_type, dict(inputs) if isinstance(inputs, dict) else {},
                        title=title, meta=meta)
            keys = tuple(key for key in raw if key in NODE_KEYS)
            if keys != tuple(key for key in graph.node_keys if key in raw):  # this node's own order
                node.keys = keys
            graph.nodes[node.id] = node
        for node in graph.nodes.values():
            for name, value in node.inputs.items():
                if is_link(value) and value[0] in graph.nodes and value[1] >= 0:
                    node.inputs[name] = OutputRef(graph.nodes[value[0]], value[1])
        return graph

    # -- output ----------------------------------------------------------------------
    def to_workflow(self) -> dict[str, Any]:
        """The API-format dict, without checking: nodes in id order (as ComfyUI writes them),
        or in the order they were added when `keep_order` is set (a loaded workflow's own
        order, or a recipe's `@order(n)`)."""
        ids = list(self.nodes) if self.keep_order else sorted_ids(self.nodes)
        return {node_id: self.nodes[node_id].to_api() for node_id in ids}

    def to_ui(self) -> dict[str, Any]:
        """A UI-format workflow (what ComfyUI's editor opens) with an automatic layout, unchecked.

        Values the UI format cannot hold (a literal on an input that is no widget, a class the
        catalogue lacks) are left out or written by name; `comfydsl.ui.write_ui` also returns
        those findings.
        """
        from ..ui.write import write_ui

        return write_ui(self.to_workflow(), self.catalog)[0]

    def envelope(self, workflow: dict[str, Any], envelope: str | None = None) -> dict[str, Any]:
        """Wrap a workflow: `None`/`"none"` bare, `"runpod"` a RunPod body, `"prompt"` a `/prompt` body."""
        return wrap(workflow, envelope, sorted(self.images.items()))

    def check(self, *, models: ModelCatalog | None = None, input_files: Iterable[str] | None = None,
              select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> list[Diagnostic]:
        """Every diagnostic for this graph, located at recipe spans where nodes have them."""
        from ..validate import check_workflow

        for node in self.nodes.values():
            bad = next((name for name in node.inputs if not isinstance(name, str)), None)
            if bad is not None:
                raise TypeError(f"node `{node.id}` (`{node.class_type}`) has an input name {bad!r}, not a string")
        uploads = set(self.images) | set(input_files or ())
        # a graph with no attachments names files on the worker: checked only against an inventory
        found = check_workflow(self.to_workflow(), catalog=self.catalog,
                               models=models if models is not None else self.models,
                               input_files=uploads if uploads or input_files is not None else None,
                               select=select, ignore=ignore)
        return sort_diagnostics([self.locate(d) for d in found])

    def compile(self, envelope: str | None = None, **options: Any) -> dict[str, Any]:
        """The checked API dict (or envelope); raises CompileError carrying every diagnostic."""
        diagnostics = self.check(**options)
        if any(d.is_error for d in diagnostics):
            raise CompileError(diagnostics)
        return self.envelope(self.to_workflow(), envelope)

    def locate(self, diag: Diagnostic) -> Diagnostic:
        """Stamp the recipe span of the node (or input) a diagnostic points at."""
        diag.location = self._with_span(diag.location)
        diag.related = tuple(self._with_span(loc) for loc in diag.related)
        return diag

    def _with_span(self, loc: Location) -> Location:
        if loc.span is not None or loc.node_id is None:
            return loc
        node = self.nodes.get(loc.node_id)
        if node is None:
            return loc
        span = node.input_spans.get(loc.input) if loc.input else None
        span = span or node.span
        if span is None:
            return loc
        return Location(loc.node_id, loc.class_type, loc.input, loc.json_path, span, loc.label)
