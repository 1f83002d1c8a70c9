"""Regression tests for issue 11 (robustness): one test, or a few, per defect found by fuzzing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from support import comfydsl_command, invoke

from comfydsl.dsl.fmt import format_source
from comfydsl.errors import ParseError

SAMPLER = ('SaveImage(images=VAEDecode(samples=KSampler(model=ckpt.MODEL, seed=1, steps=2, cfg=1.0, '
           'sampler_name="euler", scheduler="normal", positive=pos, negative=pos, '
           'latent_image=EmptyLatentImage(width=64, height=64, batch_size=1), denoise=1.0), vae=ckpt.VAE), '
           'filename_prefix=prefix)\n')


def recipe(prompt: str = '"a fox"', prefix: str = '"out"', head: str = "") -> str:
    return (f"{head}param prompt: str = {prompt}\nparam prefix: str = {prefix}\n"
            'ckpt = CheckpointLoaderSimple(ckpt_name="sd_xl_base_1.0.safetensors")\n'
            "pos = CLIPTextEncode(text=prompt, clip=ckpt.CLIP)\n" + SAMPLER)


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and result.returncode in (0, 1, 2), result.stderr


# -- item 1: lone surrogates and non-UTF-8 --set values -------------------------------------------
def test_lone_surrogate_in_a_recipe_string_is_written_as_its_json_escape(tmp_path):
    path = tmp_path / "s.comfy"
    path.write_text(recipe(prompt='"x\\ud800y"', prefix='"q\\udc00"'), encoding="utf-8")
    result = invoke("compile", path, text=False)
    assert result.returncode == 0, result.stderr
    result.stdout.decode("utf-8")  # valid UTF-8
    assert b'"x\\ud800y"' in result.stdout
    workflow = json.loads(result.stdout)  # as ComfyUI reads it: the same lone surrogate
    assert "x\ud800y" in [n["inputs"].get("text") for n in workflow.values()]
    out = tmp_path / "out.json"
    assert invoke("compile", path, "-o", out).returncode == 0
    assert json.loads(out.read_bytes().decode("utf-8")) == workflow
    for args in (("params", path), ("params", path, "--format", "json"), ("lint", path), ("fmt", "--check", path),
                 ("graph", path)):
        result = invoke(*args, text=False)
        assert result.returncode in (0, 1) and b"Traceback" not in result.stderr, (args, result.stderr)
        result.stdout.decode("utf-8")
        result.stderr.decode("utf-8")


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_lone_surrogate_in_a_json_workflow_lints_and_draws(tmp_path, fmt):
    workflow = {"1": {"class_type": "CLIPTextEncode", "inputs": {"text": "a\ud800", "clip": ["2", 1]}},
                "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "zz\udfff"}}}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(workflow), encoding="ascii")
    result = invoke("lint", "--format", fmt, path, text=False)
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    result.stdout.decode("utf-8")
    report = tmp_path / "report.txt"
    assert invoke("lint", "--format", fmt, "-o", report, path).returncode == 1
    report.read_bytes().decode("utf-8")
    result = invoke("graph", path, text=False)
    assert result.returncode == 0
    result.stdout.decode("utf-8")


def test_set_value_that_is_not_utf8_is_a_usage_error(tmp_path):
    path = tmp_path / "s.comfy"
    path.write_text(recipe(), encoding="utf-8")
    bad = b"prompt=a\xffb".decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    for args in (("compile", path, "--set", bad), ("compile", path, "-o", tmp_path / "o.json", "--set", bad),
                 ("graph", path, "--set", bad)):
        result = invoke(*args)
        assert result.returncode == 2 and "not UTF-8" in result.stderr and "0xff" in result.stderr, result.stderr
    assert not (tmp_path / "o.json").exists()


def test_set_value_that_is_not_utf8_through_the_real_script(tmp_path):
    path = tmp_path / "s.comfy"
    path.write_text(recipe(), encoding="utf-8")
    result = subprocess.run([*comfydsl_command(), "compile", str(path), "--set", b"prompt=a\xffb"],
                            capture_output=True, timeout=60)
    assert result.returncode == 2 and b"not UTF-8" in result.stderr and result.stdout == b""


# -- item 2: parentheses count toward the nesting limit ------------------------------------------
def test_fmt_of_deep_parentheses_is_a_located_error_like_compile(tmp_path):
    path = tmp_path / "p.comfy"
    path.write_text("param x: int = " + "(" * 400 + "1" + ")" * 400 + "\n", encoding="utf-8")
    for args in (("fmt", "--check", path), ("compile", path), ("lint", path)):
        result = invoke(*args)
        assert result.returncode == 1 and "nests too deeply" in result.stdout + result.stderr, args
    shallow = "param x: int = " + "(" * 150 + "1" + ")" * 150 + "\n"
    assert format_source(shallow) == "param x: int = 1\n" or format_source(format_source(shallow)) == \
        format_source(shallow)


# -- item 3: memory of long string literals -------------------------------------------------------
@pytest.mark.parametrize("stage", ["parse", "fmt"])
def test_long_string_literal_costs_a_small_multiple_of_its_size(stage):
    from comfydsl.dsl.parser import parse

    size = 1_000_000
    text = recipe(prompt='"' + "a" * size + '"')
    parse("x = 1\n")  # the parser is built outside the measurement
    tracemalloc.start()
    try:
        parse(text) if stage == "parse" else format_source(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * size, f"{peak / size:.0f} bytes per character"  # was ~440 before issue 11


# -- item 4: RunPod `images` that is not a list ---------------------------------------------------
@pytest.mark.parametrize("images", [5, True, {"a": 1}, "x", [5]])
def test_runpod_images_not_a_list_is_reported(tmp_path, images):
    from comfydsl.graph import Graph

    body = {"input": {"workflow": {"1": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}},
                      "images": images}}
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    result = invoke("lint", path)
    no_traceback(result)
    assert "input.images" in result.stdout
    Graph.from_workflow(body)  # no TypeError


# -- item 5: fmt with comments inside a param statement -------------------------------------------
@pytest.mark.parametrize("text", [
    "param p: int\n# a\n= 1  # b\n",
    "param p: int  # a\n= 1  # b\nx = 2\n",
    "param p: int\n# a\n= 1  # b\nparam q: int = 2\n",
    "x = 1 +  # a\n  2  # b\n",
])
def test_fmt_keeps_comment_order_and_is_idempotent(text):
    once = format_source(text)
    assert format_source(once) == once
    comments = [line.split("#", 1)[1].strip() for line in once.splitlines() if "#" in line]
    assert comments == ["a", "b"]


# -- item 7: outputs never replace a file the command read ----------------------------------------
@pytest.fixture()
def project(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "enc.comfy").write_text(
        "fragment enc(text: str, clip) {\n    return CLIPTextEncode(text=text, clip=clip)\n}\n", encoding="utf-8")
    (tmp_path / "face.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "models.toml").write_text('checkpoints = ["sd_xl_base_1.0.safetensors"]\n', encoding="utf-8")
    (tmp_path / "comfydsl.toml").write_text('models = "models.toml"\n', encoding="utf-8")
    (tmp_path / "main.comfy").write_text(
        'from "parts/enc.comfy" import enc\n' + recipe().replace(
            "pos = CLIPTextEncode(text=prompt, clip=ckpt.CLIP)", "pos = enc(text=prompt, clip=ckpt.CLIP)")
        + 'LoadImage(image=file("face.png"))\n', encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("command, output", [
    ("compile", "parts/enc.comfy"), ("compile", "face.png"), ("compile", "models.toml"),
    ("compile", "comfydsl.toml"), ("graph", "parts/enc.comfy"), ("lint", "models.toml"),
    ("lint", "parts/enc.comfy"),
])
def test_output_onto_a_file_the_command_read_is_refused(project, command, output):
    before = (project / output).read_bytes()
    result = invoke(command, "main.comfy", "-o", output, cwd=project)
    assert result.returncode == 2 and "read that file" in result.stderr, result.stderr
    assert (project / output).read_bytes() == before


def test_output_onto_a_symlink_to_a_read_file_is_refused(project):
    os.symlink(project / "parts" / "enc.comfy", project / "link.comfy")
    result = invoke("compile", "main.comfy", "-o", "link.comfy", cwd=project)
    assert result.returncode == 2 and "read that file" in result.stderr


def test_decompile_output_onto_its_catalogue_is_refused(project, tmp_path):
    workflow = project / "w.json"
    assert invoke("compile", "main.comfy", "-o", workflow, cwd=project).returncode == 0
    catalog = project / "cat.json"
    catalog.write_text("{}", encoding="utf-8")
    result = invoke("decompile", workflow, "--catalog", catalog, "-o", catalog)
    assert result.returncode == 2 and catalog.read_text() == "{}"
    assert invoke("decompile", workflow, "-o", project / "new.comfy").returncode == 0


def test_outputs_elsewhere_still_work(project):
    assert invoke("compile", "main.comfy", "-o", "out.json", cwd=project).returncode == 0
    assert invoke("lint", "main.comfy", "-o", "report.txt", cwd=project).returncode in (0, 1)
    assert (project / "report.txt").exists()


# -- item 8: pipes and devices are refused, never read --------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
@pytest.mark.parametrize("use", ['import "pipe.comfy"\n', 'from "pipe.comfy" import f\n',
                                 'x = LoadImage(image=file("pipe.comfy"))\n'])
@pytest.mark.parametrize("command", ["compile", "lint"])
def test_import_or_attachment_of_a_fifo_is_a_located_error(tmp_path, use, command):
    os.mkfifo(tmp_path / "pipe.comfy")
    (tmp_path / "main.comfy").write_text(use, encoding="utf-8")
    try:  # the real script: a process that blocks can be killed, a thread cannot
        result = subprocess.run([*comfydsl_command(), command, "main.comfy"], cwd=tmp_path, capture_output=True,
                                text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("blocked on the named pipe")
    shown = result.stdout + result.stderr
    assert result.returncode == 1 and "named pipe" in shown and "main.comfy:1:" in shown, shown


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_recipe_that_is_a_device_is_refused():
    started = time.monotonic()
    result = invoke("compile", "/dev/zero")
    assert result.returncode == 1 and "character device" in result.stderr
    assert time.monotonic() - started < 10


# -- item 9: fragment expansion is bounded --------------------------------------------------------
def test_exponential_fragment_expansion_stops_with_a_clear_error(tmp_path, monkeypatch):
    from comfydsl.dsl.lower import scope

    monkeypatch.setattr(scope, "MAX_EXPANDED_NODES", 2000)
    monkeypatch.setattr(scope, "MAX_EXPANSIONS", 2000)
    lines = ['fragment f0(x: str) {\n    return CLIPTextEncode(text=x, clip=CheckpointLoaderSimple('
             'ckpt_name="a.safetensors").CLIP)\n}\n']
    lines += [f"fragment f{i}(x: str) {{\n    a = f{i - 1}(x=x)\n    _b = f{i - 1}(x=x)\n    return a\n}}\n"
              for i in range(1, 30)]
    path = tmp_path / "bomb.comfy"
    path.write_text("".join(lines) + 'PreviewAny(source=f29(x="q"))\n', encoding="utf-8")
    started = time.monotonic()
    result = invoke("compile", path)
    assert time.monotonic() - started < 30
    assert result.returncode == 1 and "CD141" in result.stderr and "the limit is 2000 nodes" in result.stderr
    assert result.stderr.count("CD141") == 1
