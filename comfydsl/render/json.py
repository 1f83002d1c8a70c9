"""JSON output, version 1 (documented in docs/lint.md).

```json
{"version": 1, "models_checked": true,
 "files": [{"path": "wf.json", "kind": "api", "diagnostics": [{"code": "CD201", ...}]}],
 "summary": {"errors": 1, "warnings": 0, "notes": 0, "files": 1}}
```

Fields may be added in later releases of version 1; none is removed or changes meaning.
"""

from __future__ import annotations

import json
from typing import Any

from . import LintRun

#: The version of the output's shape.
VERSION = 1


def to_dict(run: LintRun) -> dict[str, Any]:
    """The run as the JSON document `--format json` prints."""
    return {
        "version": VERSION,
        "models_checked": run.models_checked,
        "files": [
            {"path": result.path, "kind": result.kind,
             "diagnostics": [d.to_dict() for d in result.diagnostics]}
            for result in run.files
        ],
        "summary": run.summary(),
    }


def render(run: LintRun) -> str:
    """The run as indented JSON text."""
    return json.dumps(to_dict(run), indent=2, ensure_ascii=False, default=str) + "\n"
