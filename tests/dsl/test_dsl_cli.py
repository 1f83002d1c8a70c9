"""`comfydsl compile` and `comfydsl params` through the installed console script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support_dsl import TAIL, comfydsl_exe

from support import PULID_OBJECT_INFO as PULID
from support import invoke

RECIPE = 'param size: int = 64\nparam name: str = "t"\nparam on: bool = false\nparam ratio: float = 1.5\n' \
         'img = EmptyImage(width=size, height=size * ratio // 1, batch_size=1, color=0)\n' \
         'SaveImage(images=img, filename_prefix=name)\n'


def run(*args, cwd=None):
    return invoke(*args, cwd=cwd)


@pytest.fixture
def recipe(tmp_path):
    path = tmp_path / "r.comfy"
    path.write_text(RECIPE)
    return path


def test_compile_to_stdout_with_set(recipe):
    result = run("compile", recipe, "--set", "size=128", "--set", "name=hello world", "--set", "on=true")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["1"]["inputs"]["width"] == 128 and data["1"]["inputs"]["height"] == 192.0
    assert data["2"]["inputs"]["filename_prefix"] == "hello world"
    assert result.stdout.endswith("}\n") and result.stdout.startswith('{\n  "1": {\n    "class_type"')
    assert "CD120" in result.stderr  # `on` is unused: a warning, and still exit 0


def test_output_is_byte_for_byte_stable(recipe, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("compile", recipe, "-o", first).returncode == 0
    assert run("compile", recipe, "-o", second).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    assert list(json.loads(first.read_text())) == ["1", "2"]


def test_output_file_is_replaced_atomically_and_kept_on_error(recipe, tmp_path):
    out = tmp_path / "out.json"
    out.write_text("previous\n")
    assert run("compile", recipe, "--set", "size=oops", "-o", out).returncode == 1
    assert out.read_text() == "previous\n"
    assert run("compile", recipe, "-o", out).returncode == 0
    assert json.loads(out.read_text())["1"]["class_type"] == "EmptyImage"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_errors_are_printed_with_source_and_exit_1(tmp_path):
    path = tmp_path / "bad.comfy"
    path.write_text('img = EmptyImage(width=64, height=64, batch_size=1, color=0)\n'
                    'SaveImage(images=imgg, filename_prefix="t")\n')
    result = run("compile", path)
    assert result.returncode == 1 and result.stdout == ""
    assert "CD110" in result.stderr and "bad.comfy:2:18" in result.stderr
    assert "SaveImage(images=imgg" in result.stderr and "^^^^" in result.stderr


def test_parse_error_exit_1_with_location(tmp_path):
    path = tmp_path / "bad.comfy"
    path.write_text("x = Foo(a=1\n")
    result = run("compile", path)
    assert result.returncode == 1
    assert "CD010" in result.stderr and "bad.comfy:2:1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, code, text", [
    (["--set", "size"], 2, "NAME=VALUE"),
    (["--set", "size=1", "--set", "size=2"], 2, "twice"),
    (["--set", "nope=1"], 1, "CD130"),
    (["--set", "on=yes"], 1, "CD132"),
    (["--envelope", "zip"], 2, "invalid choice"),
    (["--body-limit", "inf"], 2, "--body-limit"),
    (["--body-limit", "nan"], 2, "--body-limit"),
])
def test_bad_options(recipe, args, code, text):
    result = run("compile", recipe, *args)
    assert result.returncode == code and text in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_recipe_file(tmp_path):
    result = run("compile", tmp_path / "none.comfy")
    assert result.returncode == 1 and "no such recipe" in result.stderr


def test_envelopes(recipe):
    body = json.loads(run("compile", recipe, "--envelope", "runpod").stdout)
    assert set(body["input"]) == {"workflow"}
    assert set(json.loads(run("compile", recipe, "--envelope", "prompt").stdout)) == {"prompt"}


def test_body_limit_option(tmp_path):
    (tmp_path / "img.png").write_bytes(bytes(400_000))
    path = tmp_path / "r.comfy"
    path.write_text('img = LoadImage(image=file("img.png"))\nSaveImage(images=img.IMAGE, filename_prefix="t")\n')
    assert run("compile", path, "--envelope", "runpod").returncode == 0
    result = run("compile", path, "--envelope", "runpod", "--body-limit", "0.3")
    assert result.returncode == 1 and "CD122" in result.stderr


def test_catalogue_from_options_and_from_config_found_upward(tmp_path):
    folder = tmp_path / "recipes" / "faces"
    folder.mkdir(parents=True)
    path = folder / "pulid.comfy"
    path.write_text('eva = PulidFluxEvaClipLoader()\n' + TAIL + "_unused = eva\n")
    assert "CD101" in run("compile", path).stderr
    assert run("compile", path, "--catalog", PULID).returncode == 0
    (tmp_path / "recipes" / "comfydsl.toml").write_text(f'catalog = ["{PULID}"]\n')
    result = run("compile", path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["1"]["class_type"] == "PulidFluxEvaClipLoader"
    assert run("compile", path, "--no-builtin", "--catalog", PULID).returncode == 1  # no EmptyImage


def test_params_text_and_json(recipe, tmp_path):
    result = run("params", recipe)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "size   int    = 64", 'name   str    = "t"', "on     bool   = false", "ratio  float  = 1.5"]
    data = json.loads(run("params", recipe, "--format", "json").stdout)
    assert data["params"][0] == {"name": "size", "type": "int", "required": False, "default": 64,
                                 "default_text": "64"}
    required = tmp_path / "req.comfy"
    required.write_text("param face: str\n")
    assert run("params", required).stdout.strip() == "face  str    (required)"


def test_params_on_a_broken_recipe(tmp_path):
    path = tmp_path / "bad.comfy"
    path.write_text("param x: int =\n")
    result = run("params", path)
    assert result.returncode == 1 and "CD010" in result.stderr


def test_output_naming_the_recipe_is_refused_and_the_recipe_kept(recipe, tmp_path):
    result = run("compile", recipe, "-o", recipe)
    assert result.returncode == 2 and "input file" in result.stderr, result.stderr
    assert recipe.read_text() == RECIPE
    link = tmp_path / "link.json"
    link.symlink_to(recipe)
    assert run("compile", recipe, "-o", link).returncode == 2
    assert recipe.read_text() == RECIPE
    assert run("graph", recipe, "-o", link).returncode == 2
    assert recipe.read_text() == RECIPE


def test_graph_output_naming_the_workflow_is_refused(recipe, tmp_path):
    workflow = tmp_path / "w.json"
    assert run("compile", recipe, "-o", workflow).returncode == 0
    before = workflow.read_bytes()
    result = run("graph", workflow, "-o", workflow)
    assert result.returncode == 2 and "input file" in result.stderr
    assert workflow.read_bytes() == before


def test_output_file_gets_the_usual_mode_and_keeps_an_existing_one(recipe, tmp_path):
    import os

    fresh = tmp_path / "fresh.json"
    done = subprocess.run(["sh", "-c", f"umask 022 && exec {comfydsl_exe()} compile {recipe} -o {fresh}"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert oct(fresh.stat().st_mode & 0o777) == oct(0o644)  # not the temporary file's private 0600
    kept = tmp_path / "kept.json"
    kept.write_text("old\n")
    os.chmod(kept, 0o640)
    assert run("compile", recipe, "-o", kept).returncode == 0
    assert oct(kept.stat().st_mode & 0o777) == oct(0o640)
    target = tmp_path / "real.json"
    target.write_text("old\n")
    (tmp_path / "via.json").symlink_to(target)
    assert run("compile", recipe, "-o", tmp_path / "via.json").returncode == 0
    assert (tmp_path / "via.json").is_symlink() and json.loads(target.read_text())["1"]
