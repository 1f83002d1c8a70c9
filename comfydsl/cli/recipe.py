"""Recipe commands: `comfydsl compile` and `comfydsl params`.

More recipe commands join by adding a `(name, builder)` pair to COMMANDS; a builder adds
its subparser and sets `handler=`. The helpers below (target options, `--set`, atomic
output, diagnostics) are shared by them. Heavy modules are imported inside handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from ..workflow.envelopes import ENVELOPES
from . import UsageError



# -- shared helpers -------------------------------------------------------------------------
def add_target_options(parser: argparse.ArgumentParser) -> None:
    """`--catalog`, `--models`, `--no-builtin`, `--config`: what the recipe is checked against."""
    parser.add_argument("--catalog", action="append", metavar="FILE|URL",
                        help="an object_info file or ComfyUI server, merged over the built-in catalogue "
                             "(repeatable; default: `catalog` of the configuration file)")
    parser.add_argument("--models", metavar="DIR|FILE",
                        help="the worker's models root or a model manifest (default: from the configuration)")
    parser.add_argument("--no-builtin", action="store_true", default=None,
                        help="do not start from the built-in catalogue")
    parser.add_argument("--config", metavar="FILE",
                        help="settings file (default: the nearest comfydsl.toml or pyproject.toml with "
                             "[tool.comfydsl], searched upward from the recipe's folder)")


def load_target_for(args: argparse.Namespace, recipe_path: str):
    """The Target from the command line, falling back to the configuration found upward
    from the recipe's folder."""
    from ..config import load_settings
    from ..target import load_target

    if args.config and not os.path.isfile(args.config):
        raise UsageError(f"{args.config}: no such configuration file")
    settings = load_settings(args.config, start=Path(recipe_path).resolve().parent)
    catalogs = list(args.catalog) if args.catalog else list(settings.catalog)
    models = args.models or settings.models
    builtin = not (args.no_builtin if args.no_builtin is not None else settings.no_builtin)
    return load_target(catalogs, models, builtin=builtin)


def parse_sets(items: list[str] | None) -> dict[str, str]:
    """`--set name=value` options as a dict; UsageError on a malformed or repeated one."""
    values: dict[str, str] = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"--set {item!r}: expected NAME=VALUE")
        if name in values:
            raise UsageError(f"--set: parameter `{name}` is set twice")
        values[name] = value
    return values


STDIN = "-"
#: How standard input is named in messages.
STDIN_NAME = "<stdin>"


def read_stdin() -> str:
    """Standard input as UTF-8 text (a BOM dropped); UsageError when it is not UTF-8."""
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{STDIN_NAME}: not UTF-8 text (byte {exc.start})") from None


def open_recipe(path: str, **options: Any):
    """The Recipe named on the command line; `-` reads it from standard input (imports and
    `file()` paths are then relative to the current folder)."""
    from ..dsl import Recipe

    if path == STDIN:
        return Recipe(STDIN_NAME, read_stdin(), **options)
    return Recipe(path, **options)


def write_output(path: str | None, text: str) -> None:
    """Write text to a file atomically (a temporary file renamed over it), or to stdout."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"-o {path}: is a folder")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"-o {path}: folder `{folder}` does not exist")
    _replace_file(path, text.encode("utf-8"))


def refuse_input_as_output(output: str | None, *inputs: str) -> None:
    """UsageError when `-o` names one of the command's input files (the input would be lost)."""
    if not output or output == "-" or not os.path.exists(output):
        return
    for item in inputs:
        if os.path.exists(item) and os.path.samefile(output, item):
            raise UsageError(f"-o {output}: that is the input file {item}; choose another output file")


def dump_json(data: Any) -> str:
    """Stable JSON text: the given key order (node ids already sorted), 2-space indent, final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def report(diagnostics: list, main_path: str, main_text: str | None, stream=None) -> None:
    """Print diagnostics in the text format, with source lines (those of imported files too)."""
    import os

    from ..render import FileResult, LintRun, render

    stream = stream or sys.stderr
    if not diagnostics:
        return
    color = stream.isatty() and not os.environ.get("NO_COLOR")
    stream.write(render(LintRun([FileResult(main_path, "recipe", diagnostics, main_text)]), "text", color=color))


# -- compile ------------------------------------------------------------------------------------
def _compile_parser(sub) -> None:
    parser = sub.add_parser(
        "compile", help="compile a .comfy recipe to ComfyUI API JSON",
        description="Compile a .comfy recipe into checked ComfyUI API-format workflow JSON. On errors, "
                    "print every diagnostic and exit 1.")
    parser.add_argument("recipe", metavar="RECIPE", help="the .comfy file; `-` reads standard input")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the JSON to FILE (atomically); default stdout")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="set",
                        help="give a recipe parameter a value (repeatable); `true`/`false` for bool")
    parser.add_argument("--envelope", choices=ENVELOPES, default="none",
                        help="none: the bare workflow; runpod: a RunPod request body with `input.images`; "
                             "prompt: a ComfyUI /prompt body")
    parser.add_argument("--body-limit", type=float, metavar="MB", default=20.0,
                        help="request size over which attachments are an error (default 20, RunPod /runsync; "
                             "over 10 MB is a warning)")
    add_target_options(parser)
    parser.set_defaults(handler=run_compile)


def run_compile(args: argparse.Namespace) -> int:
    """Compile a recipe; print diagnostics to stderr; exit 1 on errors."""
    values = parse_sets(args.set)
    refuse_input_as_output(args.output, args.recipe)
    if not 0 < args.body_limit < float("inf"):  # nan fails too
        raise UsageError("--body-limit must be a positive number of MB")
    target = load_target_for(args, args.recipe)
    recipe = open_recipe(args.recipe, target=target, envelope=args.envelope,
                         body_limit=int(args.body_limit * 1_000_000))
    graph, diagnostics = recipe.build(values)
    report(diagnostics, recipe.path, recipe.text)
    if graph is None or any(d.is_error for d in diagnostics):
        return 1
    write_output(args.output, dump_json(graph.envelope(graph.to_workflow(), args.envelope)))
    return 0


# -- params -----------------------------------------------------------------------------------
def _params_parser(sub) -> None:
    parser = sub.add_parser("params", help="list a recipe's parameters",
                            description="List the parameters of a .comfy recipe: names, types and defaults.")
    parser.add_argument("recipe", metavar="RECIPE", help="the .comfy file; `-` reads standard input")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run_params)


def run_params(args: argparse.Namespace) -> int:
    """Print the parameters; exit 1 (with the diagnostic) when the recipe does not parse."""
    from ..dsl.recipe import syntax_diagnostic
    from ..errors import ParseError

    recipe = open_recipe(args.recipe)
    try:
        params = recipe.params
    except ParseError as exc:
        report([syntax_diagnostic(exc)], recipe.path, recipe.text)
        return 1
    if args.format == "json":
        sys.stdout.write(dump_json({"recipe": args.recipe, "params": [p.to_dict() for p in params]}))
        return 0
    if not params:
        print("the recipe has no parameters")
        return 0
    width = max(len(p.name) for p in params)
    for p in params:
        shown = "(required)" if p.required else "= " + (
            json.dumps(p.default, ensure_ascii=False) if p.default is not None else p.default_text or "")
        print(f"{p.name.ljust(width)}  {p.type.ljust(5)}  {shown}")
    return 0


# -- fmt, decompile, graph ------------------------------------------------------------------------
def _fmt_parser(sub) -> None:
    parser = sub.add_parser(
        "fmt", help="format .comfy recipes in the canonical layout",
        description="Rewrite .comfy recipes in one canonical layout (see docs/recipes-examples.md), keeping "
                    "comments. Files are replaced atomically and only when they change.")
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="recipe files, or folders searched for *.comfy; `-` formats stdin to stdout")
    parser.add_argument("--check", action="store_true",
                        help="write nothing: list the files that would change, and exit 1 if there are any")
    parser.set_defaults(handler=run_fmt)


def run_fmt(args: argparse.Namespace) -> int:
    """Format recipes in place (or `--check` them); exit 1 on syntax errors or, with
    `--check`, when a file would change."""
    from ..dsl.fmt import format_source
    from ..dsl.recipe import syntax_diagnostic
    from ..errors import ParseError, RecipeError

    if "-" in args.files:
        if len(args.files) != 1:
            raise UsageError("`-` (standard input) cannot be mixed with files")
        try:
            text = sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            print(f"error: <stdin>: not UTF-8 text (byte {exc.start})", file=sys.stderr)
            return 1
        text = text.replace("\r\n", "\n")  # as a file is read
        try:
            result = format_source(text, "<stdin>")
        except ParseError as exc:
            report([syntax_diagnostic(exc)], "<stdin>", text)
            return 1
        if args.check:
            if result != text:
                print("<stdin>")
            return int(result != text)
        sys.stdout.write(result)
        return 0
    paths, missing = _recipe_files(args.files)
    changed = failed = 0
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: {path}: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            failed += 1
            continue
        try:
            result = format_source(text, path)
        except ParseError as exc:
            report([syntax_diagnostic(exc)], path, text)
            failed += 1
            continue
        except RecipeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        if result == text:
            continue
        changed += 1
        if args.check:
            print(path)
        else:
            _replace_file(path, result.encode("utf-8"))
            print(f"reformatted {path}", file=sys.stderr)
    verb = "would be reformatted" if args.check else "reformatted"
    print(f"{changed} file(s) {verb}, {len(paths) - changed - failed} unchanged"
          + (f", {failed + missing} with errors" if failed + missing else ""), file=sys.stderr)
    return int(bool(failed or missing or (args.check and changed)))


def _recipe_files(items: list[str]) -> tuple[list[str], int]:
    found: list[str] = []
    missing = 0
    for item in items:
        path = Path(item)
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*.comfy")
                            if not any(part.startswith(".") for part in p.relative_to(path).parts)
                            and (p.is_file() or not p.exists()))  # no pipe or device: reading it could block
        elif path.is_file():
            found.append(item)
        else:
            print(f"error: {item}: no such file or folder", file=sys.stderr)
            missing += 1
    return list(dict.fromkeys(found)), missing


def _replace_file(path: str, data: bytes) -> None:
    """Write `data` over `path` atomically, keeping the file's permissions (and a symlink's target)."""
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


def _decompile_parser(sub) -> None:
    parser = sub.add_parser(
        "decompile", help="write a readable .comfy recipe from workflow JSON",
        description="Turn API-format workflow JSON (bare, a RunPod request body or a /prompt body) into a "
                    ".comfy recipe that compiles back to the same workflow. What a recipe cannot express "
                    "exactly is refused (exit 1).")
    parser.add_argument("workflow", metavar="WORKFLOW", help="the workflow JSON file; `-` reads standard input")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the recipe to FILE (atomically); default stdout")
    parser.add_argument("--params", action="append", metavar="NAME[,NAME...]",
                        help="lift these inputs (e.g. seed,text) into `param` declarations, their values "
                             "becoming the defaults (repeatable)")
    add_target_options(parser)
    parser.set_defaults(handler=run_decompile)


def run_decompile(args: argparse.Namespace) -> int:
    """Decompile a workflow file; exit 1 when it cannot be read or written faithfully."""
    from ..workflow.document import read_document
    from ..dsl.decompile import attachments, decompile

    refuse_input_as_output(args.output, args.workflow)
    name = STDIN_NAME if args.workflow == STDIN else args.workflow
    text = read_stdin() if args.workflow == STDIN else _read_workflow_text(args.workflow)
    doc = read_document(text, name)
    if doc.workflow is None or any(d.is_error for d in doc.diagnostics):
        report(doc.diagnostics, name, text)
        return 1
    target = load_target_for(args, args.workflow)
    params = [p.strip() for item in args.params or () for p in item.split(",") if p.strip()]
    document = doc.body if isinstance(doc.body, dict) else doc.workflow
    recipe = decompile(document, target.catalog, params=params,
                       source=None if args.workflow == STDIN else os.path.basename(args.workflow))
    files = attachments(document)
    if files:
        _save_attachments(files, args.output)
    skipped = len(doc.images or ()) - len(files)
    if skipped:
        print(f"note: {skipped} image(s) of `input.images` are not carried into the recipe (a name with a "
              "folder, or data that is not plain base64)", file=sys.stderr)
    write_output(args.output, recipe)
    return 0


def _save_attachments(files: dict[str, bytes], output: str | None) -> None:
    """Save the images the decompiled recipe attaches with `file(...)` beside it; to standard
    output, say which files the recipe expects. Never overwrites a different file."""
    names = ", ".join(f"`{n}`" for n in files)
    if not output or output == STDIN:
        print(f"note: the recipe attaches {names} with file(...); save the images of `input.images` "
              "beside it (or decompile with -o FILE, which does)", file=sys.stderr)
        return
    folder = Path(output).resolve().parent
    for name, data in files.items():
        path = folder / name
        if path.exists():
            if path.is_file() and path.read_bytes() == data:
                continue
            raise UsageError(f"{path}: exists with other content; the recipe attaches `{name}` from there, "
                             "so move it away first")
    for name, data in files.items():
        path = folder / name
        if not path.exists():
            _replace_file(str(path), data)
    print(f"note: saved {names} beside the recipe (attached with file(...))", file=sys.stderr)


def _read_workflow_text(path: str) -> str:
    from ..errors import WorkflowError

    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


_PICTURE_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg",
                     ".png": "png"}


def _graph_parser(sub) -> None:
    parser = sub.add_parser(
        "graph", help="draw a recipe or workflow as Mermaid, DOT, SVG or PNG",
        description="Draw the node graph of a .comfy recipe or a workflow JSON file: nodes labelled with "
                    "title, class and id, links with `OUTPUT -> input`. SVG and PNG need Graphviz (`dot`).")
    parser.add_argument("source", metavar="RECIPE|WORKFLOW",
                        help="a .comfy recipe or a workflow JSON file; `-` reads either from standard input")
    parser.add_argument("--format", choices=("mermaid", "dot", "svg", "png"),
                        help="picture format (default: from the -o suffix, else mermaid)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the picture to FILE; default stdout")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="set",
                        help="give a recipe parameter a value (repeatable)")
    add_target_options(parser)
    parser.set_defaults(handler=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    """Draw a recipe or workflow; exit 1 when it cannot be read or Graphviz is missing."""
    from ..render.graph import render

    fmt = args.format or _PICTURE_SUFFIXES.get(Path(args.output or "").suffix.lower(), "mermaid")
    if fmt == "png" and not args.output and sys.stdout.isatty():
        raise UsageError("PNG output is binary; give -o FILE or redirect standard output")
    refuse_input_as_output(args.output, args.source)
    target = load_target_for(args, args.source)
    stdin_text = read_stdin() if args.source == STDIN else None
    is_json = stdin_text is not None and stdin_text.lstrip().startswith(("{", "["))
    if args.source.endswith(".comfy") or (stdin_text is not None and not is_json):
        workflow = _recipe_workflow(args, target, stdin_text)
        if workflow is None:
            return 1
    else:
        if args.set:
            raise UsageError("--set applies to recipes only")
        from ..workflow.document import read_document

        name = STDIN_NAME if stdin_text is not None else args.source
        text = stdin_text if stdin_text is not None else _read_workflow_text(args.source)
        doc = read_document(text, name)
        if doc.workflow is None:
            report(doc.diagnostics, name, text)
            return 1
        workflow = doc.workflow
    picture = render(workflow, fmt, target.catalog)
    data = picture.encode("utf-8") if isinstance(picture, str) else picture
    if args.output and args.output != "-":
        _replace_file(args.output, data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def _recipe_workflow(args: argparse.Namespace, target, stdin_text: str | None = None) -> dict | None:
    from ..dsl import Recipe
    from ..errors import CompileError

    recipe = Recipe(STDIN_NAME, stdin_text, target=target) if stdin_text is not None else Recipe(args.source, target=target)
    try:
        graph = recipe.graph(parse_sets(args.set))
    except CompileError as exc:
        report(exc.diagnostics, recipe.path, recipe.text)
        return None
    return graph.to_workflow()


# -- stubs --------------------------------------------------------------------------------------
def _stubs_parser(sub) -> None:
    parser = sub.add_parser(
        "stubs", help="write type stubs of the graph API for a catalogue",
        description="Write a typed package `comfydsl_nodes` into DIR: the graph API with a method per node class "
                    "(typed inputs, combo options as Literal, named outputs), for editors and type checkers. "
                    "Use it as `from comfydsl_nodes import Graph` with DIR on the import path. The built-in "
                    "catalogue's stubs ship with comfydsl: `from comfydsl.graph.typed import Graph`.")
    parser.add_argument("-o", "--output", metavar="DIR", required=True, help="the folder to write `comfydsl_nodes/` into")
    parser.add_argument("--catalog", action="append", metavar="FILE|URL",
                        help="an object_info file, server or pack, merged over the built-in catalogue (repeatable)")
    parser.add_argument("--no-builtin", action="store_true", default=None, help="do not start from the built-in catalogue")
    parser.add_argument("--config", metavar="FILE", help="settings file (default: the nearest comfydsl.toml)")
    parser.set_defaults(handler=run_stubs, models=None)


def run_stubs(args: argparse.Namespace) -> int:
    """Write the stub package; exit 2 when the folder cannot be written."""
    from ..graph.stubs import write_stub_package

    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {args.output}: is not a folder")
    target = load_target_for(args, os.path.join(args.output, "x"))
    source = ", ".join(args.catalog) if args.catalog else "the built-in catalogue"
    try:
        files = write_stub_package(target.catalog, folder, source)
    except OSError as exc:
        raise UsageError(f"-o {args.output}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {files[1]} ({sum(1 for _ in target.catalog)} node classes)", file=sys.stderr)
    return 0


#: The recipe commands, in `--help` order: (name, function that adds its subparser).
COMMANDS: list[tuple[str, Callable]] = [
    ("compile", _compile_parser),
    ("params", _params_parser),
    ("fmt", _fmt_parser),
    ("decompile", _decompile_parser),
    ("graph", _graph_parser),
    ("stubs", _stubs_parser),
]


def register(subparsers) -> None:
    """Add the recipe commands to the `comfydsl` parser."""
    for _, build in COMMANDS:
        build(subparsers)
