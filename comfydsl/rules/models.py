"""Rules on files the worker must have: model files and uploaded inputs."""

from __future__ import annotations

import difflib
import re
from typing import Iterator

from ..catalog.models import INPUT_FOLDER
from ..checks.context import CheckContext
from ..diagnostics import Diagnostic
from .base import CheckRule

_ANNOTATION = re.compile(r"\s*\[(input|output|temp)\]$")


class ModelFileNotFound(CheckRule):
    """A model input names a file the target worker does not have.

    Checked only when a model catalogue is given (`--models DIR|FILE|VOLUME`, or a server's
    catalogue): a models folder, a ComfyUI base folder, a RunPod network volume or a manifest.
    A file that sits on the volume where the worker does not look is CD503 instead.

    **Why is this bad?** ComfyUI rejects the node (`value_not_in_list`) after the worker has
    started, or, for `COMBO`-form inputs it does not check, the load fails mid-run.

    **Example:** `"ckpt_name": "sdxl.safetensors"` when the volume holds
    `sd_xl_base_1.0.safetensors`.

    **Use instead:** a file that is there; the help lists the closest names in the folder.
    """

    code = "CD501"
    name = "model-file-not-found"
    comfy_error = "value_not_in_list"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if ctx.models is None:
            return
        for node, spec, name, value in ctx.facts.literals.files:
            folder = spec.model_folder
            if folder is None or not isinstance(value, str):
                continue
            if value in spec.config.get("virtual", ()) or ctx.models.has(folder, value):
                continue
            if ctx.models.find_misplaced(folder, value) is not None:
                continue  # CD503 says where to move it
            close = ctx.models.closest(folder, value)
            if close:
                help = "files with similar names: " + ", ".join(f"`{c}`" for c in close)
            elif ctx.models.files(folder):
                help = f"`{folder}` holds {len(ctx.models.files(folder))} file(s); none is close to this name"
            else:
                help = f"the model catalogue has no files in `{folder}`"
            yield self.at(node, f"model file `{value}` is not in `{folder}` on the worker", input=name,
                          help=help, folder=folder, file=value)


class InputFileNotUploaded(CheckRule):
    """An image (or other upload) input names a file that is neither uploaded nor on the worker.

    For a RunPod request body, the files are the ones in `input.images`, plus the worker's
    input folder when an inventory lists it. For a bare workflow or a recipe, the file must
    be in the worker's input folder, as the inventory lists it: the upload combos of a
    server's own catalogue (`--catalog URL|FILE`: `LoadImage`'s options are that server's
    `input/`), a ComfyUI base folder's `input/` (`--models DIR`) or a manifest's `input` files;
    without any inventory such files are not checked (a note says so). A recipe's `file(...)`
    attachments count as uploaded.

    **Why is this bad?** ComfyUI rejects the node (`custom_validation_failed`: "Invalid image
    file") after the worker has started.

    **Example:** `"image": "face.png"` with no `face.png` in `input.images`.

    **Use instead:** upload the file with the job (`file("face.png")` in a recipe), or put it in
    the worker's input folder.

    **ComfyUI versions:** every version checks the file when the prompt is queued; 0.3.64 and
    later accept the `[input]` annotation and skip `[output]`/`[temp]` ones here.
    """

    code = "CD502"
    name = "input-file-not-uploaded"
    comfy_error = "custom_validation_failed"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        on_worker = ctx.models is not None and ctx.models.knows(INPUT_FOLDER)
        if ctx.input_files is None and not on_worker:
            return  # a bare workflow with no inventory of the input folder: not checked
        available = set(ctx.input_files or ())
        if on_worker:
            assert ctx.models is not None
            available.update(ctx.models.files(INPUT_FOLDER))
        for node, spec, name, value in ctx.facts.literals.files:
            if spec.upload is None or not isinstance(value, str):
                continue
            match = _ANNOTATION.search(value)
            if match and match.group(1) != "input":
                continue
            file = _ANNOTATION.sub("", value)
            if file in available:
                continue
            if ctx.input_files is None:
                close = difflib.get_close_matches(file, sorted(available), n=2, cutoff=0.6)
                help = ("files with similar names: " + ", ".join(f"`{c}`" for c in close) if close
                        else "put it in the worker's input folder, or send the workflow as a RunPod body "
                             "with the file in `input.images`")
                yield self.at(node, f"input `{name}` names `{file}`, which is not in the worker's input folder",
                              input=name, help=help, file=file)
                continue
            help = ("add it to the request's `input.images`" if not on_worker
                    else "add it to the request's `input.images`, or put it in the worker's input folder")
            yield self.at(node, f"input `{name}` names `{file}`, which is not uploaded with the job",
                          input=name, help=help, file=file)


class ModelInUnreadFolder(CheckRule):
    """A model file is on the network volume, but in a folder the worker does not read.

    worker-comfyui points ComfyUI at the volume through its `extra_model_paths.yaml`, which
    maps only some folders below `models/`: in every release up to 5.8.5, `checkpoints clip
    clip_vision configs controlnet embeddings loras upscale_models vae unet`; the development
    line after 5.8.5 adds `diffusion_models` and `text_encoders`. A file at the volume's root
    (`checkpoints/x` instead of `models/checkpoints/x`), below a copied mount path
    (`runpod-volume/models/...`) or in an unmapped folder is invisible. Checked when the
    inventory is a volume (`--models runpod-volume:DIR`, `runpod-volume://ID@DATACENTER`, or a
    manifest written from one), for the worker version `--worker-version` names (default: the
    newest release, 5.8.5).

    **Why is this bad?** ComfyUI lists nothing for that folder and rejects the node with
    `value_not_in_list` (`ckpt_name: 'x.safetensors' not in []`) after the worker has started.

    **Example:** `"unet_name": "flux1-dev.safetensors"` with the file at
    `models/diffusion_models/flux1-dev.safetensors` on a 5.8.5 worker.

    **Use instead:** move the file where the help says (`models/unet/flux1-dev.safetensors`;
    ComfyUI lists `unet/` files among the diffusion models), or run a worker version that reads
    the folder.
    """

    code = "CD503"
    name = "model-in-unread-folder"
    comfy_error = "value_not_in_list"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        if ctx.models is None or not ctx.models.misplaced:
            return
        for node, spec, name, value in ctx.facts.literals.files:
            folder = spec.model_folder
            if folder is None or not isinstance(value, str) or ctx.models.has(folder, value):
                continue
            placement = ctx.models.find_misplaced(folder, value)
            if placement is None:
                continue
            if placement.move_to:
                help = f"move it to `{placement.move_to}`"
            else:
                help = (f"this worker version reads no `{folder}` folder on the volume: bake the file into "
                        "the worker image, or use a worker version that maps the folder")
            yield self.at(node, f"model file `{value}` is on the volume at `{placement.path}`, where the worker "
                                "does not look", input=name, help=help, folder=folder, file=value,
                          path=placement.path, move_to=placement.move_to)
