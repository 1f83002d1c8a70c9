"""`comfydsl convert`: a UI-format workflow (or a ComfyUI PNG/WebP) to API JSON."""

from __future__ import annotations

import argparse
import sys

from . import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `convert` command."""
    from .lint import _target_options

    convert = sub.add_parser(
        "convert", help="convert a UI-format workflow (or a ComfyUI image) to API JSON",
        description="Write the API prompt ComfyUI's editor would send for a UI-format workflow file "
                    "(what \"Save\" writes), or for the workflow embedded in a PNG/WebP ComfyUI saved.")
    convert.add_argument("path", metavar="UI.json", help="a UI-format workflow, a PNG or WebP image, or `-`")
    convert.add_argument("-o", "--output", metavar="API.json", help="write the API JSON to FILE (default: stdout)")
    _target_options(convert)
    convert.set_defaults(handler=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    import json

    from ..render import FileResult, LintRun, render
    from ..ui import convert_file, convert_text
    from .lint import load_target_or_exit, resolve_options, write_file

    options = resolve_options(args)
    target = load_target_or_exit(options)
    if args.path == "-":
        conv = convert_text(sys.stdin.read(), target.catalog, path="<stdin>")
    else:
        try:
            conv = convert_file(args.path, target.catalog)
        except OSError as exc:
            raise UsageError(f"{args.path}: cannot read: {exc.strerror or exc}") from None
    if conv.diagnostics:
        shown = "<stdin>" if args.path == "-" else args.path
        run = LintRun([FileResult(shown, "ui", conv.diagnostics, conv.text)])
        print(render(run, "text"), file=sys.stderr)
    if not conv.ok:
        print(f"{args.path}: not converted", file=sys.stderr)
        return 1
    text = json.dumps(conv.workflow, indent=2, ensure_ascii=False) + "\n"
    write_file(args.output, text)
    return 0
