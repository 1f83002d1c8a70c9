"""Paths and helpers shared by the tests (importable as `support`; see pytest `pythonpath`).

This module is the one place that names the test data: everything lives in `tests/data/`
(see its README for where each file came from), so the suite needs nothing beside the checkout.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
#: ComfyUI 0.3.64's `/object_info` answer (no custom nodes).
OBJECT_INFO = DATA / "comfyui" / "object_info.json"
#: SaveImageWebsocket, which a stock server loads from ComfyUI's own custom_nodes/ folder
BUNDLED_OBJECT_INFO = DATA / "comfyui" / "object_info.bundled_custom_nodes.json"
#: real catalogues and API exports of newer (V3-schema) ComfyUI servers, see tests/data/README.md
MODERN = DATA / "modern"
MMLDX_CATALOG = MODERN / "object_info.mmldx-2026-08.json"
AUTOFLOW_CATALOG = MODERN / "object_info.autoflow-0.9.json.gz"
V3_FEATURES = MODERN / "v3_features.object_info.json"
BUILTIN_JSON = ROOT / "comfydsl" / "catalog" / "builtin.json"
#: The placeholder model files (`- folder/file` lines) that catalogue was captured with.
PLACEHOLDERS = DATA / "comfyui" / "placeholders.md"
#: The conformance cases: `index.jsonl` and `cases/<name>.json`.
CONFORMANCE = DATA / "conformance"
CASES = CONFORMANCE / "cases"
#: The PuLID-Flux custom node pack, as `/object_info` describes it, and its model folders.
PULID_OBJECT_INFO = DATA / "custom_nodes" / "pulid_flux.object_info.json"
PULID_FOLDERS = DATA / "custom_nodes" / "pulid_flux.model_folders.json"


def comfydsl_command() -> list[str]:
    """The installed console script (next to the running interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / ("comfydsl.exe" if os.name == "nt" else "comfydsl")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("comfydsl")
    if found:
        return [found]
    raise RuntimeError("the comfydsl console script is not installed; run pip install -e '.[test]'")


# -- the CLI, in process ------------------------------------------------------------------------
#: What `invoke` puts back after each call: the command may change these and must not leak them.
_SIGNALS = tuple(s for s in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGHUP") if hasattr(signal, s))


@contextlib.contextmanager
def _isolated(cwd, env: Mapping[str, str] | None, replace_env: bool):
    """Run a block as if it were a fresh process: its own cwd, environment, streams, signal
    handlers, root logger and argv; all put back afterwards."""
    saved_cwd, saved_env, saved_argv = os.getcwd(), dict(os.environ), sys.argv
    saved_signals = {name: signal.getsignal(getattr(signal, name)) for name in _SIGNALS}
    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level)
    saved_streams = (sys.stdin, sys.stdout, sys.stderr)
    try:
        if cwd is not None:
            os.chdir(cwd)
        if replace_env:
            os.environ.clear()
        os.environ.pop("NO_COLOR", None)
        os.environ.update(env or {})
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        for name, handler in saved_signals.items():
            if handler is not None:
                signal.signal(getattr(signal, name), handler)
        root.handlers[:], _ = saved_logging
        root.setLevel(saved_logging[1])


def _decode(data: bytes) -> str:
    """Bytes to text as `subprocess.run(text=True)` does it (UTF-8, universal newlines)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=None).read()


def invoke(*args: object, cwd: str | os.PathLike | None = None, stdin: str | bytes | None = None,
           env: Mapping[str, str] | None = None, replace_env: bool = False,
           text: bool = True) -> subprocess.CompletedProcess:
    """Run `comfydsl ARGS...` in this process: `comfydsl.cli.main(argv)` with its own cwd,
    environment (NO_COLOR removed, then `env` added; `replace_env` starts from an empty one),
    standard streams (not terminals) and signal handlers, all restored afterwards.

    Returns what `subprocess.run(..., capture_output=True, text=text)` would. Use it wherever
    the process itself is not under test; start-up, exit on signals and pipes keep a few
    tests of the real console script (`comfydsl_command`).
    """
    from comfydsl.cli import main

    argv = [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args]
    data = stdin.encode("utf-8") if isinstance(stdin, str) else (stdin or b"")
    out, err = io.BytesIO(), io.BytesIO()
    # Kept referenced until the bytes are read: a collected wrapper closes its buffer.
    streams = (io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"),
               io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               io.TextIOWrapper(err, encoding="utf-8", write_through=True))
    with _isolated(cwd, env, replace_env):
        sys.stdin, sys.stdout, sys.stderr = streams
        sys.argv = ["comfydsl", *argv]
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse (usage errors, --help, --version)
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
                code = 1
            else:
                code = exc.code or 0
        for stream in streams[1:]:
            stream.flush()
    stdout, stderr = out.getvalue(), err.getvalue()
    if text:
        return subprocess.CompletedProcess(["comfydsl", *argv], code, _decode(stdout), _decode(stderr))
    return subprocess.CompletedProcess(["comfydsl", *argv], code, stdout, stderr)
