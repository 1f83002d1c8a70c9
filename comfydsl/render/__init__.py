"""Renderers: the results of a lint run as text, one-line text, JSON, GitHub annotations
or SARIF 2.1.0.

Every renderer takes the same `LintRun` and returns a string; each imports only the
standard library (and `comfydsl.diagnostics`), so rendering never slows `comfydsl lint`
down.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic, Severity

#: Output formats, in the order `--format` lists them; each is `render/<module>.py`.
FORMATS = {"text": "text", "concise": "text", "json": "json", "github": "github", "sarif": "sarif"}

#: The note printed (once per run) when no model catalogue was given.
MODELS_NOT_CHECKED = ("model and input files were not checked: give `--models DIR|FILE|VOLUME` "
                      "(or a server's catalogue with `--catalog URL`) to check them")


@dataclass
class FileResult:
    """The findings of one file, with its text for source snippets."""

    path: str
    kind: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str | None = None


@dataclass
class LintRun:
    """Everything a renderer shows: the files, their findings, and facts about the run."""

    files: list[FileResult]
    models_checked: bool = True
    rules: list[Any] | None = None  # Rule objects, for SARIF's rule table
    #: files left out because they hold no workflow (`package.json`...)
    skipped: list[str] = field(default_factory=list)

    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    def summary(self) -> dict[str, int]:
        """Counts by severity, and the number of files checked."""
        found = self.diagnostics()
        return {
            "errors": sum(1 for d in found if d.severity is Severity.ERROR),
            "warnings": sum(1 for d in found if d.severity is Severity.WARNING),
            "notes": sum(1 for d in found if d.severity is Severity.NOTE),
            "files": len(self.files),
        }


def render(run: LintRun, format: str = "text", *, color: bool = False) -> str:
    """The run in one of FORMATS; `color` applies to the text format only."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{FORMATS[format]}")
    if format == "text":
        return module.render(run, color=color)
    if format == "concise":
        return module.render_concise(run)
    return module.render(run)


def display_path(result: FileResult, diag: Diagnostic) -> str:
    """The file a diagnostic is shown in: its span's path, else the file's."""
    span = diag.location.span
    return (span.path if span is not None and span.path else None) or result.path
