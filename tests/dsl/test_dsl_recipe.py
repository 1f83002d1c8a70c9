"""Lowering and compiling recipes: graphs, ids, titles, parameters, fragments, imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comfydsl import CompileError
from comfydsl.dsl import Recipe, lint_recipe, load_recipe
from comfydsl.dsl.lower import lower
from comfydsl.errors import ParseError, RecipeError
from comfydsl.target import Target
from support_dsl import FIXTURES, TAIL, codes

FLUX = '''# FLUX.1-dev text to image
param prompt: str = "a whimsical treehouse"
param seed: int = 42
param size: int = 512

ckpt    = CheckpointLoaderSimple(ckpt_name="flux1-dev-fp8.safetensors")
pos     = CLIPTextEncode(text=prompt, clip=ckpt.CLIP)
neg     = CLIPTextEncode(text="", clip=ckpt[1])
latent  = EmptySD3LatentImage(width=size, height=size, batch_size=1)
samples = KSampler(model=ckpt.MODEL, positive=pos, negative=neg, latent_image=latent, seed=seed,
                   steps=10, cfg=1.0, sampler_name="euler", scheduler="simple", denoise=1.0)
image   = VAEDecode(samples=samples, vae=ckpt.VAE)
SaveImage(images=image, filename_prefix="flux")
'''


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def target(builtin):
    return Target(builtin)


def recipe(tmp_path, text, target, name="r.comfy", **options) -> Recipe:
    return Recipe(write(tmp_path, name, text), target=target, **options)


def test_flux_reference_graph(tmp_path, target):
    workflow = recipe(tmp_path, FLUX, target).compile(seed=7)
    assert workflow == {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev-fp8.safetensors"},
              "_meta": {"title": "ckpt"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a whimsical treehouse", "clip": ["1", 1]},
              "_meta": {"title": "pos"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}, "_meta": {"title": "neg"}},
        "4": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1},
              "_meta": {"title": "latent"}},
        "5": {"class_type": "KSampler", "inputs": {
            "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0], "seed": 7,
            "steps": 10, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0},
              "_meta": {"title": "samples"}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}, "_meta": {"title": "image"}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "flux"}},
    }
    assert list(workflow) == ["1", "2", "3", "4", "5", "6", "7"]


def test_load_recipe_and_params(tmp_path):
    path = write(tmp_path, "r.comfy", 'param face: str\nparam n: float = 2 * 3\nparam ok: bool = true\n' + TAIL)
    loaded = load_recipe(path)
    assert [(p.name, p.type, p.default, p.required) for p in loaded.params] == [
        ("face", "str", None, True), ("n", "float", 6, False), ("ok", "bool", True, False)]
    assert loaded.params[1].default_text == "2 * 3"


def test_load_recipe_errors(tmp_path):
    with pytest.raises(RecipeError, match="no such recipe"):
        load_recipe(tmp_path / "missing.comfy")
    with pytest.raises(ParseError) as info:
        load_recipe(write(tmp_path, "bad.comfy", "x = (\n"))
    assert info.value.span.path.endswith("bad.comfy")


PARAMS = '''param width: int = 64
param ratio: float = 1
param label: str = "t"
param invert: bool = false
img = EmptyImage(width=width, height=width * ratio // 1, batch_size=1, color=0)
SaveImage(images=img, filename_prefix=label)
'''


@pytest.mark.parametrize("given, width, height, label", [
    ({}, 64, 64.0, "t"),
    ({"width": "128"}, 128, 128.0, "t"),
    ({"width": 32, "ratio": 2}, 32, 64.0, "t"),
    ({"ratio": "0.5", "label": "true"}, 64, 32.0, "true"),
])
def test_parameter_values_are_typed(tmp_path, target, given, width, height, label):
    nodes = recipe(tmp_path, PARAMS, target).compile(given)
    assert nodes["1"]["inputs"]["width"] == width and type(nodes["1"]["inputs"]["width"]) is int
    assert nodes["1"]["inputs"]["height"] == height
    assert nodes["2"]["inputs"]["filename_prefix"] == label


@pytest.mark.parametrize("given, code", [
    ({"width": "6.5"}, "CD132"), ({"width": "wide"}, "CD132"), ({"ratio": "nan"}, "CD132"),
    ({"invert": "yes"}, "CD132"), ({"invert": 1}, "CD132"), ({"width": True}, "CD132"),
    ({"label": 3}, "CD132"), ({"widht": "3"}, "CD130"),
])
def test_bad_parameter_values(tmp_path, target, given, code):
    r = recipe(tmp_path, PARAMS, target)
    with pytest.raises(CompileError) as info:
        r.compile(given)
    assert code in codes(info.value.diagnostics)
    assert all(d.span is not None for d in info.value.diagnostics)


def test_bool_parameters_accept_true_and_false(tmp_path, target):
    text = 'param on: bool = false\nimg = EmptyImage(width=64, height=64, batch_size=1, color=0)\n' \
           'SaveImage(images=img, filename_prefix="x" + on)\n'
    r = recipe(tmp_path, text, target)
    assert "CD140" in codes(r.check(on="true"))  # bool + str is not allowed: the value was a real bool


def test_missing_required_parameter_is_an_error_but_not_in_lint(tmp_path, target):
    text = "param width: int\n" + TAIL.replace("width=64", "width=width")
    path = write(tmp_path, "r.comfy", text)
    assert codes(Recipe(path, target=target).check()) == ["CD131"]
    assert lint_recipe(str(path), text, target) == []
    assert Recipe(path, target=target).compile(width=8)["1"]["inputs"]["width"] == 8


def test_lint_recipe_reports_parse_errors_as_diagnostics(target):
    found = lint_recipe("x.comfy", "img = EmptyImage(\n", target)
    assert codes(found) == ["CD010"]
    assert (found[0].span.path, found[0].span.line) == ("x.comfy", 2)
    assert "expected" in found[0].message


def test_compile_error_carries_every_located_diagnostic(tmp_path, target):
    text = 'img = EmptyImage(width=64, height=64, batch_size=1, color=0)\nx = ImageInvert(image=imgg)\n' \
           'SaveImage(images=img, filename_prefix=3 + "a")\n'
    with pytest.raises(CompileError) as info:
        recipe(tmp_path, text, target).compile()
    found = info.value.diagnostics
    # errors first (each by position), then the warnings
    assert codes(found) == ["CD110", "CD140", "CD121"]
    assert [(d.span.line, d.span.column) for d in found] == [(2, 23), (3, 39), (2, 1)]


def test_workflow_checks_are_located_in_the_recipe(tmp_path, target):
    text = 'img = EmptyImage(width=64, height=64, batch_size=1, color=0)\n' \
           'SaveImage(images=img, filename_prefix="t", dpi=3)\nx = EmptyImage(width=0, height=64, batch_size=1, color=0)\n'
    found = recipe(tmp_path, text, target).check()
    by_code = {d.code: d for d in found}
    assert (by_code["CD202"].span.line, by_code["CD202"].span.column) == (2, 44)
    assert by_code["CD202"].node_id == "2" and by_code["CD202"].is_error  # a recipe sets declared inputs only
    assert "CD603" not in by_code  # a dead branch is not news while an error stands
    found = recipe(tmp_path, text.replace(", dpi=3", ""), target).check()
    by_code = {d.code: d for d in found}
    assert (by_code["CD603"].span.line, by_code["CD603"].span.column) == (3, 5)


def test_ids_skip_pinned_ones_and_titles_can_be_set(tmp_path, target):
    text = '@id("2") @title("the source")\nimg = EmptyImage(width=64, height=64, batch_size=1, color=0)\n' \
           'inv = ImageInvert(image=img)\n@id(7)\nSaveImage(images=ImageInvert(image=inv), filename_prefix="t")\n'
    nodes = recipe(tmp_path, text, target).compile()
    assert list(nodes) == ["1", "2", "3", "7"]
    assert nodes["2"]["_meta"]["title"] == "the source" and nodes["2"]["class_type"] == "EmptyImage"
    assert nodes["1"]["inputs"]["image"] == ["2", 0] and nodes["1"]["_meta"]["title"] == "inv"
    assert "_meta" not in nodes["3"] and nodes["7"]["inputs"]["images"] == ["3", 0]


FRAGMENTS = '''fragment invert(image) {
    inv = ImageInvert(image=image)
    return inv
}
fragment twice(image, label: str = "x") {
    first = invert(image)
    second = invert(first)
    return second, label
}
img = EmptyImage(width=64, height=64, batch_size=1, color=0)
out, name = twice(img, label="done")
SaveImage(images=out, filename_prefix=name)
'''


def test_nested_fragments_expand_in_order_with_titles(tmp_path, target):
    nodes = recipe(tmp_path, FRAGMENTS, target).compile()
    assert [(k, v["class_type"], v.get("_meta", {}).get("title")) for k, v in nodes.items()] == [
        ("1", "EmptyImage", "img"), ("2", "ImageInvert", "twice.first.inv"),
        ("3", "ImageInvert", "twice.second.inv"), ("4", "SaveImage", None)]
    assert nodes["3"]["inputs"]["image"] == ["2", 0] and nodes["4"]["inputs"] == {
        "images": ["3", 0], "filename_prefix": "done"}


def test_imported_fragments(tmp_path, target):
    write(tmp_path, "parts/edit.comfy", 'import "more/inner.comfy"\nfragment double(image) {\n'
          '    return inner(inner(image))\n}\n')
    write(tmp_path, "parts/more/inner.comfy", "fragment inner(image) {\n    return ImageInvert(image=image)\n}\n")
    text = 'from "parts/edit.comfy" import double\nimport "parts/more/inner.comfy"\n' \
           'img = EmptyImage(width=64, height=64, batch_size=1, color=0)\nd = double(img)\n' \
           'SaveImage(images=inner(d), filename_prefix="t")\n'
    nodes = recipe(tmp_path, text, target).compile()
    assert [n["class_type"] for n in nodes.values()] == ["EmptyImage"] + ["ImageInvert"] * 3 + ["SaveImage"]
    assert nodes["4"]["inputs"]["image"] == ["3", 0]


def test_errors_in_imported_fragments_point_into_the_part_file(tmp_path, target):
    write(tmp_path, "parts/bad.comfy", "fragment bad(image) {\n    return ImageInvert(image=image, strength=2)\n}\n")
    text = 'import "parts/bad.comfy"\n' + TAIL.replace("images=img", "images=bad(img)")
    found = recipe(tmp_path, text, target).check()
    diag = [d for d in found if d.code == "CD202"][0]
    assert diag.span.path == str(tmp_path / "parts" / "bad.comfy")
    assert (diag.span.line, diag.span.column) == (2, 37)
    assert diag.related[-1].span.path == str(tmp_path / "r.comfy") and diag.related[-1].span.line == 3


def test_only_the_imported_names_are_visible(tmp_path, target):
    write(tmp_path, "parts/p.comfy", "fragment a(x) {\n return x\n}\nfragment b(x) {\n return x\n}\n")
    text = 'from "parts/p.comfy" import a\n' + TAIL.replace("images=img", "images=b(a(img))")
    # `b` is taken for a node class, which takes no positional arguments
    assert codes(recipe(tmp_path, text, target).check()) == ["CD101", "CD140"]


def test_imports_are_confined_to_the_recipe_folder(tmp_path, target):
    outside = write(tmp_path, "shared.comfy", "fragment s(x) {\n return x\n}\n")
    write(tmp_path, "project/parts/p.comfy", 'import "../../shared.comfy"\nfragment p(x) {\n return x\n}\n')
    (tmp_path / "project" / "parts" / "link.comfy").symlink_to(outside)
    text = 'import "parts/p.comfy"\nimport "parts/link.comfy"\n' + TAIL
    found = recipe(tmp_path / "project", text, target).check()
    assert codes(found) == ["CD117", "CD117"]
    assert found[0].span.path.endswith("p.comfy") or found[1].span.path.endswith("p.comfy")


def test_node_outputs_unpack_and_custom_class_names(tmp_path, target):
    text = 'model, clip, vae = CheckpointLoaderSimple(ckpt_name="a.safetensors")\n' \
           'img = node("EmptyImage", width=64, height=64, batch_size=1, color=0)\n' \
           'enc = VAEEncode(pixels=img, vae=vae)\nSaveImage(images=VAEDecode(samples=enc, vae=vae), filename_prefix="t")\n'
    r = recipe(tmp_path, text, target)
    assert codes(r.check()) == ["CD121", "CD121"]  # model and clip
    nodes = r.compile()
    assert nodes["3"]["inputs"] == {"pixels": ["2", 0], "vae": ["1", 2]}
    assert nodes["2"]["class_type"] == "EmptyImage"


def test_object_and_list_values(tmp_path, builtin):
    from comfydsl.catalog import NodeCatalog

    custom = NodeCatalog({"Configure": {"input": {"required": {"images": ["IMAGE"], "options": ["*"]}},
                                        "output": [], "output_name": [], "output_node": True}})
    text = 'img = EmptyImage(width=64, height=64, batch_size=1, color=0)\n' \
           'Configure(images=img, options={"a": [1, 2.5, "x", 64 * 2], "b": {"c": true}})\n'
    nodes = recipe(tmp_path, text, Target(builtin.merged(custom))).compile()
    assert nodes["2"]["inputs"]["options"] == {"a": [1, 2.5, "x", 128], "b": {"c": True}}


@pytest.mark.parametrize("expr, result", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 // 2", 3), ("7 / 2", 3.5), ("-7 % 3", 2), ("-(2 - 5)", 3),
    ("2.5 * 2", 5.0), ("1e2 + 1", 101.0), ("10 - 2 - 3", 5),
])
def test_compile_time_arithmetic(tmp_path, target, expr, result):
    text = f"param base: int = 0\n@allow(\"coerced-value\")\nimg = EmptyImage(width=64, height=64, batch_size=1, color=base + {expr})\n" \
           'SaveImage(images=img, filename_prefix="p" + "-" + "q")\n'
    nodes = recipe(tmp_path, text, target).compile()
    assert nodes["1"]["inputs"]["color"] == result and type(nodes["1"]["inputs"]["color"]) is type(result)
    assert nodes["2"]["inputs"]["filename_prefix"] == "p-q"


def test_compile_is_deterministic(tmp_path, target):
    r = recipe(tmp_path, FRAGMENTS, target)
    first = json.dumps(r.compile(), indent=2)
    again = json.dumps(recipe(tmp_path, FRAGMENTS, target, name="r2.comfy").compile(), indent=2)
    assert first == again == json.dumps(r.compile(), indent=2)


def test_envelopes(tmp_path, target):
    assert set(recipe(tmp_path, FLUX, target, envelope="prompt").compile()) == {"prompt"}
    body = recipe(tmp_path, FLUX, target, envelope="runpod").compile()
    assert set(body["input"]) == {"workflow"}
    with pytest.raises(ValueError):
        recipe(tmp_path, FLUX, target, envelope="zip").compile()


def test_graph_carries_spans(tmp_path, target):
    graph = recipe(tmp_path, FLUX, target).graph()
    node = graph["5"]
    assert node.class_type == "KSampler" and (node.span.line, node.span.column) == (10, 11)
    assert node.input_spans["seed"].line == 10
    with pytest.raises(CompileError):
        recipe(tmp_path, "x = y\n", target).graph()


def test_lower_stands_alone(builtin):
    from comfydsl.dsl import parse

    lowered = lower(parse(TAIL, None), catalog=builtin)
    assert lowered.diagnostics == [] and len(lowered.graph) == 2


def test_fixture_recipes_folder_has_parts_only_as_libraries():
    # the parts used by the rule fixtures are libraries (fragments and imports only)
    for part in (FIXTURES / "parts").glob("*.comfy"):
        if part.name != "not_a_library.comfy":
            assert "param" not in part.read_text()


def test_positional_argument_after_keywords(tmp_path, target):
    text = "fragment f(a, b) {\n return a\n}\n" + TAIL.replace("images=img", "images=f(b=1, img)")
    found = recipe(tmp_path, text, target).check()
    assert codes(found) == ["CD115"] and "follows keyword" in found[0].message


def test_fragments_do_not_see_the_recipe_variables(tmp_path, target):
    text = "param label: str = \"t\"\nfragment f(image) {\n return ImageInvert(image=label)\n}\n" \
           + TAIL.replace("images=img", "images=f(img)").replace('"t"', "label")
    found = recipe(tmp_path, text, target).check()
    assert codes(found) == ["CD110", "CD120"]  # `label` is not visible; the fragment's `image` is unused
    assert "pass the value as an argument" in found[0].help


def test_importing_the_recipe_language_does_not_load_lark():
    import subprocess
    import sys

    code = "import sys, comfydsl.dsl; print('lark' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_byte_order_mark_and_crlf_are_accepted(tmp_path, target):
    path = tmp_path / "win.comfy"
    path.write_bytes(b"\xef\xbb\xbf# saved on Windows\r\n" + TAIL.replace("\n", "\r\n").encode())
    nodes = Recipe(path, target=target).compile()
    assert nodes["2"]["inputs"]["filename_prefix"] == "t"
    found = Recipe(path, target=target).check()
    assert found == []


def test_an_import_that_is_not_utf8_is_named_so(tmp_path, target):
    (tmp_path / "bin.comfy").write_bytes(b"\xff\xfe fragment")
    found = recipe(tmp_path, 'import "bin.comfy"\nimport "nope.comfy"\n' + TAIL, target).check()
    bad, missing = [d for d in found if d.code == "CD116"]
    assert bad.message == "cannot import `bin.comfy`: it is not UTF-8 text (byte 0)" and bad.help is None
    assert missing.message.endswith("it does not exist") and "relative to the importing file" in missing.help
