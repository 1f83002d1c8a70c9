"""The authoring items at the command line: standard input, located hints, sweeps by type,
decompiling RunPod bodies with their images, the strict recipe policy."""

from __future__ import annotations

import base64
import json

import pytest

from support import invoke

FLUX = '''\
param prompt: str = "a cat"
param seed: int = 1
ckpt = CheckpointLoaderSimple(ckpt_name="flux1-dev-fp8.safetensors")
pos = CLIPTextEncode(text=prompt, clip=ckpt.CLIP)
neg = CLIPTextEncode(text="", clip=ckpt.CLIP)
latent = EmptySD3LatentImage(width=512, height=512, batch_size=1)
s = KSampler(model=ckpt.MODEL, positive=pos, negative=neg, latent_image=latent, seed=seed, steps=8, cfg=1.0,
             sampler_name="euler", scheduler="simple", denoise=1.0)
SaveImage(images=VAEDecode(samples=s, vae=ckpt.VAE), filename_prefix="x")
'''


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "r.comfy").write_text(FLUX)
    return tmp_path


def test_compile_params_graph_and_decompile_read_stdin(folder):
    compiled = invoke("compile", "-", stdin=FLUX, cwd=folder)
    assert compiled.returncode == 0, compiled.stderr
    workflow = json.loads(compiled.stdout)
    assert json.loads(invoke("compile", "r.comfy", cwd=folder).stdout) == workflow
    params = invoke("params", "-", "--format", "json", stdin=FLUX, cwd=folder)
    assert [p["name"] for p in json.loads(params.stdout)["params"]] == ["prompt", "seed"]
    assert "flowchart" in invoke("graph", "-", stdin=FLUX, cwd=folder).stdout
    assert "flowchart" in invoke("graph", "-", stdin=compiled.stdout, cwd=folder).stdout
    recipe = invoke("decompile", "-", stdin=compiled.stdout, cwd=folder)
    assert recipe.returncode == 0, recipe.stderr
    again = invoke("compile", "-", stdin=recipe.stdout, cwd=folder)
    assert again.stdout == compiled.stdout  # byte for byte


def test_stdin_errors_are_located_at_stdin(folder):
    result = invoke("compile", "-", stdin="x = KSampler(seed=1\n", cwd=folder)
    assert result.returncode == 1 and "<stdin>:2:1" in result.stderr
    assert "<stdin>:1:13" in result.stderr and "this `(` is not closed" in result.stderr
    assert invoke("compile", "-", stdin=b"\xff", cwd=folder).returncode == 2


def test_unknown_set_name_points_at_the_command_line(folder):
    result = invoke("compile", "r.comfy", "--set", "sed=3", cwd=folder)
    assert result.returncode == 1
    assert "--> <command line>:1:1" in result.stderr and "`seed`" in result.stderr
    assert "r.comfy:1:1" not in result.stderr


def test_python_constants_get_a_hint(folder):
    result = invoke("compile", "-", stdin=FLUX.replace("denoise=1.0", "denoise=None"), cwd=folder)
    assert "`null`" in result.stderr
    result = invoke("compile", "-", stdin=FLUX.replace('filename_prefix="x"', "filename_prefix=True"), cwd=folder)
    assert "`true`" in result.stderr


def test_strict_inputs_and_values_with_cause_first(folder):
    text = FLUX.replace("denoise=1.0", "denoise_strength=1.0").replace("steps=8", 'steps="8"') \
        .replace("latent_image=latent", "latent_image=ckpt.VAE")
    result = invoke("compile", "-", stdin=text, cwd=folder)
    assert result.returncode == 1
    err = result.stderr
    assert "error[CD202]: `KSampler` has no input `denoise_strength`" in err and "`denoise`" in err
    assert "error[CD402]: input `steps` expects `INT`, not `\"8\"`" in err
    assert "CD201" not in err  # `denoise` is missing because it was misspelt: one error, not two
    assert "CD603" not in err and "warning" not in err.split("error[CD301]")[0]
    assert err.index("error[") < err.index("warning[") if "warning[" in err else True
    assert "found 3 errors" in err


def test_lint_of_json_keeps_coercion_warnings(folder):
    compiled = json.loads(invoke("compile", "r.comfy", cwd=folder).stdout)
    sampler = next(n for n in compiled.values() if n["class_type"] == "KSampler")
    sampler["inputs"]["steps"] = "8"
    sampler["inputs"]["denoise_strength"] = 1
    (folder / "w.json").write_text(json.dumps(compiled))
    result = invoke("lint", "w.json", cwd=folder)
    assert "warning[CD402]" in result.stdout + result.stderr and "warning[CD202]" in result.stdout + result.stderr
    # decompiled, the recipe keeps them, as warnings, with @allow
    recipe = invoke("decompile", "w.json", cwd=folder).stdout
    assert '@allow("coerced-value", "unknown-input")' in recipe
    again = invoke("compile", "-", stdin=recipe, cwd=folder)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == compiled


def test_decompile_of_a_runpod_body_attaches_its_images(folder):
    workflow = {"1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}, "_meta": {"title": "Load"}},
                "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}, "_meta": {"title": "P"}}}
    body = {"input": {"workflow": workflow, "images": [{"name": "face.png",
                                                        "image": base64.b64encode(b"PNG").decode()}]}}
    (folder / "body.json").write_text(json.dumps(body))
    (folder / "out").mkdir()
    result = invoke("decompile", "body.json", "-o", "out/r.comfy", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert 'file("face.png")' in (folder / "out" / "r.comfy").read_text()
    assert (folder / "out" / "face.png").read_bytes() == b"PNG"
    compiled = invoke("compile", "out/r.comfy", "--envelope", "runpod", cwd=folder)
    assert json.loads(compiled.stdout) == body
    (folder / "out" / "face.png").write_bytes(b"other")  # never overwritten
    result = invoke("decompile", "body.json", "-o", "out/r2.comfy", cwd=folder)
    assert result.returncode == 2 and "other content" in result.stderr
    prompt = invoke("decompile", "-", stdin=json.dumps({"prompt": workflow}), cwd=folder)
    assert prompt.returncode == 0 and 'LoadImage(image="face.png")' in prompt.stdout


def test_model_suggestions_are_only_close_names(tmp_path):
    from comfydsl.catalog.models import ModelCatalog

    models = ModelCatalog(source="x")
    models.folders = {"checkpoints": {"flux1-dev-fp8.safetensors", "sd_xl_base_1.0.safetensors",
                                      "sd_xl_refiner_1.0.safetensors", "v1-5-pruned-emaonly.safetensors"}}
    assert models.closest("checkpoints", "flux1-dev.safetensors") == ["flux1-dev-fp8.safetensors"]
    assert models.closest("checkpoints", "sdxl_base_1.0.safetensors") == ["sd_xl_base_1.0.safetensors"]
    assert models.closest("checkpoints", "totally_different.safetensors") == []
    assert models.closest("checkpoints", "juggernaut.safetensors") == []


def test_set_sweeps_split_by_parameter_type(folder):
    from comfydsl.backends.batch import parse_sets, prepare_jobs
    from comfydsl.target import load_target

    target = load_target([], None)
    prepared = prepare_jobs([str(folder / "r.comfy")], target=target,
                            sets=parse_sets(["prompt=1,2", "seed=3,4"]), check=False)
    assert sorted((j.params["prompt"], j.params["seed"]) for j in prepared.jobs) == [("1,2", "3"), ("1,2", "4")]
