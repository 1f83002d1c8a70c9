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
from .recipe import add_target_options, load_target_for, parse_sets, refuse_input_as_output, report


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
    parser.add_argument("workflow", metavar="WORKFLOW", help="the workflow: API or UI-format JSON, or a ComfyUI image")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the recipe to FILE (atomically); default stdout")
    parser.add_argument("--params", action="append", metavar="NAME[,NAME...]",
                        help="lift these inputs (e.g. seed,text) into `param` declarations, their values "
                             "becoming the defaults (repeatable)")
    add_target_options(parser)
    parser.set_defaults(handler=run_decompile)


def run_decompile(args: argparse.Namespace) -> int:
    """Decompile a workflow file; exit 1 when it cannot be read or written faithfully."""
    from ..dsl.decompile import decompile
    from ..ui.api import read_workflow

    if args.output and os.path.exists(args.output) and os.path.samefile(args.output, args.workflow):
        raise UsageError("-o names the input workflow; choose another file")
    target = load_target_for(args, args.workflow)
    doc, _ = read_workflow(args.workflow, target.catalog)  # API JSON, UI format (converted) or a ComfyUI image
    if doc.workflow is None or any(d.is_error for d in doc.diagnostics):
        report(doc.diagnostics, args.workflow, doc.text)
        return 1
    params = [p.strip() for item in args.params or () for p in item.split(",") if p.strip()]
    recipe = decompile(doc.workflow, target.catalog, params=params, source=os.path.basename(args.workflow))
    if doc.images:
        print(f"note: the {len(doc.images)} image(s) of `input.images` are not carried into the recipe; "
              "save them beside it and use file(\"...\") for the LoadImage inputs", file=sys.stderr)
    write_output(args.output, recipe)
    return 0


_PICTURE_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot", ".svg": "svg",
                     ".png": "png"}


def _graph_parser(sub) -> None:
    parser = sub.add_parser(
        "graph", help="draw a recipe or workflow as Mermaid, DOT, SVG or PNG",
        description="Draw the node graph of a .comfy recipe or a workflow JSON file: nodes labelled with "
                    "title, class and id, links with `OUTPUT -> input`. SVG and PNG need Graphviz (`dot`).")
    parser.add_argument("source", metavar="RECIPE|WORKFLOW",
                        help="a .comfy recipe, a workflow JSON file (API or UI format) or a ComfyUI PNG/WebP")
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
    if args.source.endswith(".comfy"):
        workflow = _recipe_workflow(args, target)
        if workflow is None:
            return 1
    else:
        if args.set:
            raise UsageError("--set applies to recipes only")
        from ..ui.api import read_workflow

        doc, _ = read_workflow(args.source, target.catalog)  # API JSON, UI format (converted) or a ComfyUI image
        if doc.workflow is None:
            report(doc.diagnostics, args.source, doc.text)
            return 1
        workflow = doc.workflow
    picture = render(workflow, fmt, target.catalog)
    write_output(args.output, picture)
    return 0


def _recipe_workflow(args: argparse.Namespace, target) -> dict | None:
    from ..dsl import Recipe
    from ..errors import CompileError

    recipe = Recipe(args.source, target=target)
    try:
        graph = recipe.graph(parse_sets(args.set))
    except CompileError as exc:
        report(exc.diagnostics, args.source, recipe.text)
        return None
    return graph.to_workflow()


#: The commands, in `--help` order: (name, function that adds its subparser).
COMMANDS: list[tuple[str, Callable]] = [
    ("fmt", _fmt_parser),
    ("decompile", _decompile_parser),
    ("graph", _graph_parser),
]


def register(subparsers) -> None:
    """Add the commands to the `comfydsl` parser."""
    for _, build in COMMANDS:
        build(subparsers)
