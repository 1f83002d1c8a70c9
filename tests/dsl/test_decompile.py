"""The decompiler: workflow JSON -> a readable recipe that compiles back to the same workflow."""

from __future__ import annotations

import json
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings

from comfydsl.dsl.fmt import format_source
from comfydsl.dsl.decompile import DecompileError, attachments, compare_workflows, decompile, same_value, to_identifier
from recipes_support import GOLDEN, RECIPES, decompilable_workflows, recipe_target
from support import invoke

FLUX = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev-fp8.safetensors"},
          "_meta": {"title": "Load Checkpoint"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a \"whimsical\" treehouse\n"}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["1", 1]}},
    "4": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "5": {"class_type": "KSampler", "inputs": {
        "seed": 42, "steps": 10, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0,
        "model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0]}},
    "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}, "_meta": {"title": "decoded"}},
    "9": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": "flux"},
          "_meta": {"title": "Save Image"}},
}

FLUX_RECIPE = '''\
# Decompiled by comfydsl.

param seed: int = 42
param text: str = "a \\"whimsical\\" treehouse\\n"
param text_2: str = ""

@title("Load Checkpoint")
load_checkpoint = CheckpointLoaderSimple(ckpt_name="flux1-dev-fp8.safetensors")
@title()
clip_text_encode = CLIPTextEncode(clip=load_checkpoint.CLIP, text=text)
@title()
clip_text_encode_2 = CLIPTextEncode(text=text_2, clip=load_checkpoint.CLIP)
@title()
empty_sd3_latent_image = EmptySD3LatentImage(width=512, height=512, batch_size=1)
@title()
ksampler = KSampler(
    seed=seed,
    steps=10,
    cfg=1.0,
    sampler_name="euler",
    scheduler="simple",
    denoise=1.0,
    model=load_checkpoint.MODEL,
    positive=clip_text_encode,
    negative=clip_text_encode_2,
    latent_image=empty_sd3_latent_image,
)
decoded = VAEDecode(samples=ksampler, vae=load_checkpoint.VAE)
@id("9") @title("Save Image")
SaveImage(images=decoded, filename_prefix="flux")
'''


def recompile(text: str, tmp_path, catalog=None) -> dict:
    from comfydsl.dsl import Recipe
    from comfydsl.target import Target

    target = Target(catalog, None) if catalog is not None else recipe_target()
    return Recipe(str(tmp_path / "r.comfy"), text, target=target).graph().to_workflow()


def test_flux_reads_as_expected(builtin):
    assert decompile(FLUX, builtin, params=["seed", "text"]) == FLUX_RECIPE


def test_flux_compiles_back(builtin, tmp_path):
    rebuilt = recompile(decompile(FLUX, builtin), tmp_path, builtin)
    assert compare_workflows(FLUX, rebuilt) == []
    assert [n["inputs"] for n in rebuilt.values()] == [n["inputs"] for n in FLUX.values()]
    # nodes without a title stay without one (`@title()`), and the JSON is the same text
    assert "_meta" not in rebuilt["2"]
    assert json.dumps(rebuilt) == json.dumps(FLUX)


def test_envelopes_are_accepted(builtin):
    bare = decompile(FLUX, builtin)
    assert decompile({"input": {"workflow": FLUX}}, builtin) == bare
    assert decompile({"prompt": FLUX, "client_id": "x"}, builtin) == bare


def test_statements_follow_dependencies_and_ids_are_pinned_only_when_needed(builtin, tmp_path):
    wf = {
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["5", 0]}},
        "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "5": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "2": {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}},
    }
    text = decompile(wf, builtin)
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    # the workflow's node order is not id order, and node 7 comes before what it uses:
    # statements follow the dependencies, `@order(n)` keeps the written order
    assert body == [
        '@id("3") @order(2) @title()',
        "empty_latent_image = EmptyLatentImage(width=64, height=64, batch_size=1)",
        '@id("5") @order(3) @title()',
        'vae_loader = VAELoader(vae_name="ae.safetensors")',
        '@id("7") @order(1) @title()',
        "vae_decode = VAEDecode(samples=empty_latent_image, vae=vae_loader)",
        '@id("2") @order(4)',
        "PreviewImage(images=vae_decode)",
    ]
    rebuilt = recompile(text, tmp_path, builtin)
    assert compare_workflows(wf, rebuilt, exact=True) == []
    assert json.dumps(rebuilt) == json.dumps(wf)


def test_default_numbering_skips_pinned_ids(builtin, tmp_path):
    wf = {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "4": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
        "3": {"class_type": "PreviewImage", "inputs": {"images": ["4", 0]}},
    }
    text = decompile(wf, builtin)
    # 1, 2 by default; 4 must be pinned (it comes before 3); then 3 is the next free number
    assert text.count("@id(") == 1 and '@id("4")' in text
    assert compare_workflows(wf, recompile(text, tmp_path, builtin)) == []


def test_titles_are_pinned_only_when_they_differ(builtin):
    wf = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
                "_meta": {"title": "blank"}},
          "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}, "_meta": {"title": "PreviewImage"}}}
    text = decompile(wf, builtin)
    assert "blank = EmptyImage(" in text and '@title("blank")' not in text
    assert '@title("PreviewImage")\nPreviewImage(images=blank)' in text


def test_variable_names_are_identifiers_and_unique(builtin, tmp_path):
    wf = {str(i): {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
                   "_meta": {"title": title}}
          for i, title in enumerate(["3D view", "import", "KSampler", "3D view", "é ü", "file"], start=1)}
    wf["7"] = {"class_type": "ImageBatch", "inputs": {"image1": ["1", 0], "image2": ["2", 0]}}
    wf["8"] = {"class_type": "ImageBatch", "inputs": {"image1": ["3", 0], "image2": ["4", 0]}}
    wf["9"] = {"class_type": "ImageBatch", "inputs": {"image1": ["5", 0], "image2": ["6", 0]}}
    text = decompile(wf, builtin)
    for name in ["n3_d_view =", "import_ =", "ksampler =", "n3_d_view_2 =", "unnamed =", "file_ ="]:
        assert f"\n{name}" in text or f'")\n{name}' in text, name
    assert compare_workflows(wf, recompile(text, tmp_path, builtin)) == []


def test_outputs_by_name_by_index_and_bare(builtin):
    wf = {"1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}},
          "2": {"class_type": "Mystery", "inputs": {"model": ["1", 0], "clip": ["1", 1]}},
          "3": {"class_type": "PreviewAny", "inputs": {"source": ["2", 4]}},
          "4": {"class_type": "Epsilon Scaling", "inputs": {"model": ["1", 0], "scaling_factor": 1.005}},
          "5": {"class_type": "PreviewAny", "inputs": {"source": ["4", 0]}}}
    text = decompile(wf, builtin)
    assert "mystery = Mystery(model=checkpoint_loader_simple.MODEL, clip=checkpoint_loader_simple.CLIP)" in text
    assert "PreviewAny(source=mystery[4])" in text  # an unknown class: outputs by index
    assert 'epsilon_scaling = node(\n    "Epsilon Scaling",\n    model=checkpoint_loader_simple.MODEL,' in text
    assert "PreviewAny(source=epsilon_scaling)" in text  # one output: bare


def test_inputs_keep_the_workflow_order(builtin, tmp_path):
    wf = {"1": {"class_type": "EmptyLatentImage", "inputs": {"batch_size": 1, "zzz_extra": 2, "height": 8,
                                                             "width": 8}}}
    text = decompile(wf, builtin)
    assert "EmptyLatentImage(batch_size=1, zzz_extra=2, height=8, width=8)" in text
    assert json.dumps(recompile(text, tmp_path, builtin)) == json.dumps(wf)


@pytest.mark.parametrize("workflow, written", [
    # input names that are not bare names are quoted; built-in names (`file`, `node`) stay bare
    ({"1": {"class_type": "ModelMergeAuraflow", "inputs": {"double_layers.0.": 1.0}}}, '"double_layers.0."=1.0'),
    ({"1": {"class_type": "LoadVideo", "inputs": {"file": "clip.mp4"}}}, 'LoadVideo(file="clip.mp4")'),
    ({"1": {"class_type": "Mystery", "inputs": {"node": 1, "import": 2, "true": 3, "a.b.c": 4, "": 5, "int": 6}}},
     'Mystery(node=1, "import"=2, "true"=3, "a.b.c"=4, ""=5, int=6)'),
    # titles: untitled nodes that a variable names get `@title()`, empty titles stay empty
    ({"1": {"class_type": "EmptyImage", "inputs": {}, "_meta": {"title": ""}},
      "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}, '@title("")'),
    ({"1": {"class_type": "EmptyImage", "inputs": {}},
      "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}, '@title()\nempty_image = EmptyImage()'),
    # null values (ComfyUI's exports hold them for some widgets)
    ({"1": {"class_type": "Mystery", "inputs": {"a": None, "b": {"c": None}}}}, 'Mystery(a=null, b={"c": null})'),
    # an empty node id, a negative output index (ComfyUI accepts both)
    ({"": {"class_type": "EmptyImage", "inputs": {}, "_meta": {"title": "e"}},
      "2": {"class_type": "PreviewImage", "inputs": {"images": ["", 0]}}}, '@id("")'),
    ({"1": {"class_type": "EmptyImage", "inputs": {}, "_meta": {"title": "e"}},
      "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", -1]}}}, "images=e[-1]"),
])
def test_every_workflow_is_written_exactly(builtin, tmp_path, workflow, written):
    text = decompile(workflow, builtin)
    assert written in text
    assert json.dumps(recompile(text, tmp_path, builtin)) == json.dumps(workflow)


def test_runpod_and_prompt_bodies_are_read(builtin, tmp_path):
    wf = {"1": {"class_type": "EmptyImage", "inputs": {}}}
    runpod = decompile({"input": {"workflow": wf, "images": []}}, builtin)
    prompt = decompile({"prompt": wf, "client_id": "x"}, builtin)
    assert runpod == prompt == decompile(wf, builtin)


def test_decompile_is_linear_in_untitled_nodes_of_one_class(builtin):
    import time

    def timed(n, runs):
        """CPU time of the quickest of `runs` decompiles (one slow run on a busy machine, or a
        collection of the cyclic collector, is not the code's doing)."""
        wf = {"1": {"class_type": "EmptyImage", "inputs": {}, "_meta": {"title": "e"}}}
        wf.update({str(i): {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}} for i in range(2, n)})
        best = float("inf")
        for _ in range(runs):
            start = time.process_time()
            decompile(wf, builtin, verify=False)
            best = min(best, time.process_time() - start)
        return best

    small, large = timed(500, 3), timed(8000, 2)
    assert large < small * 16 * 4  # 16 times the nodes: linear with slack; quadratic would be ~256x


def test_a_long_string_is_decompiled_quickly(builtin):
    import time

    wf = {"1": {"class_type": "PrimitiveString", "inputs": {"value": "ab\"c\n" * 500_000}}}
    start = time.perf_counter()
    text = decompile(wf, builtin, verify=False)
    assert time.perf_counter() - start < 5
    assert len(text) < 4_000_000


def test_literal_values_round_trip(builtin, tmp_path):
    values = {"a": -3, "b": 1e-05, "c": -0.5, "d": True, "e": "tab\there \\ \u0007 é 🙂", "f": {"k": [1, "x", False]},
              "g": 2**70, "h": 3.0, "i": 1.5e300}
    wf = {"1": {"class_type": "Mystery", "inputs": values}}
    rebuilt = recompile(decompile(wf, builtin), tmp_path, builtin)
    assert same_value(rebuilt["1"]["inputs"], values)


def test_same_value_tells_numbers_and_booleans_apart():
    assert not same_value(1, 1.0) and not same_value(1, True) and same_value([1, {"a": 2.0}], [1, {"a": 2.0}])


@pytest.mark.parametrize("workflow, message", [
    ({"1": {"class_type": "PreviewAny", "inputs": {"source": ["9", 0]}}}, "node `9`, which does not exist"),
    ({"1": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0, 2]}}}, "malformed link"),
    ({"1": {"class_type": "PreviewAny", "inputs": {"source": [1, 0]}}}, "malformed link"),
    ({"1": {"class_type": "EmptyImage", "inputs": {}},
      "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 3]}}}, "has no such output"),
    ({"1": {"class_type": "EmptyImage", "inputs": {}},
      "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", -2]}}}, "has no such output"),
    ({"1": {"class_type": "EmptyImage"}}, "no `inputs` object"),
    ({"1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
      "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}}, "cycle"),
    ({"1": {"class_type": "EmptyImage", "inputs": {"width": float("nan")}}}, "nan"),
    ({"1": {"class_type": "EmptyImage", "inputs": {}, "is_changed": True}}, "is_changed"),
    ({"1": {"class_type": "EmptyImage", "inputs": {}, "_meta": {"title": "x", "color": "red"}}}, "color"),
    ({"1": {"inputs": {}}}, "class_type"),
    ({"1": "EmptyImage"}, "no node found"),
    ({"1": "EmptyImage", "2": {"class_type": "EmptyImage", "inputs": {}}}, "node `1` is not an object"),
    ({"1": {"class_type": "EmptyImage", "inputs": []}}, "`inputs` is not an object"),
    ({"nodes": [{"id": 1, "type": "NoSuchClass", "widgets_values": [1], "mode": 0}], "links": [], "version": 0.4},
     "UI-format workflow cannot be converted"),
])
def test_what_a_recipe_cannot_say_is_refused(builtin, workflow, message):
    with pytest.raises(DecompileError) as info:
        decompile(workflow, builtin)
    assert message in str(info.value)


def test_every_problem_is_listed(builtin):
    wf = {"1": {"class_type": "PreviewAny", "inputs": {"source": ["8", 0]}},
          "2": {"class_type": "PreviewAny", "inputs": {"source": float("inf")}}}
    with pytest.raises(DecompileError) as info:
        decompile(wf, builtin)
    assert len(info.value.problems) == 2


@pytest.mark.parametrize("params, message", [
    (["nothing_here"], "no node has an input `nothing_here`"),
    (["images"], "never a plain value"),
    (["not-a-name"], "not a valid parameter name"),
])
def test_bad_params_are_refused(builtin, params, message):
    with pytest.raises(DecompileError, match=message):
        decompile(FLUX, builtin, params=params)


def test_params_lift_values_and_keep_the_workflow(builtin, tmp_path):
    text = decompile(FLUX, builtin, params=["seed", "steps", "cfg", "width", "height"])
    assert "param seed: int = 42\nparam steps: int = 10\nparam cfg: float = 1.0\nparam width: int = 512\n" in text
    assert "param height: int = 512" in text and "width=width, height=height" in text
    assert compare_workflows(FLUX, recompile(text, tmp_path, builtin)) == []


def test_nodes_with_the_same_value_share_a_parameter(builtin, tmp_path):
    wf = json.loads(json.dumps(FLUX))
    wf["2"]["inputs"]["text"] = ""
    text = decompile(wf, builtin, params=["text"])
    assert text.count("param text") == 1 and text.count("text=text") == 2
    assert compare_workflows(wf, recompile(text, tmp_path, builtin)) == []


def test_id_to_identifier():
    assert [to_identifier(x) for x in ["KSampler", "VAEDecode", "CLIPTextEncode", "Load Checkpoint", "", "return"]] \
        == ["ksampler", "vae_decode", "clip_text_encode", "load_checkpoint", "unnamed", "return_"]


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_every_recipe_decompiles_and_compiles_back(golden, tmp_path):
    body = json.loads(golden.read_text())
    workflow = body["input"]["workflow"]
    target = recipe_target()
    params = [p for p in ("seed", "noise_seed", "text") if any(p in n["inputs"] for n in workflow.values())]
    text = decompile(body, target.catalog, params=params)
    assert text.count("\nparam ") >= 2
    for name, data in attachments(body).items():  # uploaded images come back as file("name")
        assert f'file("{name}")' in text
        (tmp_path / name).write_bytes(data)
    rebuilt = recompile(text, tmp_path, target.catalog)
    assert compare_workflows(workflow, rebuilt, exact=True) == []
    assert json.dumps(rebuilt) == json.dumps(workflow)
    if "images" in body["input"]:
        from comfydsl.dsl import Recipe

        again = Recipe(str(tmp_path / "r.comfy"), text, target=target, envelope="runpod").graph()
        assert again.envelope(again.to_workflow(), "runpod") == body


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(workflow=decompilable_workflows())
def test_random_workflows_round_trip(workflow, tmp_path_factory):
    from comfydsl.catalog import builtin_catalog

    catalog = builtin_catalog()
    text = decompile(workflow, catalog, verify=False)
    assert format_source(text) == text
    rebuilt = recompile(text, tmp_path_factory.mktemp("rt"), catalog)
    assert compare_workflows(workflow, rebuilt, exact=True) == []
    assert json.dumps(rebuilt) == json.dumps(workflow)
    for node_id, node in workflow.items():
        assert same_value(node["inputs"], rebuilt[node_id]["inputs"])
        if "_meta" in node:
            assert rebuilt[node_id]["_meta"] == node["_meta"]


# -- the command ------------------------------------------------------------------------------
def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return invoke(*args, cwd=cwd)


def test_decompile_command_writes_a_recipe_that_compiles(tmp_path):
    source = tmp_path / "flux.json"
    source.write_text(json.dumps({"input": {"workflow": FLUX}}))
    out = tmp_path / "flux.comfy"
    done = run("decompile", str(source), "-o", str(out), "--params", "seed,text", "--params", "steps")
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# Decompiled by comfydsl from flux.json.\n")
    assert "param steps: int = 10" in text
    compiled = run("compile", str(out), "--set", "seed=7", "--models", str(RECIPES / "models.toml"))
    assert compiled.returncode == 0, compiled.stderr
    workflow = json.loads(compiled.stdout)
    assert workflow["5"]["inputs"]["seed"] == 7 and workflow["9"]["class_type"] == "SaveImage"


def test_decompile_command_refuses_with_a_clear_error(tmp_path):
    source = tmp_path / "broken.json"
    source.write_text(json.dumps({"1": {"class_type": "PreviewAny", "inputs": {"source": ["9", 0]}}}))
    out = tmp_path / "out.comfy"
    done = run("decompile", str(source), "-o", str(out))
    assert done.returncode == 1
    assert "links to node `9`, which does not exist" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_decompile_command_reports_unreadable_input(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"1": {"class_type": "X", "inputs": {}},}')
    done = run("decompile", str(bad))
    assert done.returncode == 1 and "CD001" in done.stderr and "Traceback" not in done.stderr
    missing = run("decompile", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "nope.json" in missing.stderr and "Traceback" not in missing.stderr
    dup = tmp_path / "dup.json"
    dup.write_text('{"1": {"class_type": "EmptyImage", "inputs": {}}, "1": {"class_type": "EmptyImage", "inputs": {}}}')
    assert run("decompile", str(dup)).returncode == 1
    same = run("decompile", str(bad), "-o", str(bad))
    assert same.returncode == 2 and bad.read_text().startswith('{"1"')


def test_decompile_command_uses_the_configured_catalogue(tmp_path):
    # the PuLID classes are known through recipes/comfydsl.toml, found upward from the workflow
    workflow = RECIPES / "inputs" / "pulid_workflow.json"
    body = json.loads((GOLDEN / "flux_pulid.json").read_text())
    workflow.write_text(json.dumps(body))
    try:
        done = run("decompile", str(workflow))
    finally:
        workflow.unlink()
    assert done.returncode == 0, done.stderr
    assert "face_analysis = PulidFluxInsightFaceLoader(" in done.stdout
    assert "image=face_image.IMAGE" in done.stdout
    assert "input.images" in done.stderr  # the uploaded face is not carried over


def test_comfyui_exports_write_inputs_first_and_come_back_so(builtin, tmp_path):
    # ComfyUI's "Export (API)" writes each node as {"inputs", "class_type", "_meta"}
    wf = {"1": {"inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}, "class_type": "EmptyImage",
                "_meta": {"title": "Empty"}},
          "2": {"inputs": {"images": ["1", 0]}, "class_type": "PreviewImage", "_meta": {"title": "Preview"}}}
    text = decompile(wf, builtin)
    assert text.splitlines()[1] == "# comfydsl: node-keys=inputs-first"
    assert json.dumps(recompile(text, tmp_path, builtin)) == json.dumps(wf)
    # without the pragma, the recipe writes `class_type` first
    plain = recompile(text.replace("# comfydsl: node-keys=inputs-first", "# no pragma"), tmp_path, builtin)
    assert list(plain["1"]) == ["class_type", "inputs", "_meta"]


def test_a_loaded_workflow_writes_its_own_layout_back(builtin):
    from comfydsl import Graph

    wf = {"5": {"inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}, "class_type": "EmptyImage"},
          "2": {"inputs": {"images": ["5", 0]}, "class_type": "PreviewImage"}}
    assert json.dumps(Graph.from_workflow(wf, builtin).to_workflow()) == json.dumps(wf)


def test_a_source_name_with_a_newline_stays_a_comment(builtin):
    text = decompile({"1": {"class_type": "EmptyImage", "inputs": {}}}, builtin, source="a\nb.json")
    assert text.splitlines()[0] == "# Decompiled by comfydsl from a?b.json."
