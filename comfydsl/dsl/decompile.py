"""Turn an API-format workflow back into a readable `.comfy` recipe.

```python
from comfydsl.dsl.decompile import decompile
text = decompile(workflow, catalog, params=["seed", "text"])
```

Every node becomes one statement, in the workflow's own order when that order lets each
statement use earlier nodes only (else a stable topological sort that keeps it as far as it
can). Inputs keep their order. Variables are named after `_meta.title` (made into
identifiers) or, without a title, after the class (`ksampler`, `ksampler_2`). `@id` is
written only where the recipe's default numbering would give another id; `@title("...")`
only where the title is not the variable's name, and `@title()` where a node that a
variable names has no title at all. Links read `ckpt.CLIP`, or just `ckpt` when the node
has one output. Input names that are not bare names are quoted: `"input_blocks.0."=1.0`.

The recipe compiles back to the same JSON, byte for byte. What a recipe cannot say
exactly (malformed links, cycles, a node without `inputs`, extra node keys...) is refused with a `DecompileError` listing every problem, rather than written as a
recipe that would compile to something else.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import DecompileError
from ..workflow.links import NODE_KEYS, is_link, iter_links
from .fmt import format_source
from .syntax import (NULL, DECORATOR_ALLOW, DECORATOR_ID, DECORATOR_KEYS, DECORATOR_ORDER, DECORATOR_TITLE, FILE, NODE,
                     NODE_KEYS_INPUTS_FIRST,
                     PRAGMA_INPUTS_FIRST, RESERVED, boolean, is_identifier, is_name, key_text, quote, type_of)

_HEADER = "# Decompiled by comfydsl{source}."



@dataclass
class _Stmt:
    """One node as a statement of the recipe."""

    node_id: str
    class_type: str
    inputs: dict[str, Any]
    title: str | None
    var: str | None = None
    pin_id: bool = False
    order: int | None = None  # `@order(n)`: the node's place in the workflow, when statements cannot follow it
    lifted: dict[str, str] = field(default_factory=dict)  # input -> parameter name
    files: set[str] = field(default_factory=set)
    allow: list[str] = field(default_factory=list)  # `@allow(...)`: what lint of the JSON only warns about
    raw_keys: tuple[str, ...] = NODE_KEYS  # the order of class_type/inputs/_meta in the workflow
    keys: tuple[str, ...] | None = None  # `@keys(...)`: that order, where the file's default is not it


def to_identifier(text: str) -> str:
    """A snake_case identifier made from a title or a class name (may still need uniquifying)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]{2,})([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"[^A-Za-z0-9]+", "_", text.encode("ascii", "ignore").decode()).strip("_").lower()
    text = re.sub(r"_+", "_", text)
    if not text:
        return "unnamed"
    if text[0].isdigit():
        text = "n" + text
    if text in RESERVED or keyword.iskeyword(text):
        text += "_"
    return text


# -- literals ------------------------------------------------------------------------------
def literal(value: Any, where: str, problems: list[str]) -> str:
    """The recipe text of a JSON value (no links); appends to `problems` what it cannot write."""
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            problems.append(f"{where} is {value!r}, which a recipe cannot write")
            return "0"
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v, where, problems) for v in value) + "]"
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            parts.append(f"{quote(str(key))}: {literal(item, where, problems)}")
        return "{" + ", ".join(parts) + "}"
    if value is None:
        return NULL
    else:
        problems.append(f"{where} holds a {type(value).__name__}, which a recipe cannot write")
    return "0"


def check_value(value: Any, where: str, problems: list[str]) -> None:
    """What `literal` would append to `problems`, without writing the text."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append(f"{where} is {value!r}, which a recipe cannot write")
    elif isinstance(value, list):
        for item in value:
            check_value(item, where, problems)
    elif isinstance(value, Mapping):
        for item in value.values():
            check_value(item, where, problems)
    else:
        literal(value, where, problems)


# -- the decompiler -----------------------------------------------------------------------
def decompile(workflow: Mapping[str, Any], catalog: Any = None, *, params: Iterable[str] = (),
              source: str | None = None, verify: bool = True) -> str:
    """The recipe text of an API workflow (or a RunPod / `/prompt` body, or a UI-format workflow).

    `params` names inputs to lift into `param` declarations, their values becoming the
    defaults. The images a RunPod body uploads (`input.images`) become `file("name")`
    where an input names them; `attachments(workflow)` gives their bytes, to save beside
    the recipe. Raises DecompileError when the recipe could not reproduce the workflow:
    with `verify` (the default) the recipe is lowered again and compared with the input.
    """
    nodes, images = read_workflow(workflow, catalog)
    if catalog is None:
        from ..catalog import builtin_catalog

        catalog = builtin_catalog()
    problems: list[str] = []
    stmts = _read_nodes(nodes, catalog, problems)
    for stmt in stmts.values():
        stmt.files = {name for name, value in stmt.inputs.items() if isinstance(value, str) and value in images}
    if not problems:
        stmts = _order(stmts, problems)
    if problems:
        raise DecompileError(problems)
    _allowances(nodes, stmts, catalog)
    _name_variables(stmts, catalog, list(params))
    declarations = _lift_params(stmts, list(params), problems)
    _pin_ids(stmts)
    inputs_first = _inputs_first(stmts)
    _own_keys(stmts, NODE_KEYS_INPUTS_FIRST if inputs_first else NODE_KEYS)
    lines = _emit(stmts, declarations, catalog, problems)
    if problems:
        raise DecompileError(problems)
    shown = re.sub(r"[\x00-\x1f\x7f]", "?", source) if source else None
    header = _HEADER.format(source=f" from {shown}" if shown else "")
    if inputs_first:
        header += "\n" + PRAGMA_INPUTS_FIRST
    layout = _Layout("\n".join(lines) + "\n")
    if verify:
        _verify(header + "\n\n" + layout.short, layout.stand_in(nodes) if layout.kept else nodes, catalog, images)
    return header + "\n\n" + layout.text


#: A string literal as `quote` writes it.
_STRING = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
#: Literals longer than this are set aside while the text is formatted.
_LONG = 200


class _Layout:
    """The recipe body in `fmt`'s layout. Long string literals are swapped for placeholders
    of a fixed, still-long size first (the layout only needs to know they are long), so that
    formatting, and the check that lowers the recipe again, cost the same for a 10 MB prompt
    as for a short one. `short` is the text with placeholders, `text` the real one."""

    def __init__(self, body: str) -> None:
        self.kept: dict[str, str] = {}  # literal -> placeholder literal

        def hold(match: re.Match[str]) -> str:
            literal = match.group()
            if len(literal) <= _LONG:
                return literal
            if literal not in self.kept:
                self.kept[literal] = f'"@decompile-literal-{len(self.kept)}@' + "_" * _LONG + '"'
            return self.kept[literal]

        self.short = _layout(_STRING.sub(hold, body))
        self.text = self.short
        if self.kept:
            back = {placeholder: literal for literal, placeholder in self.kept.items()}
            self.text = re.sub(r'"@decompile-literal-\d+@_+"', lambda m: back[m.group()], self.short)

    def stand_in(self, value: Any) -> Any:
        """`value` with each long string that the text holds as a placeholder replaced by the
        placeholder's value, after checking that the literal reads back as the string."""
        if isinstance(value, str):
            if len(value) * 6 + 2 < _LONG or not self.kept:
                return value
            literal = quote(value)
            placeholder = self.kept.get(literal)
            if placeholder is None:
                return value
            return placeholder[1:-1]
        if isinstance(value, list):
            return [self.stand_in(v) for v in value]
        if isinstance(value, Mapping):
            return {k: self.stand_in(v) for k, v in value.items()}
        return value


def _inputs_first(stmts: Mapping[str, _Stmt]) -> bool:
    """Whether the file writes `inputs` before `class_type` (the pragma), as ComfyUI's exports
    do: when fewer nodes then need a `@keys(...)` of their own than with the default."""
    own = [_written_keys(stmt) for stmt in stmts.values()]
    return sum(_differs(o, NODE_KEYS_INPUTS_FIRST) for o in own) < sum(_differs(o, NODE_KEYS) for o in own)


def _written_keys(stmt: _Stmt) -> tuple[str, ...]:
    """The node's keys in its workflow's order, as the recipe writes them: `_meta` for a title,
    or for an empty `_meta` the workflow holds (written as `@keys(..., "_meta")`)."""
    return stmt.raw_keys


def _differs(own: tuple[str, ...], default: tuple[str, ...]) -> bool:
    return own != tuple(key for key in default if key in own)


def _own_keys(stmts: Mapping[str, _Stmt], default: tuple[str, ...]) -> None:
    """Give `@keys(...)` to each statement whose node orders its keys otherwise than `default`
    (the file's order); `_meta` is left out of it when it comes last, unless the node's
    `_meta` is empty (no title): naming `_meta` is what keeps an empty one."""
    for stmt in stmts.values():
        own = _written_keys(stmt)
        empty_meta = "_meta" in own and stmt.title is None
        if empty_meta:
            stmt.keys = own
        elif _differs(own, default):
            stmt.keys = own[:-1] if own[-1] == "_meta" else own


def _layout(body: str) -> str:
    """`body` in `fmt`'s layout. The decompiler writes short statements as `fmt` does
    already (one line, `, ` between arguments); only statements whose line is too long for
    one line go through the formatter, one at a time, so that a large workflow is not
    parsed whole twice more (`tests/dsl/test_decompile.py` checks that `fmt` leaves the
    result as it is)."""
    from .fmt import LINE_LENGTH

    out: list[str] = []
    pending: list[str] = []  # decorator lines of the statement being read
    for line in body.split("\n"):
        if line.startswith("@"):
            pending.append(line)
            continue
        if all(len(part) <= LINE_LENGTH for part in (*pending, line)):
            out.extend(pending)
            out.append(line)
        else:
            out.append(format_source("\n".join([*pending, line]) + "\n").rstrip("\n"))
        pending = []
    out.extend(pending)
    return "\n".join(out)


def read_workflow(document: Any, catalog: Any = None) -> tuple[Mapping[str, Any], dict[str, bytes]]:
    """The nodes of a decoded document and the images it uploads that a recipe can attach
    with `file(...)`. Reads what `lint` reads: a bare API workflow, a RunPod `/run` body
    (with `input.images`), a `POST /prompt` body or a UI-format workflow (converted first,
    with `catalog`); DecompileError says why anything else is not. This is the one place
    where decompiling reads a document."""
    from ..errors import ConversionError
    from ..ui.api import to_api
    from ..workflow.document import classify

    if not isinstance(document, Mapping):
        raise TypeError(f"decompile() takes a workflow dict, not {type(document).__name__}")
    try:
        doc = classify(dict(to_api(document, catalog)))
    except ConversionError as exc:
        raise DecompileError([str(exc)]) from None
    if doc.workflow is None:
        raise DecompileError([d.message for d in doc.diagnostics] or ["not a workflow"])
    return doc.workflow, _attachable(doc.images or [])


def attachments(document: Any) -> dict[str, bytes]:
    """The images of a RunPod body that the recipe `decompile` writes attaches with
    `file("name")`: name -> bytes, to be saved beside the recipe."""
    return read_workflow(document)[1]


def _attachable(images: Any) -> dict[str, bytes]:
    """Uploaded images a recipe's `file("name")` reproduces exactly: a plain file name (no
    folder) and canonical base64 data (which `file()` writes back byte for byte)."""
    import base64
    import binascii

    found: dict[str, bytes] = {}
    for image in images if isinstance(images, list) else ():
        if not isinstance(image, Mapping) or set(image) != {"name", "image"}:
            continue
        name, data = image.get("name"), image.get("image")
        if not (isinstance(name, str) and isinstance(data, str) and name and name not in (".", "..")
                and "/" not in name and "\\" not in name and "\0" not in name and name not in found):
            continue
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            continue
        if base64.b64encode(raw).decode("ascii") == data:
            found[name] = raw
    return found


def _read_nodes(workflow: Mapping[str, Any], catalog: Any, problems: list[str]) -> dict[str, _Stmt]:
    stmts: dict[str, _Stmt] = {}
    for node_id, raw in workflow.items():
        where = f"node `{node_id}`"
        if not isinstance(raw, Mapping):
            problems.append(f"{where} is not an object")
            continue
        extra = sorted(set(raw) - set(NODE_KEYS))
        if extra:
            problems.append(f"{where} has key(s) a recipe cannot carry: {', '.join(extra)}")
        cls = raw.get("class_type")
        if "inputs" not in raw:
            problems.append(f"{where} has no `inputs` object (a recipe always writes one; ComfyUI needs it)")
        inputs = raw.get("inputs", {})
        meta = raw.get("_meta", {})
        if not isinstance(cls, str) or not cls:
            problems.append(f"{where} has no `class_type` string")
            continue
        if not isinstance(inputs, Mapping):
            problems.append(f"{where}: `inputs` is not an object")
            inputs = {}
        title = None
        if not isinstance(meta, Mapping):
            problems.append(f"{where}: `_meta` is not an object")
        else:
            if set(meta) - {"title"}:
                problems.append(f"{where}: `_meta` holds key(s) a recipe cannot carry: "
                                f"{', '.join(sorted(set(meta) - {'title'}))}")
            title = meta.get("title")
            if "title" in meta and not isinstance(title, str):
                problems.append(f"{where}: `_meta.title` is not a string")
                title = None
        stmts[str(node_id)] = _Stmt(str(node_id), cls, dict(inputs), title,
                                    raw_keys=tuple(key for key in raw if key in NODE_KEYS))
    for stmt in stmts.values():
        for name, value in stmt.inputs.items():
            if type(value) is list:
                _check_link(stmt, name, value, stmts, catalog, problems)
            else:
                check_value(value, f"node `{stmt.node_id}` input `{name}`", problems)
    return stmts


def _check_link(stmt: _Stmt, name: str, value: list, stmts: Mapping[str, _Stmt], catalog: Any,
                problems: list[str]) -> None:
    where = f"node `{stmt.node_id}` input `{name}`"
    if not is_link(value):
        problems.append(f"{where}: {value!r} is a malformed link (ComfyUI reads every list input as "
                        f"a link `[\"<node id>\", <output index>]`)")
        return
    source, index = value
    if source not in stmts:
        problems.append(f"{where} links to node `{source}`, which does not exist")
        return
    spec = catalog.get(stmts[source].class_type)
    if spec is not None and not -len(spec.outputs) <= index < len(spec.outputs):
        problems.append(f"{where} links to output {index} of node `{source}` "
                        f"(`{stmts[source].class_type}`), which has no such output")


def _links(stmt: _Stmt) -> Iterable[tuple[str, str, int]]:
    return iter_links(stmt.inputs)


def _order(stmts: dict[str, _Stmt], problems: list[str]) -> dict[str, _Stmt]:
    import networkx as nx

    from ..workflow.links import sorted_ids

    if list(stmts) != sorted_ids(stmts):  # not ComfyUI's id order: `@order(n)` keeps the workflow's
        for place, node_id in enumerate(stmts, 1):
            stmts[node_id].order = place
    position = {node_id: i for i, node_id in enumerate(stmts)}  # the workflow's own order
    if all(position[source] < position[stmt.node_id] for stmt in stmts.values() for _, source, _ in _links(stmt)):
        return stmts  # already in an order a recipe can follow: keep it
    graph = nx.DiGraph()
    graph.add_nodes_from(stmts)
    for stmt in stmts.values():
        for _, source, _ in _links(stmt):
            graph.add_edge(source, stmt.node_id)
    try:
        order = list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(graph)
        path = " -> ".join(f"`{a}`" for a, _ in cycle) + f" -> `{cycle[0][0]}`"
        problems.append(f"the links form a cycle ({path}); recipe statements can only use earlier nodes")
        return stmts
    return {node_id: stmts[node_id] for node_id in order}


def _name_variables(stmts: dict[str, _Stmt], catalog: Any, params: list[str]) -> None:
    used = set(RESERVED) | set(params) | set(catalog)
    consumed = {source for stmt in stmts.values() for _, source, _ in _links(stmt)}
    suffix: dict[str, int] = {}  # base -> the last suffix tried, so naming stays linear
    for stmt in stmts.values():
        if stmt.node_id not in consumed:
            continue  # a bare call: nothing refers to it
        base = to_identifier(stmt.title) if stmt.title else to_identifier(stmt.class_type)
        stmt.var = unique_name(base, used, suffix)


def _allowances(nodes: Mapping[str, Any], stmts: dict[str, _Stmt], catalog: Any) -> None:
    """`@allow(...)` for the nodes whose JSON relies on what a recipe only allows explicitly:
    inputs the class does not declare, values ComfyUI converts. `lint` warns about both in
    JSON; the recipe keeps them, and keeps them warnings."""
    from ..validate import check_workflow
    from .syntax import ALLOWABLE

    by_code = {code: name for name, code in ALLOWABLE.items()}
    for diag in check_workflow(dict(nodes), catalog=catalog, select=list(by_code)):
        stmt = stmts.get(diag.node_id or "")
        if stmt is not None and diag.code in by_code and by_code[diag.code] not in stmt.allow:
            stmt.allow.append(by_code[diag.code])


def unique_name(base: str, used: set[str], suffix: dict[str, int]) -> str:
    """`base`, or `base_2`, `base_3`... the first not in `used` (which it joins); `suffix`
    remembers where each base got to, so n names of one base cost O(n), not O(n^2)."""
    name = base
    n = suffix.get(base, 1)
    if n > 1 or name in used:
        while True:
            n += 1
            name = f"{base}_{n}"
            if name not in used:
                break
    suffix[base] = n
    used.add(name)
    return name


def _lift_params(stmts: dict[str, _Stmt], params: list[str], problems: list[str]) -> list[str]:
    """Replace the named inputs by parameters; returns the `param` lines."""
    lines: list[str] = []
    taken = {s.var for s in stmts.values() if s.var}
    suffix: dict[str, int] = {}
    for input_name in params:
        if not is_identifier(input_name):
            problems.append(f"--params: `{input_name}` is not a valid parameter name")
            continue
        values: list[Any] = []
        names: list[str] = []
        found = False
        for stmt in stmts.values():
            if input_name not in stmt.inputs or input_name in stmt.files:
                continue
            value = stmt.inputs[input_name]
            found = True
            if isinstance(value, (list, Mapping)) or value is None:
                continue  # links and objects stay where they are
            for i, seen in enumerate(values):
                if type(seen) is type(value) and seen == value:
                    stmt.lifted[input_name] = names[i]
                    break
            else:
                name = unique_name(input_name, taken, suffix)
                values.append(value)
                names.append(name)
                stmt.lifted[input_name] = name
                kind = type_of(value)
                lines.append(f"param {name}: {kind} = {literal(value, f'--params {input_name}', problems)}")
        if not found:
            problems.append(f"--params: no node has an input `{input_name}`")
        elif not names:
            problems.append(f"--params: input `{input_name}` is never a plain value (only links or objects)")
    return lines


def _pin_ids(stmts: dict[str, _Stmt]) -> None:
    """Pin (`@id`) exactly the nodes whose default id would differ.

    Walks the statements once, numbering the unpinned ones as the recipe would; a node
    whose number would not be its id gets pinned. A pin added later never changes an
    earlier number (ids are unique), which the final check confirms.
    """
    pinned: set[str] = set()
    counter = 1
    for stmt in stmts.values():
        while str(counter) in pinned:
            counter += 1
        if str(counter) == stmt.node_id:
            counter += 1
        else:
            stmt.pin_id = True
            pinned.add(stmt.node_id)
    order = list(stmts.values())
    if [s.node_id for s in order] != default_ids(order, pinned):  # pragma: no cover - see above
        for stmt in order:
            stmt.pin_id = True


def default_ids(stmts: list[_Stmt], pinned: set[str]) -> list[str]:
    """The ids a recipe gives its statements: pinned ones as written, others 1, 2, 3...
    in statement order, skipping every pinned id."""
    out: list[str] = []
    counter = 1
    for stmt in stmts:
        if stmt.node_id in pinned:
            out.append(stmt.node_id)
            continue
        while str(counter) in pinned:
            counter += 1
        out.append(str(counter))
        counter += 1
    return out


def _emit(stmts: dict[str, _Stmt], declarations: list[str], catalog: Any, problems: list[str]) -> list[str]:
    lines = list(declarations)
    if declarations:
        lines.append("")
    for stmt in stmts.values():
        decorators = []
        if stmt.pin_id:
            decorators.append(f"@{DECORATOR_ID}({quote(stmt.node_id)})")
        if stmt.order is not None:
            decorators.append(f"@{DECORATOR_ORDER}({stmt.order})")
        if stmt.allow:
            decorators.append(f"@{DECORATOR_ALLOW}({', '.join(quote(a) for a in sorted(stmt.allow))})")
        if stmt.keys is not None:
            decorators.append(f"@{DECORATOR_KEYS}({', '.join(quote(k) for k in stmt.keys)})")
        if stmt.title != default_title(stmt.var, stmt.class_type):
            # `@title()`: a node that a variable names, but that has no title in the workflow
            decorators.append(f"@{DECORATOR_TITLE}({'' if stmt.title is None else quote(stmt.title)})")
        if decorators:
            lines.append(" ".join(decorators))
        args = _arguments(stmt, stmts, catalog, problems)
        if is_identifier(stmt.class_type):  # built-in and keyword names are not identifiers
            call = f"{stmt.class_type}({', '.join(args)})"
        else:  # a class name that is not an identifier: the `node("Class Name", ...)` built-in
            call = f"{NODE}({', '.join([quote(stmt.class_type), *args])})"
        lines.append(f"{stmt.var} = {call}" if stmt.var else call)
    return lines


def default_title(var: str | None, class_type: str) -> str | None:
    """The title a recipe gives a node when it has no `@title`: its variable name, if any."""
    return var


def _arguments(stmt: _Stmt, stmts: Mapping[str, _Stmt], catalog: Any, problems: list[str]) -> list[str]:
    args = []
    for name in stmt.inputs:  # in the workflow's order
        value = stmt.inputs[name]
        if name in stmt.lifted:
            text = stmt.lifted[name]
        elif name in stmt.files:
            text = f"{FILE}({quote(value)})"
        elif type(value) is list:
            text = _reference(stmts[value[0]], value[1], catalog)
        else:
            text = literal(value, f"node `{stmt.node_id}` input `{name}`", problems)
        args.append(f"{key_text(name)}={text}")
    return args


def _reference(source: _Stmt, index: int, catalog: Any) -> str:
    spec = catalog.get(source.class_type)
    if spec is None or index < 0:  # an unknown class: its outputs are known by index only
        return f"{source.var}[{index}]"
    outputs = spec.outputs
    if len(outputs) == 1:
        return source.var or ""
    name = outputs[index].name if index < len(outputs) else None
    names = [o.name for o in outputs]
    if name and is_name(name) and names.count(name) == 1 and spec.output(name).index == index:
        return f"{source.var}.{name}"
    return f"{source.var}[{index}]"


def _verify(text: str, workflow: Mapping[str, Any], catalog: Any, images: Mapping[str, bytes]) -> None:
    """Lower the recipe again and compare it with the workflow it came from (attachments in
    a scratch folder beside it)."""
    import tempfile
    from pathlib import Path

    from ..errors import CompileError
    from ..target import Target
    from .recipe import Recipe

    with tempfile.TemporaryDirectory(prefix="comfydsl-decompile-") as folder:
        for name, data in images.items():
            (Path(folder) / name).write_bytes(data)
        try:
            graph = Recipe(str(Path(folder) / "decompiled.comfy"), text, target=Target(catalog, None)).graph()
        except CompileError as exc:
            errors = [f"[{d.code}] {d.message}" for d in exc.diagnostics if d.is_error]
            raise DecompileError([f"the recipe written for this workflow does not compile: {e}"
                                  for e in errors]) from None
    problems = compare_workflows(workflow, graph.to_workflow())
    if problems:
        raise DecompileError(problems)


def compare_workflows(original: Mapping[str, Any], rebuilt: Mapping[str, Any], *, exact: bool = False) -> list[str]:
    """Where `rebuilt` differs from `original`: ids, classes, inputs (type-strict, in order)
    and titles. With `exact`, also anything else that keeps the two JSON texts from being
    identical: the order of the nodes, or of `class_type`/`inputs`/`_meta` inside a node,
    which a recipe follows only when the workflow's node order lets each node use earlier
    ones."""
    problems = []
    if set(original) != set(rebuilt):
        missing = sorted(set(original) - set(rebuilt))
        extra = sorted(set(rebuilt) - set(original))
        problems.append(f"the recipe would give node ids {extra} instead of {missing}")
        return problems
    for node_id, node in original.items():
        other = rebuilt[node_id]
        if node.get("class_type") != other.get("class_type"):
            problems.append(f"node `{node_id}` would become a `{other.get('class_type')}`")
        if ("inputs" in node) != ("inputs" in other) or not same_value(node.get("inputs", {}), other.get("inputs", {})):
            problems.append(f"node `{node_id}` would get other inputs: {_short(other.get('inputs'))}")
        elif list(node.get("inputs", {})) != list(other.get("inputs", {})):
            problems.append(f"node `{node_id}` would get its inputs in another order")
        title = (node.get("_meta") or {}).get("title") if isinstance(node.get("_meta"), Mapping) else None
        if title != (other.get("_meta") or {}).get("title"):
            problems.append(f"node `{node_id}` would get another title")
        elif node.get("_meta") != other.get("_meta"):
            problems.append(f"node `{node_id}` would get `_meta` {_short(other.get('_meta'))} "
                            f"instead of {_short(node.get('_meta'))}")
    if exact and not problems and _json(original) != _json(rebuilt):
        problems.append("the recipe would write the same nodes in another order")
    return problems


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, allow_nan=True)


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def same_value(a: Any, b: Any) -> bool:
    """Equality that tells 1 from 1.0 and from true, as JSON does."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b
