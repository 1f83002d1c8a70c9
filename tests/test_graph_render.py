"""Graph pictures: Mermaid and DOT text from workflows, SVG/PNG through Graphviz."""

from __future__ import annotations

import re
import shutil

import pytest

from comfydsl.errors import ComfyDSLError
from comfydsl.render.graph import GraphvizMissing, picture, render, render_image, to_dot, to_mermaid

FLUX = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev-fp8.safetensors"},
          "_meta": {"title": "ckpt"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a treehouse", "clip": ["1", 1]},
          "_meta": {"title": 'the "positive" prompt'}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
    "4": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "5": {"class_type": "KSampler", "inputs": {
        "model": ["1", 0], "seed": 42, "steps": 10, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple",
        "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0], "denoise": 1.0}},
    "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "flux"},
          "_meta": {"title": "SaveImage"}},
}


def test_picture_edges_carry_output_and_input_names(builtin):
    nodes, edges = picture(FLUX, builtin)
    assert [n.id for n in nodes] == ["1", "2", "3", "4", "5", "6", "9"]
    found = {(e.source, e.target, e.output, e.input) for e in edges}
    assert ("1", "2", "CLIP", "clip") in found
    assert ("1", "6", "VAE", "vae") in found
    assert ("5", "6", "LATENT", "samples") in found
    assert len(edges) == 9
    assert [n.id for n in nodes if n.output] == ["9"]


def test_mermaid_labels_nodes_with_title_class_and_id(builtin):
    text = to_mermaid(FLUX, builtin)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    n1["ckpt<br/>CheckpointLoaderSimple #1"]' in lines
    assert '    n3["CLIPTextEncode #3"]' in lines
    # a title equal to the class name is not repeated; output nodes get the subroutine shape
    assert '    n9[["SaveImage #9"]]' in lines
    assert '    n1 -->|"CLIP → clip"| n2' in lines
    assert '    n5 -->|"LATENT → samples"| n6' in lines
    # quotes in titles are entity-escaped so the chart still parses
    assert "the #quot;positive#quot; prompt" in text
    assert sum(1 for line in lines if "-->" in line) == 9


def test_dot_is_a_digraph_with_escaped_labels(builtin):
    text = to_dot(FLUX, builtin)
    assert text.startswith("digraph workflow {\n") and text.rstrip().endswith("}")
    assert '"2" [label="the \\"positive\\" prompt\\nCLIPTextEncode #2"];' in text
    assert '"1" -> "5" [label="MODEL → model"];' in text
    assert re.search(r'"9" \[label="SaveImage #9", style="rounded,bold"', text)


def test_links_to_missing_nodes_are_drawn_dashed(builtin):
    broken = {"6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}}}
    text = to_mermaid(broken, builtin)
    assert 'n5["missing node #5"]' in text
    assert "class n5,n1 missing" in text
    assert '"5" [label="missing node #5", style="dashed"];' in to_dot(broken, builtin)
    # the output name of a missing node is unknown: the index stands in
    assert '-->|"[2] → vae"| n6' in text


def test_without_catalogue_outputs_are_indexes():
    text = to_mermaid({"1": {"class_type": "Foo", "inputs": {}}, "2": {"class_type": "Bar", "inputs": {"x": ["1", 3]}}})
    assert '    n1 -->|"[3] → x"| n2' in text


def test_odd_node_ids_get_safe_keys(builtin):
    wf = {"a b": {"class_type": "EmptyImage", "inputs": {}},
          "x": {"class_type": "PreviewImage", "inputs": {"images": ["a b", 0]}}}
    text = to_mermaid(wf, builtin)
    assert 'n0_x["EmptyImage #a b"]' in text
    assert "n0_x -->" in text


def test_image_formats_need_graphviz(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizMissing, match="install Graphviz"):
        render_image("digraph { a -> b }", "svg")
    with pytest.raises(ValueError):
        render_image("digraph { }", "gif")


def test_a_failing_dot_program_is_reported(tmp_path):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(ComfyDSLError, match="syntax error in line 1"):
        render_image("digraph {", "svg", dot=str(fake))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_and_png_through_graphviz(builtin):
    svg = render(FLUX, "svg", builtin)
    assert b"<svg" in svg and b"CheckpointLoaderSimple #1" in svg
    png = render(FLUX, "png", builtin)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


# -- the command ------------------------------------------------------------------------------
def run(*args, env=None, cwd=None):
    from support import invoke

    return invoke(*args, cwd=cwd, env=env, text=False)


def test_graph_command_draws_a_recipe_with_parameters():
    from recipes_support import RECIPES

    done = run("graph", "flux_upscaled.comfy", "--format", "mermaid", "--set", "factor=3", cwd=RECIPES)
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert text.startswith("flowchart LR\n")
    assert 'n9["big.resized<br/>ImageScaleBy #9"]' in text
    assert 'n6 -->|"IMAGE → image"| n8' in text


def test_graph_command_draws_a_workflow_file_as_dot(tmp_path):
    import json

    path = tmp_path / "flux.json"
    path.write_text(json.dumps({"prompt": FLUX}))
    out = tmp_path / "flux.dot"
    done = run("graph", str(path), "-o", str(out))  # the format follows the suffix
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("digraph workflow {")
    assert run("graph", str(path), "--set", "x=1").returncode == 2


def test_graph_command_reports_bad_input(tmp_path):
    bad = tmp_path / "bad.comfy"
    bad.write_text("x = Nope(\n")
    done = run("graph", str(bad))
    assert done.returncode == 1 and b"Traceback" not in done.stderr and b"bad.comfy" in done.stderr
    notjson = tmp_path / "bad.json"
    notjson.write_text("[1, 2]")
    done = run("graph", str(notjson))
    assert done.returncode == 1 and b"CD002" in done.stderr


def test_graph_command_without_graphviz_says_to_install_it(tmp_path):
    import json

    path = tmp_path / "flux.json"
    path.write_text(json.dumps(FLUX))
    done = run("graph", str(path), "--format", "svg", "-o", str(tmp_path / "x.svg"), env={"PATH": str(tmp_path)})
    assert done.returncode == 1
    assert b"install Graphviz" in done.stderr and b"Traceback" not in done.stderr
    assert not (tmp_path / "x.svg").exists()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graph_command_writes_svg_and_png(tmp_path):
    from recipes_support import RECIPES

    svg = tmp_path / "pulid.svg"
    assert run("graph", str(RECIPES / "flux_pulid.comfy"), "-o", str(svg)).returncode == 0
    assert "<svg" in svg.read_text() and "ApplyPulidFlux #14" in svg.read_text()
    png = run("graph", str(RECIPES / "sdxl_lora.comfy"), "--format", "png")
    assert png.returncode == 0 and png.stdout.startswith(b"\x89PNG")
