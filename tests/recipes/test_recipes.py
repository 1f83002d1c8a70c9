"""The example recipes: they compile cleanly, match their golden JSON and the reference graphs.

Regenerate the goldens after an intended change with `COMFYDSL_UPDATE_GOLDENS=1 pytest tests/recipes`.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from recipes_support import GOLDEN, RECIPES, UPDATE_ENV, recipe_target
from support import invoke

TOP_RECIPES = sorted(p for p in RECIPES.glob("*.comfy"))
NAMES = [p.stem for p in TOP_RECIPES]


def compile_recipe(path, envelope=None, **params):
    from comfydsl.dsl import Recipe

    return Recipe(str(path), target=recipe_target(), envelope=envelope).compile(**params)


@pytest.mark.parametrize("path", TOP_RECIPES, ids=NAMES)
def test_recipe_has_no_diagnostics(path):
    from comfydsl.dsl import Recipe

    found = Recipe(str(path), target=recipe_target()).check()
    assert [(d.code, d.message) for d in found] == []


@pytest.mark.parametrize("path", TOP_RECIPES, ids=NAMES)
def test_recipe_matches_its_golden(path):
    golden = GOLDEN / f"{path.stem}.json"
    body = compile_recipe(path, envelope="runpod")
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get(UPDATE_ENV) == "1":
        golden.write_text(text)
    assert golden.exists(), f"no golden for {path.name}; run with {UPDATE_ENV}=1"
    assert text == golden.read_text()


def test_every_golden_has_a_recipe():
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == NAMES


def test_goldens_pass_the_workflow_checks():
    from comfydsl.workflow.document import read_document
    from comfydsl.validate import check_document

    target = recipe_target()
    for golden in sorted(GOLDEN.glob("*.json")):
        doc = read_document(golden.read_text(), str(golden))
        found = check_document(doc, catalog=target.catalog, models=target.models)
        assert [(d.code, d.message) for d in found] == [], golden.name


def nodes(workflow):
    return {node_id: node["class_type"] for node_id, node in workflow.items()}


def test_flux_matches_reference_a():
    wf = compile_recipe(RECIPES / "flux_txt2img.comfy")
    assert nodes(wf) == {"1": "CheckpointLoaderSimple", "2": "CLIPTextEncode", "3": "CLIPTextEncode",
                         "4": "EmptySD3LatentImage", "5": "KSampler", "6": "VAEDecode", "7": "SaveImage"}
    assert wf["5"]["inputs"] == {"model": ["1", 0], "seed": 42, "steps": 10, "cfg": 1.0, "sampler_name": "euler",
                                 "scheduler": "simple", "positive": ["2", 0], "negative": ["3", 0],
                                 "latent_image": ["4", 0], "denoise": 1.0}
    assert wf["2"]["inputs"] == {"text": "a whimsical treehouse", "clip": ["1", 1]}
    assert wf["3"]["inputs"] == {"text": "", "clip": ["1", 1]}
    assert wf["4"]["inputs"] == {"width": 512, "height": 512, "batch_size": 1}
    assert wf["6"]["inputs"] == {"samples": ["5", 0], "vae": ["1", 2]}
    assert wf["7"]["inputs"]["images"] == ["6", 0]


def test_flux_parameters_flow_into_the_workflow():
    wf = compile_recipe(RECIPES / "flux_txt2img.comfy", seed=7, prompt="a castle", size=768)
    assert wf["5"]["inputs"]["seed"] == 7
    assert wf["2"]["inputs"]["text"] == "a castle"
    assert wf["4"]["inputs"]["width"] == wf["4"]["inputs"]["height"] == 768


def test_z_image_matches_reference_b():
    wf = compile_recipe(RECIPES / "z_image_turbo_lora.comfy")
    assert nodes(wf) == {"1": "UNETLoader", "2": "LoraLoaderModelOnly", "3": "ModelSamplingAuraFlow",
                         "4": "CLIPLoader", "5": "VAELoader", "6": "CLIPTextEncode", "7": "ConditioningZeroOut",
                         "8": "EmptySD3LatentImage", "9": "KSampler", "10": "VAEDecode", "11": "SaveImage"}
    assert wf["1"]["inputs"] == {"unet_name": "z_image_turbo.safetensors", "weight_dtype": "default"}
    assert wf["2"]["inputs"]["model"] == ["1", 0]
    assert wf["3"]["inputs"] == {"model": ["2", 0], "shift": 3}
    assert wf["4"]["inputs"] == {"clip_name": "qwen_3_4b.safetensors", "type": "lumina2", "device": "default"}
    assert wf["7"]["inputs"] == {"conditioning": ["6", 0]}
    sampler = wf["9"]["inputs"]
    assert (sampler["steps"], sampler["cfg"], sampler["sampler_name"], sampler["scheduler"]) == \
        (8, 1.0, "res_multistep", "simple")
    assert (sampler["model"], sampler["positive"], sampler["negative"], sampler["latent_image"]) == \
        (["3", 0], ["6", 0], ["7", 0], ["8", 0])
    assert wf["10"]["inputs"] == {"samples": ["9", 0], "vae": ["5", 0]}
    assert wf["11"]["inputs"]["filename_prefix"] == "z-image-turbo"


def test_pulid_matches_reference_c_with_its_ids():
    body = compile_recipe(RECIPES / "flux_pulid.comfy", envelope="runpod")
    wf = body["input"]["workflow"]
    assert nodes(wf) == {
        "1": "CheckpointLoaderSimple", "10": "PulidFluxModelLoader", "11": "PulidFluxEvaClipLoader",
        "12": "PulidFluxInsightFaceLoader", "13": "LoadImage", "14": "ApplyPulidFlux", "20": "CLIPTextEncode",
        "21": "FluxGuidance", "22": "RandomNoise", "23": "KSamplerSelect", "24": "BasicScheduler",
        "25": "BasicGuider", "26": "EmptySD3LatentImage", "27": "SamplerCustomAdvanced", "28": "VAEDecode",
        "29": "SaveImage"}
    assert wf["14"]["inputs"] == {"model": ["1", 0], "pulid_flux": ["10", 0], "eva_clip": ["11", 0],
                                  "face_analysis": ["12", 0], "image": ["13", 0], "weight": 1.0,
                                  "start_at": 0.0, "end_at": 1.0}
    assert wf["24"]["inputs"]["model"] == wf["25"]["inputs"]["model"] == ["14", 0]
    assert wf["27"]["inputs"] == {"noise": ["22", 0], "guider": ["25", 0], "sampler": ["23", 0],
                                  "sigmas": ["24", 0], "latent_image": ["26", 0]}
    assert wf["28"]["inputs"] == {"samples": ["27", 0], "vae": ["1", 2]}
    # the face image travels with the job
    assert wf["13"]["inputs"]["image"] == "face.png"
    assert [img["name"] for img in body["input"]["images"]] == ["face.png"]


def test_pulid_needs_the_catalogue_fragment():
    from comfydsl.dsl import Recipe
    from comfydsl.target import load_target

    found = Recipe(str(RECIPES / "flux_pulid.comfy"), target=load_target()).check()
    unknown = {d.ctx.get("class_type") or d.class_type for d in found if d.code == "CD101"}
    assert {"PulidFluxModelLoader", "ApplyPulidFlux"} <= unknown


def test_sdxl_lora_matches_reference_d():
    wf = compile_recipe(RECIPES / "sdxl_lora.comfy")
    assert nodes(wf) == {"1": "CheckpointLoaderSimple", "2": "LoraLoader", "3": "CLIPTextEncode",
                         "4": "CLIPTextEncode", "5": "EmptyLatentImage", "6": "KSampler", "7": "VAEDecode",
                         "8": "SaveImage"}
    assert wf["2"]["inputs"] == {"model": ["1", 0], "clip": ["1", 1], "lora_name": "detail-tweaker.safetensors",
                                 "strength_model": 1.0, "strength_clip": 1.0}
    assert wf["3"]["inputs"]["clip"] == wf["4"]["inputs"]["clip"] == ["2", 1]
    assert wf["4"]["inputs"]["text"] == "blurry, watermark"
    sampler = wf["6"]["inputs"]
    assert sampler["model"] == ["2", 0] and sampler["steps"] == 25 and sampler["cfg"] == 7.0
    assert (sampler["sampler_name"], sampler["scheduler"]) == ("dpmpp_2m", "karras")
    assert wf["7"]["inputs"] == {"samples": ["6", 0], "vae": ["1", 2]}


def test_img2img_matches_reference_e_and_uploads_its_image():
    body = compile_recipe(RECIPES / "img2img.comfy", envelope="runpod")
    wf = body["input"]["workflow"]
    assert nodes(wf) == {"1": "CheckpointLoaderSimple", "2": "LoadImage", "3": "ImageScaleToTotalPixels",
                         "4": "VAEEncode", "5": "CLIPTextEncode", "6": "CLIPTextEncode", "7": "KSampler",
                         "8": "VAEDecode", "9": "SaveImage"}
    assert wf["2"]["inputs"] == {"image": "upload.png"}
    assert wf["3"]["inputs"] == {"image": ["2", 0], "upscale_method": "lanczos", "megapixels": 1.0}
    assert wf["4"]["inputs"] == {"pixels": ["3", 0], "vae": ["1", 2]}
    assert wf["7"]["inputs"]["latent_image"] == ["4", 0] and wf["7"]["inputs"]["denoise"] == 0.6
    image = body["input"]["images"][0]
    import base64

    assert image["name"] == "upload.png"
    assert base64.b64decode(image["image"]) == (RECIPES / "inputs" / "upload.png").read_bytes()


def test_shipped_images_are_valid_pngs():
    import struct
    import zlib

    for path in sorted((RECIPES / "inputs").glob("*.png")):
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        idat = data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8]
        assert len(zlib.decompress(idat)) == height * (1 + 3 * width), path.name


def test_the_upscale_fragment_is_shared():
    users = [p.name for p in TOP_RECIPES if "parts/upscale.comfy" in p.read_text()]
    assert len(users) >= 2
    for name in users:
        wf = compile_recipe(RECIPES / name)
        classes = [n["class_type"] for n in wf.values()]
        assert {"UpscaleModelLoader", "ImageUpscaleWithModel", "ImageScaleBy"} <= set(classes), name
    wf = compile_recipe(RECIPES / "flux_upscaled.comfy", factor=3.0)
    scale = next(n for n in wf.values() if n["class_type"] == "ImageScaleBy")
    assert scale["inputs"]["scale_by"] == 0.75
    assert scale["_meta"]["title"] == "big.resized"


def test_manifest_lists_every_model_the_recipes_use():
    import tomllib

    manifest = tomllib.loads((RECIPES / "models.toml").read_text())["models"]
    files = {name for names in manifest.values() for name in names}
    used = set()
    for golden in GOLDEN.glob("*.json"):
        for node in json.loads(golden.read_text())["input"]["workflow"].values():
            used |= {v for k, v in node["inputs"].items() if isinstance(v, str) and v.endswith((".safetensors", ".pth"))}
    assert used <= files
    assert files - used == set()  # nothing listed that no recipe reads


def test_a_missing_model_file_is_reported_through_the_manifest(tmp_path):
    text = (RECIPES / "sdxl_lora.comfy").read_text().replace("sd_xl_base_1.0", "sd_xl_base_0.9")
    from comfydsl.dsl import Recipe

    found = Recipe(str(RECIPES / "sdxl_lora.comfy"), text, target=recipe_target()).check()
    assert [d.code for d in found] == ["CD501"]


# -- through the command line, with the configuration file of recipes/ ------------------------------
def test_compile_inside_recipes_needs_no_flags(tmp_path):
    out = tmp_path / "pulid.json"
    done = invoke("compile", "flux_pulid.comfy", "--envelope", "runpod", "-o", str(out), cwd=RECIPES)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == (GOLDEN / "flux_pulid.json").read_text()


def test_fmt_check_passes_on_the_recipes():
    done = invoke("fmt", "--check", ".", cwd=RECIPES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_lint_inside_recipes_passes_on_recipes_and_goldens():
    done = invoke("lint", ".", str(GOLDEN), cwd=RECIPES)
    assert done.returncode == 0, done.stdout + done.stderr


def test_pulid_fragment_is_what_the_importer_builds(tmp_path):
    from comfydsl.catalog.importer import main
    from recipes_support import PACKS
    from support import PULID_FOLDERS, PULID_OBJECT_INFO

    out = tmp_path / "pulid_flux.json"
    assert main([str(PULID_OBJECT_INFO),
                 "--folders", str(PULID_FOLDERS), "-o", str(out)]) == 0
    assert out.read_text() == (PACKS / "pulid_flux.json").read_text()
    data = json.loads(out.read_text())
    assert data["PulidFluxModelLoader"]["input"]["required"]["pulid_file"] == [[], {"model_folder": "pulid"}]
