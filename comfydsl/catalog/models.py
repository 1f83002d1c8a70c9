"""The model catalogue: which model files the target worker really has.

ComfyUI names a model file by its path below a model folder (`sub/name.safetensors`), and
several folders on disk can feed one list (`clip/` and `text_encoders/` both feed the
`text_encoders` list). The catalogue mirrors that, from a models root on disk, a manifest
file, or the combo lists of a live server's catalogue.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import CatalogError

#: File endings ComfyUI lists as model files.
MODEL_EXTENSIONS = frozenset({".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"})

#: ComfyUI's model folder keys and the directories below `models/` that feed each.
FOLDER_DIRS: dict[str, tuple[str, ...]] = {
    "checkpoints": ("checkpoints",),
    "configs": ("configs",),
    "loras": ("loras",),
    "vae": ("vae",),
    "text_encoders": ("text_encoders", "clip"),
    "diffusion_models": ("unet", "diffusion_models"),
    "clip_vision": ("clip_vision",),
    "style_models": ("style_models",),
    "embeddings": ("embeddings",),
    "diffusers": ("diffusers",),
    "vae_approx": ("vae_approx",),
    "controlnet": ("controlnet", "t2i_adapter"),
    "gligen": ("gligen",),
    "upscale_models": ("upscale_models",),
    "latent_upscale_models": ("latent_upscale_models",),
    "hypernetworks": ("hypernetworks",),
    "photomaker": ("photomaker",),
    "classifiers": ("classifiers",),
    "model_patches": ("model_patches",),
    "audio_encoders": ("audio_encoders",),
}

#: Extensions per folder where ComfyUI uses other ones than MODEL_EXTENSIONS.
FOLDER_EXTENSIONS: dict[str, frozenset[str]] = {
    "configs": frozenset({".yaml"}),
}

#: Directory name -> the folder key it feeds.
DIR_TO_FOLDER = {d: key for key, dirs in FOLDER_DIRS.items() for d in dirs}


def canonical_folder(name: str) -> str:
    """The folder key a directory or key name stands for (`clip` -> `text_encoders`)."""
    return DIR_TO_FOLDER.get(name, name)


#: The pseudo-folder of ComfyUI's `input/` directory (files that LoadImage and friends list).
INPUT_FOLDER = "input"

#: How alike two model file stems must be for one to be suggested for the other.
CLOSE = 0.75


def _stem(name: str) -> str:
    """A model file name without its folder and extension, in lower case."""
    base = os.path.basename(name.replace("\\", "/")).lower()
    stem, dot, ext = base.rpartition(".")
    return stem if dot and stem and len(ext) <= 12 else base


class ModelCatalog:
    """Model files by folder key, and the worker's input files under `input`. `sources` says
    where the inventory came from. `misplaced` holds files that sit on a network volume where
    the chosen worker-comfyui version does not look (folder -> name -> `volume.Placement`)."""

    def __init__(self, folders: Mapping[str, Iterable[str]] | None = None, *, source: str | None = None) -> None:
        self.folders: dict[str, set[str]] = {}
        self.sources: list[str] = []
        self.misplaced: dict[str, dict[str, Any]] = {}
        if folders:
            for folder, names in folders.items():
                self.add(folder, names)
        if source:
            self.sources.append(source)

    def add(self, folder: str, names: Iterable[str]) -> None:
        self.folders.setdefault(canonical_folder(folder), set()).update(str(n) for n in names)

    def update(self, other: ModelCatalog) -> None:
        for folder, names in other.folders.items():
            self.add(folder, names)
        for folder, placed in other.misplaced.items():
            for name, placement in placed.items():
                self.misplaced.setdefault(folder, {}).setdefault(name, placement)
        self.sources.extend(other.sources)

    def add_misplaced(self, placement: Any) -> None:
        """Record a file the worker does not see (a `volume.Placement` with `seen` false)."""
        self.misplaced.setdefault(canonical_folder(placement.folder), {}).setdefault(placement.name, placement)

    def find_misplaced(self, folder: str, name: str) -> Any | None:
        """The misplaced file that would answer `name` in `folder`, if the volume has one."""
        placed = self.misplaced.get(canonical_folder(folder), {})
        return placed.get(name) or placed.get(name.replace("\\", "/"))

    def knows(self, folder: str) -> bool:
        """Whether the inventory says anything about this folder (an empty folder counts)."""
        return canonical_folder(folder) in self.folders

    def has(self, folder: str, name: str) -> bool:
        folder = canonical_folder(folder)
        names = self.folders.get(folder, ())
        return name in names or name.replace("\\", "/") in names

    def files(self, folder: str) -> list[str]:
        return sorted(self.folders.get(canonical_folder(folder), ()))

    def closest(self, folder: str, name: str, n: int = 3) -> list[str]:
        """Existing names in the folder that are actually close to `name`: the same file
        name in another subfolder first, then names whose stems (file name without folder
        and extension, case ignored) start with one another or are at least 75% alike. The shared `.safetensors`
        ending does not make two names close."""
        names = self.files(folder)
        base = os.path.basename(name.replace("\\", "/")).lower()
        same = [c for c in names if os.path.basename(c).lower() == base]
        wanted = _stem(name)
        matcher = difflib.SequenceMatcher(b=wanted, autojunk=False)
        scored = []
        for candidate in names:
            if candidate in same:
                continue
            stem = _stem(candidate)
            shorter, longer = sorted((stem, wanted), key=len)
            if len(shorter) >= 5 and longer.startswith(shorter):  # `v1-5-pruned` for `v1-5-pruned-emaonly`
                scored.append((-1.0 + len(shorter) / len(longer) / 100, candidate))
                continue
            matcher.set_seq1(stem)
            if matcher.real_quick_ratio() >= CLOSE and matcher.quick_ratio() >= CLOSE:
                ratio = matcher.ratio()
                if ratio >= CLOSE:
                    scored.append((-ratio, candidate))
        return (same + [c for _, c in sorted(scored)])[:n]

    @classmethod
    def from_dir(cls, root: str | os.PathLike) -> ModelCatalog:
        """Scan a ComfyUI models root the way ComfyUI lists it."""
        root_path = Path(root)
        if not root_path.is_dir():
            raise CatalogError(f"{root}: not a directory")
        catalog = cls(source=str(root))
        for entry in sorted(root_path.iterdir()):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            folder = canonical_folder(entry.name)
            exts = FOLDER_EXTENSIONS.get(folder, MODEL_EXTENSIONS)
            catalog.add(folder, _scan(entry, exts))
        return catalog

    @classmethod
    def from_manifest(cls, path: str | os.PathLike, *, worker_version: str | None = None) -> ModelCatalog:
        """Read a manifest, TOML or JSON: the one `comfydsl models` writes (a `[manifest]`
        table and `[[file]]` entries with paths below a root of a given layout), or the short
        form that maps folder names (and `input`) to lists of file names, at the top level or
        in a `[models]` table."""
        from .inventory import read_manifest

        return read_manifest(path).catalog(worker_version)

    @classmethod
    def load(cls, spec: str, *, worker_version: str | None = None) -> ModelCatalog:
        """The inventory `spec` names (see `comfydsl.catalog.inventory.load_inventory`)."""
        from .inventory import load_inventory

        return load_inventory(spec).catalog(worker_version)


def _scan(directory: Path, exts: frozenset[str]) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, directory)
        for filename in sorted(filenames):
            if os.path.splitext(filename)[1].lower() in exts:
                found.append(filename if rel == "." else f"{rel}/{filename}".replace(os.sep, "/"))
    return found
