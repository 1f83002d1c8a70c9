"""GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding.

GitHub shows them as annotations on the pull request's changed lines:

```
::error file=wf.json,line=12,col=5,endLine=12,endColumn=13,title=CD201 missing-required-input::node `3` ...
```

Escaping follows GitHub's runner: in the message `%`, `\\r` and `\\n` are percent-encoded;
in property values `:` and `,` are too.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from . import LintRun, display_path

_COMMANDS = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diag: Diagnostic, path: str) -> str:
    """One workflow command for a finding."""
    props = [f"file={escape_property(path)}"]
    span = diag.location.span
    if span is not None:
        props += [f"line={span.line}", f"col={span.column}"]
        if span.end_line is not None:
            props.append(f"endLine={span.end_line}")
            if span.end_line == span.line and span.end_column is not None:
                props.append(f"endColumn={span.end_column}")
    props.append(f"title={escape_property(f'{diag.code} {diag.name}')}")
    message = diag.message + (f"\nhelp: {diag.help}" if diag.help else "")
    message += "".join(f"\nnote: {note}" for note in diag.notes)
    return f"::{_COMMANDS[diag.severity.value]} {','.join(props)}::{escape_data(message)}"


def render(run: LintRun) -> str:
    """Every finding as a workflow command."""
    lines = [annotation(d, display_path(result, d)) for result in run.files for d in result.diagnostics]
    return "".join(line + "\n" for line in lines)
