"""Inventories: base folders, volume layouts by worker-comfyui version, manifests, the input
folder from a server's upload combos, and `comfydsl models`."""

from __future__ import annotations

import json

import pytest

from comfydsl.catalog.inventory import load_inventory, manifest_text, read_manifest, scan_dir
from comfydsl.catalog.volume import mapped_dirs, normalize_version, place
from comfydsl.cli import main
from comfydsl.errors import CatalogError
from comfydsl.target import load_target
from comfydsl.validate import check_workflow

from support import OBJECT_INFO

LOAD = {"1": {"class_type": "LoadImage", "inputs": {"image": "face.png"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}


def make(root, *paths):
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"data")
    return root


@pytest.mark.parametrize("path, version, expected", [
    ("models/checkpoints/a.safetensors", "5.8.5", ("checkpoints", "a.safetensors", True, None)),
    ("models/clip/t5.safetensors", "5.0.0", ("text_encoders", "t5.safetensors", True, None)),
    ("models/diffusion_models/f.sft", "5.8.5", ("diffusion_models", "f.sft", False, "models/unet/f.sft")),
    ("models/diffusion_models/f.sft", "dev", ("diffusion_models", "f.sft", True, None)),
    ("models/text_encoders/sub/t.safetensors", "latest",
     ("text_encoders", "sub/t.safetensors", False, "models/clip/sub/t.safetensors")),
    ("checkpoints/a.safetensors", "5.8.5", ("checkpoints", "a.safetensors", False, "models/checkpoints/a.safetensors")),
    ("diffusion_models/f.sft", "5.8.5", ("diffusion_models", "f.sft", False, "models/unet/f.sft")),
    ("runpod-volume/models/loras/l.safetensors", None, ("loras", "l.safetensors", False, "models/loras/l.safetensors")),
    ("models/style_models/s.safetensors", "5.8.5", ("style_models", "s.safetensors", False, None)),
    ("models/configs/v1.yaml", "5.8.5", ("configs", "v1.yaml", True, None)),
])
def test_place_on_volume(path, version, expected):
    placement = place(path, version)
    assert (placement.folder, placement.name, placement.seen, placement.move_to) == expected


@pytest.mark.parametrize("path", ["models/checkpoints/readme.txt", "models/loras/", ".s3compat_uploads/x.safetensors",
                                  "input/face.png", "models/x.safetensors", "random/a.safetensors"])
def test_not_a_model_on_volume(path):
    assert place(path) is None


def test_worker_versions():
    assert normalize_version(None) == "5.8.5" and normalize_version("v5.2") == "5.2.0"
    assert "diffusion_models" in mapped_dirs("6.0") and "diffusion_models" not in mapped_dirs("5.8.5")
    with pytest.raises(ValueError, match="not a version"):
        normalize_version("five")


def test_base_folder_gives_models_and_input(tmp_path):
    make(tmp_path, "models/checkpoints/a.safetensors", "models/diffusion_models/f.sft", "input/face.png",
         "input/sub/b.png", "output/x.png")
    target = load_target(models=str(tmp_path))
    assert target.models.files("input") == ["face.png", "sub/b.png"]
    assert target.models.files("diffusion_models") == ["f.sft"]  # ComfyUI itself reads it
    assert check_workflow(LOAD, catalog=target.catalog, models=target.models) == []
    missing = json.loads(json.dumps(LOAD).replace("face.png", "gone.png"))
    assert [d.code for d in check_workflow(missing, catalog=target.catalog, models=target.models)] == ["CD502"]


def test_empty_input_folder_still_counts(tmp_path):
    make(tmp_path, "models/checkpoints/a.safetensors")
    (tmp_path / "input").mkdir()
    target = load_target(models=str(tmp_path))
    assert [d.code for d in check_workflow(LOAD, catalog=target.catalog, models=target.models)] == ["CD502"]


def test_server_catalogue_upload_combos_are_its_input_folder(tmp_path):
    raw = json.loads(OBJECT_INFO.read_text())
    raw["LoadImage"]["input"]["required"]["image"][0] = ["face.png", "cat.jpg"]
    raw["LoadImageOutput"] = {"input": {"required": {"image": [["out.png [output]"], {
        "image_upload": True, "image_folder": "output"}]}}, "output": ["IMAGE"], "output_node": False}
    path = tmp_path / "object_info.json"
    path.write_text(json.dumps(raw))
    target = load_target([str(path)], builtin=False)
    assert target.models.files("input") == ["cat.jpg", "face.png"]
    assert check_workflow(LOAD, catalog=target.catalog, models=target.models) == []
    other = json.loads(json.dumps(LOAD).replace("face.png", "dog.png"))
    (diag,) = check_workflow(other, catalog=target.catalog, models=target.models)
    assert diag.code == "CD502" and "input folder" in diag.message


def test_bare_workflow_without_inventory_gets_a_note(tmp_path, capsys):
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps(LOAD))
    assert main(["lint", str(wf)]) == 0
    assert "model and input files were not checked" in capsys.readouterr().err
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"input": {"workflow": LOAD}}))
    assert main(["lint", str(body)]) == 1  # a RunPod body still needs its images
    assert "CD502" in capsys.readouterr().out


def test_decompiled_load_image_compiles_again(tmp_path):
    from comfydsl.dsl.decompile import decompile
    from comfydsl.dsl.recipe import Recipe

    recipe = tmp_path / "r.comfy"
    recipe.write_text(decompile(LOAD))
    graph, diagnostics = Recipe(recipe).build({})
    assert [d.code for d in diagnostics if d.is_error] == []


def test_manifest_round_trip_keeps_the_layout(tmp_path):
    make(tmp_path / "vol", "models/checkpoints/a.safetensors", "checkpoints/b.safetensors", "models/unet/u.sft")
    listing = load_inventory(f"runpod-volume:{tmp_path / 'vol'}", sha256=True)
    text = manifest_text(listing)
    manifest = tmp_path / "m.toml"
    manifest.write_text(text)
    again = read_manifest(manifest)
    assert again.layout == "runpod-volume" and again.files == listing.files
    assert again.files[0].sha256 and len(again.files[0].sha256) == 64
    catalog = again.catalog()
    assert catalog.files("checkpoints") == ["a.safetensors"]
    assert catalog.find_misplaced("checkpoints", "b.safetensors").move_to == "models/checkpoints/b.safetensors"


@pytest.mark.parametrize("text, message", [
    ('[manifest]\nlayout = "disk"\n', "layout"),
    ('[[file]]\nsize = 3\n', "no `path`"),
    ('[[file]]\npath = "models/checkpoints/a.ckpt"\nsize = -1\n', "whole number"),
    ('[[file]]\npath = "a"\nmd5 = 5\n', "`md5` must be a string"),
])
def test_bad_full_manifest(tmp_path, text, message):
    path = tmp_path / "m.toml"
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        read_manifest(path)


def test_short_manifest_with_input_list(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('checkpoints = ["a"]\ninput = ["face.png"]\n')
    catalog = read_manifest(path).catalog()
    assert catalog.files("checkpoints") == ["a"] and catalog.files("input") == ["face.png"]


def test_lint_with_volume_and_worker_version(tmp_path, capsys):
    vol = make(tmp_path / "vol", "models/diffusion_models/flux.safetensors", "models/clip/t5.safetensors",
               "models/vae/ae.safetensors")
    wf = tmp_path / "wf.json"
    wf.write_text(json.dumps({
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}}}))
    assert main(["lint", str(wf), "--models", f"runpod-volume:{vol}", "--ignore", "CD603", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "CD503" in out and "models/unet/flux.safetensors" in out
    assert main(["lint", str(wf), "--models", f"runpod-volume:{vol}", "--worker-version", "dev",
                 "--ignore", "CD603", "--strict"]) == 0
    capsys.readouterr()
    assert main(["lint", str(wf), "--models", f"runpod-volume:{vol}", "--worker-version", "x.y"]) == 2
    assert "not a version" in capsys.readouterr().err
    (tmp_path / "comfydsl.toml").write_text('models = "runpod-volume:vol"\nworker-version = "dev"\nignore = ["CD603"]\n')
    assert main(["lint", str(wf), "--config", str(tmp_path / "comfydsl.toml")]) == 0


def test_models_command_writes_and_protects_files(tmp_path, capsys):
    base = make(tmp_path / "base", "models/checkpoints/a.safetensors", "input/face.png")
    out = tmp_path / "models.toml"
    assert main(["models", str(base), "-o", str(out)]) == 0
    assert "2 file(s)" in capsys.readouterr().err
    assert 'path = "input/face.png"' in out.read_text()
    assert main(["models", str(base), "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["models", str(base), "-o", str(out), "--force"]) == 0
    assert main(["models", str(out), "-o", str(out), "--force"]) == 2  # never over its input
    assert "being read" in capsys.readouterr().err
    assert main(["models", str(tmp_path / "nothing")]) == 2
    # the manifest is what `--models` reads
    assert load_target(models=str(out)).models.files("input") == ["face.png"]


def test_scan_skips_hidden_files(tmp_path):
    make(tmp_path, "checkpoints/.partial.safetensors", "checkpoints/a.safetensors", ".cache/checkpoints/x.ckpt")
    assert [f.path for f in scan_dir(tmp_path).files] == ["checkpoints/a.safetensors"]
