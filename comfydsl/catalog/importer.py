"""Build a compact catalogue from ComfyUI's `/object_info` answer.

The built-in catalogue shipped in the package is made by this importer:

    python -m comfydsl.catalog.importer tests/data/comfyui/object_info.json \
        tests/data/comfyui/object_info.bundled_custom_nodes.json --comfyui-version 0.3.64 \
        --placeholders tests/data/comfyui/placeholders.md -o comfydsl/catalog/builtin.json

(the second file is `SaveImageWebsocket`, which a stock server loads from ComfyUI's own
`custom_nodes/` folder), and so are the packs of custom nodes

(`comfydsl/catalog/packs/<name>.json`, see tests/data/README.md).

Descriptions and tooltips are dropped. Model-file combos lose their option lists (which
only reflect the files of the machine the catalogue was taken on) and gain a
`model_folder` key naming the folder they draw from; upload inputs (`LoadImage.image`)
lose theirs too. The folder of each model input is derived from a table of placeholder
files (`folder/file` lines, as in the catalogue's README): an input whose options are those
files draws from their folder. Inputs whose folder was empty there come from
`EMPTY_FOLDER_INPUTS`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Mapping

from .models import canonical_folder

#: Model inputs whose folder held no placeholder file, so their option list was empty.
EMPTY_FOLDER_INPUTS = {
    "StyleModelLoader.style_model_name": "style_models",
    "CLIPVisionLoader.clip_name": "clip_vision",
    "GLIGENLoader.gligen_name": "gligen",
    "CheckpointLoader.config_name": "configs",
    "DiffusersLoader.model_path": "diffusers",
    "HypernetworkLoader.hypernetwork_name": "hypernetworks",
    "PhotoMakerLoader.photomaker_model_name": "photomaker",
    "ModelPatchLoader.name": "model_patches",
    "AudioEncoderLoader.audio_encoder_name": "audio_encoders",
}

_DROP_CLASS_KEYS = {"description", "output_tooltips"}
_DROP_INPUT_KEYS = {"tooltip"}
_PLACEHOLDER_LINE = re.compile(r"^\s*[-*]\s+`?([\w.-]+)/([^`\s]+)`?\s*$")


def read_placeholders(text: str) -> dict[str, str]:
    """File name -> folder key, from `- folder/file` lines of a README section."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _PLACEHOLDER_LINE.match(line)
        if match:
            found[match.group(2)] = canonical_folder(match.group(1))
    return found


def model_folders(object_info: Mapping[str, Any], placeholders: Mapping[str, str]) -> dict[str, str]:
    """`Class.input` -> folder key for every combo input that lists model files."""
    folders: dict[str, str] = {}
    for cls_name, entry in object_info.items():
        for section in ("required", "optional"):
            for name, spec in ((entry.get("input") or {}).get(section) or {}).items():
                options = combo_options(spec)
                if options is None:
                    continue
                hits = {placeholders[o] for o in options if isinstance(o, str) and o in placeholders}
                if len(hits) == 1:
                    folders[f"{cls_name}.{name}"] = hits.pop()
                elif len(hits) > 1:
                    raise ValueError(f"{cls_name}.{name} lists files of several folders: {sorted(hits)}")
    for key, folder in EMPTY_FOLDER_INPUTS.items():
        cls_name, _, name = key.partition(".")
        if cls_name in object_info:
            folders.setdefault(key, folder)
    return folders


def combo_options(spec: Any) -> list | None:
    """The option list of a combo input spec of either form, or None."""
    if not isinstance(spec, list) or not spec:
        return None
    if isinstance(spec[0], list):
        return spec[0]
    if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
        return spec[1].get("options")
    return None


def compact(object_info: Mapping[str, Any], folders: Mapping[str, str],
            placeholders: Mapping[str, str] = {}, *, comfyui_version: str | None = None) -> dict[str, Any]:
    """The object_info data without prose, with model folders in place of file lists.

    Options of a model input that are not placeholder files (VAELoader's `pixel_space`)
    are names the loader accepts without a file; they are kept as `virtual`. A known
    `comfyui_version` is recorded in the catalogue's `__comfydsl__` entry.
    """
    from .schema import META_KEY

    out: dict[str, Any] = {}
    if comfyui_version:
        out[META_KEY] = {"comfyui_version": comfyui_version}
    for cls_name in sorted(object_info):
        if cls_name == META_KEY:
            continue
        entry = object_info[cls_name]
        slim = {k: v for k, v in entry.items() if k not in _DROP_CLASS_KEYS}
        slim["input"] = {}
        for section, inputs in (entry.get("input") or {}).items():
            slim["input"][section] = {
                name: _compact_input(spec, folders.get(f"{cls_name}.{name}"), placeholders)
                for name, spec in inputs.items()
            }
        out[cls_name] = slim
    return out


def _compact_input(spec: Any, folder: str | None, placeholders: Mapping[str, str]) -> Any:
    if not isinstance(spec, list) or not spec:
        return spec
    config = {k: v for k, v in (spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}).items()
              if k not in _DROP_INPUT_KEYS}
    uploads = any(config.get(k) for k in ("image_upload", "video_upload", "audio_upload", "file_upload"))
    head = spec[0]
    if folder or uploads:
        if folder:
            config["model_folder"] = folder
            virtual = [o for o in (combo_options(spec) or []) if o not in placeholders]
            if virtual:
                config["virtual"] = virtual
        if isinstance(head, list):
            head = []
        else:
            config.pop("options", None)
    return [head, config] if config or len(spec) > 1 else [head]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m comfydsl.catalog.importer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("object_info", nargs="+", help="object_info JSON file(s); later files add classes")
    parser.add_argument("--comfyui-version", help="the ComfyUI release the catalogue was taken from")
    parser.add_argument("--placeholders", help="README listing the placeholder model files (folder/file lines)")
    parser.add_argument("--folders", help="model folder map of a custom node pack (combo_inputs: Class.input -> folder_key)")
    parser.add_argument("-o", "--output", help="where to write the compact catalogue (default: stdout)")
    args = parser.parse_args(argv)
    info: dict[str, Any] = {}
    for path in args.object_info:
        with open(path, encoding="utf-8") as fh:
            info.update(json.load(fh))
    placeholders = {}
    if args.placeholders:
        with open(args.placeholders, encoding="utf-8") as fh:
            placeholders = read_placeholders(fh.read())
    folders = model_folders(info, placeholders)
    if args.folders:
        with open(args.folders, encoding="utf-8") as fh:
            extra = json.load(fh).get("combo_inputs", {})
        folders.update({key: val["folder_key"] for key, val in extra.items() if val.get("folder_key")})
    text = json.dumps(compact(info, folders, placeholders, comfyui_version=args.comfyui_version), separators=(",", ":"), ensure_ascii=False, sort_keys=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
