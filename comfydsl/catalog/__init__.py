"""Node and model catalogues."""

from __future__ import annotations

import copy
import json
import os
from functools import lru_cache

from .models import ModelCatalog as ModelCatalog
from .nodes import InputSpec as InputSpec
from .nodes import NodeCatalog as NodeCatalog
from .nodes import NodeSpec as NodeSpec
from .nodes import OutputSpec as OutputSpec
from .nodes import types_compatible as types_compatible


def _package_text(*parts: str) -> str:
    """A data file of this package: read straight from the folder of this module when the package
    is installed as files (`importlib.resources` costs a new process a few milliseconds of imports),
    through `importlib.resources` otherwise (a zip)."""
    try:
        with open(os.path.join(os.path.dirname(__file__), *parts), encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        from importlib import resources

        return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _builtin_raw() -> dict:
    return json.loads(_package_text("builtin.json"))


def builtin_catalog() -> NodeCatalog:
    """The core nodes of ComfyUI 0.3.64, shipped with the package."""
    return NodeCatalog(_builtin_raw(), source="<builtin>", trusted=True)


@lru_cache(maxsize=1)
def builtin_folders() -> dict[str, str]:
    """`Class.input` -> model folder for the built-in model inputs."""
    out = {}
    for cls_name, entry in _builtin_raw().items():
        if cls_name.startswith("__"):
            continue
        for section in ("required", "optional"):
            for name, spec in ((entry.get("input") or {}).get(section) or {}).items():
                if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict):
                    folder = spec[1].get("model_folder")
                    if folder:
                        out[f"{cls_name}.{name}"] = folder
    return out


# -- shipped packs: catalogue fragments of custom node packs, named without a path ------------

def pack_names() -> list[str]:
    """The catalogue packs shipped in the package (`comfydsl/catalog/packs/<name>.json`), sorted."""
    return list(_pack_names())


@lru_cache(maxsize=1)
def _pack_names() -> tuple[str, ...]:
    # the package's files do not change while it runs: list the folder once
    from importlib import resources

    folder = resources.files(__package__).joinpath("packs")
    return tuple(sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json")))


def is_pack_name(source: str) -> bool:
    """Whether `source` names a pack rather than a file: no path separator and no `.json`.

    A file of that name in the working directory still wins (`load_target` checks that).
    """
    return bool(source) and not any(sep in source for sep in ("/", "\\", ":")) \
        and not source.lower().endswith(".json") and source not in (".", "..")


@lru_cache(maxsize=None)
def _pack_raw(name: str) -> dict:
    return json.loads(_package_text("packs", f"{name}.json"))


def load_pack(name: str) -> dict:
    """The raw catalogue (object_info shape) of the shipped pack `name`.

    Raises `CatalogError` naming the shipped packs when there is no such pack.
    """
    from ..errors import CatalogError

    names = pack_names()
    if name not in names:
        raise CatalogError(f"`{name}` is neither a catalogue file nor a shipped catalogue pack "
                           f"(shipped packs: {', '.join(names) or 'none'})")
    return copy.deepcopy(_pack_raw(name))


def packs_defining(class_type: str) -> list[str]:
    """The shipped packs that define the node class `class_type`."""
    if class_type.startswith("__"):
        return []
    return [name for name in pack_names() if class_type in _pack_raw(name)]
