"""The package's imports point one way.

Every import in `comfydsl/` (module level and inside functions; relative and absolute) is read with
`ast`, and each edge between two top-level units (a subpackage or a top-level module) must go from a
higher layer to a lower one. Units in the same layer do not import each other.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import comfydsl

PACKAGE = Path(comfydsl.__file__).parent

#: Layers, lowest first. A unit imports only from units in lower layers.
LAYERS: list[tuple[str, ...]] = [
    ("_version", "errors", "diagnostics", "jobs"),  # stdlib only: below everything
    ("workflow",),                                  # the wire format
    ("catalog",),                                   # node and model catalogues
    ("checks",),                                    # check context (networkx) and driver
    ("rules",),                                     # the rule table and rule classes
    ("validate", "target", "config", "emit", "render"),  # check a workflow; what to check against; output
    ("ui",),                                        # UI-format conversion (reads and writes API JSON)
    ("graph",),                                     # the Python graph API (reads and writes UI files via ui)
    ("dsl",),                                       # the recipe language (lowers onto graph)
    ("lint", "backends", "serve", "lsp", "usage"),  # libraries behind the commands
    ("cli",),                                       # argparse and printing
    ("__init__", "__main__"),                       # the package's face
]
LAYER = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

#: Upward edges that start-up time needs, each with its reason: (importing module, imported module).
#: Empty today: the CLI's lazy imports and the package's `__getattr__` all point downward.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def imports() -> dict[str, set[tuple[str, int]]]:
    """Each module -> the comfydsl modules it imports (with the line), wherever the import stands."""
    found: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
                module = ".".join(p for p in (base, node.module or "") if p)
                # `from . import x` may name a submodule: count it as importing `package.x`
                targets = [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            found[name] |= {(t, node.lineno) for t in targets if t == "comfydsl" or t.startswith("comfydsl.")}
    return found


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def known_unit(module: str) -> str:
    name = unit(module)
    # `from comfydsl.dsl import x` names the dsl unit; `from comfydsl import x` names the package face,
    # unless x is itself a top-level unit (then `unit` already returned it)
    return name if name in LAYER or (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file() else "__init__"


def test_every_unit_has_a_layer():
    units = {p.stem for p in PACKAGE.glob("*.py")} | {p.name for p in PACKAGE.iterdir()
                                                     if p.is_dir() and (p / "__init__.py").is_file()}
    assert units == set(LAYER), (units - set(LAYER), set(LAYER) - units)


def test_imports_point_down_the_layers():
    wrong = []
    for source, targets in imports().items():
        for target, line in targets:
            a, b = unit(source), known_unit(target)
            if a == b or LAYER[a] > LAYER[b] or (source, target) in ALLOWED_UPWARD:
                continue
            wrong.append(f"{source}:{line} imports {target} ({a} is layer {LAYER[a]}, {b} is layer {LAYER[b]})")
    assert wrong == []


def test_the_allow_list_is_still_needed():
    edges = {(s, t) for s, targets in imports().items() for t, _ in targets}
    assert set(ALLOWED_UPWARD) <= edges


def package_of(module: str) -> str:
    """The innermost package holding a module (a package is its own)."""
    path = PACKAGE.parent.joinpath(*module.split("."))
    return module if path.is_dir() else module.rsplit(".", 1)[0]


def test_no_import_cycle_among_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for source, targets in imports().items():
        for target, _ in targets:
            real = target if PACKAGE.parent.joinpath(*target.split(".")).is_dir() \
                or PACKAGE.parent.joinpath(*target.split(".")).with_suffix(".py").is_file() else target.rsplit(".", 1)[0]
            a, b = package_of(source), package_of(real)
            # a package and its own subpackages (dsl and dsl.lower) are one unit here: the layer test covers
            # the top level, and Python resolves parent-child imports through the parent's __init__
            if a != b and not b.startswith(a + ".") and not a.startswith(b + "."):
                graph[a].add(b)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_the_reader_sees_lazy_and_relative_imports():
    found = imports()
    lazy = {t for t, _ in found["comfydsl.cli.lint"]}
    assert "comfydsl.lint" in lazy  # imported inside a handler
    assert any(t.startswith("comfydsl.catalog") for t, _ in found["comfydsl.checks.context"])  # relative
