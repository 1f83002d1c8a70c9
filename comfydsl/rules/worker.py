"""Rules about what a worker answered (CD9xx): findings that come back from a job, not from a check."""

from __future__ import annotations

from ..diagnostics import Rule


class WorkerRejectedWorkflow(Rule):
    """The worker's ComfyUI refused the workflow when it was queued.

    **What it does:** reads worker-comfyui's "Workflow validation failed" job error back
    into one diagnostic per node error, located at the node (and input) ComfyUI named, and
    at the recipe line when the job came from a recipe.

    **Why is this bad?** The job failed before running: the worker's node catalogue or
    model files differ from the ones the workflow was checked against.

    **Example:** `ckpt_name="missing.safetensors"` checked without `--models` (so model
    files were not checked), sent to a worker that has only `sd_xl_base_1.0.safetensors`:
    ComfyUI answers `value_not_in_list`.

    **Use instead:** check against the worker's real catalogue and models
    (`--catalog http://worker:8188`, `--models`), then submit again.
    """

    code = "CD901"
    name = "worker-rejected-workflow"
    lenient_when_unused = False
