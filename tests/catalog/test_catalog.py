"""The node catalogue, the built-in copy and its importer, model catalogues and targets."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import BUNDLED_OBJECT_INFO, OBJECT_INFO, PLACEHOLDERS, PULID_FOLDERS, PULID_OBJECT_INFO

from comfydsl.catalog import ModelCatalog, NodeCatalog, builtin_catalog
from comfydsl.catalog import importer
from comfydsl.catalog.nodes import parse_input, types_compatible
from comfydsl.errors import CatalogError
from comfydsl.target import load_target

BUILTIN = Path(__file__).resolve().parents[2] / "comfydsl" / "catalog" / "builtin.json"


def test_builtin_is_what_the_importer_makes(object_info):
    # the stock server's classes plus SaveImageWebsocket from ComfyUI's own custom_nodes/ folder
    info = {**object_info, **json.loads(BUNDLED_OBJECT_INFO.read_text())}
    placeholders = importer.read_placeholders(PLACEHOLDERS.read_text())
    folders = importer.model_folders(info, placeholders)
    assert json.loads(BUILTIN.read_text()) == importer.compact(info, folders, placeholders, comfyui_version="0.3.64")


def test_builtin_has_every_class_without_prose(object_info):
    catalog = builtin_catalog()
    assert set(catalog) == set(object_info) | {"SaveImageWebsocket"} and len(catalog) == 496
    assert catalog["SaveImageWebsocket"].output_node and catalog.comfyui_version == "0.3.64"
    text = BUILTIN.read_text()
    assert '"tooltip"' not in text and '"description"' not in text


def test_placeholder_lists_become_folders():
    catalog = builtin_catalog()
    ckpt = catalog["CheckpointLoaderSimple"].inputs["ckpt_name"]
    assert (ckpt.model_folder, ckpt.options, ckpt.combo_form) == ("checkpoints", None, "list")
    assert catalog["UNETLoader"].inputs["unet_name"].model_folder == "diffusion_models"
    assert catalog["DualCLIPLoader"].inputs["clip_name2"].model_folder == "text_encoders"
    assert catalog["UpscaleModelLoader"].inputs["model_name"].combo_form == "combo"
    assert catalog["UpscaleModelLoader"].inputs["model_name"].model_folder == "upscale_models"
    assert catalog["StyleModelLoader"].inputs["style_model_name"].model_folder == "style_models"
    assert catalog["VAELoader"].inputs["vae_name"].config["virtual"] == ["pixel_space"]
    assert catalog["LoadImage"].inputs["image"].upload == "image"
    # Options that are not model files stay.
    assert "euler" in catalog["KSampler"].inputs["sampler_name"].options


def test_read_placeholders():
    found = importer.read_placeholders("- clip/a.safetensors\n- unet/b.safetensors\ntext\n- vae/c.pt\n")
    assert found == {"a.safetensors": "text_encoders", "b.safetensors": "diffusion_models", "c.pt": "vae"}


def test_importer_cli_with_folder_map(tmp_path):
    out = tmp_path / "pulid.json"
    assert importer.main([str(PULID_OBJECT_INFO),
                          "--folders", str(PULID_FOLDERS),
                          "-o", str(out)]) == 0
    catalog = NodeCatalog.from_file(str(out))
    assert catalog["PulidFluxModelLoader"].inputs["pulid_file"].model_folder == "pulid"
    faces = catalog["PulidFluxFaceDetector"].outputs
    assert [o.name for o in faces] == ["embed_face", "align_face", "face_bbox_image"] and faces[0].is_list


@pytest.mark.parametrize("raw, expected", [
    (["INT", {"min": 0, "max": 5}], ("INT", None, None)),
    ([["a", "b"], {}], ("COMBO", ("a", "b"), "list")),
    ([["a", "b"]], ("COMBO", ("a", "b"), "list")),
    (["COMBO", {"options": ["x"], "multiselect": False}], ("COMBO", ("x",), "combo")),
    (["IMAGE,MASK"], ("IMAGE,MASK", None, None)),
    (["*", {}], ("*", None, None)),
])
def test_parse_input_forms(raw, expected):
    spec = parse_input("x", raw, "required")
    assert (spec.type, spec.options, spec.combo_form) == expected


def test_hidden_and_force_input():
    catalog = builtin_catalog()
    assert catalog["SaveImage"].inputs["prompt"].hidden
    spec = parse_input("n", ["INT", {"forceInput": True}], "optional")
    assert spec.force_input and not spec.required


def test_types_compatible():
    assert types_compatible("MODEL", "MODEL")
    assert types_compatible("*", "MODEL") and types_compatible("IMAGE", "*")
    assert types_compatible("IMAGE", "IMAGE,MASK") and types_compatible("MASK,LATENT", "LATENT")
    assert not types_compatible("CLIP", "MODEL")


def test_output_lookup():
    spec = builtin_catalog()["CheckpointLoaderSimple"]
    assert spec.output("VAE").index == 2 and spec.output(-1).name == "VAE" and spec.output("clip").index == 1
    with pytest.raises(KeyError):
        spec.output(3)


def test_catalogue_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(CatalogError, match=r"bad.json:1:2"):
        NodeCatalog.from_file(str(bad))
    with pytest.raises(CatalogError, match="cannot read"):
        NodeCatalog.from_file(str(tmp_path / "missing.json"))
    with pytest.raises(CatalogError):
        NodeCatalog([1, 2])
    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8}}}
    with pytest.raises(CatalogError, match="workflow file rather than a catalogue"):
        NodeCatalog(workflow, source="wf.json")


def test_merge_later_wins():
    base = builtin_catalog()
    extra = NodeCatalog({"KSampler": {"input": {"required": {"x": ["INT"]}}, "output": [], "output_node": True}},
                        source="extra")
    merged = base.merged(extra)
    assert list(merged["KSampler"].inputs) == ["x"] and "SaveImage" in merged and len(merged) == len(base)


def test_scan_models_root(tmp_path):
    for rel in ("checkpoints/a.safetensors", "checkpoints/sub/b.ckpt", "checkpoints/notes.txt",
                "clip/t5.safetensors", "text_encoders/l.safetensors", "unet/flux.sft",
                "checkpoints/.hidden/c.safetensors", "configs/v1.yaml", "loras/x.safetensors"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    models = ModelCatalog.from_dir(tmp_path)
    assert models.files("checkpoints") == ["a.safetensors", "sub/b.ckpt"]
    assert models.files("text_encoders") == ["l.safetensors", "t5.safetensors"]
    assert models.files("clip") == models.files("text_encoders")
    assert models.files("diffusion_models") == ["flux.sft"]
    assert models.files("configs") == ["v1.yaml"]
    assert models.has("checkpoints", "sub\\b.ckpt")
    assert models.closest("loras", "x.safetensor") == ["x.safetensors"]


@pytest.mark.parametrize("name, text", [
    ("m.toml", '[models]\ncheckpoints = ["a.safetensors"]\nclip = ["t.safetensors"]\n'),
    ("m.toml", 'checkpoints = ["a.safetensors"]\nclip = ["t.safetensors"]\n'),
    ("m.json", '{"checkpoints": ["a.safetensors"], "clip": ["t.safetensors"]}'),
])
def test_manifest(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    models = ModelCatalog.load(str(path))
    assert models.files("checkpoints") == ["a.safetensors"] and models.files("text_encoders") == ["t.safetensors"]


@pytest.mark.parametrize("name, text, message", [
    ("m.toml", "checkpoints = [", "not valid TOML"),
    ("m.json", "[1]", "maps folder names"),
    ("m.toml", "checkpoints = [1]", "list of file names"),
])
def test_bad_manifest(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CatalogError, match=message):
        ModelCatalog.load(str(path))
    with pytest.raises(CatalogError, match="no such"):
        ModelCatalog.load(str(tmp_path / "nothing"))


def test_target_from_object_info_counts_as_inventory():
    target = load_target([str(OBJECT_INFO)], builtin=False)
    assert target.models.files("checkpoints") == ["flux1-dev-fp8.safetensors", "sd_xl_base_1.0.safetensors",
                                                  "v1-5-pruned-emaonly.safetensors"]
    assert target.catalog["CheckpointLoaderSimple"].inputs["ckpt_name"].model_folder == "checkpoints"


def test_target_without_sources_checks_no_models():
    target = load_target()
    assert target.models is None and not target.models_checked
    with pytest.raises(CatalogError, match="empty"):
        load_target(builtin=False)


class _ObjectInfoHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path != "/object_info":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_target_from_live_server():
    fragment = {"MyLoader": {"input": {"required": {"ckpt_name": [["real.safetensors"], {}]}},
                             "output": ["MODEL"], "output_name": ["MODEL"], "output_node": False},
                "CheckpointLoaderSimple": json.loads(OBJECT_INFO.read_text())["CheckpointLoaderSimple"]}
    _ObjectInfoHandler.body = json.dumps(fragment).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ObjectInfoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        target = load_target([url])
        assert "MyLoader" in target.catalog and "KSampler" in target.catalog
        assert "sd_xl_base_1.0.safetensors" in target.models.files("checkpoints")
        with pytest.raises(CatalogError, match="HTTP 404"):
            load_target([url + "/nothing"])
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(CatalogError, match="cannot fetch"):
        load_target([url], timeout=2)
