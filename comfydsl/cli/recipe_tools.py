"""Commands that rewrite or draw recipes and workflows: `comfydsl fmt`, `decompile` and `graph`.

They share recipe.py's helpers (target options, atomic output, diagnostics). Heavy modules are
imported inside handlers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from ..workflow.files import read_text
from .output import encode_text, replace_file, write_output, write_stdout
from .recipe import (STDIN, STDIN_NAME, add_target_options, load_target_for, parse_sets, read_stdin,
                     refuse_input_as_output, report)


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
        write_stdout(result)
        return 0
    paths, missing = _recipe_files(args.files)
    changed = failed = 0
    for path in paths:
        try:
            text = read_text(path, universal_newlines=True)
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
            replace_file(path, encode_text(result))
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


def _decompile_parser(sub) -> None:
    parser = sub.add_parser(
        "decompile", help="write a readable .comfy recipe from workflow JSON",
        description="Turn a workflow (API-format JSON, bare or in a RunPod or /prompt body; a UI-format file or "
                    "a PNG/WebP ComfyUI saved, converted first) into a "
                    ".comfy recipe that compiles back to the same workflow. What a recipe cannot express "
                    "exactly is refused (exit 1).")
    parser.add_argument("workflow", metavar="WORKFLOW",
                        help="the workflow: API or UI-format JSON, or a ComfyUI image; `-` reads standard input")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the recipe to FILE (atomically); default stdout")
    parser.add_argument("--params", action="append", metavar="NAME[,NAME...]",
                        help="lift these inputs (e.g. seed,text) into `param` declarations, their values "
                             "becoming the defaults (repeatable)")
    add_target_options(parser)
    parser.set_defaults(handler=run_decompile)


def run_decompile(args: argparse.Namespace) -> int:
    """Decompile a workflow file (or standard input); exit 1 when it cannot be read or written
    faithfully. The images a RunPod body uploads are saved beside the recipe (`-o`), which
    attaches them with `file(...)`."""
    from ..dsl.decompile import attachments, decompile
    from ..ui.api import read_workflow

    refuse_input_as_output(args.output, args.workflow)
    target = load_target_for(args, args.workflow)
    stdin = args.workflow == STDIN
    name = STDIN_NAME if stdin else args.workflow
    data = read_stdin().encode("utf-8") if stdin else None
    # API JSON, a RunPod or /prompt body, a UI-format file (converted) or a ComfyUI image
    doc, _ = read_workflow(name, target.catalog, data=data)
    if doc.workflow is None or any(d.is_error for d in doc.diagnostics):
        report(doc.diagnostics, name, doc.text)
        return 1
    params = [p.strip() for item in args.params or () for p in item.split(",") if p.strip()]
    document = doc.body if isinstance(doc.body, dict) and doc.kind != "ui" else doc.workflow
    recipe = decompile(document, target.catalog, params=params,
                       source=None if stdin else os.path.basename(args.workflow))
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
            replace_file(str(path), data)
    print(f"note: saved {names} beside the recipe (attached with file(...))", file=sys.stderr)


_PICTURE_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg",
                     ".png": "png"}


def _graph_parser(sub) -> None:
    parser = sub.add_parser(
        "graph", help="draw a recipe or workflow as Mermaid, DOT, SVG or PNG",
        description="Draw the node graph of a .comfy recipe or a workflow JSON file: nodes labelled with "
                    "title, class and id, links with `OUTPUT -> input`. SVG and PNG need Graphviz (`dot`).")
    parser.add_argument("source", metavar="RECIPE|WORKFLOW",
                        help="a .comfy recipe, a workflow JSON file (API or UI format) or a ComfyUI PNG/WebP; "
                             "`-` reads a recipe or JSON from standard input")
    parser.add_argument("--format", choices=("mermaid", "dot", "svg", "png"),
                        help="picture format (default: from the -o suffix, else mermaid)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the picture to FILE; default stdout")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="set",
                        help="give a recipe parameter a value (repeatable)")
    add_target_options(parser)
    parser.set_defaults(handler=run_graph)


def run_graph(args: argparse.Namespace) -> int:
    """Draw a recipe or workflow (or either from standard input); exit 1 when it cannot be
    read or Graphviz is missing."""
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
        from ..ui.api import read_workflow

        name = STDIN_NAME if stdin_text is not None else args.source
        data = stdin_text.encode("utf-8") if stdin_text is not None else None
        # API JSON, UI format (converted) or a ComfyUI image
        doc, _ = read_workflow(name, target.catalog, data=data)
        if doc.workflow is None:
            report(doc.diagnostics, name, doc.text)
            return 1
        workflow = doc.workflow
    picture = render(workflow, fmt, target.catalog)
    write_output(args.output, picture)
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
    parser.add_argument("--catalog", action="append", metavar="FILE|URL|PACK",
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


#: The commands, in `--help` order: (name, function that adds its subparser).
COMMANDS: list[tuple[str, Callable]] = [
    ("fmt", _fmt_parser),
    ("decompile", _decompile_parser),
    ("graph", _graph_parser),
    ("stubs", _stubs_parser),
]


def register(subparsers) -> None:
    """Add the commands to the `comfydsl` parser."""
    for _, build in COMMANDS:
        build(subparsers)
