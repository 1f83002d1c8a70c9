"""Recipe commands: `comfydsl compile` and `comfydsl params` (`fmt`, `decompile` and `graph` are in
`recipe_tools.py`).

More recipe commands join by adding a `(name, builder)` pair to COMMANDS; a builder adds
its subparser and sets `handler=`. The helpers below (target options, `--set`, atomic
output, diagnostics) are shared by them. Heavy modules are imported inside handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

from ..workflow.envelopes import ENVELOPES
from . import UsageError
from .output import (dump_json, refuse_input_as_output, write_output,  # noqa: F401
                     write_stdout)



# -- shared helpers -------------------------------------------------------------------------
def add_target_options(parser: argparse.ArgumentParser) -> None:
    """`--catalog`, `--models`, `--no-builtin`, `--config`: what the recipe is checked against."""
    parser.add_argument("--catalog", action="append", metavar="FILE|URL|PACK",
                        help="an object_info file or ComfyUI server, merged over the built-in catalogue "
                             "(repeatable; default: `catalog` of the configuration file)")
    parser.add_argument("--models", metavar="DIR|FILE|VOLUME",
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
        bad = _undecodable(item)
        if bad is not None:
            raise UsageError(f"--set {name}: not UTF-8 text (byte 0x{bad[1]:02x} at offset {bad[0]} of the "
                             "option); give the value as UTF-8")
        values[name] = value
    return values


def _undecodable(arg: str) -> tuple[int, int] | None:
    """(offset, byte) of the first byte of a command-line argument that is not UTF-8: Python
    hands such bytes over as lone surrogates (`surrogateescape`), which no output could carry."""
    try:
        raw = arg.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that did not come from a byte (a caller's own str)
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start, raw[exc.start]
    return None


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
        "compile", help="compile a .comfy recipe to ComfyUI API JSON (or a UI-format file)",
        description="Compile a .comfy recipe into checked ComfyUI API-format workflow JSON. On errors, "
                    "print every diagnostic and exit 1.")
    parser.add_argument("recipe", metavar="RECIPE", help="the .comfy file; `-` reads standard input")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the JSON to FILE (atomically); default stdout")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", dest="set",
                        help="give a recipe parameter a value (repeatable); `true`/`false` for bool")
    parser.add_argument("--envelope", choices=ENVELOPES, default="none",
                        help="none: the bare workflow; runpod: a RunPod request body with `input.images`; "
                             "prompt: a ComfyUI /prompt body")
    parser.add_argument("--format", choices=("api", "ui"), default="api",
                        help="api: API-format JSON (default); ui: a UI-format workflow with an automatic layout, "
                             "to open in ComfyUI's editor")
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
    if args.format == "ui" and args.envelope != "none":
        raise UsageError("--format ui writes a bare UI-format file; it takes no --envelope")
    target = load_target_for(args, args.recipe)
    recipe = open_recipe(args.recipe, target=target, envelope=args.envelope,
                         body_limit=int(args.body_limit * 1_000_000))
    graph, diagnostics = recipe.build(values)
    report(diagnostics, recipe.path, recipe.text)
    if graph is None or any(d.is_error for d in diagnostics):
        return 1
    if args.format == "ui":
        from ..ui.write import write_ui

        document, lost = write_ui(graph.to_workflow(), target.catalog)
        report([graph.locate(d) for d in lost], args.recipe, recipe.text)
        write_output(args.output, dump_json(document))
        return 0
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
        write_stdout(dump_json({"recipe": args.recipe, "params": [p.to_dict() for p in params]}))
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


#: The recipe commands, in `--help` order: (name, function that adds its subparser).
COMMANDS: list[tuple[str, Callable]] = [
    ("compile", _compile_parser),
    ("params", _params_parser),
]


def register(subparsers) -> None:
    """Add the recipe commands to the `comfydsl` parser."""
    for _, build in COMMANDS:
        build(subparsers)
