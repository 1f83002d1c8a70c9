"""`comfydsl models`: write a manifest of a worker's files (argparse and printing only)."""

from __future__ import annotations

import argparse
import os
import sys

from . import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `models` command."""
    models = sub.add_parser(
        "models", help="write a manifest of a worker's model and input files",
        description="List the model (and input) files of a models folder, a ComfyUI base folder, a RunPod "
                    "network volume (runpod-volume:DIR for a copy of its root, runpod-volume://VOLUME_ID@"
                    "DATACENTER over RunPod's S3 API, with the S3 API key in RUNPOD_S3_ACCESS_KEY_ID and "
                    "RUNPOD_S3_SECRET_ACCESS_KEY) or a manifest, and write a TOML manifest that "
                    "`comfydsl lint --models FILE` reads: commit it next to the recipes so that CI needs no "
                    "access to the files. Files the chosen worker-comfyui version would not read are "
                    "reported with where to move them.")
    models.add_argument("source", metavar="DIR|VOLUME|FILE", help="where the files are")
    models.add_argument("-o", "--output", metavar="FILE", help="write the manifest to FILE (default: standard output)")
    models.add_argument("--sha256", action="store_true",
                        help="record each file's SHA-256 (reads every file; a volume over the S3 API gives only "
                             "an MD5, recorded as `md5`)")
    models.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    models.add_argument("--worker-version", metavar="VERSION",
                        help="the worker-comfyui version whose folders count on a volume (default: 5.8.5)")
    models.set_defaults(handler=run_models)


def run_models(args: argparse.Namespace) -> int:
    """The `models` command."""
    from ..catalog.inventory import load_inventory, manifest_text, misplaced_files, summary
    from ..catalog.volume import normalize_version

    try:
        version = normalize_version(args.worker_version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    output = args.output if args.output not in (None, "-") else None
    if output:
        _check_output(output, args.source, args.force)
    progress = _progress if args.source.startswith("runpod-volume://") and sys.stderr.isatty() else None
    listing = load_inventory(args.source, sha256=args.sha256, progress=progress)
    if args.sha256 and listing.layout == "runpod-volume" and args.source.startswith("runpod-volume://"):
        print("note: the S3 API gives no SHA-256; the manifest records each file's ETag as `md5` where it is one",
              file=sys.stderr)
    text = manifest_text(listing)
    if output:
        from .recipe import write_output

        write_output(output, text)
    else:
        sys.stdout.write(text)
    counts = summary(listing)
    size = sum(f.size or 0 for f in listing.files)
    folders = ", ".join(f"{folder} {count}" for folder, count in counts.items()) or "no model or input files"
    print(f"{len(listing.files)} file(s), {size / 1e9:.2f} GB, from {args.source} ({listing.layout}): {folders}",
          file=sys.stderr)
    for placement in misplaced_files(listing, version):
        where = f"move it to `{placement.move_to}`" if placement.move_to else "no folder this version reads takes it"
        print(f"warning: worker-comfyui {version} does not read `{placement.path}`: {where}", file=sys.stderr)
    return 0


def _check_output(output: str, source: str, force: bool) -> None:
    source_path = source.split(":", 1)[1] if source.startswith("runpod-volume:") else source
    if os.path.exists(output):
        if os.path.exists(source_path) and os.path.samefile(output, source_path):
            raise UsageError(f"-o {output}: that is the manifest being read; write the new one elsewhere")
        if os.path.isdir(output):
            raise UsageError(f"-o {output}: is a folder")
        if not force:
            raise UsageError(f"-o {output}: the file exists; give --force to overwrite it")


def _progress(folder: str, count: int) -> None:
    print(f"\rlisted {count} file(s); now in `{folder or '/'}`".ljust(70), end="", file=sys.stderr, flush=True)
