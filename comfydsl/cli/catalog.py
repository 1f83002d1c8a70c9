"""`comfydsl catalog pull|diff` and `comfydsl nodes` (argparse and printing only)."""

from __future__ import annotations

import argparse
import os
import sys

from . import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `catalog` and `nodes` commands."""
    catalog = sub.add_parser("catalog", help="pull a server's node catalogue, or compare two",
                             description="Work with node catalogues (ComfyUI's /object_info).")
    actions = catalog.add_subparsers(dest="action", metavar="ACTION")
    pull = actions.add_parser(
        "pull", help="save a server's catalogue to a file, with its ComfyUI version",
        description="Save GET /object_info of a ComfyUI server to a file, recording the server's version "
                    "(GET /system_stats) under the file's `__comfydsl__` key. With --for, ask "
                    "/object_info/{class} for just the classes the given workflows and recipes use (large "
                    "installs answer /object_info with 50-100 MB).")
    pull.add_argument("url", metavar="URL", help="the server, e.g. http://127.0.0.1:8188")
    pull.add_argument("-o", "--output", metavar="FILE", required=True, help="the catalogue file to write")
    pull.add_argument("--for", dest="workflows", nargs="+", metavar="WORKFLOW",
                      help="only the classes these workflow files and recipes use")
    pull.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    pull.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                      help="how long to wait for an answer (default: 300)")
    pull.set_defaults(handler=run_pull)

    diff = actions.add_parser(
        "diff", help="what changed between two catalogues (what breaks on a worker upgrade)",
        description="Compare two catalogues (files, server URLs or shipped packs): classes, inputs, types, "
                    "ranges and options added, removed or changed. Breaking changes are marked `!`; the exit "
                    "status is 1 when there is one, so CI can stop an upgrade that breaks workflows.")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.set_defaults(handler=run_diff)
    catalog.set_defaults(handler=lambda args: _no_action(catalog))

    nodes = sub.add_parser(
        "nodes", help="show a node class: inputs with types, defaults, ranges and options, outputs",
        description="Show one node class of the catalogue (the built-in one, merged with --catalog sources "
                    "and the settings file's), or list the classes when no name is given.")
    nodes.add_argument("name", nargs="?", metavar="CLASS", help="the class, e.g. KSampler")
    nodes.add_argument("--catalog", action="append", metavar="FILE|URL|PACK",
                       help="a catalogue merged over the built-in one (repeatable)")
    nodes.add_argument("--no-builtin", action="store_true", default=None,
                       help="do not start from the built-in catalogue")
    nodes.add_argument("--config", metavar="FILE", help="settings file")
    nodes.add_argument("--format", choices=("text", "json"), default="text",
                       help="json prints the class's catalogue entry")
    nodes.add_argument("--all-options", action="store_true", help="show every option of a combo")
    nodes.set_defaults(handler=run_nodes)


def _no_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_pull(args: argparse.Namespace) -> int:
    """`catalog pull`."""
    from ..catalog.pull import CATALOG_META_KEY, catalog_text, pull_catalog

    if not args.url.startswith(("http://", "https://")):
        raise UsageError(f"`{args.url}` is not a server URL (http://host:port)")
    if os.path.isdir(args.output):
        raise UsageError(f"-o {args.output}: is a folder")
    if os.path.exists(args.output) and not args.force:
        raise UsageError(f"-o {args.output}: the file exists; give --force to overwrite it")
    classes = None
    if args.workflows:
        from ..usage import classes_in_files

        for path in args.workflows:
            if os.path.exists(args.output) and os.path.exists(path) and os.path.samefile(path, args.output):
                raise UsageError(f"-o {args.output}: that is one of the workflows; write the catalogue elsewhere")
        classes = classes_in_files(args.workflows)
    raw = pull_catalog(args.url, classes=classes, timeout=args.timeout)
    from .recipe import write_output

    write_output(args.output, catalog_text(raw))
    meta = raw[CATALOG_META_KEY]
    version = meta.get("comfyui_version") or "unknown (no /system_stats)"
    print(f"wrote {len(raw) - 1} class(es) to {args.output}; ComfyUI {version}", file=sys.stderr)
    for name in meta.get("missing", []):
        print(f"warning: the server has no class `{name}`", file=sys.stderr)
    return 0


def run_diff(args: argparse.Namespace) -> int:
    """`catalog diff`."""
    import json

    from ..catalog.diff import diff_catalogs, diff_text
    from ..catalog.pull import catalog_meta
    from ..target import read_source

    old, new = read_source(args.old), read_source(args.new)
    changes = diff_catalogs(old, new)
    if args.format == "json":
        print(json.dumps({"old": {"file": args.old, **catalog_meta(old)},
                          "new": {"file": args.new, **catalog_meta(new)},
                          "breaking": sum(c.breaking for c in changes),
                          "changes": [c.to_json() for c in changes]}, indent=2, ensure_ascii=False))
    else:
        versions = [catalog_meta(raw).get("comfyui_version") for raw in (old, new)]
        if any(versions):
            print(f"ComfyUI {versions[0] or '?'} -> {versions[1] or '?'}")
        sys.stdout.write(diff_text(changes))
    return 1 if any(c.breaking for c in changes) else 0


def run_nodes(args: argparse.Namespace) -> int:
    """`nodes`."""
    import json

    from ..catalog.describe import describe_class
    from .lint import load_target_or_exit, resolve_options

    fmt = args.format
    args.format = None  # not the lint report format
    options = resolve_options(args)
    options.models = None  # the class list needs no inventory
    target = load_target_or_exit(options)
    catalog = target.catalog
    if not args.name:
        for name in sorted(catalog):
            print(name)
        return 0
    if args.name not in catalog:
        import difflib

        by_display = catalog.display_names().get(args.name)
        if by_display:
            args.name = by_display
        else:
            close = difflib.get_close_matches(args.name, list(catalog), n=3)
            hint = "; similar: " + ", ".join(f"`{c}`" for c in close) if close else ""
            raise UsageError(f"no node class `{args.name}` in the catalogue{hint}")
    if fmt == "json":
        print(json.dumps({args.name: catalog.raw(args.name)}, indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(describe_class(catalog, args.name, all_options=args.all_options))
    return 0
