"""Completion, hover, navigation, rename, formatting, quick fixes and semantic tokens,
each asked of a real `comfydsl lsp` process about the shipped recipes."""

from __future__ import annotations

import re

from lspclient import LspError, find

import pytest


@pytest.fixture
def project(shared_project):
    """No test here writes a file: they share one copy of recipes/ and one server."""
    return shared_project


@pytest.fixture
def client(shared_client):
    return shared_client


def labels(result) -> list[str]:
    items = result["items"] if isinstance(result, dict) else result
    return [i["label"] for i in items]


def apply(text: str, edits: list[dict]) -> str:
    """Apply LSP text edits (ASCII text) to `text`."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(pos):
        return starts[pos["line"]] + pos["character"] if pos["line"] < len(starts) else len(text)

    for edit in sorted(edits, key=lambda e: offset(e["range"]["start"]), reverse=True):
        text = text[:offset(edit["range"]["start"])] + edit["newText"] + text[offset(edit["range"]["end"]):]
    return text


@pytest.fixture
def flux(client, project):
    uri = client.open(project / "flux_txt2img.comfy")
    client.diagnostics(uri)
    return uri


# -- completion -------------------------------------------------------------------------------------


def test_complete_class_names_with_display_name_and_category(client, flux):
    text = client.texts[flux] + "x = KSam"
    client.replace(flux, text)
    lines = text.split("\n")
    result = client.at("textDocument/completion", flux, len(lines) - 1, len(lines[-1]))
    items = {i["label"]: i for i in result["items"]}
    assert "KSampler" in items and "KSamplerAdvanced" in items
    assert items["KSampler"]["kind"] == 7  # Class
    assert items["KSampler"]["labelDetails"]["description"] == "sampling"
    assert items["CheckpointLoaderSimple"]["detail"] == "Load Checkpoint" if "CheckpointLoaderSimple" in items else True
    resolved = client.request("completionItem/resolve", items["KSampler"])
    assert "`seed`" in resolved["documentation"]["value"] and "outputs:" in resolved["documentation"]["value"]


def test_complete_input_names_required_first(client, flux):
    text = client.texts[flux] + "s2 = KSampler(model=ckpt.MODEL, "
    client.replace(flux, text)
    lines = text.split("\n")
    result = client.at("textDocument/completion", flux, len(lines) - 1, len(lines[-1]))
    items = sorted(result["items"], key=lambda i: i["sortText"])
    names = [i["label"] for i in items]
    assert "model" not in names  # already given
    assert names[:3] == ["seed", "steps", "cfg"]
    seed = items[0]
    assert seed["insertText"] == "seed=" and "INT" in seed["detail"] and "default 0" in seed["detail"]
    steps = next(i for i in items if i["label"] == "steps")
    assert "range 1..10000" in steps["detail"]


def test_complete_output_names_after_a_dot(client, flux):
    text = client.texts[flux]
    line, col = find(text, "ckpt.MODEL", delta=5)
    assert labels(client.at("textDocument/completion", flux, line, col)) == ["MODEL", "CLIP", "VAE"]


def test_complete_combo_options_and_model_files(client, flux):
    text = client.texts[flux]
    line, col = find(text, 'sampler_name="euler"', delta=len('sampler_name="'))
    options = labels(client.at("textDocument/completion", flux, line, col))
    assert "euler" in options and "dpmpp_2m" in options
    line, col = find(text, 'ckpt_name="', delta=len('ckpt_name="'))
    result = client.at("textDocument/completion", flux, line, col)
    assert labels(result) == ["flux1-dev-fp8.safetensors", "sd_xl_base_1.0.safetensors"]
    edit = result["items"][0]["textEdit"]
    assert edit["range"]["start"] == {"line": line, "character": col}


def test_complete_params_and_fragments(client, project):
    uri = client.open(project / "flux_upscaled.comfy")
    client.diagnostics(uri)
    text = client.texts[uri]
    line, col = find(text, "seed=seed", delta=len("seed="))
    names = labels(client.at("textDocument/completion", uri, line, col))
    assert {"prompt", "seed", "factor", "upscale", "ckpt", "true"} <= set(names)
    line, col = find(text, "upscale(image, ", delta=len("upscale(image, "))
    result = client.at("textDocument/completion", uri, line, col)
    fields = [i["label"] for i in result["items"] if i["kind"] == 5]
    assert fields[:3] == ["image", "factor", "model_name"]


def test_complete_import_paths(client, project):
    uri = client.open(project / "sdxl_lora.comfy")
    client.diagnostics(uri)
    client.replace(uri, 'from "' + "\n" + client.texts[uri])
    paths = labels(client.at("textDocument/completion", uri, 0, len('from "')))
    assert "parts/upscale.comfy" in paths and "sdxl_lora.comfy" not in paths


# -- hover ------------------------------------------------------------------------------------------


def hover_text(client, uri, line, col) -> str:
    result = client.at("textDocument/hover", uri, line, col)
    return result["contents"]["value"] if result else ""


def test_hover_class_input_param_and_rule(client, flux):
    text = client.texts[flux]
    value = hover_text(client, flux, *find(text, "KSampler(", delta=2))
    assert "**KSampler**" in value and "`steps`: INT" in value and "`LATENT`: `LATENT`" in value
    value = hover_text(client, flux, *find(text, "sampler_name=", delta=2))
    assert "KSampler.sampler_name" in value and "`euler`" in value
    value = hover_text(client, flux, *find(text, "seed=seed", delta=7))
    assert "param seed: int = 42" in value
    line, col = find(text, "steps=steps")
    client.edit(flux, (line, col + 6), (line, col + 11), "0")
    client.diagnostics(flux)
    value = hover_text(client, flux, line, col + 2)
    assert "**CD403**" in value and "value-below-min" in value and "**Use instead:**" in value
    assert "KSampler.steps" in value  # the input's own documentation too


# -- navigation -------------------------------------------------------------------------------------


def test_definition_of_variable_param_and_imported_fragment(client, project):
    uri = client.open(project / "flux_upscaled.comfy")
    client.diagnostics(uri)
    text = client.texts[uri]
    loc = client.at("textDocument/definition", uri, *find(text, "model=ckpt.MODEL", delta=7))
    assert loc["uri"] == uri and loc["range"]["start"] == dict(zip(("line", "character"), find(text, "ckpt =")))
    loc = client.at("textDocument/definition", uri, *find(text, "seed=seed", delta=6))
    assert loc["range"]["start"] == dict(zip(("line", "character"), find(text, "seed: int", )))
    loc = client.at("textDocument/definition", uri, *find(text, "big = upscale", delta=7))
    part = (project / "parts" / "upscale.comfy")
    assert loc["uri"] == part.resolve().as_uri()
    assert loc["range"]["start"] == dict(zip(("line", "character"), find(part.read_text(), "upscale(")))
    loc = client.at("textDocument/definition", uri, *find(text, '"parts/upscale.comfy"', delta=3))
    assert loc["uri"] == part.resolve().as_uri()


def test_references_across_imports(client, project):
    part = project / "parts" / "upscale.comfy"
    uri = client.open(part)
    client.diagnostics(uri)
    refs = client.at("textDocument/references", uri, *find(client.texts[uri], "upscale(", delta=1),
                     context={"includeDeclaration": True})
    files = sorted({r["uri"].rsplit("/", 1)[1] for r in refs})
    assert files == ["flux_upscaled.comfy", "sdxl_lora_upscaled.comfy", "upscale.comfy"]
    assert len(refs) == 4  # the definition; `import upscale` and its call; the call in the `import "..."` recipe


def test_rename_variable_param_and_fragment(client, project):
    uri = client.open(project / "flux_upscaled.comfy")
    client.diagnostics(uri)
    text = client.texts[uri]
    edit = client.at("textDocument/rename", uri, *find(text, "ckpt ="), newName="loader")
    renamed = apply(text, edit["changes"][uri])
    assert re.findall(r"\bloader\b", renamed) and not re.findall(r"\bckpt\b", renamed)
    assert "ckpt_name=" in renamed
    edit = client.at("textDocument/rename", uri, *find(text, "param seed", delta=7), newName="noise_seed")
    renamed = apply(text, edit["changes"][uri])
    assert "param noise_seed: int" in renamed and "seed=noise_seed" in renamed
    edit = client.at("textDocument/rename", uri, *find(text, "big = upscale", delta=8), newName="enlarge")
    part = (project / "parts" / "upscale.comfy").resolve().as_uri()
    assert set(edit["changes"]) == {uri, part, (project / "sdxl_lora_upscaled.comfy").resolve().as_uri()}
    new = apply(text, edit["changes"][uri])
    assert 'import enlarge' in new and "big = enlarge(image" in new
    with pytest.raises(LspError):
        client.at("textDocument/rename", uri, *find(text, "ckpt ="), newName="not a name")
    prepared = client.at("textDocument/prepareRename", uri, *find(text, "ckpt ="))
    assert prepared["placeholder"] == "ckpt"


# -- formatting and code actions --------------------------------------------------------------------


def test_formatting_gives_fmt_layout(client, project):
    path = project / "img2img.comfy"
    original = path.read_text()
    messy = "\n".join(line if line.startswith("#") else line.replace("=", " = ").replace("(", " ( ", 1)
                      for line in original.split("\n"))
    assert messy != original
    uri = client.open(path, messy)
    client.diagnostics(uri)
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 4, "insertSpaces": True}})
    assert apply(messy, edits) == original
    client.replace(uri, original)
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                      "options": {"tabSize": 4, "insertSpaces": True}}) == []


def actions_for(client, uri, diag):
    return client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}})


@pytest.mark.parametrize("before, after, code", [
    ("KSampler(", "KSamplr(", "CD101"),
    ("sampler_name=", "samplr_name=", "CD202"),
    ("cfg=1.0", "cfg=True", "CD110"),
    ("    denoise=1.0,\n", "", "CD201"),
    ("ckpt.VAE)", "ckpt.VAEE)", "CD113"),
])
def test_quick_fixes_restore_the_recipe(client, flux, before, after, code):
    original = client.texts[flux]
    client.replace(flux, original.replace(before, after, 1))
    diags = [d for d in client.diagnostics(flux) if d["code"] == code]
    assert diags
    actions = actions_for(client, flux, diags[0])
    assert actions, diags[0]
    fixed = apply(client.texts[flux], actions[0]["edit"]["changes"][flux])
    if code == "CD110":
        assert "cfg=true" in fixed
    else:
        assert fixed == original
    client.replace(flux, fixed)
    assert [d for d in client.diagnostics(flux) if d["code"] == code] == []


def test_missing_input_on_one_line_gets_its_default(client, flux):
    text = client.texts[flux] + "more = KSampler(model=ckpt.MODEL, seed=1, steps=2, cfg=1, sampler_name=\"euler\", " \
                                "scheduler=\"simple\", positive=positive, negative=negative, latent_image=latent)\n" \
                                "PreviewImage(images=VAEDecode(samples=more, vae=ckpt.VAE))\n"
    client.replace(flux, text)
    diag = next(d for d in client.diagnostics(flux) if d["code"] == "CD201")
    action = actions_for(client, flux, diag)[0]
    assert action["title"] == "add `denoise=1.0`"
    assert "latent_image=latent, denoise=1.0)" in apply(text, action["edit"]["changes"][flux])


# -- semantic tokens ---------------------------------------------------------------------------------


def test_semantic_tokens_classify_the_recipe(client, flux):
    legend = client.initialize_result["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"]
    data = client.request("textDocument/semanticTokens/full", {"textDocument": {"uri": flux}})["data"]
    text = client.texts[flux].split("\n")
    line = col = 0
    kinds = {}
    for i in range(0, len(data), 5):
        line += data[i]
        col = data[i + 1] if data[i] else col + data[i + 1]
        kinds.setdefault(text[line][col:col + data[i + 2]], set()).add(legend[data[i + 3]])
    assert kinds["param"] == {"keyword"}
    assert kinds["int"] == {"type"}
    assert kinds["KSampler"] == {"class"}
    assert kinds["sampler_name"] == {"property"}
    assert kinds["MODEL"] == {"property"}
    assert "parameter" in kinds["seed"]
    assert kinds["ckpt"] == {"variable"}
    assert kinds['"euler"'] == {"string"}
    assert kinds["1.0"] == {"number"}
    assert any(k.startswith("# FLUX") for k in kinds)


def test_the_keys_decorator_is_completed_checked_and_kept_by_formatting(client, project):
    text = ('@keys("inputs", "class_type")\n'
            'img = EmptyImage(width=64, height=64, batch_size=1, color=0)\n'
            'PreviewImage(images=img)\n')
    uri = client.open(project / "keys_order.comfy", text)
    assert not [d for d in client.diagnostics(uri) if d["severity"] == 1]
    assert "keys" in labels(client.at("textDocument/completion", uri, 0, 1))
    assert labels(client.at("textDocument/completion", uri, 0, len('@keys("'))) == ["class_type", "inputs", "_meta"]
    assert labels(client.at("textDocument/completion", uri, 0, len('@keys("inputs", "c'))) == ["class_type"]
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 4, "insertSpaces": True}})
    assert apply(text, edits or []) == text
