"""The target worker: its node catalogue and its model inventory, from the sources a user
names (`--catalog FILE|URL|PACK`, `--models DIR|FILE`, `--no-builtin`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .catalog.models import ModelCatalog
from .catalog.importer import combo_options
from .catalog.nodes import NodeCatalog, read_object_info
from .errors import CatalogError


@dataclass
class Target:
    """What a workflow is checked against."""

    catalog: NodeCatalog
    models: ModelCatalog | None = None

    @property
    def models_checked(self) -> bool:
        return self.models is not None


def load_target(catalogs: Iterable[str] = (), models: str | None = None, *, builtin: bool = True,
                timeout: float = 10.0) -> Target:
    """Merge the built-in catalogue (unless `builtin` is false) with each source in order.

    A source is an object_info JSON file, a server URL (`http://host:8188`) or the name of a
    catalogue pack shipped in the package (`pulid_flux`; see `comfydsl.catalog.pack_names`): a
    name with no path separator and no `.json` that is not an existing file. The model lists of
    file and server catalogues count as the worker's model inventory; `models` (a models root
    or a manifest) adds to it.
    """
    from .catalog import builtin_catalog

    catalog = builtin_catalog() if builtin else NodeCatalog()
    inventory: ModelCatalog | None = None
    for source in catalogs:
        raw, folders, found = _load_source(source, timeout)
        catalog = catalog.merged(NodeCatalog(raw, source=source, folders=folders))
        if found is not None:
            inventory = inventory or ModelCatalog()
            inventory.update(found)
    if models:
        loaded = ModelCatalog.load(models)
        inventory = inventory or ModelCatalog()
        inventory.update(loaded)
    if not len(catalog):
        raise CatalogError("the node catalogue is empty: give --catalog, or drop --no-builtin")
    return Target(catalog, inventory)


def inventory_from_object_info(raw: Mapping[str, Any], folders: Mapping[str, str], source: str) -> ModelCatalog | None:
    """Model files listed by a catalogue's model inputs (the worker's inventory), if any.

    Inputs that declare a `model_folder` themselves (catalogue fragments for custom nodes)
    are added to `folders`.
    """
    if not isinstance(raw, Mapping):
        raise CatalogError(f"{source}: expected a JSON object of node classes")
    inventory = ModelCatalog(source=source)
    found = False
    for cls_name, entry in raw.items():
        sections = entry.get("input") if isinstance(entry, Mapping) else None
        for section in ("required", "optional"):
            for name, spec in ((sections or {}).get(section) or {}).items():
                key = f"{cls_name}.{name}"
                if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict) and spec[1].get("model_folder"):
                    folders[key] = spec[1]["model_folder"]
                    continue
                if key not in folders:
                    continue
                options = combo_options(spec) or []
                inventory.add(folders[key], [o for o in options if isinstance(o, str)])
                found = True
    return inventory if found else None


def _load_source(source: str, timeout: float) -> tuple[Any, dict[str, str], ModelCatalog | None]:
    """The classes of one catalogue source, its model folders and its model inventory; a
    file's are kept by `catalog.cache` (keyed by its contents) for the next load."""
    from .catalog import builtin_folders

    def build(raw: Any) -> tuple[Any, dict[str, str], ModelCatalog | None]:
        folders = dict(builtin_folders())
        return raw, folders, inventory_from_object_info(raw, folders, source)

    if _is_url(source) or _names_pack(source):
        return build(_read_source(source, timeout))
    from .catalog.cache import cached_file

    try:
        return cached_file(source, lambda _data: build(read_object_info(source)))
    except OSError:
        return build(read_object_info(source))  # raises the located CatalogError


def _names_pack(source: str) -> bool:
    from .catalog import is_pack_name

    return is_pack_name(source) and not os.path.exists(source)


def _read_source(source: str, timeout: float) -> Any:
    from .catalog import is_pack_name, load_pack

    if _is_url(source):
        return fetch_object_info(source, timeout=timeout)
    if is_pack_name(source) and not os.path.exists(source):
        return load_pack(source)
    return read_object_info(source)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch_object_info(url: str, *, timeout: float = 10.0) -> Any:
    """GET `{url}/object_info` from a live ComfyUI server."""
    import httpx

    base = url.rstrip("/")
    endpoint = base if base.endswith("/object_info") else base + "/object_info"
    try:
        response = httpx.get(endpoint, timeout=timeout)
    except httpx.HTTPError as exc:
        raise CatalogError(f"{endpoint}: cannot fetch the catalogue: {exc}") from None
    if response.status_code != 200:
        raise CatalogError(f"{endpoint}: the server answered HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise CatalogError(f"{endpoint}: the answer is not JSON") from None
