"""`comfydsl lint`, `comfydsl rules` and `comfydsl schema`.

Module level imports stay light (the standard library only): the catalogue, the checks
and the renderers are imported inside the handlers, so `comfydsl lint` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from . import UsageError

FORMATS = ("text", "concise", "json", "github", "sarif")
STDIN = "-"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `lint`, `rules` and `schema` commands."""
    lint = sub.add_parser(
        "lint", help="check workflow JSON files and recipes",
        description="Check ComfyUI workflow JSON (API format, RunPod and /prompt bodies, UI format), the "
                    "PNG/WebP images ComfyUI saves, and .comfy recipes against a node catalogue and, if given, the worker's model files.")
    lint.add_argument("paths", nargs="*", metavar="PATH",
                      help="files, directories (searched for *.json, *.comfy, *.png, *.webp) or globs; `-` reads "
                           "standard input; default: the current directory")
    _target_options(lint)
    lint.add_argument("--models", metavar="DIR|FILE|VOLUME",
                      help="the worker's files: a models folder, a ComfyUI base folder (models/ and input/), "
                           "a network volume (runpod-volume:DIR, or runpod-volume://VOLUME_ID@DATACENTER over "
                           "the S3 API) or a manifest written by `comfydsl models`")
    lint.add_argument("--worker-version", metavar="VERSION",
                      help="the worker-comfyui version that reads a network volume's models (default: 5.8.5, "
                           "the newest release; `dev` for the development line)")
    lint.add_argument("--format", choices=FORMATS, help="output format (default: text)")
    lint.add_argument("--output-file", "-o", metavar="FILE", help="write the report to FILE")
    lint.add_argument("--strict", action="store_true", default=None, help="fail on warnings too")
    lint.add_argument("--select", action="append", metavar="CODES",
                      help="only these rules (comma-separated code prefixes or names; repeatable)")
    lint.add_argument("--ignore", action="append", metavar="CODES",
                      help="skip these rules (comma-separated code prefixes or names; repeatable)")
    lint.add_argument("--exclude", action="append", metavar="GLOB", default=[],
                      help="skip files matching GLOB (repeatable)")
    lint.add_argument("--only-workflows", action="store_true",
                      help="skip files that hold no workflow at all (package.json, a photo) even when named; "
                           "files found by searching a directory are always skipped so")
    lint.add_argument("--stdin-filename", metavar="NAME",
                      help="the name to report standard input under (its ending picks JSON or recipe)")
    lint.set_defaults(handler=run_lint)

    rules = sub.add_parser("rules", help="list the rules, or explain one",
                           description="List every rule, or print one rule's documentation.")
    rules.add_argument("rule", nargs="?", metavar="CODE|NAME", help="a rule code or name")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=run_rules)

    schema = sub.add_parser(
        "schema", help="print a JSON Schema of workflows for the active catalogue",
        description="Write a JSON Schema (draft 2020-12) of API-format workflows, specialised to "
                    "the node catalogue, for editors and other validators.")
    _target_options(schema)
    schema.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE")
    schema.set_defaults(handler=run_schema)


def _target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", action="append", metavar="FILE|URL|PACK",
                        help="an object_info file or ComfyUI server, merged over the built-in "
                             "catalogue (repeatable, later ones win)")
    parser.add_argument("--no-builtin", action="store_true", default=None,
                        help="do not start from the built-in catalogue")
    parser.add_argument("--config", metavar="FILE",
                        help="settings file (default: the nearest comfydsl.toml or pyproject.toml "
                             "with [tool.comfydsl])")


# -- options ---------------------------------------------------------------------------


@dataclass
class Options:
    """The settings of one lint run: configuration file merged with the command line."""

    catalogs: list[str]
    models: str | None
    builtin: bool
    worker_version: str | None
    format: str
    strict: bool
    select: list[str]
    ignore: list[str]
    exclude: list[tuple[str, Path]]  # (pattern, folder it is relative to)
    config: Path | None = None  # the settings file, if any

    def origin(self, key: str, args: argparse.Namespace) -> str:
        """Where a setting came from, for messages: `--select`, or `comfydsl.toml: select`."""
        return f"--{key}" if getattr(args, key, None) or self.config is None else f"{self.config}: `{key}`"


def resolve_options(args: argparse.Namespace) -> Options:
    """Read the configuration file and let the command line override it."""
    from ..config import load_settings
    from ..errors import ConfigError

    if args.config and not os.path.isfile(args.config):
        raise UsageError(f"{args.config}: no such configuration file")
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    fmt = getattr(args, "format", None) or settings.format or "text"
    if fmt not in FORMATS:
        raise UsageError(f"{settings.path}: `format` must be one of {', '.join(FORMATS)}, not {fmt!r}")
    cwd = Path.cwd()
    return Options(
        catalogs=list(args.catalog) if args.catalog else list(settings.catalog),
        models=getattr(args, "models", None) or settings.models,
        worker_version=getattr(args, "worker_version", None) or settings.worker_version,
        builtin=not (args.no_builtin if args.no_builtin is not None else settings.no_builtin),
        format=fmt,
        strict=bool(getattr(args, "strict", None)) or settings.strict,
        select=_split(getattr(args, "select", None) or settings.select),
        ignore=_split(getattr(args, "ignore", None) or settings.ignore),
        exclude=[(p, cwd) for p in getattr(args, "exclude", None) or ()]
        + [(p, settings.root) for p in settings.exclude],
        config=settings.path,
    )


def _split(values: Iterable[str]) -> list[str]:
    from ..lint import normalize_selectors

    return normalize_selectors(values)


def check_selectors(selectors: Iterable[str], rules: list[Any], option: str) -> None:
    """Every selector must name a rule or be a prefix of some rule's code; a usage error naming
    `option` otherwise."""
    from ..lint import check_selectors as check

    try:
        check(selectors, rules)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def load_target_or_exit(options: Options):
    """The target worker's catalogues; a bad catalogue or manifest is a usage error."""
    from ..errors import CatalogError
    from ..target import load_target

    try:
        return load_target(options.catalogs, options.models, builtin=options.builtin,
                           worker_version=options.worker_version)
    except CatalogError as exc:
        raise UsageError(str(exc)) from None


def collect_files(paths: list[str], exclude: list[tuple[str, Path]]) -> list[str]:
    """The files to lint (see `comfydsl.lint.collect_files`); a missing path is a usage error."""
    from ..lint import collect_files as collect

    try:
        return collect(paths, exclude)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None


def run_lint(args: argparse.Namespace) -> int:
    """The `lint` command."""
    options = resolve_options(args)
    files = collect_files(args.paths, options.exclude)
    if args.output_file:
        _check_output(args.output_file, files)
    target = load_target_or_exit(options)
    rules = None
    if options.select or options.ignore or options.format == "sarif":
        from ..rules.codes import all_rules  # the recipe rules come along: only when needed

        rules = all_rules()
        check_selectors(options.select, rules, options.origin("select", args))
        check_selectors(options.ignore, rules, options.origin("ignore", args))
    from ..lint import lint_files

    run = lint_files(files, named=args.paths, target=target, select=options.select, ignore=options.ignore,
                     only_workflows=args.only_workflows, stdin_name=args.stdin_filename, rules=rules)
    report(run, options, args.output_file)
    return exit_status(run, options.strict)


def exit_status(run, strict: bool) -> int:
    """1 if the run has errors (or warnings, when strict), else 0."""
    summary = run.summary()
    return 1 if summary["errors"] or (strict and summary["warnings"]) else 0


def report(run, options: Options, output_file: str | None) -> None:
    """Write the rendered run, and the once-per-run note about model files."""
    from ..lint import run_notes
    from ..render import render

    for note in run_notes(run, options.format):
        print(f"note: {note}", file=sys.stderr)
    color = (output_file is None and options.format == "text" and sys.stdout.isatty()
             and not os.environ.get("NO_COLOR"))
    text = render(run, options.format, color=color)
    write_file(output_file, text)


def _check_output(output: str, files: list[str]) -> None:
    real = os.path.realpath(output)
    if any(f != STDIN and os.path.realpath(f) == real for f in files):
        raise UsageError(f"{output}: the output file is one of the files to check; choose another")
    if os.path.isdir(output):
        raise UsageError(f"{output}: the output file is a directory")
    folder = os.path.dirname(output) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"{output}: folder `{folder}` does not exist")


def write_file(path: str | None, text: str) -> None:
    """Write `text` to `path` (None: standard output) through the commands' one writer
    (`cli.output`): atomic, never over a file the run read, surrogates escaped; a write
    error is a usage error."""
    from .output import write_output

    try:
        write_output(path, text)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from None


# -- rules -----------------------------------------------------------------------------


def run_rules(args: argparse.Namespace) -> int:
    """The `rules` command."""
    import json

    from ..rules.codes import all_rules

    rules = all_rules()
    if args.rule:
        rule = find_rule(args.rule, rules)
        if args.format == "json":
            print(json.dumps(rule_info(rule, full=True), indent=2, ensure_ascii=False))
        else:
            print(explain_rule(rule))
        return 0
    if args.format == "json":
        print(json.dumps([rule_info(r) for r in rules], indent=2, ensure_ascii=False))
        return 0
    width = max(len(r.name) for r in rules)
    for rule in rules:
        print(f"{rule.code}  {rule.name.ljust(width)}  {rule.severity.value.ljust(7)}  {summary_of(rule)}")
    return 0


def find_rule(key: str, rules: list[Any]) -> Any:
    """A rule by code (any case) or name; a usage error naming close ones otherwise."""
    for rule in rules:
        if rule.code == key.upper() or rule.name == key:
            return rule
    import difflib

    close = difflib.get_close_matches(key, [r.name for r in rules] + [r.code for r in rules], n=2)
    hint = "; similar: " + ", ".join(f"`{c}`" for c in close) if close else ""
    raise UsageError(f"no rule `{key}`{hint}; `comfydsl rules` lists them all")


def summary_of(rule: Any) -> str:
    """The first sentence of a rule's docstring, on one line."""
    return rule.doc().split("\n\n", 1)[0].replace("\n", " ").strip()


def explain_rule(rule: Any) -> str:
    """A rule's full documentation, as `comfydsl rules CODE` prints it."""
    lines = [f"{rule.code} {rule.name} (default severity: {rule.severity.value})", "", rule.doc()]
    if rule.comfy_error:
        lines += ["", f"ComfyUI error it heads off: `{rule.comfy_error}`"]
    return "\n".join(lines)


def rule_info(rule: Any, *, full: bool = False) -> dict[str, Any]:
    """A rule as JSON: code, name, severity, summary (and the docstring, with `full`)."""
    info = {"code": rule.code, "name": rule.name, "severity": rule.severity.value,
            "summary": summary_of(rule), "comfy_error": rule.comfy_error}
    if full:
        info["doc"] = rule.doc()
    return info


# -- schema ----------------------------------------------------------------------------


def run_schema(args: argparse.Namespace) -> int:
    """The `schema` command."""
    import json

    from ..emit.schema import workflow_schema

    options = resolve_options(args)
    target = load_target_or_exit(options)
    text = json.dumps(workflow_schema(target.catalog), indent=2, ensure_ascii=False) + "\n"
    write_file(args.output, text)
    return 0
