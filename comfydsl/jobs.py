"""Job records and image saving for remote runs.

A job record is a small JSON file written beside a job's images
(`<out>/<job id>.job.json`): job id, endpoint, API base, status, timings, saved files,
warnings and error. `comfydsl status JOB --out DIR` reads it to resume a job later; the
job id and endpoint alone are enough to resume from another machine.

Images are written atomically (a temporary file, then a hard link to the final name) and
never over an existing file: a taken name gets `-1`, `-2`, ... before its extension.
Names the server gives are reduced to a plain file name first, so they cannot leave the
output folder.

This module uses the standard library only.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RECORD_SUFFIX = ".job.json"
RECORD_FORMAT = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def sanitize_filename(name: str | None, default: str = "image.png") -> str:
    """A safe plain file name from a server-given one: no folders, no `..`, no odd characters,
    the extension kept (`名前.png` -> `file.png`), and never a name that passes for a job
    record (`*.job.json`) or a partial download."""
    raw = (name or "").replace("\\", "/").split("/")[-1]
    text = _UNSAFE.sub("_", raw).strip("._ ")
    raw_stem, dot, raw_ext = raw.rpartition(".")
    ext = _UNSAFE.sub("_", raw_ext).strip("._ ")
    if dot and raw_stem.strip("._ ") and ext and not _UNSAFE.sub("_", raw_stem).strip("._ "):
        # nothing of the stem survives (e.g. a non-ASCII one): keep the extension on a plain stem
        text = "file." + ext
    stem = text.split(".", 1)[0]
    if not text or stem.upper() in _RESERVED:
        text = (stem + "_" + default) if text else default
    lowered = text.lower()
    for suffix in (RECORD_SUFFIX, ".part"):
        if lowered.endswith(suffix):
            text = text[: -len(suffix)] + suffix.replace(".", "-", 1)
            lowered = text.lower()
    if len(text) > 120:
        stem, dot, ext = text.rpartition(".")
        text = (stem[: 120 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else text[:120]
    return text


def _candidates(name: str):
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext, dot = name, "", ""
    yield name
    for n in range(1, 100000):
        yield f"{stem}-{n}{dot}{ext}"


def save_new_file(directory: str | os.PathLike, name: str, data: bytes) -> Path:
    """Write `data` atomically to a new file in `directory`; never replaces an existing file.

    `name` is sanitised; when it is taken, `-1`, `-2`... is added. Returns the path written.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".comfydsl-{secrets.token_hex(8)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for candidate in _candidates(sanitize_filename(name)):
            target = folder / candidate
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                if _exclusive_copy(target, data):
                    return target
                continue
            return target
        raise FileExistsError(f"no free file name for `{name}` in {folder}")
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _exclusive_copy(target: Path, data: bytes) -> bool:
    """Fallback where hard links are not allowed: create exclusively, then write."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return True


def write_json_atomic(path: str | os.PathLike, data: Any) -> None:
    """Replace `path` with JSON text atomically (temporary file + rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".comfydsl-{secrets.token_hex(8)}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@dataclass
class JobRecord:
    """What is known about one submitted job; saved as `<job id>.job.json`. Never holds the API key."""

    job_id: str
    endpoint: str
    base_url: str
    status: str
    source: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    submitted_at: float | None = None
    finished_at: float | None = None
    delay_ms: int | None = None
    execution_ms: int | None = None
    #: saved image names, relative to the record's folder
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)

    @staticmethod
    def path_for(out_dir: str | os.PathLike, job_id: str) -> Path:
        return Path(out_dir) / (sanitize_filename(job_id, "job") + RECORD_SUFFIX)

    def save(self, out_dir: str | os.PathLike) -> Path:
        """Write (or update) the record in `out_dir`."""
        path = self.path_for(out_dir, self.job_id)
        write_json_atomic(path, {"format": RECORD_FORMAT, **asdict(self)})
        return path

    @property
    def wall_seconds(self) -> float | None:
        if self.submitted_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.submitted_at

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "wall_seconds": self.wall_seconds}

    @classmethod
    def load(cls, out_dir: str | os.PathLike, job_id: str) -> JobRecord | None:
        """The record of `job_id` in `out_dir`, or None when there is none.

        An unreadable record raises ValueError naming the file.
        """
        path = cls.path_for(out_dir, job_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read the job record: {exc}") from None
        if not isinstance(data, dict) or data.get("job_id") != job_id:
            raise ValueError(f"{path}: not a job record of `{job_id}`")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError as exc:
            raise ValueError(f"{path}: incomplete job record: {exc}") from None


def now() -> float:
    """Wall-clock time for records (seconds since the epoch)."""
    return time.time()
