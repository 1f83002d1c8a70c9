"""Project settings: `comfydsl.toml`, or `[tool.comfydsl]` in `pyproject.toml`.

The nearest such file upward from the working directory wins. Paths in it are relative
to the file's folder. Command-line options override it.

```toml
[tool.comfydsl]
packs = ["pulid_flux"]                   # catalogue packs shipped with comfydsl
catalog = ["catalogs/my_nodes.json"]     # files or server URLs, merged after the packs
models = "models.toml"                   # models folder, base folder, volume or manifest
worker-version = "5.8.5"                 # worker-comfyui version reading a network volume
no-builtin = false
format = "text"
strict = false
select = []
ignore = ["CD603"]
exclude = ["vendor/**"]

[tool.comfydsl.runpod]
endpoint = "abc123"
base-url = "https://api.runpod.ai/v2"
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

_KNOWN = {"catalog", "packs", "models", "worker-version", "no-builtin", "format", "strict", "select", "ignore", "exclude", "runpod"}


@dataclass
class Settings:
    """Settings read from a configuration file (all optional)."""

    path: Path | None = None
    #: Catalogue sources in merge order: the `packs` (by name), then `catalog` (paths resolved).
    catalog: list[str] = field(default_factory=list)
    models: str | None = None
    worker_version: str | None = None
    no_builtin: bool = False
    format: str | None = None
    strict: bool = False
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    runpod: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()


def find_config(start: str | os.PathLike | None = None) -> Path | None:
    """The nearest `comfydsl.toml`, or `pyproject.toml` with a `[tool.comfydsl]` table."""
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "comfydsl.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and isinstance(tool := _read_toml(pyproject).get("tool"), dict) \
                and "comfydsl" in tool:
            return pyproject
    return None


def load_settings(path: str | os.PathLike | None = None, *, start: str | os.PathLike | None = None) -> Settings:
    """Read settings from `path`, or from the file `find_config` finds; empty when none."""
    config = Path(path) if path else find_config(start)
    if config is None:
        return Settings()
    data = _read_toml(config)
    if config.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("comfydsl", {}) if isinstance(tool, dict) else {}
        if not isinstance(data, dict):
            raise ConfigError(f"{config}: `tool.comfydsl` must be a table")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ConfigError(f"{config}: unknown setting(s): {', '.join(unknown)}")
    root = config.parent
    catalog = data.get("catalog", [])
    if isinstance(catalog, str):
        catalog = [catalog]
    settings = Settings(
        path=config,
        catalog=[*_packs(data.get("packs", []), config),
                 *(_resolve_catalog(root, c, config) for c in _strings(catalog, config, "catalog"))],
        models=_resolve_models(root, data["models"], config) if "models" in data else None,
        worker_version=_string(data.get("worker-version"), config, "worker-version"),
        no_builtin=_bool(data.get("no-builtin", False), config, "no-builtin"),
        format=_string(data.get("format"), config, "format"),
        strict=_bool(data.get("strict", False), config, "strict"),
        select=_strings(data.get("select", []), config, "select"),
        ignore=_strings(data.get("ignore", []), config, "ignore"),
        exclude=_strings(data.get("exclude", []), config, "exclude"),
        runpod=_table(data.get("runpod", {}), config, "runpod"),
    )
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read: it costs start-up time

    try:
        from .workflow.files import read_text

        return tomllib.loads(read_text(path, universal_newlines=True))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _resolve(root: Path, value: Any, config: Path, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{config}: `{key}` must be a string")
    if value.startswith(("http://", "https://")):
        return value
    return str((root / value).resolve())


def _resolve_models(root: Path, value: Any, config: Path) -> str:
    """A `models` entry: a path from `root`, `runpod-volume:DIR` (DIR from `root`) or a volume URL."""
    prefix = "runpod-volume:"
    if isinstance(value, str) and value.startswith(prefix) and not value.startswith(prefix + "//"):
        return prefix + _resolve(root, value[len(prefix):], config, "models")
    if isinstance(value, str) and value.startswith(prefix):
        return value
    return _resolve(root, value, config, "models")


def _packs(value: Any, config: Path) -> list[str]:
    from .catalog import pack_names

    names = _strings(value, config, "packs")
    known = pack_names()
    for name in names:
        if name not in known:
            raise ConfigError(f"{config}: `packs`: unknown catalogue pack `{name}` "
                              f"(shipped packs: {', '.join(known) or 'none'})")
    return names


def _resolve_catalog(root: Path, value: str, config: Path) -> str:
    """A catalogue entry: a URL, a pack name (when no such file exists) or a path from `root`."""
    from .catalog import is_pack_name

    if is_pack_name(value) and not (root / value).exists():
        return value
    return _resolve(root, value, config, "catalog")


def _strings(value: Any, config: Path, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{config}: `{key}` must be a list of strings")
    return list(value)


def _string(value: Any, config: Path, key: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{config}: `{key}` must be a string")
    return value


def _table(value: Any, config: Path, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{config}: `{key}` must be a table")
    return dict(value)


def _bool(value: Any, config: Path, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{config}: `{key}` must be true or false")
    return value
