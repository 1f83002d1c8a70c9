"""Pictures of a workflow graph: Mermaid and Graphviz DOT text, and SVG/PNG through Graphviz.

Nodes are labelled with their title (when it differs from the class), class and id; each
link is an edge labelled `OUTPUT -> input`. Links to nodes that do not exist are drawn
to a dashed "missing" node, so a broken workflow still gets a picture.

```python
from comfydsl.render.graph import to_mermaid, to_dot, render_image
text = to_mermaid(workflow, catalog)
svg = render_image(to_dot(workflow, catalog), "svg")      # needs Graphviz `dot` on PATH
```
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ComfyDSLError, GraphvizMissing

#: Formats `render_image` can produce with Graphviz.
IMAGE_FORMATS = ("svg", "png")
#: Every format `render` accepts.
FORMATS = ("mermaid", "dot", *IMAGE_FORMATS)



@dataclass(frozen=True, slots=True)
class PictureNode:
    """A node as drawn: its id, class, optional title and whether it is an output node."""

    id: str
    class_type: str
    title: str | None
    output: bool = False
    missing: bool = False

    @property
    def label_lines(self) -> list[str]:
        head = f"{self.class_type} #{self.id}"
        if self.missing:
            return [f"missing node #{self.id}"]
        if self.title and self.title != self.class_type:
            return [self.title, head]
        return [head]


@dataclass(frozen=True, slots=True)
class PictureEdge:
    """A link as drawn: from `source` output `output` to `target` input `input`."""

    source: str
    target: str
    output: str
    input: str


def picture(workflow: Mapping[str, Any], catalog: Any = None) -> tuple[list[PictureNode], list[PictureEdge]]:
    """The nodes and edges of an API workflow, in id order; output names from `catalog`."""
    from ..workflow.links import is_link, sorted_ids

    nodes: dict[str, PictureNode] = {}
    edges: list[PictureEdge] = []
    ids = sorted_ids(str(k) for k in workflow)
    for node_id in ids:
        raw = workflow[node_id]
        raw = raw if isinstance(raw, Mapping) else {}
        cls = raw.get("class_type")
        cls = cls if isinstance(cls, str) else "?"
        meta = raw.get("_meta")
        title = meta.get("title") if isinstance(meta, Mapping) and isinstance(meta.get("title"), str) else None
        spec = catalog.get(cls) if catalog is not None else None
        nodes[node_id] = PictureNode(node_id, cls, title, bool(spec and spec.output_node))
    missing: dict[str, PictureNode] = {}
    for node_id in ids:
        inputs = workflow[node_id].get("inputs") if isinstance(workflow[node_id], Mapping) else None
        for name, value in (inputs or {}).items() if isinstance(inputs, Mapping) else ():
            if not is_link(value):
                continue
            source, index = value
            if source not in nodes:
                missing.setdefault(source, PictureNode(source, "?", None, missing=True))
            edges.append(PictureEdge(source, node_id, _output_name(nodes.get(source), index, catalog), name))
    return [*nodes.values(), *missing.values()], edges


def _output_name(node: PictureNode | None, index: int, catalog: Any) -> str:
    spec = catalog.get(node.class_type) if node is not None and catalog is not None else None
    if spec is not None and 0 <= index < len(spec.outputs):
        return spec.outputs[index].name
    return f"[{index}]"


# -- Mermaid ------------------------------------------------------------------------------
def to_mermaid(workflow: Mapping[str, Any], catalog: Any = None, *, direction: str = "LR") -> str:
    """A Mermaid flowchart of the workflow (paste it into Markdown as a ```mermaid block)."""
    nodes, edges = picture(workflow, catalog)
    keys = _keys(nodes)
    lines = [f"flowchart {direction}"]
    for node in nodes:
        label = "<br/>".join(_mermaid_text(part) for part in node.label_lines)
        if node.output:
            lines.append(f'    {keys[node.id]}[["{label}"]]')
        else:
            lines.append(f'    {keys[node.id]}["{label}"]')
    for edge in edges:
        label = _mermaid_text(f"{edge.output} → {edge.input}")
        lines.append(f'    {keys[edge.source]} -->|"{label}"| {keys[edge.target]}')
    dashed = [keys[n.id] for n in nodes if n.missing]
    if dashed:
        lines.append("    classDef missing stroke-dasharray: 5 5")
        lines.append(f"    class {','.join(dashed)} missing")
    return "\n".join(lines) + "\n"


def _keys(nodes: list[PictureNode]) -> dict[str, str]:
    """Mermaid/DOT-safe node keys: `n<id>` for plain ids, `n<position>_x` otherwise."""
    keys: dict[str, str] = {}
    for position, node in enumerate(nodes):
        plain = node.id.replace("_", "").isalnum() and node.id.isascii()
        keys[node.id] = f"n{node.id}" if plain else f"n{position}_x"
    return keys


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for the characters that end one."""
    text = text.replace("#", "#35;") if re.search(r"#\w+;", text) else text
    for ch, entity in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(ch, entity)
    return text.replace("\r", " ").replace("\n", " ")


# -- Graphviz -----------------------------------------------------------------------------
def to_dot(workflow: Mapping[str, Any], catalog: Any = None, *, direction: str = "LR") -> str:
    """A Graphviz DOT digraph of the workflow."""
    nodes, edges = picture(workflow, catalog)
    lines = [
        "digraph workflow {",
        f"    rankdir={direction};",
        '    node [shape=box, style="rounded", fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in nodes:
        label = "\\n".join(_dot_text(part) for part in node.label_lines)
        style = ""
        if node.output:
            style = ', style="rounded,bold", penwidth=2'
        elif node.missing:
            style = ', style="dashed"'
        lines.append(f'    "{_dot_text(node.id)}" [label="{label}"{style}];')
    for edge in edges:
        label = _dot_text(f"{edge.output} → {edge.input}")
        lines.append(f'    "{_dot_text(edge.source)}" -> "{_dot_text(edge.target)}" [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")


def render_image(dot_text: str, fmt: str, *, dot: str | None = None, timeout: float = 60.0) -> bytes:
    """Run Graphviz `dot` to turn DOT text into SVG or PNG bytes.

    Raises GraphvizMissing when `dot` is not on PATH, ComfyDSLError when it fails.
    """
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"unknown image format `{fmt}`; use one of {', '.join(IMAGE_FORMATS)}")
    program = dot or shutil.which("dot")
    if program is None:
        raise GraphvizMissing(
            f"{fmt} output needs Graphviz's `dot` program, which is not on PATH; install Graphviz "
            "(e.g. `apt-get install graphviz` or `brew install graphviz`), or use --format mermaid or dot")
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except OSError as exc:
        raise GraphvizMissing(f"cannot run Graphviz `{program}`: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise ComfyDSLError(f"Graphviz `dot` took longer than {timeout:g} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise ComfyDSLError(f"Graphviz `dot` failed: {message}")
    return done.stdout


def render(workflow: Mapping[str, Any], fmt: str, catalog: Any = None) -> str | bytes:
    """The picture in `fmt`: text for mermaid/dot, bytes for svg/png."""
    if fmt == "mermaid":
        return to_mermaid(workflow, catalog)
    if fmt == "dot":
        return to_dot(workflow, catalog)
    return render_image(to_dot(workflow, catalog), fmt)
