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
from typing import Iterable, Mapping

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


#: How alike two model file stems must be for one to be suggested for the other.
CLOSE = 0.75


def _stem(name: str) -> str:
    """A model file name without its folder and extension, in lower case."""
    base = os.path.basename(name.replace("\\", "/")).lower()
    stem, dot, ext = base.rpartition(".")
    return stem if dot and stem and len(ext) <= 12 else base


class ModelCatalog:
    """Model files by folder key. `sources` says where the inventory came from."""

    def __init__(self, folders: Mapping[str, Iterable[str]] | None = None, *, source: str | None = None) -> None:
        self.folders: dict[str, set[str]] = {}
        self.sources: list[str] = []
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
        self.sources.extend(other.sources)

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
    def from_manifest(cls, path: str | os.PathLike) -> ModelCatalog:
        """Read a manifest: folder -> list of file names, as TOML or JSON.

        The folders may sit at the top level or in a `[models]` table.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
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
        if isinstance(data, dict) and isinstance(data.get("models"), dict):
            data = data["models"]
        if not isinstance(data, dict):
            raise CatalogError(f"{path}: a model manifest maps folder names to lists of file names")
        catalog = cls(source=str(path))
        for folder, names in data.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise CatalogError(f"{path}: folder `{folder}` must map to a list of file names")
            catalog.add(folder, names)
        return catalog

    @classmethod
    def load(cls, spec: str) -> ModelCatalog:
        """A models root directory or a manifest file, whichever `spec` names."""
        if os.path.isdir(spec):
            return cls.from_dir(spec)
        if os.path.isfile(spec):
            return cls.from_manifest(spec)
        raise CatalogError(f"{spec}: no such models directory or manifest")


def _scan(directory: Path, exts: frozenset[str]) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel = os.path.relpath(dirpath, directory)
        for filename in sorted(filenames):
            if os.path.splitext(filename)[1].lower() in exts:
                found.append(filename if rel == "." else f"{rel}/{filename}".replace(os.sep, "/"))
    return found
