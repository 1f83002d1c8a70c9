"""Inventories of a worker's files: listings of a folder, a ComfyUI base folder, a RunPod
network volume (a local copy of its root, or over RunPod's S3-compatible API) or a manifest,
and the model catalogue each stands for.

A `Listing` is what was found (paths below a root, with sizes and hashes when known) plus the
root's `layout`, which says how ComfyUI reads it:

| layout          | root                                   | what counts                                   |
|-----------------|----------------------------------------|-----------------------------------------------|
| `models`        | a models folder (`checkpoints/`, ...)   | every model folder                            |
| `comfyui`       | a ComfyUI base folder                  | `models/<folder>/...` and `input/...`         |
| `runpod-volume` | a network volume's root                | `models/<folder>/...` that worker-comfyui maps |

A listing turns into a `ModelCatalog` for one worker-comfyui version (`Listing.catalog`); for
a volume, files the version does not read are kept as misplaced, with where to move them.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..errors import CatalogError
from .models import FOLDER_EXTENSIONS, INPUT_FOLDER, MODEL_EXTENSIONS, ModelCatalog, canonical_folder

LAYOUTS = ("models", "comfyui", "runpod-volume")
#: `--models runpod-volume:DIR` (a local copy of a volume's root, e.g. a pod's /workspace) and
#: `--models runpod-volume://VOLUME_ID@DATACENTER` (the volume itself, over the S3 API).
VOLUME_SCHEME = "runpod-volume:"


@dataclass(frozen=True)
class FileEntry:
    """One file of a listing: its path below the root, and what is known of its content.

    `md5` is the S3 ETag of a file written outside the multipart API (RunPod computes it on the
    first listing); `sha256` is only known when the files were read.
    """

    path: str
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None


@dataclass
class Listing:
    """The files found at one root, and how ComfyUI reads that root."""

    layout: str
    source: str
    files: list[FileEntry] = field(default_factory=list)
    #: take every name as it is (a hand-written manifest), without checking its ending
    exact: bool = False

    def catalog(self, worker_version: str | None = None) -> ModelCatalog:
        """The model catalogue this listing gives a worker (of `worker_version`, for a volume)."""
        catalog = ModelCatalog(source=self.source)
        if self.layout == "runpod-volume":
            from .volume import place

            for entry in self.files:
                placement = place(entry.path, worker_version)
                if placement is None:
                    continue
                if placement.seen:
                    catalog.add(placement.folder, [placement.name])
                else:
                    catalog.add_misplaced(placement)
            return catalog
        for entry in self.files:
            found = _in_folder(entry.path, self.layout, self.exact)
            if found is not None:
                catalog.add(*found)
        if self.layout == "comfyui":
            catalog.folders.setdefault(INPUT_FOLDER, set())  # an empty input/ still says "nothing there"
        return catalog


def _in_folder(path: str, layout: str, exact: bool = False) -> tuple[str, list[str]] | None:
    parts = path.split("/")
    if layout == "comfyui":
        if parts[0] == "input" and len(parts) >= 2:
            return INPUT_FOLDER, ["/".join(parts[1:])]
        if parts[0] != "models":
            return None
        parts = parts[1:]
    if len(parts) < 2:
        return None
    folder = canonical_folder(parts[0])
    name = "/".join(parts[1:])
    if not exact and posixpath.splitext(name)[1].lower() not in FOLDER_EXTENSIONS.get(folder, MODEL_EXTENSIONS):
        return None
    return folder, [name]


# -- reading a root on disk ---------------------------------------------------------------


def detect_layout(root: str | os.PathLike) -> str:
    """`comfyui` for a folder with a `models/` folder in it, else `models`."""
    return "comfyui" if (Path(root) / "models").is_dir() else "models"


def scan_dir(root: str | os.PathLike, layout: str | None = None, *, sha256: bool = False,
             source: str | None = None) -> Listing:
    """Every file below `root` (hidden ones and hidden folders skipped), with sizes and, when
    asked, SHA-256 digests; symbolic links are followed as ComfyUI follows them."""
    root_path = Path(root)
    if not root_path.is_dir():
        raise CatalogError(f"{root}: not a directory")
    layout = layout or detect_layout(root_path)
    listing = Listing(layout, source or str(root))
    for dirpath, dirnames, filenames in os.walk(root_path, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, root_path)
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            full = os.path.join(dirpath, filename)
            path = filename if rel == "." else f"{rel}/{filename}".replace(os.sep, "/")
            if not _worth_listing(path, layout):
                continue
            try:
                size = os.path.getsize(full)
                digest = file_sha256(full) if sha256 else None
            except OSError as exc:
                raise CatalogError(f"{full}: cannot read: {exc.strerror or exc}") from None
            listing.files.append(FileEntry(path, size, digest))
    return listing


def _worth_listing(path: str, layout: str) -> bool:
    """Whether a manifest should record `path`: model-like files, and a base folder's inputs."""
    if layout == "comfyui" and path.startswith("input/"):
        return True
    ext = posixpath.splitext(path)[1].lower()
    return ext in MODEL_EXTENSIONS or ext in FOLDER_EXTENSIONS["configs"]


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- what --models names --------------------------------------------------------------------


def parse_volume_url(spec: str) -> tuple[str, str]:
    """`runpod-volume://VOLUME_ID@DATACENTER` -> (volume id, datacenter); ValueError otherwise."""
    rest = spec[len(VOLUME_SCHEME) + 2:] if spec.startswith(VOLUME_SCHEME + "//") else ""
    volume, _, datacenter = rest.strip("/").partition("@")
    if not volume or not datacenter or "/" in volume or "/" in datacenter:
        raise ValueError(f"`{spec}`: a volume is named `{VOLUME_SCHEME}//VOLUME_ID@DATACENTER` "
                         "(e.g. `runpod-volume://abc123xyz@EU-RO-1`)")
    return volume, datacenter


def load_inventory(spec: str, *, sha256: bool = False,
                   progress: Callable[[str, int], None] | None = None) -> Listing:
    """The listing `spec` names.

    - `runpod-volume://VOLUME_ID@DATACENTER`: the volume over RunPod's S3 API (needs the
      `volume` extra, and the S3 API key in the environment; see `catalog.s3volume`);
    - `runpod-volume:DIR`: a folder laid out as a volume's root (a pod's `/workspace`);
    - a file: a manifest (TOML, or JSON by its `.json` ending);
    - a folder with `models/` in it: a ComfyUI base folder (`models/` and `input/`);
    - any other folder: a models folder (`checkpoints/`, `loras/`, ...).
    """
    if spec.startswith(VOLUME_SCHEME + "//"):
        try:
            volume, datacenter = parse_volume_url(spec)
        except ValueError as exc:
            raise CatalogError(str(exc)) from None
        from .s3volume import list_volume

        return Listing("runpod-volume", spec, list_volume(volume, datacenter, progress=progress))
    if spec.startswith(VOLUME_SCHEME):
        folder = spec[len(VOLUME_SCHEME):]
        if not os.path.isdir(folder):
            raise CatalogError(f"{folder}: no such folder (the root of a network volume)")
        return scan_dir(folder, "runpod-volume", sha256=sha256, source=spec)
    if os.path.isdir(spec):
        return scan_dir(spec, sha256=sha256)
    if os.path.isfile(spec):
        return read_manifest(spec)
    raise CatalogError(f"{spec}: no such models folder or manifest")


# -- manifests ------------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike) -> Listing:
    """A manifest, as `comfydsl models` writes it or in the short form (see `ModelCatalog`)."""
    path = Path(path)
    try:
        from ..workflow.files import read_text

        text = read_text(path)
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read model manifest: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: model manifest is not UTF-8 text (byte {exc.start})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}:{exc.lineno}:{exc.colno}: manifest is not valid JSON: {exc.msg}") from None
    else:
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{path}: manifest is not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: a model manifest maps folder names to lists of file names")
    if "file" in data or "manifest" in data:
        return _full_manifest(data, path)
    if isinstance(data.get("models"), dict):
        data = data["models"]
    # the short form: with an `input` list it describes a base folder, else a models folder
    base = INPUT_FOLDER in data
    listing = Listing("comfyui" if base else "models", str(path), exact=True)
    for folder, names in data.items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise CatalogError(f"{path}: folder `{folder}` must map to a list of file names")
        for name in names:
            rel = f"{folder}/{name}" if folder == INPUT_FOLDER or not base else f"models/{folder}/{name}"
            listing.files.append(FileEntry(rel))
    return listing


def _full_manifest(data: dict[str, Any], path: Path) -> Listing:
    head = data.get("manifest", {})
    if not isinstance(head, dict):
        raise CatalogError(f"{path}: `manifest` must be a table")
    layout = head.get("layout", "models")
    if layout not in LAYOUTS:
        raise CatalogError(f"{path}: `manifest.layout` must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    files = data.get("file", [])
    if not isinstance(files, list):
        raise CatalogError(f"{path}: `file` must be an array of tables (`[[file]]`)")
    listing = Listing(layout, str(path))
    for number, entry in enumerate(files, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
            raise CatalogError(f"{path}: file entry {number} has no `path` string")
        size = entry.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise CatalogError(f"{path}: file entry {number} (`{entry['path']}`): `size` must be a whole number")
        for key in ("sha256", "md5"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise CatalogError(f"{path}: file entry {number} (`{entry['path']}`): `{key}` must be a string")
        listing.files.append(FileEntry(entry["path"], size, entry.get("sha256"), entry.get("md5")))
    return listing


def manifest_text(listing: Listing, *, written: datetime | None = None) -> str:
    """The TOML manifest of a listing (what `comfydsl models` writes), files sorted by path."""
    when = (written or datetime.now(timezone.utc)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    lines = [
        "# The files of a ComfyUI worker, written by `comfydsl models`; `comfydsl lint --models` reads it.",
        "# Commit it next to the recipes so that CI can check model names without access to the files.",
        "",
        "[manifest]",
        f"layout = {_toml_str(listing.layout)}",
        f"source = {_toml_str(listing.source)}",
        f"written = {_toml_str(when)}",
        f"files = {len(listing.files)}",
    ]
    for entry in sorted(listing.files, key=lambda e: e.path):
        lines += ["", "[[file]]", f"path = {_toml_str(entry.path)}"]
        if entry.size is not None:
            lines.append(f"size = {entry.size}")
        if entry.sha256:
            lines.append(f"sha256 = {_toml_str(entry.sha256)}")
        if entry.md5:
            lines.append(f"md5 = {_toml_str(entry.md5)}")
    return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    # A JSON string is a TOML basic string once non-ASCII stays literal and no `\/` appears.
    return json.dumps(value, ensure_ascii=False)


def summary(listing: Listing) -> dict[str, int]:
    """How many files each folder of a listing holds (`input` for input files)."""
    counts: dict[str, int] = {}
    catalog = listing.catalog("dev")  # every folder a volume could feed, for counting
    for folder, names in catalog.folders.items():
        counts[folder] = len(names)
    for folder, placed in catalog.misplaced.items():
        counts[folder] = counts.get(folder, 0) + len(placed)
    return dict(sorted(counts.items()))


def misplaced_files(listing: Listing, worker_version: str | None = None) -> list[Any]:
    """The files of a volume listing the worker does not read, as `volume.Placement`s."""
    if listing.layout != "runpod-volume":
        return []
    from .volume import place

    found = (place(entry.path, worker_version) for entry in listing.files)
    return [p for p in found if p is not None and not p.seen]
