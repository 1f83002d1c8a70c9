"""Node and model catalogues."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .models import ModelCatalog as ModelCatalog
from .nodes import InputSpec as InputSpec
from .nodes import NodeCatalog as NodeCatalog
from .nodes import NodeSpec as NodeSpec
from .nodes import OutputSpec as OutputSpec
from .nodes import types_compatible as types_compatible


@lru_cache(maxsize=1)
def _builtin_raw() -> dict:
    text = resources.files(__package__).joinpath("builtin.json").read_text(encoding="utf-8")
    return json.loads(text)


def builtin_catalog() -> NodeCatalog:
    """The core nodes of ComfyUI 0.3.64, shipped with the package."""
    return NodeCatalog(_builtin_raw(), source="<builtin>")


@lru_cache(maxsize=1)
def builtin_folders() -> dict[str, str]:
    """`Class.input` -> model folder for the built-in model inputs."""
    out = {}
    for cls_name, entry in _builtin_raw().items():
        for section in ("required", "optional"):
            for name, spec in ((entry.get("input") or {}).get(section) or {}).items():
                if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict):
                    folder = spec[1].get("model_folder")
                    if folder:
                        out[f"{cls_name}.{name}"] = folder
    return out
