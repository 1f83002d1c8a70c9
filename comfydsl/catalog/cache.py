"""A cache of catalogue files read from disk, keyed by their contents.

Reading a large `/object_info` file (2 MB and more once custom nodes are installed) costs
a JSON decode of the whole file, a schema check and a walk over every input for the model
inventory. The result depends only on the file's bytes, the name it was given by, and this
version of comfydsl, so it is kept:

- in memory, for the life of the process (a second `load_target` of the same file is a
  hash of its bytes and a dict lookup);
- on disk, in `$XDG_CACHE_HOME/comfydsl/catalogs/` (default `~/.cache/comfydsl/`), as a
  pickle named after a hash of all three, so that a new `comfydsl lint --catalog big.json`
  unpickles a catalogue whose classes are decoded one by one as they are used (see
  `NodeCatalog.__getstate__`) instead of decoding and checking the whole file.

An entry records its own key and is written whole (a temporary file renamed over it). One
that cannot be read back, or that records another key, is removed and built afresh; the
key covers the bytes exactly and comfydsl's version (and, for a development checkout, the
size and time of the modules that build the value), so an entry is never used by another
version. `COMFYDSL_NO_CACHE=1` turns the disk cache off; a folder that cannot be written
is skipped silently (the file is then read as usual). Errors in the file itself are never
cached: a file that does not decode raises as before.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

try:  # the hash alone: `hashlib` also loads OpenSSL, which costs a new process more than the hashing
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - a Python built without it
    from hashlib import blake2b

T = TypeVar("T")

#: Raised to the format of the pickled entries when what is kept changes.
FORMAT = 2
#: What every entry starts with, so that a file of the folder that is not an entry is never used.
MAGIC = "comfydsl-catalog-cache"
#: Entries kept in memory at most (the oldest is dropped first).
MEMORY_LIMIT = 8

_memory: dict[str, Any] = {}


def clear_memory() -> None:
    """Forget the catalogues kept in memory (the disk cache stays)."""
    _memory.clear()


def cache_dir() -> Path | None:
    """The folder of the disk cache, or None when it is turned off or has no home."""
    if os.environ.get("COMFYDSL_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    return Path(base) / "comfydsl" / "catalogs"


def _version_stamp(build: Callable[..., Any]) -> bytes:
    """What else the cached value depends on: comfydsl's version and the code that builds
    it (the built-in catalogue's model folders, the inventory reader), by size and time."""
    from .._version import __version__

    here = Path(__file__).resolve().parent
    files = [here / name for name in ("builtin.json", "cache.py", "nodes.py", "schema.py", "models.py",
                                      "importer.py")]
    module = sys.modules.get(getattr(build, "__module__", "") or "")
    if module is not None and getattr(module, "__file__", None):
        files.append(Path(module.__file__))  # type: ignore[arg-type]
    parts = [str(FORMAT), __version__, repr(sys.version_info[:2])]
    for file in files:
        try:
            stat = file.stat()
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{file.name}:-")
    return "\0".join(parts).encode()


def cached_file(path: str, build: Callable[[bytes], T], *, kind: str = "catalog") -> T:
    """`build(data)` for the bytes of the file at `path`, from the cache when the same bytes
    (under the same name, by the same comfydsl) were built before.

    `build` must give a picklable value that its callers do not change. OSError from
    reading the file propagates.
    """
    from ..workflow.files import read_bytes  # refuses pipes and devices; the run notes the read

    data = read_bytes(path)
    digest = blake2b(data, digest_size=20)
    digest.update(b"\0" + kind.encode() + b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(_version_stamp(build))
    key = digest.hexdigest()
    if key in _memory:
        return _memory[key]
    folder = cache_dir()
    entry = folder / f"{kind}-{key}.pickle" if folder is not None else None
    found = _read_entry(entry, key) if entry is not None else None
    if found is not None:
        value = found[0]
    else:
        value = build(data)
        if entry is not None:
            _write_entry(entry, key, value)
    if len(_memory) >= MEMORY_LIMIT:
        _memory.pop(next(iter(_memory)))
    _memory[key] = value
    return value


def _read_entry(entry: Path, key: str) -> tuple[Any] | None:
    """`(value,)` kept in `entry` under `key`, or None when there is none (a damaged or foreign
    entry is removed, so that the next write replaces it)."""
    try:
        with open(entry, "rb") as fh:
            magic, found, value = pickle.load(fh)
        if magic == MAGIC and found == key:
            return (value,)
    except FileNotFoundError:
        return None
    except Exception:  # not one of ours, cut short, or pickled by a different comfydsl
        pass
    try:
        entry.unlink()
    except OSError:
        pass
    return None


def _write_entry(entry: Path, key: str, value: Any) -> None:
    import tempfile

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((MAGIC, key, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)  # whole entries only, also with several writers at once
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        pass
