"""`comfydsl lsp`: the language server for editors (needs the `lsp` extra)."""

from __future__ import annotations

import argparse

from . import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `lsp` command."""
    lsp = sub.add_parser(
        "lsp", help="run the language server for .comfy recipes (for editors)",
        description="Speak the Language Server Protocol over standard input and output: diagnostics, "
                    "completion, hover, navigation, rename, formatting and quick fixes for .comfy recipes. "
                    "Each recipe is checked with its folder's comfydsl.toml unless options below say "
                    "otherwise. Needs `pip install \"comfydsl[lsp]\"`.")
    lsp.add_argument("--stdio", action="store_true", help="use standard input and output (the default and "
                                                          "only transport; accepted because editors pass it)")
    lsp.add_argument("--catalog", action="append", metavar="FILE|URL|PACK",
                     help="an object_info file or ComfyUI server, merged over the built-in catalogue "
                          "(repeatable); replaces the settings file's `catalog`")
    lsp.add_argument("--models", metavar="DIR|FILE|VOLUME", help="the worker's models root or a manifest")
    lsp.add_argument("--no-builtin", action="store_true", default=None,
                     help="do not start from the built-in catalogue")
    lsp.add_argument("--config", metavar="FILE", help="one settings file for every recipe")
    lsp.set_defaults(handler=run_lsp)


def run_lsp(args: argparse.Namespace) -> int:
    """The `lsp` command."""
    import os

    if args.config and not os.path.isfile(args.config):
        raise UsageError(f"{args.config}: no such configuration file")
    try:
        import pygls  # noqa: F401
    except ImportError:
        raise UsageError("the language server needs pygls: pip install \"comfydsl[lsp]\"") from None
    from ..lsp import serve_stdio

    serve_stdio(catalogs=list(args.catalog or []), models=args.models, no_builtin=args.no_builtin,
                config=os.path.abspath(args.config) if args.config else None)
    return 0
