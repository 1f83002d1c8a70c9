"""Where worker-comfyui looks for models on a RunPod network volume, by worker version.

A serverless worker mounts the volume at `/runpod-volume` and points ComfyUI at it with an
`extra_model_paths.yaml`; only the folders that file maps are read. Every release from 5.0.0
to 5.8.5 maps the same ten folders below `models/`; the development line after 5.8.5 adds
`diffusion_models` and `text_encoders`. A file anywhere else on the volume is invisible to
ComfyUI, which then rejects the workflow with `value_not_in_list` (`... not in []`).

`place(path, version)` says, for one path on the volume (its S3 key, or a path below a
pod's `/workspace`), which model folder ComfyUI sees it in, or where to move it.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from .models import FOLDER_DIRS, FOLDER_EXTENSIONS, MODEL_EXTENSIONS, canonical_folder

#: The newest worker-comfyui release; the default `--worker-version`.
LATEST_RELEASE = "5.8.5"
#: The default worker version: the newest release, because that is what the published
#: `runpod/worker-comfyui:<version>-*` images run; a development build is chosen explicitly.
DEFAULT_WORKER_VERSION = LATEST_RELEASE
#: Aliases accepted by `--worker-version`.
VERSION_ALIASES = {"latest": LATEST_RELEASE, "dev": "dev"}

#: The folders below `models/` that every 5.x release maps (the directory names on the volume).
RELEASE_DIRS = ("checkpoints", "clip", "clip_vision", "configs", "controlnet", "embeddings", "loras",
                "upscale_models", "vae", "unet")
#: What the development line after 5.8.5 maps on top of that.
DEV_EXTRA_DIRS = ("diffusion_models", "text_encoders")

#: Prefixes a key gets by mistake when someone copies the mount path into it.
MOUNT_PREFIXES = ("runpod-volume/", "workspace/")
#: Where in-progress multipart uploads sit on the volume (never a model).
UPLOADS_PREFIX = ".s3compat_uploads/"

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


def normalize_version(version: str | None) -> str:
    """`5.8.5`, `v5.2`, `latest` or `dev` in canonical form; ValueError for anything else."""
    text = (version or DEFAULT_WORKER_VERSION).strip().lower()
    text = VERSION_ALIASES.get(text, text)
    if text == "dev":
        return text
    match = _VERSION.match(text)
    if not match:
        raise ValueError(f"worker-comfyui version `{version}` is not a version number like `5.8.5` "
                         "(or `latest`, `dev`)")
    return ".".join(part or "0" for part in match.groups())


def _key(version: str) -> tuple[int, ...]:
    return (10**6,) if version == "dev" else tuple(int(p) for p in version.split("."))


def mapped_dirs(version: str | None = None) -> tuple[str, ...]:
    """The directories below `models/` that this worker-comfyui version reads."""
    version = normalize_version(version)
    if _key(version) > _key(LATEST_RELEASE):
        return RELEASE_DIRS + DEV_EXTRA_DIRS
    return RELEASE_DIRS


@dataclass(frozen=True)
class Placement:
    """What the worker makes of one file on the volume.

    `folder` is the model folder key the file belongs to (`checkpoints`, `text_encoders`...)
    and `name` its name in that folder. `seen` says whether ComfyUI lists it there; if not,
    `move_to` is where to put it (None when this worker version reads no folder of that kind).
    """

    path: str
    folder: str
    name: str
    seen: bool
    move_to: str | None = None


def place(path: str, version: str | None = None) -> Placement | None:
    """Where the file at `path` (relative to the volume's root) lands, or None for a file
    that is no model at all (wrong ending, folder marker, upload in progress, unknown folder)."""
    path = path.replace("\\", "/").lstrip("/")
    if not path or path.endswith("/") or path.startswith(UPLOADS_PREFIX):
        return None
    mapped = mapped_dirs(version)
    rest, prefix = path, ""
    for mount in MOUNT_PREFIXES:
        if rest.startswith(mount):
            rest, prefix = rest[len(mount):], mount
            break
    parts = rest.split("/")
    if len(parts) >= 3 and parts[0] == "models":
        directory, name = parts[1], "/".join(parts[2:])
    elif len(parts) >= 2 and parts[0] in _KNOWN_DIRS:
        directory, name = parts[0], "/".join(parts[1:])
        prefix = prefix or "-"  # at the root instead of below models/
    else:
        return None
    folder = canonical_folder(directory)
    if posixpath.splitext(name)[1].lower() not in FOLDER_EXTENSIONS.get(folder, MODEL_EXTENSIONS):
        return None
    if not prefix and directory in mapped:
        return Placement(path, folder, name, True)
    target = directory if directory in mapped else _mapped_dir_for(folder, mapped)
    move_to = f"models/{target}/{name}" if target else None
    return Placement(path, folder, name, False, move_to)


def _mapped_dir_for(folder: str, mapped: tuple[str, ...]) -> str | None:
    for directory in FOLDER_DIRS.get(folder, ()):
        if directory in mapped:
            return directory
    for directory in mapped:
        if canonical_folder(directory) == folder:
            return directory
    return None


#: Every directory name ComfyUI knows as a model folder.
_KNOWN_DIRS = frozenset(d for dirs in FOLDER_DIRS.values() for d in dirs)
