"""Rules on files the worker must have: model files and uploaded inputs."""

from __future__ import annotations

import re
from typing import Iterator

from ..checks.context import CheckContext
from ..diagnostics import Diagnostic
from .base import CheckRule
from .values import literal_inputs

_ANNOTATION = re.compile(r"\s*\[(input|output|temp)\]$")


class ModelFileNotFound(CheckRule):
    """A model input names a file the target worker does not have.

    Checked only when a model catalogue is given (`--models DIR|FILE`, or a live server's
    catalogue): a models root such as a RunPod network volume's `models/`, or a manifest.

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
        for node, spec, name, value in literal_inputs(ctx):
            folder = spec.model_folder
            if folder is None or not isinstance(value, str):
                continue
            if value in spec.config.get("virtual", ()) or ctx.models.has(folder, value):
                continue
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

    For a RunPod request body, the files are the ones in `input.images`; otherwise the
    worker's `input` folder as the model catalogue lists it (a manifest's `input` list).

    **Why is this bad?** ComfyUI rejects the node (`custom_validation_failed`: "Invalid image
    file") after the worker has started.

    **Example:** `"image": "face.png"` with no `face.png` in `input.images`.

    **Use instead:** upload the file with the job (`file("face.png")` in a recipe), or put it in
    the worker's input folder.
    """

    code = "CD502"
    name = "input-file-not-uploaded"
    comfy_error = "custom_validation_failed"

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        available = set(ctx.input_files or ())
        if ctx.models is not None:
            available.update(ctx.models.files("input"))
        for node, spec, name, value in literal_inputs(ctx):
            if spec.upload is None or not isinstance(value, str):
                continue
            match = _ANNOTATION.search(value)
            if match and match.group(1) != "input":
                continue
            file = _ANNOTATION.sub("", value)
            if file in available:
                continue
            help = ("add it to the request's `input.images`" if ctx.input_files is not None
                    else "send it with the job (a RunPod body's `input.images`, or `file(...)` in a recipe)")
            yield self.at(node, f"input `{name}` names `{file}`, which is not uploaded with the job",
                          input=name, help=help, file=file)
