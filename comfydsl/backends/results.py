"""What RunPod Serverless and worker-comfyui send back: job states, health, job outputs.

`JobStatus` (from `comfydsl.workflow.status`) is the one list of job states and of which of them are final. `JobState` is
one answer of `run`/`runsync`/`status`/`cancel`/`retry`; `JobResult` is a final state with
the worker-comfyui output read: images, warnings (`errors`), the failure text and, for
"Workflow validation failed" failures, per-node diagnostics.

Output shapes understood (worker-comfyui):

* 5.x: `{"images": [{"filename", "type": "base64"|"s3_url", "data"}], "errors": [...]}`;
  `{"status": "success_no_images", "images": []}`. Base64 data may carry a `data:` prefix.
* Other files (worker-comfyui is growing `videos`, `gifs` and `audio` outputs): any other
  key holding a list of `{"filename", "type", "data"}` objects is read the same way, kept
  apart from `images` with its key as `kind` (`JobOutput.files`).
* 2.x-4.x (legacy): `{"status": "success", "message": "<base64 or URL>"}`, and
  `{"status": "error", "message": "..."}`, which is a failure even though the job is
  COMPLETED.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..diagnostics import Diagnostic
from ..errors import BackendError, JobCancelled, JobFailed, JobTimedOut
from ..workflow.status import JobStatus


class JobState(BaseModel):
    """One job object as the API returns it. Times are milliseconds, as sent.

    The echoed `input` of IN_PROGRESS answers is dropped (it can hold the whole workflow
    and every uploaded image).
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    id: str
    status: JobStatus
    delay_time: int | None = Field(default=None, alias="delayTime")
    execution_time: int | None = Field(default=None, alias="executionTime")
    worker_id: str | None = Field(default=None, alias="workerId")
    output: Any = None
    error: Any = None

    @property
    def is_final(self) -> bool:
        return self.status.is_final


class HealthJobs(BaseModel):
    """Job counts of an endpoint."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    completed: int = 0
    failed: int = 0
    in_progress: int = Field(default=0, alias="inProgress")
    in_queue: int = Field(default=0, alias="inQueue")
    retried: int = 0


class HealthWorkers(BaseModel):
    """Worker counts of an endpoint (other counts the API adds are kept as extras)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    idle: int = 0
    running: int = 0


class Health(BaseModel):
    """The answer of `GET /health`."""

    model_config = ConfigDict(extra="allow")

    jobs: HealthJobs = Field(default_factory=HealthJobs)
    workers: HealthWorkers = Field(default_factory=HealthWorkers)


class StreamChunk(BaseModel):
    """The answer of `GET /stream/{id}`: the pieces of output produced since the last call."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str | None = None
    status: JobStatus
    stream: list[Any] = Field(default_factory=list)
    error: Any = None

    @property
    def outputs(self) -> list[Any]:
        """Each piece's `output`."""
        return [item.get("output") if isinstance(item, dict) else item for item in self.stream]

    @property
    def is_final(self) -> bool:
        return self.status.is_final


class PurgeResult(BaseModel):
    """The answer of `POST /purge-queue`."""

    model_config = ConfigDict(extra="allow")

    removed: int = 0
    status: str | None = None


_Model = TypeVar("_Model", bound=BaseModel)


def parse_model(model: type[_Model], data: Any, what: str) -> _Model:
    """Validate an API answer into a model; a shape we do not understand is a BackendError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise BackendError(f"unexpected answer to {what}: `{where}`: {first['msg'].lower()}") from None


@dataclass
class OutputImage:
    """One file of a job's output (an image, or a video, audio... file): base64 data or a URL
    to download (`s3_url`). `kind` is the output key it came from (`images`, `videos`...)."""

    filename: str
    type: str
    data: str
    kind: str = "images"

    @property
    def is_url(self) -> bool:
        return self.type == "s3_url"

    def decode(self) -> bytes:
        """The image bytes of a base64 image (a `data:...;base64,` prefix is allowed)."""
        if self.is_url:
            raise ValueError("an s3_url output must be downloaded")
        text = self.data.split(",", 1)[1] if self.data.startswith("data:") else self.data
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BackendError(f"{_SINGULAR.get(self.kind, 'file')} `{self.filename}` in the job output is not "
                               f"valid base64") from None


OutputFile = OutputImage
#: output keys of worker-comfyui that are not files
_NOT_FILES = frozenset({"images", "errors", "status", "message", "error", "details"})
_SINGULAR = {"images": "image", "videos": "video", "gifs": "animation", "audio": "audio file", "audios": "audio file"}


@dataclass
class JobOutput:
    """A worker-comfyui output, read."""

    images: list[OutputImage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: a failure the worker reported inside a COMPLETED output (legacy `status: error`)
    error: str | None = None
    no_images: bool = False
    #: output files other than images (videos, audio...), each with its `kind`
    files: list[OutputImage] = field(default_factory=list)


def parse_output(output: Any) -> JobOutput:
    """Read a worker-comfyui output (5.x, or the legacy 2.x-4.x shape)."""
    if output is None:
        return JobOutput(no_images=True)
    if not isinstance(output, dict):
        return JobOutput(warnings=[f"the job output is not an object: {_short(output)}"], no_images=True)
    if "images" in output or output.get("status") == "success_no_images" or _file_keys(output):
        return _parse_v5(output)
    if "message" in output and output.get("status") in ("success", "error"):
        return _parse_legacy(output)
    if "error" in output:
        return JobOutput(error=_text(output["error"]), no_images=True)
    return JobOutput(warnings=[f"the job output has no images: {_short(output)}"], no_images=True)


def _parse_v5(output: dict[str, Any]) -> JobOutput:
    errors = output.get("errors") or []
    result = JobOutput(warnings=[_text(e) for e in (errors if isinstance(errors, list) else [errors])])
    result.images = _files(output, "images", result.warnings)
    for key in _file_keys(output):
        result.files.extend(_files(output, key, result.warnings))
    result.no_images = not result.images and not result.files
    return result


def _file_keys(output: dict[str, Any]) -> list[str]:
    """Keys other than `images` that hold output files (a list of objects with `data`)."""
    keys = []
    for key, value in output.items():
        items = value if isinstance(value, list) else [value]
        if key not in _NOT_FILES and items and all(isinstance(i, dict) and "data" in i for i in items):
            keys.append(key)
    return sorted(keys)


def _files(output: dict[str, Any], key: str, warnings: list[str]) -> list[OutputImage]:
    raw = output.get(key) or []
    if isinstance(raw, dict) and key != "images":
        raw = [raw]
    if not isinstance(raw, list):
        warnings.append(f"`{key}` in the job output is not a list")
        return []
    found = []
    what = _SINGULAR.get(key, "file")
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("data"), str):
            warnings.append(f"{what} {index} in the job output has no `data`")
            continue
        data = item["data"]
        given = item.get("type")
        kind: str = given if isinstance(given, str) else (
            "s3_url" if data.startswith(("http://", "https://")) else "base64")
        filename = item.get("filename")
        name = filename if isinstance(filename, str) and filename else _default_name(key, index, data)
        found.append(OutputImage(name, kind, data, key))
    return found


def _default_name(key: str, index: int, data: str) -> str:
    import mimetypes

    ext = ".png" if key == "images" else ".bin"
    if data.startswith("data:"):
        ext = mimetypes.guess_extension(data[5:].split(";", 1)[0].split(",", 1)[0].strip()) or ext
    stem = {"images": "image", "videos": "video", "gifs": "animation"}.get(key, key.rstrip("s") or "file")
    return f"{stem}_{index + 1}{ext}"


def _parse_legacy(output: dict[str, Any]) -> JobOutput:
    message = output.get("message")
    if output.get("status") == "error":
        return JobOutput(error=_text(message), no_images=True)
    if not isinstance(message, str) or not message:
        return JobOutput(warnings=["the legacy job output has an empty `message`"], no_images=True)
    kind = "s3_url" if message.startswith(("http://", "https://")) else "base64"
    return JobOutput(images=[OutputImage("output.png", kind, message)])


def _text(value: Any) -> str:
    return value if isinstance(value, str) else _short(value, 2000)


def _short(value: Any, limit: int = 200) -> str:
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class JobResult:
    """A job in a final state, with its output read.

    `error` is the failure text (FAILED jobs, or a failure inside a COMPLETED output); it
    is never dropped. `diagnostics` holds per-node errors parsed from worker-comfyui's
    "Workflow validation failed" text.
    """

    endpoint_id: str
    state: JobState
    images: list[OutputImage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    no_images: bool = False
    #: output files other than images (videos, audio...)
    files: list[OutputImage] = field(default_factory=list)

    @property
    def outputs(self) -> list[OutputImage]:
        """Every file of the output: the images, then the other files."""
        return [*self.images, *self.files]

    @property
    def job_id(self) -> str:
        return self.state.id

    @property
    def status(self) -> JobStatus:
        return self.state.status

    @property
    def ok(self) -> bool:
        """COMPLETED with no failure in the output."""
        return self.status is JobStatus.COMPLETED and self.error is None

    @property
    def delay_seconds(self) -> float | None:
        return None if self.state.delay_time is None else self.state.delay_time / 1000

    @property
    def execution_seconds(self) -> float | None:
        return None if self.state.execution_time is None else self.state.execution_time / 1000

    @classmethod
    def from_state(cls, endpoint_id: str, state: JobState) -> JobResult:
        """Read the output (or error) of a final job state."""
        from .worker_errors import parse_worker_error

        if state.status is JobStatus.COMPLETED:
            out = parse_output(state.output)
            error = out.error
            if error is None and state.error:
                error = _text(state.error)
            return cls(endpoint_id, state, out.images, out.warnings, error,
                       parse_worker_error(error) if error else [], out.no_images, out.files)
        error = _text(state.error) if state.error not in (None, "") else None
        if state.status is JobStatus.FAILED and error is None:
            error = "the job failed and the API gave no error text"
        warnings = parse_output(state.output).warnings if isinstance(state.output, dict) else []
        return cls(endpoint_id, state, [], warnings, error, parse_worker_error(error) if error else [], True)

    def raise_for_status(self) -> JobResult:
        """Raise JobFailed / JobCancelled / JobTimedOut unless the job succeeded; returns self."""
        if self.ok:
            return self
        job = self.job_id
        if self.status is JobStatus.CANCELLED:
            raise JobCancelled(f"job `{job}` was cancelled", job_id=job, status=self.status.value)
        if self.status is JobStatus.TIMED_OUT:
            raise JobTimedOut(f"job `{job}` timed out on the endpoint" + (f": {self.error}" if self.error else ""),
                              job_id=job, status=self.status.value, error=self.error)
        raise JobFailed(f"job `{job}` failed: {self.error}", job_id=job, status=self.status.value, error=self.error,
                        diagnostics=self.diagnostics)
