"""Reading the user's files: regular files only, and every file read noted for the run.

Two promises of docs/qa.md rest on this module:

* a path that names a named pipe, a socket or a device is refused at once (reading one
  would block, or never end) with an `OSError` whose `strerror` says what the path is, so
  the readers' usual "cannot read `x`: <reason>" messages carry it;
* no command writes its output over a file it read. Every reader calls `read_bytes`
  (or `note_read`), which records the file in the run's read log when one is open
  (`tracking()`, which the command line opens around each command); the output writer asks
  `was_read(path)` before it replaces anything. Outside `tracking()` nothing is recorded,
  so long-running library users (the language server, `serve`) keep no log.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from contextvars import ContextVar
from typing import Iterator

from ..errors import NotAFileError

#: The files read in the current run: (device, inode) pairs and real paths; None outside a run.
_READS: ContextVar[tuple[set[tuple[int, int]], set[str]] | None] = ContextVar("comfydsl_reads", default=None)

_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words ("a named pipe", ...)."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file, noted in the run's read log. Raises OSError as `open`
    does, and NotAFileError (an OSError, `strerror` e.g. "it is a named pipe, not a file")
    for anything but a regular file, without blocking on it."""
    # O_NONBLOCK: opening a FIFO with no writer would otherwise wait for one.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise NotAFileError(errno.EISDIR, "it is a folder, not a file", os.fspath(path)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotAFileError(errno.EINVAL, f"it is {kind_of(info.st_mode)}, not a file", os.fspath(path))
        _note(info, path)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike[str], encoding: str = "utf-8", universal_newlines: bool = False) -> str:
    """`read_bytes` decoded (UnicodeDecodeError when it is not text in `encoding`);
    `universal_newlines` turns CRLF and lone CR into LF, as `open()` in text mode does."""
    text = read_bytes(path).decode(encoding)
    if universal_newlines and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def note_read(path: str | os.PathLike[str]) -> None:
    """Record a file read some other way (nothing happens outside `tracking()` or when the
    file does not exist)."""
    if _READS.get() is None:
        return
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return
    _note(info, path)


def _note(info: os.stat_result, path: str | os.PathLike[str]) -> None:
    log = _READS.get()
    if log is None:
        return
    log[0].add((info.st_dev, info.st_ino))
    log[1].add(os.path.realpath(path))


def was_read(path: str | os.PathLike[str]) -> bool:
    """Whether the current run read the file `path` names (a symlink or hard link to it
    included)."""
    log = _READS.get()
    if log is None:
        return False
    if os.path.realpath(path) in log[1]:
        return True
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    return (info.st_dev, info.st_ino) in log[0]


@contextlib.contextmanager
def tracking() -> Iterator[None]:
    """Keep a read log for the duration of the block (one command run)."""
    token = _READS.set((set(), set()))
    try:
        yield
    finally:
        _READS.reset(token)
