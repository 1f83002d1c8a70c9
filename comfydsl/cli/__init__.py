"""The `comfydsl` command line.

Each command lives in its own module with a `register(subparsers)` function; modules keep
heavy imports inside their handlers so that `comfydsl lint` starts quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from typing import Iterator

from ..errors import UsageError

#: Modules that add subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "comfydsl.cli.lint",
    "comfydsl.cli.models",
    "comfydsl.cli.catalog",
    "comfydsl.cli.convert",
    "comfydsl.cli.recipe",
    "comfydsl.cli.recipe_tools",
    "comfydsl.cli.runpod",
    "comfydsl.cli.endpoint",
    "comfydsl.cli.serve",
    "comfydsl.cli.lsp",
)



def build_parser() -> argparse.ArgumentParser:
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="comfydsl",
        description="Checked ComfyUI workflows: recipes, a validating linter and a RunPod backend.",
    )
    parser.add_argument("--version", action="version", version=f"comfydsl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


@contextlib.contextmanager
def _escaped_streams() -> Iterator[None]:
    """While a command runs, text printed to stdout/stderr that UTF-8 cannot encode (a lone
    surrogate from a recipe or workflow string, a non-UTF-8 byte of a file name) is written
    as its `\\udXXX` escape instead of raising, or of writing a raw non-UTF-8 byte as the
    `surrogateescape` handler of a C locale would (see `cli.output`)."""
    saved = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors != "backslashreplace" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError, AttributeError):  # a closed or detached stream
                continue
            saved.append((stream, errors or "strict"))
    try:
        yield
    finally:
        for stream, errors in saved:
            try:
                stream.reconfigure(errors=errors)
            except (ValueError, OSError):
                pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    from ..errors import CatalogError, ComfyDSLError, ConfigError
    from ..workflow.files import tracking

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    with _escaped_streams(), tracking():
        try:
            return int(args.handler(args) or 0)
        except UsageError as exc:
            print(f"comfydsl {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except (CatalogError, ConfigError) as exc:  # the set-up the command was given is unusable
            print(f"comfydsl {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except ComfyDSLError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return getattr(exc, "exit_code", 1)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 1
