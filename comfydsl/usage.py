"""What workflows use: the node classes of workflow files and recipes (for pulling just
those classes of a server's catalogue, `comfydsl catalog pull --for`)."""

from __future__ import annotations

import json
from typing import Iterable

from .errors import CatalogError


def classes_in_files(paths: Iterable[str]) -> set[str]:
    """The node classes the workflows in `paths` use: API-format workflows and RunPod or
    `/prompt` bodies, UI-format workflows (their nodes' `type`), and `.comfy` recipes
    (compiled without a catalogue check). CatalogError names a file that cannot be read."""
    found: set[str] = set()
    for path in paths:
        found |= _classes_in_file(path)
    return found


def _classes_in_file(path: str) -> set[str]:
    try:
        from .workflow.files import read_text

        text = read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if path.endswith(".comfy"):
        return _classes_in_recipe(path)
    from .workflow.document import read_document

    doc = read_document(text, path)
    if doc.workflow is not None:
        return {n["class_type"] for n in doc.workflow.values()
                if isinstance(n, dict) and isinstance(n.get("class_type"), str)}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):  # UI format
        return {n["type"] for n in data["nodes"] if isinstance(n, dict) and isinstance(n.get("type"), str)}
    raise CatalogError(f"{path}: holds no workflow")


def _classes_in_recipe(path: str) -> set[str]:
    from .dsl.recipe import Recipe
    from .target import load_target

    recipe = Recipe(path, target=load_target())
    graph, _ = recipe.build({}, run_checks=False, lint=True)
    if graph is None:
        raise CatalogError(f"{path}: the recipe does not compile far enough to tell its node classes")
    return {node.class_type for node in graph.nodes.values()}
