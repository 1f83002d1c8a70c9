"""The Python graph API."""

from __future__ import annotations

import pytest

from comfydsl import CompileError, Graph
from comfydsl.catalog import ModelCatalog
from comfydsl.diagnostics import Span


def sd15(g: Graph):
    ckpt = g.CheckpointLoaderSimple(ckpt_name="v1-5-pruned-emaonly.safetensors")
    pos = g.CLIPTextEncode(text="a lighthouse", clip=ckpt.CLIP)
    neg = g.node("CLIPTextEncode", text="", clip=ckpt[1])
    latent = g.EmptyLatentImage(width=512, height=512, batch_size=1)
    samples = g.KSampler(model=ckpt.MODEL, positive=pos, negative=neg, latent_image=latent, seed=1, steps=20,
                         cfg=7.0, sampler_name="euler", scheduler="normal", denoise=1.0)
    image = g.VAEDecode(samples=samples, vae=ckpt.VAE)
    g.SaveImage(images=image, filename_prefix="out", title="Save")
    return g


def test_compile_builds_api_json():
    workflow = sd15(Graph()).compile()
    assert list(workflow) == ["1", "2", "3", "4", "5", "6", "7"]
    assert workflow["2"]["inputs"]["clip"] == ["1", 1]
    assert workflow["5"]["inputs"]["latent_image"] == ["4", 0]
    assert workflow["7"]["_meta"] == {"title": "Save"}
    assert "_meta" not in workflow["1"]


def test_ids_are_deterministic_and_skip_pinned():
    g = Graph()
    g.EmptyImage(id=2, width=8, height=8, batch_size=1, color=0)
    a = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    b = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    assert (a.id, b.id) == ("1", "3")
    with pytest.raises(ValueError, match="already used"):
        g.EmptyImage(id="3")


def test_envelopes():
    g = sd15(Graph())
    g.attach("face.png", b"\x89PNG")
    body = g.compile(envelope="runpod")
    assert body["input"]["images"] == [{"name": "face.png", "image": "iVBORw=="}]
    assert g.compile(envelope="prompt")["prompt"] == g.compile()
    with pytest.raises(ValueError, match="unknown envelope"):
        g.compile(envelope="zip")


def test_outputs_by_name_and_index_errors():
    g = Graph()
    ckpt = g.CheckpointLoaderSimple(ckpt_name="x.safetensors")
    assert ckpt.out("vae").index == 2 and ckpt[2] == ckpt.VAE and ckpt.VAE.type == "VAE"
    with pytest.raises(AttributeError, match="has no output `VAEE`.*did you mean `VAE`"):
        ckpt.VAEE
    with pytest.raises(KeyError, match="no output 3"):
        ckpt[3]
    with pytest.raises(TypeError, match="several outputs"):
        g.VAEDecode(samples=ckpt, vae=ckpt.VAE)


def test_unknown_class_attribute_suggests():
    with pytest.raises(AttributeError, match="KSampler"):
        Graph().KSamplr
    # graph.node accepts any class; the checks report it.
    g = Graph()
    g.node("NotInCatalogue", x=1)
    # no CD602: the unknown class may be the output node
    assert sorted(d.code for d in g.check()) == ["CD101"]


def test_compile_raises_one_error_with_all_diagnostics():
    g = sd15(Graph())
    g["5"].set(steps=0, cfg=500, sampler_name="nope")
    with pytest.raises(CompileError) as info:
        g.compile()
    assert sorted(d.code for d in info.value.diagnostics) == ["CD403", "CD404", "CD405"]
    assert "3 error(s)" in str(info.value)


def test_check_uses_models_and_locates_spans():
    g = sd15(Graph(models=ModelCatalog({"checkpoints": ["other.safetensors"]})))
    g["1"].span = Span("r.comfy", 3, 1)
    g["5"].input_spans["steps"] = Span("r.comfy", 9, 20)
    g["5"].set(steps=0)
    found = {d.code: d for d in g.check()}
    assert found["CD501"].span == Span("r.comfy", 3, 1)
    assert found["CD403"].span == Span("r.comfy", 9, 20)


def test_from_workflow_edit_round_trip():
    original = sd15(Graph()).compile()
    g = Graph.from_workflow({"input": {"workflow": original}})
    assert g.compile() == original
    g["5"].set(steps=30)
    assert g.compile()["5"]["inputs"]["steps"] == 30
    assert isinstance(g["5"].inputs["model"], type(g["1"].MODEL))
    upscaled = g.ImageScaleBy(image=g["6"], upscale_method="nearest-exact", scale_by=2.0)
    g.PreviewImage(images=upscaled)
    assert upscaled.id == "8"


def test_from_workflow_keeps_bad_links_for_the_checks():
    original = sd15(Graph()).compile()
    original["6"]["inputs"]["vae"] = ["99", 2]
    g = Graph.from_workflow(original)
    assert [d.code for d in g.check()] == ["CD103"]


def test_remove_leaves_dangling_links_reported():
    g = sd15(Graph())
    g.remove("4")
    assert [d.code for d in g.check()] == ["CD103"]


def test_nodes_of_another_graph_are_refused():
    a, b = Graph(), Graph()
    img = a.EmptyImage(width=8, height=8, batch_size=1, color=0)
    with pytest.raises(ValueError, match="another graph"):
        b.PreviewImage(images=img)
