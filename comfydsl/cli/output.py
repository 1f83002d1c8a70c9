"""Where every command's output goes: one writer for files and standard output.

* Text is written as UTF-8. A lone UTF-16 surrogate (a recipe's `"\\ud800"`, the same escape
  in a JSON workflow) cannot be encoded as UTF-8, so it is written as its escape `\\ud800`:
  inside JSON strings that is the JSON escape itself, which Python's `json.loads` (and so
  ComfyUI and the RunPod worker) reads back as the same lone surrogate; in recipes it is the
  recipe escape; in messages it shows the code point. Output is therefore always valid UTF-8.
* A file is replaced atomically (a temporary file renamed over it), keeping an existing
  file's permissions and a symlink's target.
* A file the command read (the main input, an imported fragment, a `file()` attachment, a
  catalogue, a model manifest, the settings file: see `comfydsl.workflow.files`) is never
  written over: that is a usage error naming it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import UsageError


def encode_text(text: str) -> bytes:
    """UTF-8 bytes of `text`, lone surrogates written as `\\udXXX` escapes."""
    return text.encode("utf-8", "backslashreplace")


def dump_json(data: Any) -> str:
    """Stable JSON text: the given key order (node ids already sorted), 2-space indent, final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_stdout(data: str | bytes) -> None:
    """Text (or bytes) to standard output, as UTF-8 with surrogates escaped."""
    raw = encode_text(data) if isinstance(data, str) else data
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's StringIO)
        sys.stdout.write(raw.decode("utf-8", "replace"))
        sys.stdout.flush()
        return
    sys.stdout.flush()
    buffer.write(raw)
    buffer.flush()


def refuse_read_file(path: str, option: str = "-o") -> None:
    """UsageError when the current run read the file `path` names (see `workflow.files`)."""
    from ..workflow.files import was_read

    if was_read(path):
        raise UsageError(f"{option} {path}: this command read that file; writing over it would lose it, "
                         "so choose another output file")


def refuse_input_as_output(output: str | None, *inputs: str) -> None:
    """UsageError when `-o` names one of the command's input files (the input would be lost).
    Checked before any work; `write_output` checks every file read once the work is done."""
    if not output or output == "-" or not os.path.exists(output):
        return
    for item in inputs:
        if os.path.exists(item) and os.path.samefile(output, item):
            raise UsageError(f"-o {output}: that is the input file {item}; choose another output file")


def write_output(path: str | None, data: str | bytes, option: str = "-o") -> None:
    """Write to a file atomically (refusing a file the run read), or to stdout for None or `-`."""
    if path is None or path == "-":
        write_stdout(data)
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: folder `{folder}` does not exist")
    refuse_read_file(path, option)
    replace_file(path, encode_text(data) if isinstance(data, str) else data)


def replace_file(path: str, data: bytes) -> None:
    """Write `data` over `path` atomically, keeping the file's permissions (and a symlink's
    target). No read-log check: `fmt` rewrites the files it read on purpose."""
    real = Path(os.path.realpath(path))
    mode = real.stat().st_mode & 0o7777 if real.exists() else 0o666 & ~_umask()
    fd, temp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, mode)
        os.replace(temp, real)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _umask() -> int:
    """The process's file creation mask (a new output file gets the mode any new file would)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
