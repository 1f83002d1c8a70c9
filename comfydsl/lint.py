"""Lint workflow JSON and `.comfy` recipes as a library call: what `comfydsl lint` prints.

```python
from comfydsl.lint import lint_paths, lint_text, lint_texts
from comfydsl.render import render

run = lint_paths(["recipes/", "workflows/*.json"], select=["CD2"])
print(render(run, "concise"))
result = lint_text(text, "portrait.comfy")      # one text; the name's ending picks the language
results = list(lint_texts([(name, text), ...])) # many texts: the same results, checked in batches
```

Findings are returned, never raised: `lint_text` gives a `FileResult` (path, kind,
diagnostics, source), `lint_paths` a `LintRun` (the results, the files skipped as
holding no workflow, and the notes a reader should see). The catalogue and model files
come in as a `Target` (`comfydsl.target.load_target`); the built-in catalogue is used
when none is given.

Bad arguments are errors of the caller: a path that does not exist raises
`FileNotFoundError`, a selector naming no rule `ValueError`. Heavy modules (the checks,
the recipe language) are imported when a file of their kind is linted, so importing this
module stays cheap.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .diagnostics import Diagnostic, Span, sort_diagnostics
from .render import MODELS_NOT_CHECKED, FileResult, LintRun
from .workflow.gcpause import gc_paused

if TYPE_CHECKING:
    from .target import Target

__all__ = [
    "FileResult",
    "LintRun",
    "STDIN",
    "SUFFIXES",
    "check_selectors",
    "collect_files",
    "excluded",
    "lint_files",
    "lint_image",
    "lint_paths",
    "normalize_selectors",
    "lint_text",
    "lint_texts",
    "read_text",
    "run_notes",
    "unreadable",
]

#: The file endings a directory search picks up: workflow JSON, recipes, and the PNG/WebP images
#: ComfyUI saves (an image without ComfyUI metadata found by searching is skipped).
SUFFIXES = (".json", ".comfy", ".png", ".webp")
#: The image endings among them (any case): read as bytes for their embedded workflow.
IMAGE_SUFFIXES = (".png", ".webp")
#: Directories a recursive search never enters.
SKIP_DIRS = frozenset({"node_modules", "__pycache__"})
#: The path that stands for standard input.
STDIN = "-"
#: The languages `lint_text` knows, for its `language` hint.
LANGUAGES = ("json", "recipe")

#: An exclude pattern, alone (relative to the current folder) or with the folder it is relative to.
Exclude = str | tuple[str, Path]


def default_target() -> Target:
    """The built-in node catalogue, without model files."""
    from .target import load_target

    return load_target()


# -- one text ------------------------------------------------------------------------


def lint_text(text: str, path: str = "<stdin>", *, target: Target | None = None, language: str | None = None,
              select: Sequence[str] = (), ignore: Sequence[str] = ()) -> FileResult:
    """The findings of one text, reported under `path`.

    `language` is `"json"` (a workflow, a RunPod body or a `/prompt` body) or `"recipe"`;
    by default a path ending in `.comfy` is a recipe and anything else JSON. `select` and
    `ignore` are code prefixes or rule names, as `comfydsl lint --select/--ignore` take them.
    A JSON text that holds no workflow at all gives a result of kind `"other"`.
    """
    if language is None:
        language = "recipe" if path.endswith(".comfy") else "json"
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    target = target or default_target()
    if language == "recipe":
        return _lint_recipe(text, path, target, select, ignore)
    return _lint_json(text, path, target, select, ignore)


def _lint_recipe(text: str, path: str, target: Target, select: Sequence[str], ignore: Sequence[str]) -> FileResult:
    from .dsl import lint_recipe
    from .validate import filter_codes

    text = text.removeprefix("\ufeff")  # as compile reads recipes: a byte order mark is not part of it
    diagnostics = list(lint_recipe(path, text, target))  # already in order, causes first
    return FileResult(path, "recipe", filter_codes(diagnostics, list(select), list(ignore)), text)


def _lint_json(text: str, path: str, target: Target, select: Sequence[str], ignore: Sequence[str]) -> FileResult:
    return _lint_json_batch([(path, text)], target, select, ignore)[0]


def _lint_json_batch(batch: Sequence[tuple[str, str]], target: Target, select: Sequence[str],
                     ignore: Sequence[str]) -> list[FileResult]:
    """`lint_text` of JSON texts, each step taken over the whole batch in turn (see
    `validate.read_documents`)."""
    read_documents, attach_spans, filter_codes = _json_steps()
    results: list[FileResult] = []
    # One pause of the cyclic collector for reading, checking and locating: each time it is
    # turned back on, its next collection walks every object made meanwhile that is still
    # alive, so it comes back on only once the workflows and their contexts are freed.
    with gc_paused():
        docs, found = read_documents(batch, catalog=target.catalog, models=target.models)
        for (path, text), doc, diagnostics in zip(batch, docs, found):
            if doc.kind == "ui":  # a UI-format file: converted first, findings placed in the UI file
                from .ui.check import check_ui_text

                diagnostics = check_ui_text(text, path=path, catalog=target.catalog, models=target.models,
                                            select=list(select), ignore=list(ignore), data=doc.body)
                results.append(FileResult(path, doc.kind, diagnostics, text))
                continue
            diagnostics = filter_codes(diagnostics, select, ignore)
            if diagnostics:  # located first, then sorted once, by position
                attach_spans(diagnostics, text, path=path, envelope=doc.envelope, data=doc.body)
                diagnostics = sort_diagnostics(diagnostics)
            results.append(FileResult(path, doc.kind, diagnostics, text))
        del docs, found
    return results


@lru_cache(maxsize=None)
def _json_steps() -> tuple[Any, Any, Any]:
    """`read_documents`, `attach_spans` and `filter_codes`, imported on first use (checking
    brings networkx), then at hand without an import statement per text."""
    from .validate import filter_codes, read_documents
    from .workflow.jsonpos import attach_spans

    return read_documents, attach_spans, filter_codes


#: `lint_texts` checks JSON texts in batches of at most this many texts and characters.
BATCH_TEXTS = 64
BATCH_CHARS = 1_000_000


def lint_texts(items: Iterable[tuple[str, str]], *, target: Target | None = None, select: Sequence[str] = (),
               ignore: Sequence[str] = ()) -> Iterator[FileResult]:
    """`lint_text(text, path, ...)` of each `(path, text)`, in order, with the same results.

    JSON texts are read, checked and located a batch at a time (`BATCH_TEXTS`, `BATCH_CHARS`),
    each step over the whole batch before the next: many small workflows are linted
    markedly faster so. Results come as each batch is done; only one batch's workflows are
    held at a time.
    """
    target = target or default_target()
    batch: list[tuple[str, str]] = []
    size = 0
    for path, text in items:
        if path.endswith(".comfy"):  # a recipe, linted on its own (after the texts before it)
            if batch:
                yield from _lint_json_batch(batch, target, select, ignore)
                batch, size = [], 0
            yield _lint_recipe(text, path, target, select, ignore)
            continue
        batch.append((path, text))
        size += len(text)
        if len(batch) >= BATCH_TEXTS or size >= BATCH_CHARS:
            yield from _lint_json_batch(batch, target, select, ignore)
            batch, size = [], 0
    if batch:
        yield from _lint_json_batch(batch, target, select, ignore)


def lint_image(path: str, shown: str | None = None, *, target: Target | None = None, select: Sequence[str] = (),
               ignore: Sequence[str] = ()) -> FileResult:
    """The findings of a PNG or WebP image ComfyUI saved, by the workflow in its metadata.

    The `prompt` metadata (the API prompt the image was made with) is checked when present,
    else the `workflow` (UI format, converted first); line and column refer to that embedded
    text. An image with no ComfyUI metadata, or that cannot be read, gives a result of kind
    `"other"` with one `not-a-workflow` finding (`lint_files` skips it when it was found by
    searching a folder).
    """
    from .ui.png import ImageMetadataError, read_image_metadata
    from .workflow.document import NOT_A_WORKFLOW

    shown = shown or path
    try:
        with open(path, "rb") as fh:
            meta = read_image_metadata(fh.read())
        problem = "the image carries no ComfyUI `prompt` or `workflow` metadata"
    except ImageMetadataError as exc:
        meta, problem = {}, f"cannot read the image: {exc}"
    except OSError as exc:
        return unreadable(shown, f"cannot read: {exc.strerror or exc}")
    text = meta.get("prompt", meta.get("workflow"))
    if text is None:
        diag = NOT_A_WORKFLOW.report(problem, span=Span(shown, 1, 1),
                                     help="ComfyUI writes its workflow into the PNG and WebP files its save nodes make")
        return FileResult(shown, "other", [diag], None)
    return lint_text(text, shown, target=target, language="json", select=select, ignore=ignore)


def read_text(path: str) -> tuple[str | None, str | None]:
    """The text of a file (`-`: standard input), or None and why it cannot be read."""
    try:
        if path == STDIN:
            return sys.stdin.buffer.read().decode("utf-8"), None
        from .workflow.files import read_text as read_file_text

        return read_file_text(path), None
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"


def unreadable(path: str, reason: str) -> FileResult:
    """The result of a file that could not be read at all: one CD001-family finding."""
    from .workflow.document import INVALID_JSON

    diag: Diagnostic = INVALID_JSON.report(reason, span=Span(path, 1, 1))
    return FileResult(path, "invalid", [diag], None)


# -- many paths ----------------------------------------------------------------------


def lint_paths(paths: Sequence[str] = (), *, target: Target | None = None, select: Sequence[str] = (),
               ignore: Sequence[str] = (), exclude: Iterable[Exclude] = (), only_workflows: bool = False,
               stdin_name: str | None = None, rules: list[Any] | None = None) -> LintRun:
    """Lint files, directories (searched for `*.json`, `*.comfy`, `*.png`, `*.webp`) and globs; `-` is standard input.

    No paths means the current directory. JSON files and images found by searching a folder
    that hold no workflow (`package.json`, a photo) are skipped and listed in `LintRun.skipped`; a file
    named on its own is skipped so only with `only_workflows`. `rules` is the rule table
    selectors are checked against (and SARIF lists); it is loaded when selectors are given.
    """
    files = collect_files(list(paths), _excludes(exclude))
    return lint_files(files, named=paths, target=target, select=select, ignore=ignore,
                      only_workflows=only_workflows, stdin_name=stdin_name, rules=rules)


def lint_files(files: Sequence[str], *, named: Iterable[str] | None = None, target: Target | None = None,
               select: Sequence[str] = (), ignore: Sequence[str] = (), only_workflows: bool = False,
               stdin_name: str | None = None, rules: list[Any] | None = None,
               read: Callable[[str], tuple[str | None, str | None]] = read_text) -> LintRun:
    """Lint files already found (see `collect_files`); `named` are the paths the user named
    (default: all of `files`), whose non-workflow JSON is reported rather than skipped.
    `read` gives a file's text or why it cannot be read (default: `read_text`)."""
    select, ignore = normalize_selectors(select), normalize_selectors(ignore)
    if rules is None and (select or ignore):
        from .rules.codes import all_rules  # the recipe rules come along: only when needed

        rules = all_rules()
    if rules is not None:
        check_selectors(select, rules)
        check_selectors(ignore, rules)
    target = target or default_target()
    given = files if named is None else named
    by_name = {os.path.realpath(p) for p in given if os.path.isfile(p)}
    results: list[FileResult] = []
    skipped: list[str] = []
    # (path, name shown, text) of the texts read and not linted yet: linted a batch at a time
    # (`lint_texts`), and before anything that comes after them in the results
    pending: list[tuple[str, str, str]] = []
    pending_chars = 0

    def keep(path: str, shown: str, result: FileResult) -> None:
        if result.kind == "other" and (only_workflows or os.path.realpath(path) not in by_name):
            skipped.append(shown)
        else:
            results.append(result)

    def flush() -> None:
        nonlocal pending_chars
        done = lint_texts([(shown, text) for _, shown, text in pending], target=target, select=select,
                          ignore=ignore)
        for (path, shown, _), result in zip(pending, done):
            keep(path, shown, result)
        pending.clear()
        pending_chars = 0

    for path in files:
        shown = (stdin_name or "<stdin>") if path == STDIN else path
        if path != STDIN and path.lower().endswith(IMAGE_SUFFIXES):
            flush()
            keep(path, shown, lint_image(path, shown, target=target, select=select, ignore=ignore))
            continue
        text, problem = read(path)
        if text is None:
            flush()
            results.append(unreadable(shown, problem or "cannot read"))
            continue
        pending.append((path, shown, text))
        pending_chars += len(text)
        if len(pending) >= BATCH_TEXTS or pending_chars >= BATCH_CHARS:
            flush()
    flush()
    return LintRun(results, models_checked=target.models_checked, rules=rules, skipped=skipped)


def run_notes(run: LintRun, format: str = "text") -> list[str]:
    """The notes a reader of `run` should see besides its findings (`comfydsl lint` prints
    them on standard error): skipped files, nothing checked, model files not checked."""
    notes = []
    if run.skipped:
        kind = "JSON file(s)" if all(p.lower().endswith(".json") for p in run.skipped) else "file(s)"
        notes.append(f"skipped {len(run.skipped)} {kind} that hold no workflow")
    if not run.files:
        notes.append("no .json or .comfy file to check")
    elif not run.models_checked and format in ("text", "concise", "github"):
        notes.append(MODELS_NOT_CHECKED)
    return notes


# -- selectors -----------------------------------------------------------------------


def normalize_selectors(values: Iterable[str]) -> list[str]:
    """Comma-separated selectors, split, with codes in upper case (`cd2` -> `CD2`)."""
    parts = (part.strip() for value in values for part in value.split(","))
    return [p.upper() if p[:2].lower() == "cd" and p[2:].isdigit() else p for p in parts if p]


def check_selectors(selectors: Iterable[str], rules: Sequence[Any]) -> None:
    """Every selector must name a rule or be a prefix of some rule's code; ValueError otherwise."""
    codes = [rule.code for rule in rules]
    names = {rule.name for rule in rules}
    for item in selectors:
        if item in names or (item.startswith("CD") and any(code.startswith(item) for code in codes)):
            continue
        import difflib

        close = difflib.get_close_matches(item, [*names, *codes], n=1)
        hint = f" (a rule with a similar name exists: `{close[0]}`)" if close else ""
        raise ValueError(f"`{item}` matches no rule code or name{hint}; see `comfydsl rules`")


# -- finding files -------------------------------------------------------------------


def _excludes(exclude: Iterable[Exclude]) -> list[tuple[str, Path]]:
    cwd = Path.cwd()
    return [item if isinstance(item, tuple) else (item, cwd) for item in exclude]


def collect_files(paths: list[str], exclude: list[tuple[str, Path]]) -> list[str]:
    """The files to lint, in a stable order, without duplicates or excluded ones.

    A directory is searched recursively for `*.json` and `*.comfy` (hidden folders,
    `node_modules` and `__pycache__` are skipped); a path that does not exist but holds
    glob characters is expanded here (also for shells that do not). A path that does not
    exist, or a pattern that matches nothing, raises FileNotFoundError.
    """
    found: list[str] = []
    for arg in paths or ["."]:
        if arg == STDIN:
            found.append(STDIN)
        elif os.path.isdir(arg):
            found += _walk(arg, exclude)
        elif os.path.exists(arg):
            found.append(arg)
        elif glob.has_magic(arg):
            found += _expand(arg, exclude)
        else:
            raise FileNotFoundError(f"{arg}: no such file or directory")
    seen: set[str] = set()
    unique = []
    for path in found:
        key = path if path == STDIN else os.path.realpath(path)
        if key not in seen and (path == STDIN or not excluded(path, exclude)):
            seen.add(key)
            unique.append(path)
    return unique


def _expand(pattern: str, exclude: list[tuple[str, Path]]) -> list[str]:
    matches = sorted(glob.glob(pattern, recursive=True))
    if not matches:
        raise FileNotFoundError(f"{pattern}: no file matches this pattern")
    found: list[str] = []
    for match in matches:
        if os.path.isdir(match):
            found += _walk(match, exclude)
        elif match.lower().endswith(SUFFIXES):
            found.append(match)
    return found


def _walk(root: str, exclude: list[tuple[str, Path]]) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
                             and not excluded(os.path.join(dirpath, d), exclude, folder=True))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not name.lower().endswith(SUFFIXES) or (os.path.exists(path) and not os.path.isfile(path)):
                continue  # a pipe, socket or device found by searching is no file to check (it could block)
            out.append(os.path.normpath(path))
    return out


def excluded(path: str, exclude: list[tuple[str, Path]], *, folder: bool = False) -> bool:
    """Whether `path` matches an exclude pattern, taken relative to the pattern's folder.

    A pattern matches the path relative to that folder, or the file's name alone
    (`*.ui.json`); `dir/**` also matches the folder `dir` itself.
    """
    if not exclude:
        return False
    absolute = Path(os.path.abspath(path))
    for pattern, base in exclude:
        pattern = pattern.replace(os.sep, "/").removeprefix("./")
        try:
            rel = absolute.relative_to(base.resolve() if base.exists() else base).as_posix()
        except ValueError:
            rel = absolute.as_posix()
        candidates = [rel, absolute.name]
        if folder:
            candidates.append(rel + "/")
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            return True
    return False
