"""The target worker: its node catalogue and its model inventory, from the sources a user
names (`--catalog FILE|URL|PACK`, `--models DIR|FILE`, `--no-builtin`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .catalog.models import INPUT_FOLDER, ModelCatalog
from .catalog.nodes import UPLOAD_KEYS, NodeCatalog, read_object_info
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
                timeout: float = 10.0, worker_version: str | None = None) -> Target:
    """Merge the built-in catalogue (unless `builtin` is false) with each source in order.

    A source is an object_info JSON file, a server URL (`http://host:8188`) or the name of a
    catalogue pack shipped in the package (`pulid_flux`; see `comfydsl.catalog.pack_names`): a
    name with no path separator and no `.json` that is not an existing file. The model lists of
    file and server catalogues count as the worker's model inventory, and their upload combos
    (`LoadImage`'s `image`...) as its input folder; `models` adds to it: a models folder, a
    ComfyUI base folder (`models/` and `input/`), a network volume (`runpod-volume:DIR` or
    `runpod-volume://VOLUME_ID@DATACENTER`, read as worker-comfyui `worker_version` reads it)
    or a manifest (see `comfydsl.catalog.inventory.load_inventory`).
    """
    from .catalog import builtin_catalog

    catalog = builtin_catalog() if builtin else NodeCatalog()
    inventory: ModelCatalog | None = None
    for source in catalogs:
        classes, found = _load_source(source, timeout)
        catalog = catalog.merged(classes)
        if found is not None:
            inventory = inventory or ModelCatalog()
            inventory.update(found)
    if models:
        try:
            loaded = ModelCatalog.load(models, worker_version=worker_version)
        except ValueError as exc:  # a bad worker version
            raise CatalogError(str(exc)) from None
        inventory = inventory or ModelCatalog()
        inventory.update(loaded)
    if not len(catalog):
        raise CatalogError("the node catalogue is empty: give --catalog, or drop --no-builtin")
    return Target(catalog, inventory)


def inventory_from_object_info(raw: Mapping[str, Any], folders: dict[str, str], source: str, *,
                               inputs: bool = True) -> ModelCatalog | None:
    """Model files listed by a catalogue's model inputs (the worker's inventory), if any.

    Inputs that declare a `model_folder` themselves (catalogue fragments for custom nodes)
    are added to `folders`. The options of upload combos (`image_upload`, `video_upload`...,
    and the known loader inputs in `INPUT_LOADERS`) are the server's input folder.
    """
    # imported here, not at the top: `comfydsl lint` with the built-in catalogue never needs them
    from .catalog.importer import combo_options
    from .catalog.pull import CATALOG_META_KEY

    if not isinstance(raw, Mapping):
        raise CatalogError(f"{source}: expected a JSON object of node classes")
    inventory = ModelCatalog(source=source)
    found = False
    for cls_name, entry in raw.items():
        if cls_name == CATALOG_META_KEY:
            continue
        sections = entry.get("input") if isinstance(entry, Mapping) else None
        for section in ("required", "optional"):
            for name, spec in ((sections or {}).get(section) or {}).items():
                key = f"{cls_name}.{name}"
                config = spec[1] if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict) else {}
                if config.get("model_folder"):
                    folders[key] = config["model_folder"]
                    continue
                if inputs and _lists_input_folder(key, config):
                    options = combo_options(spec) or []
                    inventory.add(INPUT_FOLDER, [o for o in options if isinstance(o, str)])
                    found = True
                    continue
                if key not in folders:
                    continue
                options = combo_options(spec) or []
                inventory.add(folders[key], [o for o in options if isinstance(o, str)])
                found = True
    return inventory if found else None


#: Loader inputs whose options are the input folder even where a catalogue lacks the upload flag.
INPUT_LOADERS = frozenset({"LoadImage.image", "LoadImageMask.image", "LoadAudio.audio", "LoadVideo.file"})


def _lists_input_folder(key: str, config: Mapping[str, Any]) -> bool:
    if config.get("image_folder", "input") != "input":  # LoadImageOutput lists the output folder
        return False
    return key in INPUT_LOADERS or any(config.get(flag) for flag in UPLOAD_KEYS)


def _is_pack(source: str) -> bool:
    from .catalog import is_pack_name

    return not _is_url(source) and is_pack_name(source) and not os.path.exists(source)


def read_source(source: str, timeout: float = 10.0) -> Any:
    """The raw catalogue (object_info data) a `--catalog` source names: a file, a server URL or
    a shipped pack."""
    return _read_source(source, timeout)


def _load_source(source: str, timeout: float) -> tuple[NodeCatalog, ModelCatalog | None]:
    """The classes of one catalogue source and its model inventory; a file's are kept by
    `catalog.cache` (keyed by its contents) for the next load."""
    from .catalog import builtin_folders

    def build(raw: Any, checked: bool) -> tuple[NodeCatalog, ModelCatalog | None]:
        if not checked:
            from .catalog.schema import validate_object_info

            validate_object_info(raw, source)
        folders = dict(builtin_folders())
        # a shipped pack is compacted: its upload combos list nothing, which says nothing
        found = inventory_from_object_info(raw, folders, source, inputs=not _is_pack(source))
        return NodeCatalog(raw, source=source, folders=folders, trusted=True), found

    if _is_url(source):
        return build(_read_source(source, timeout), True)
    if _is_pack(source):
        return build(_read_source(source, timeout), False)
    from .catalog.cache import cached_file
    from .catalog.nodes import decode_object_info

    try:
        # built from the bytes the key was made of, checked against the schema once: an entry
        # of the cache is that check's result for exactly these bytes
        return cached_file(source, lambda data: build(decode_object_info(data, source), True))
    except OSError:
        return build(read_object_info(source), True)  # raises the located CatalogError


def _read_source(source: str, timeout: float) -> Any:
    from .catalog import load_pack

    if _is_url(source):
        from .catalog.schema import validate_object_info

        raw = fetch_object_info(source, timeout=timeout)
        validate_object_info(raw, source)
        return raw
    if _is_pack(source):
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
