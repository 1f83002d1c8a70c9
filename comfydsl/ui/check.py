"""Checking a UI-format file: convert it, check the prompt, and point every finding at the UI file."""

from __future__ import annotations

from typing import Any, Iterable

from ..diagnostics import Diagnostic, Severity, sort_diagnostics
from .api import convert_text, relocate


def check_ui_text(text: str, *, path: str | None, catalog: Any, models: Any = None,
                  select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                  data: Any = None) -> list[Diagnostic]:
    """Conversion problems plus the checks of the converted prompt, located in the UI text
    (`data`: the text already decoded, if at hand)."""
    from ..validate import check_workflow, filter_codes

    conv = convert_text(text, catalog, path=path, data=data)
    found = list(conv.diagnostics)
    # an empty prompt is checked too (CD602: nothing to run), as an empty API workflow is,
    # unless the conversion itself failed
    if conv.workflow or not any(d.severity is Severity.ERROR for d in found):
        checked = check_workflow(conv.workflow, catalog=catalog, models=models)
        found += relocate(checked, conv, text, path)
    return filter_codes(sort_diagnostics(found), select, ignore)
