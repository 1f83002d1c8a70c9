"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF viewers.

One run; `tool.driver.rules` holds every rule (id, name, short and full description from
the rule's docstring, help, default level); each result has its rule, level, message, a
physical location with a region (columns count Unicode code points, `columnKind`), the
node as a logical location, and related locations. When no model catalogue was given the
run carries a tool notification saying so, and `properties.models_checked` is false.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._version import __version__
from ..diagnostics import Diagnostic, Location
from . import MODELS_NOT_CHECKED, LintRun, display_path

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "note": "note"}


def render(run: LintRun) -> str:
    """The run as a SARIF 2.1.0 log."""
    return json.dumps(to_dict(run), indent=2, ensure_ascii=False, default=str) + "\n"


def to_dict(run: LintRun) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rules = _rule_table(run)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(d, display_path(f, d), index) for f in run.files for d in f.diagnostics]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if not run.models_checked:
        invocation["toolExecutionNotifications"] = [{
            "descriptor": {"id": "models-not-checked"},
            "level": "note",
            "message": {"text": MODELS_NOT_CHECKED},
        }]
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "comfydsl",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "invocations": [invocation],
            "results": results,
            "properties": {"models_checked": run.models_checked},
        }],
    }


def _rule_table(run: LintRun) -> list[dict[str, Any]]:
    rules = [rule_descriptor(rule) for rule in run.rules or ()]
    known = {rule["id"] for rule in rules}
    for diag in run.diagnostics():  # findings of rules the table does not list still get an entry
        if diag.code not in known:
            known.add(diag.code)
            rules.append({"id": diag.code, "name": diag.name,
                          "shortDescription": {"text": diag.name},
                          "defaultConfiguration": {"level": _LEVELS[diag.severity.value]}})
    return rules


def rule_descriptor(rule: Any) -> dict[str, Any]:
    """A `reportingDescriptor` for a Rule class or instance."""
    doc = rule.doc()
    first = doc.split("\n\n", 1)[0].replace("\n", " ").strip() or rule.name
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": first},
        "fullDescription": {"text": _plain(doc) or first, "markdown": doc or first},
        "help": {"text": _plain(_help_text(rule, doc)), "markdown": _help_text(rule, doc)},
        "defaultConfiguration": {"level": _LEVELS[rule.severity.value]},
    }
    if getattr(rule, "comfy_error", None):
        descriptor["properties"] = {"comfy_error": rule.comfy_error}
    return descriptor


def _plain(markdown: str) -> str:
    """Markdown of a rule docstring as plain text (bold markers dropped)."""
    return markdown.replace("**", "")


def _help_text(rule: Any, doc: str) -> str:
    """The docstring's "Use instead" part, or the whole docstring."""
    marker = "**Use instead:**"
    if marker in doc:
        return doc.split(marker, 1)[1].split("\n\n", 1)[0].strip()
    return doc or rule.name


def _result(diag: Diagnostic, path: str, index: dict[str, int]) -> dict[str, Any]:
    message = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    result: dict[str, Any] = {
        "ruleId": diag.code,
        "ruleIndex": index[diag.code],
        "level": _LEVELS[diag.severity.value],
        "message": {"text": message},
        "locations": [_location(diag.location, path)],
    }
    related = [dict(_location(loc, path), id=i, message={"text": loc.label or "related location"})
               for i, loc in enumerate(diag.related, start=1)]
    if related:
        result["relatedLocations"] = related
    props = {key: value for key, value in (
        ("name", diag.name), ("help", diag.help), ("notes", list(diag.notes) or None),
        ("node_id", diag.node_id), ("class_type", diag.class_type), ("input", diag.input),
        ("json_path", diag.json_path)) if value is not None}
    result["properties"] = props
    return result


def _location(location: Location, default_path: str) -> dict[str, Any]:
    span = location.span
    path = (span.path if span is not None and span.path else None) or default_path
    physical: dict[str, Any] = {"artifactLocation": artifact(path)}
    if span is not None:
        region: dict[str, Any] = {"startLine": span.line, "startColumn": span.column}
        if span.end_line is not None:
            region["endLine"] = span.end_line
        if span.end_column is not None:
            region["endColumn"] = max(span.end_column, span.column)
        if span.start is not None:
            region["charOffset"] = span.start
            if span.end is not None:
                region["charLength"] = max(span.end - span.start, 0)
        physical["region"] = region
    out: dict[str, Any] = {"physicalLocation": physical}
    if location.node_id is not None:
        logical = {"name": location.node_id, "kind": "object"}
        if location.json_path:
            logical["fullyQualifiedName"] = location.json_path
        out["logicalLocations"] = [logical]
    return out


def artifact(path: str) -> dict[str, Any]:
    """An `artifactLocation`: relative paths against %SRCROOT% (the working directory)."""
    if path.startswith("<") and path.endswith(">"):  # <stdin>
        return {"uri": quote(path.strip("<>"))}
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}
