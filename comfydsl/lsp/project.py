"""The recipe's project: its settings, its target worker, and linting a buffer.

This module is the language server's only door into the rest of comfydsl (settings,
catalogue, recipe linter, formatter, rule documentation), so a move elsewhere in the
package is fixed here once. It needs no pygls.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ServerOptions:
    """What `comfydsl lsp` was started with; each overrides the recipe folder's settings."""

    catalogs: list[str] = field(default_factory=list)
    models: str | None = None
    no_builtin: bool | None = None
    config: str | None = None


@dataclass
class Project:
    """The settings that apply to one recipe folder and the target they describe."""

    config: Path | None
    root: Path
    target: Any  # comfydsl.target.Target
    select: list[str]
    ignore: list[str]
    error: str | None = None  # why the settings or catalogue could not be used

    def rules_filter(self, diagnostics: list) -> list:
        from ..validate import filter_codes

        return filter_codes(diagnostics, self.select, self.ignore)


class Projects:
    """Projects by settings file, loaded once and reloaded when the file changes."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        self.options = options or ServerOptions()
        self._cache: dict[tuple, Project] = {}
        self._lock = threading.Lock()

    def for_file(self, path: str) -> Project:
        """The project of the recipe at `path` (its folder's nearest `comfydsl.toml`)."""
        from ..config import find_config

        config = Path(self.options.config) if self.options.config else find_config(os.path.dirname(path))
        stamp = _mtime(config)
        models_stamp = None
        key = (str(config), stamp, models_stamp)
        with self._lock:
            project = self._cache.get(key)
            if project is None:
                project = self._load(config, path)
                self._cache = {k: v for k, v in self._cache.items() if k[0] != str(config)}
                self._cache[key] = project
            return project

    def invalidate(self) -> None:
        """Forget every loaded project (a settings or manifest file changed)."""
        with self._lock:
            self._cache.clear()

    def _load(self, config: Path | None, path: str) -> Project:
        from ..config import load_settings
        from ..errors import ComfyDSLError
        from ..target import load_target

        root = config.parent if config else Path(path).parent
        try:
            settings = load_settings(config) if config else load_settings(None, start=os.path.dirname(path))
        except ComfyDSLError as exc:
            return Project(config, root, load_target(), [], [], error=str(exc))
        opts = self.options
        catalogs = list(opts.catalogs) or list(settings.catalog)
        models = opts.models or settings.models
        builtin = not (opts.no_builtin if opts.no_builtin is not None else settings.no_builtin)
        try:
            target = load_target(catalogs, models, builtin=builtin)
        except ComfyDSLError as exc:
            return Project(config, root, load_target(), list(settings.select), list(settings.ignore),
                           error=f"the catalogue or model manifest cannot be used: {exc}")
        return Project(config, root, target, _codes(settings.select), _codes(settings.ignore))


def _codes(values: list[str]) -> list[str]:
    parts = (p.strip() for v in values for p in v.split(","))
    return [p.upper() if p[:2].lower() == "cd" and p[2:].isdigit() else p for p in parts if p]


def _mtime(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime if path else None
    except OSError:
        return None


# -- linting and formatting ------------------------------------------------------------------------


@dataclass
class Analysis:
    """One lint of a buffer: its diagnostics and, when it parsed, the syntax tree."""

    diagnostics: list
    module: Any  # comfydsl.dsl.ast.Module | None


def lint_text(path: str, text: str, project: Project) -> Analysis:
    """What `comfydsl lint` reports for the recipe at `path` if it held `text` (imports are
    read from disk), plus the syntax tree, parsed once for both."""
    from ..diagnostics import sort_diagnostics
    from ..dsl import Recipe
    from ..errors import ParseError

    recipe = Recipe(path, text, target=project.target)
    diagnostics = sort_diagnostics(project.rules_filter(list(recipe.lint())))
    try:
        module = recipe.module
    except ParseError:
        module = None
    return Analysis(diagnostics, module)


def parse_text(path: str, text: str):
    """The syntax tree of a recipe text, or None when it is not valid syntax."""
    from ..dsl import parse
    from ..errors import ParseError

    try:
        return parse(text, path)
    except (ParseError, RecursionError):
        return None


def format_text(text: str, path: str) -> str:
    """The recipe in `fmt`'s canonical layout; raises ComfyDSLError when it cannot be."""
    from ..dsl.fmt import format_source

    return format_source(text, path)


def rule_docs() -> dict[str, Any]:
    """Every rule by code."""
    from ..rules.codes import all_rules

    return {rule.code: rule for rule in all_rules()}
