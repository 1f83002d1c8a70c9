"""The properties the fuzzing suite checks, shared by the tests and `benchmarks/fuzz.py`.

Each `check_*` function runs every command that takes such an input (in process, through
`support.invoke`) and returns a list of failures (empty when all held):

* no traceback, and an exit status in {0, 1, 2};
* no command over TIME_BOUND seconds;
* for recipes: `fmt` idempotent, and meaning-preserving (the formatted recipe compiles to
  the same workflow);
* for long workflow texts: reading them in parts, and linting them so, gives what reading and
  linting them whole gives (`check_long`);
* for workflows `decompile` accepts: compiling the recipe gives the workflow back
  (`check_round_trip`, kept apart: it holds once `author`'s decompile work is merged).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from support import invoke

#: Seconds any one command may take on a fuzzed input (the inputs are small).
TIME_BOUND = 10.0


def _run(failures: list[str], *args, cwd, stdin=None) -> object:
    started = time.monotonic()
    shown = " ".join(str(a) for a in args)
    try:
        result = invoke(*args, cwd=cwd, stdin=stdin, text=False)
    except Exception as exc:  # noqa: BLE001 - what the real script would print as a traceback
        failures.append(f"`{shown}` raised {type(exc).__name__}: {str(exc)[:200]}")
        return None
    took = time.monotonic() - started
    if b"Traceback" in result.stderr or result.returncode not in (0, 1, 2):
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        failures.append(f"`{shown}` exit {result.returncode}: {' | '.join(tail)}")
    if took > TIME_BOUND:
        failures.append(f"`{shown}` took {took:.1f} s")
    for name, data in (("stdout", result.stdout), ("stderr", result.stderr)):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            failures.append(f"`{shown}` wrote {name} that is not UTF-8 (byte {exc.start})")
    return result


def _folder() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="comfydsl-fuzz-")


def check_recipe(text: str) -> list[str]:
    """Every recipe command on `text`, plus fmt's idempotence and meaning."""
    failures: list[str] = []
    with _folder() as tmp:
        folder = Path(tmp)
        path = folder / "r.comfy"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        for args in (("compile", "r.comfy"), ("compile", "r.comfy", "-o", "out.json"), ("params", "r.comfy"),
                     ("params", "r.comfy", "--format", "json"), ("lint", "r.comfy"), ("fmt", "--check", "r.comfy"),
                     ("graph", "r.comfy")):
            _run(failures, *args, cwd=folder)
        failures += check_fmt(text, folder)
    return failures


def check_fmt(text: str, folder: Path) -> list[str]:
    """`fmt` twice changes nothing the second time, and the formatted recipe compiles the same."""
    from comfydsl.dsl.fmt import format_source
    from comfydsl.errors import RecipeError

    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return []  # not a file a recipe could be
    try:
        once = format_source(text, "r.comfy")
    except RecipeError:
        return []
    except RecursionError:
        return ["fmt: RecursionError"]
    failures = []
    try:
        twice = format_source(once, "r.comfy")
    except RecipeError as exc:
        return [f"fmt output does not parse: {exc}"]
    if twice != once:
        failures.append("fmt is not idempotent")
    before, after = _compiled(text, folder), _compiled(once, folder)
    if before != after:
        failures.append("fmt changed what the recipe compiles to")
    return failures


def _compiled(text: str, folder: Path) -> object:
    path = folder / "meaning.comfy"
    path.write_text(text, encoding="utf-8")
    result = invoke("compile", path.name, cwd=folder, text=False)
    return (result.returncode, result.stdout)


def check_workflow(text: str) -> list[str]:
    """Every workflow command on `text`."""
    failures: list[str] = []
    with _folder() as tmp:
        folder = Path(tmp)
        (folder / "w.json").write_bytes(text.encode("utf-8", "surrogatepass"))
        for args in (("lint", "w.json"), ("lint", "--format", "json", "w.json"), ("lint", "--format", "sarif", "w.json"),
                     ("graph", "w.json"), ("decompile", "w.json", "-o", "d.comfy")):
            _run(failures, *args, cwd=folder)
        _run(failures, "lint", "-", cwd=folder, stdin=text.encode("utf-8", "surrogatepass"))
    return failures


def check_round_trip(text: str) -> list[str]:
    """For a workflow that lints clean and that `decompile` accepts: its recipe compiles back to
    the same workflow."""
    from comfydsl.workflow.document import read_document

    with _folder() as tmp:
        folder = Path(tmp)
        (folder / "w.json").write_bytes(text.encode("utf-8", "surrogatepass"))
        if invoke("lint", "w.json", cwd=folder).returncode != 0:
            return []  # `compile` refuses what lint finds errors in: only clean workflows can come back
        result = invoke("decompile", "w.json", "-o", "d.comfy", cwd=folder)
        if result.returncode != 0:
            return []
        compiled = invoke("compile", "d.comfy", cwd=folder, text=False)
        doc = read_document(text)
        if compiled.returncode != 0:
            return ["decompiled recipe does not compile: "
                    + compiled.stderr.decode("utf-8", "replace").strip().splitlines()[0]]
        if json.loads(compiled.stdout) != doc.workflow:
            return ["decompile then compile gives a different workflow"]
    return []


def check_long(text: str) -> list[str]:
    """A long text read and linted in parts gives the document and findings of a whole read."""
    from unittest import mock

    from comfydsl.lint import lint_text
    from comfydsl.workflow import document

    def seen() -> tuple:
        doc = document.read_document(text, "w.json")
        found = lint_text(text, "w.json")
        return ((doc.kind, doc.envelope, doc.duplicates, doc.workflow, [d.to_dict() for d in doc.diagnostics]),
                (found.kind, [d.to_dict() for d in found.diagnostics]))

    started = time.monotonic()
    in_parts = seen()
    with mock.patch.object(document, "PARTS_FROM", len(text) + 1):
        whole = seen()
    failures = []
    if time.monotonic() - started > 2 * TIME_BOUND:
        failures.append(f"reading and linting it twice took over {2 * TIME_BOUND:.0f} s")
    if in_parts[0] != whole[0]:
        failures.append("reading in parts gives another document than reading whole")
    if in_parts[1] != whole[1]:
        failures.append("linting in parts finds other things than linting whole")
    return failures


def check_catalogue(text: str) -> list[str]:
    """The commands that take `--catalog`, given a fuzzed catalogue."""
    failures: list[str] = []
    workflow = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
                "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}
    with _folder() as tmp:
        folder = Path(tmp)
        (folder / "c.json").write_bytes(text.encode("utf-8", "surrogatepass"))
        (folder / "w.json").write_text(json.dumps(workflow), encoding="utf-8")
        (folder / "r.comfy").write_text('ckpt = CheckpointLoaderSimple(ckpt_name="a.safetensors")\n'
                                        'SaveImage(images=VAEDecode(samples=EmptyLatentImage(width=64, height=64, '
                                        'batch_size=1), vae=ckpt.VAE), filename_prefix="x")\n', encoding="utf-8")
        for args in (("lint", "--catalog", "c.json", "w.json"), ("compile", "--catalog", "c.json", "r.comfy"),
                     ("decompile", "--catalog", "c.json", "w.json"), ("schema", "--catalog", "c.json")):
            _run(failures, *args, cwd=folder)
    return failures


def check_api(program) -> list[str]:
    """A Python API program ends normally or with TypeError/ValueError/the library's errors."""
    try:
        program.run()
    except RecursionError:
        return [f"{program!r}: RecursionError"]
    except Exception as exc:  # noqa: BLE001 - any other exception is the finding
        return [f"{program!r}: {type(exc).__name__}: {exc}"[:500]]
    return []


CHECKS = {"recipe": check_recipe, "workflow": check_workflow, "long": check_long, "catalogue": check_catalogue,
          "api": check_api}
