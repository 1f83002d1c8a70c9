"""Exceptions raised by comfydsl.

```
ComfyDSLError
├── WorkflowError             a workflow file could not be read at all
│   └── ConversionError       .diagnostics (a UI-format workflow that cannot be converted; also a ValueError)
├── RecipeError
│   ├── ParseError            .span .source .expected
│   └── CompileError          .diagnostics
├── CatalogError              a node or model catalogue could not be loaded
├── ConfigError               a bad setting in comfydsl.toml / pyproject.toml
└── BackendError
    ├── BackendConnectionError     transport errors, timeouts
    ├── BackendStatusError         .status_code .response
    │   └── AuthenticationError
    ├── RequestTooLarge            .size .limit
    └── JobError                   .job_id .status .error .diagnostics
        ├── JobFailed
        ├── JobCancelled
        └── JobTimedOut
```

Lint findings are returned as diagnostics, not raised.
"""

from __future__ import annotations

from typing import Any


class ComfyDSLError(Exception):
    """Base of every error comfydsl raises on purpose."""


class WorkflowError(ComfyDSLError):
    """A workflow document could not be read."""


class ConversionError(WorkflowError, ValueError):
    """A UI-format workflow cannot be converted to API format exactly; `.diagnostics` says why."""

    def __init__(self, diagnostics: list[Any]) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if getattr(d, "is_error", False)] or self.diagnostics
        first = errors[0].message if errors else "not convertible"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"the UI-format workflow cannot be converted: {first}{more}")


class CatalogError(ComfyDSLError):
    """A node catalogue or model catalogue could not be loaded."""


class ConfigError(ComfyDSLError):
    """A configuration file holds a bad setting."""


class RecipeError(ComfyDSLError):
    """A `.comfy` recipe could not be turned into a workflow."""


class ParseError(RecipeError):
    """A recipe is not valid syntax. `detail` is the message without its `file:line:col`."""

    def __init__(self, message: str, *, span: Any = None, source: str | None = None,
                 expected: tuple[str, ...] = (), detail: str | None = None) -> None:
        super().__init__(message)
        self.span = span
        self.source = source
        self.expected = expected
        self.detail = message if detail is None else detail


class CompileError(RecipeError):
    """A workflow or recipe has error-level diagnostics; all of them ride along."""

    def __init__(self, diagnostics: list[Any], message: str | None = None) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if getattr(d, "is_error", False)]
        if message is None:
            first = errors[0] if errors else None
            message = f"{len(errors)} error(s)" + (f"; first: [{first.code}] {first.message}" if first else "")
        super().__init__(message)


class BackendError(ComfyDSLError):
    """Talking to a remote backend (RunPod) failed."""


class BackendConnectionError(BackendError):
    """The backend could not be reached, or did not answer in time."""


class BackendStatusError(BackendError):
    """The backend answered with an HTTP error status."""

    def __init__(self, message: str, *, status_code: int, response: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.response = response


class AuthenticationError(BackendStatusError):
    """The API key was missing or refused (HTTP 401)."""


class RequestTooLarge(BackendError):
    """The request body is larger than the API accepts for the operation."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class JobError(BackendError):
    """A job ended without success. `diagnostics` holds the worker's per-node errors, if any."""

    def __init__(self, message: str, *, job_id: str, status: str, error: Any = None,
                 diagnostics: list[Any] | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status
        self.error = error
        self.diagnostics = list(diagnostics or [])


class JobFailed(JobError):
    """The job ended FAILED."""


class JobCancelled(JobError):
    """The job ended CANCELLED."""


class JobTimedOut(JobError):
    """The job ended TIMED_OUT, or waiting for it ran out of time."""
