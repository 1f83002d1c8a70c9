"""Exceptions raised by comfydsl: every exception class of the package is defined here.

```
ComfyDSLError
├── UsageError                     a command line that cannot be acted on (exit status 2)
├── NotAFileError                  a path names a pipe, socket, device or folder (also an OSError)
├── WorkflowError                  a workflow file could not be read at all
│   ├── ImageMetadataError         an image's embedded metadata cannot be read (also a ValueError)
│   ├── UIStructureError           .keys  a UI-format graph is malformed
│   ├── UILinkLoop                 UI links through reroutes or subgraphs form a loop
│   └── ConversionError            .diagnostics  a UI-format workflow that cannot be converted (also a ValueError)
├── RecipeError
│   ├── ParseError                 .span .source .expected
│   │   └── FormatError
│   ├── LiteralTooLong             .span  (also a ValueError)
│   ├── KeywordAsName              .span  a keyword where the recipe names something of its own
│   ├── CompileError               .diagnostics
│   ├── UnsafeFormat
│   └── DecompileError             .problems
├── CatalogError                   a node or model catalogue could not be loaded
├── ConfigError                    a bad setting in comfydsl.toml / pyproject.toml
├── GraphvizMissing                `dot` is needed for a picture and was not found
├── ServeError                     the local endpoint and its ComfyUI worker
│   ├── BadRequest                 .status
│   ├── QueueRejected              .status_code .text .url
│   ├── HandlerError
│   └── ComfyCommunicationError
└── BackendError
    ├── BackendConnectionError     transport errors, timeouts
    ├── BackendStatusError         .status_code .response
    │   └── AuthenticationError
    ├── RequestTooLarge            .size .limit
    ├── UnreadableAnswer           a 2xx answer that is not the JSON object expected
    └── JobError                   .job_id .status .error .diagnostics
        ├── JobFailed
        ├── JobCancelled
        └── JobTimedOut
```

Lint findings are returned as diagnostics, not raised. `UIStructureError` and `UILinkLoop` never
leave `comfydsl.ui`: the converter reports them as diagnostics. This module uses the standard
library only, so every layer can import it.
"""

from __future__ import annotations

from typing import Any


class ComfyDSLError(Exception):
    """Base of every error comfydsl raises on purpose."""


class UsageError(ComfyDSLError):
    """A command was called wrongly; the command line exits with status 2."""


class NotAFileError(ComfyDSLError, OSError):
    """The path names something other than a regular file (a pipe, socket, device or folder):
    reading it could block or mean nothing."""


class WorkflowError(ComfyDSLError):
    """A workflow document could not be read."""


class ImageMetadataError(WorkflowError, ValueError):
    """The bytes are an image of a known kind but cannot be read."""


class UIStructureError(WorkflowError):
    """A UI-format graph is malformed at `keys` (the path into the file)."""

    def __init__(self, message: str, keys: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.keys = keys


class UILinkLoop(WorkflowError):
    """Following UI links through reroutes, bypassed nodes or subgraphs went round a loop."""


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


class FormatError(ParseError):
    """A recipe could not be formatted (it is not valid syntax)."""


class LiteralTooLong(RecipeError, ValueError):
    """An integer literal with more digits than Python converts; carries the literal's span."""

    def __init__(self, message: str, span: Any) -> None:
        super().__init__(message)
        self.span = span


class KeywordAsName(RecipeError):
    """A keyword used as a name of the recipe's own (`from "x" import fragment`); carries the
    keyword's span. The parser turns it into a located ParseError."""

    def __init__(self, message: str, span: Any) -> None:
        super().__init__(message)
        self.span = span


class CompileError(RecipeError):
    """A workflow or recipe has error-level diagnostics; all of them ride along."""

    def __init__(self, diagnostics: list[Any], message: str | None = None) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if getattr(d, "is_error", False)]
        if message is None:
            first = errors[0] if errors else None
            message = f"{len(errors)} error(s)" + (f"; first: [{first.code}] {first.message}" if first else "")
        super().__init__(message)


class UnsafeFormat(RecipeError):
    """The formatter's output would not hold the same tokens as its input (a formatter bug);
    nothing is written."""


class DecompileError(RecipeError):
    """A workflow holds something a recipe cannot express faithfully; `.problems` lists all."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"cannot write this workflow as a recipe without changing it:\n{lines}")


class GraphvizMissing(ComfyDSLError):
    """Graphviz's `dot` program is needed for SVG or PNG output and was not found."""


class ServeError(ComfyDSLError):
    """The local RunPod-compatible endpoint (`comfydsl serve`) or its worker met a problem."""


class BadRequest(ServeError):
    """A request the endpoint refuses with a 4xx status and a JSON error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class QueueRejected(ServeError):
    """ComfyUI answered `POST /prompt` with an HTTP error status."""

    def __init__(self, status_code: int, text: str, url: str = "http://127.0.0.1:8188/prompt") -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code
        self.text = text
        self.url = url


class HandlerError(ServeError):
    """The worker's handler gives up with this exact error text (worker-comfyui's `ValueError`s)."""


class ComfyCommunicationError(ServeError):
    """The HTTP conversation with ComfyUI failed (transport error, unexpected status)."""


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


class UnreadableAnswer(BackendError):
    """A 2xx answer that is not the JSON object the operation returns (an HTML page from a
    proxy, a truncated body): worth asking again for operations that are safe to repeat."""


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
