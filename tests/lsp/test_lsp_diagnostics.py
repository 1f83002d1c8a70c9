"""Diagnostics over stdio: the findings of `comfydsl lint`, as the user types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lspclient import find
from support import invoke

from conftest import REPO

RECIPES = sorted(p.name for p in (REPO / "recipes").glob("*.comfy"))


def lint_json(path: Path) -> list[dict]:
    """`comfydsl lint --format json` of one file, run in its folder as a user would (in-process)."""
    out = invoke("lint", path.name, "--format", "json", cwd=path.parent)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)["files"][0]["diagnostics"]


def as_lsp(diag: dict) -> tuple:
    span = diag["span"]
    return (diag["code"], span["line"] - 1, span["column"] - 1, span["end_line"] - 1, span["end_column"] - 1)


def shown(diag: dict) -> tuple:
    r = diag["range"]
    return (diag["code"], r["start"]["line"], r["start"]["character"], r["end"]["line"], r["end"]["character"])


@pytest.mark.parametrize("name", RECIPES)
def test_shipped_recipes_match_lint(shared_client, shared_project, name):
    uri = shared_client.open(shared_project / name)
    expected = [as_lsp(d) for d in lint_json(shared_project / name)]
    assert [shown(d) for d in shared_client.diagnostics(uri)] == expected


def test_a_typed_mistake_is_reported_at_its_range(shared_client, shared_project):
    uri = shared_client.open(shared_project / "flux_txt2img.comfy")
    assert shared_client.diagnostics(uri) == []
    text = shared_client.texts[uri]
    line, col = find(text, "KSampler(")
    shared_client.edit(uri, (line, col + 2), (line, col + 3), "")  # KSampler -> KSmpler
    diags = shared_client.diagnostics(uri)
    assert [d["code"] for d in diags] == ["CD101"]
    diag = diags[0]
    assert diag["range"] == {"start": {"line": line, "character": col},
                             "end": {"line": line, "character": col + len("KSmpler")}}
    assert diag["severity"] == 1 and diag["source"] == "comfydsl"
    assert "`KSmpler`" in diag["message"]
    assert "help: a node class with a similar name exists: `KSampler`" in diag["message"]


def test_findings_equal_lint_on_a_broken_recipe(client, project):
    text = (project / "flux_txt2img.comfy").read_text()
    broken = (text.replace('ckpt_name="flux1-dev-fp8.safetensors"', 'ckpt_name="flux1-dev.safetensors"')
              .replace("steps=steps", "steps=0").replace("clip=ckpt.CLIP)", "clip=ckpt.CLIPP)", 1)
              .replace("cfg=1.0", "cfg=True").replace('filename_prefix="flux"', 'filename_prefx="flux"'))
    uri = client.open(project / "flux_txt2img.comfy")
    client.diagnostics(uri)
    client.replace(uri, broken)
    got = client.diagnostics(uri)
    (project / "broken.comfy").write_text(broken)
    expected = lint_json(project / "broken.comfy")
    assert sorted(map(repr, (shown(d) for d in got))) == sorted(map(repr, (as_lsp(d) for d in expected)))
    assert {d["code"] for d in got} >= {"CD501", "CD113", "CD110"}
    by_code = {d["code"]: d for d in got}
    assert by_code["CD202"]["severity"] == 1  # an unknown input is an error in a recipe


def test_related_locations_are_sent(shared_client, shared_project):
    text = 'param seed: int = 1\nseed = EmptyLatentImage(width=8, height=8, batch_size=1)\nPreviewImage(images=seed)\n'
    uri = shared_client.open(shared_project / "dup.comfy", text)
    diags = shared_client.diagnostics(uri)
    related = [r for d in diags for r in d.get("relatedInformation") or []]
    assert related and all(r["location"]["uri"] == uri for r in related)


def test_settings_select_and_ignore_apply(client, project):
    (project / "comfydsl.toml").write_text((project / "comfydsl.toml").read_text() + 'ignore = ["CD121"]\n')
    text = (project / "flux_txt2img.comfy").read_text() + 'spare = EmptyLatentImage(width=8, height=8, batch_size=1)\n'
    uri = client.open(project / "flux_txt2img.comfy", text)
    codes = [d["code"] for d in client.diagnostics(uri)]
    assert "CD121" not in codes and "CD603" in codes


def test_errors_in_an_imported_fragment_show_at_the_call_site(client, project):
    part = project / "parts" / "upscale.comfy"
    part.write_text(part.read_text().replace("upscale_method=", "upscale_methd="))
    uri = client.open(project / "flux_upscaled.comfy")
    diags = client.diagnostics(uri)
    text = client.texts[uri]
    inside = [d for d in diags if "in `parts/upscale.comfy`" in d["message"]]
    assert inside, diags
    line, _ = find(text, "big = upscale(")
    assert {d["range"]["start"]["line"] for d in inside} == {line}
    assert any(r["location"]["uri"] == part.resolve().as_uri() for d in inside for r in d["relatedInformation"])


def test_a_syntax_error_and_its_fix(shared_client, shared_project):
    uri = shared_client.open(shared_project / "img2img.comfy")
    shared_client.diagnostics(uri)
    text = shared_client.texts[uri]
    shared_client.replace(uri, text + "broken = (\n")
    assert [d["code"] for d in shared_client.diagnostics(uri)] == ["CD010"]
    shared_client.replace(uri, text)
    assert shared_client.diagnostics(uri) == []


def test_changes_are_debounced(project):
    from lspclient import LspClient

    lsp = LspClient(cwd=str(project), debounce=0.3)
    try:
        uri = lsp.open(project / "flux_txt2img.comfy")
        lsp.diagnostics(uri)
        text = lsp.texts[uri]
        for i in range(3):
            lsp.replace(uri, text + f"# edit {i}\n")
        assert lsp.diagnostics(uri) == []
        versions = [n["params"].get("version") for n in lsp.notifications
                    if n.get("method") == "textDocument/publishDiagnostics"]
        assert versions == [1, 4]  # one lint for the burst of three edits
    finally:
        lsp.close()


def test_a_bad_settings_file_is_reported_not_fatal(client, project):
    (project / "comfydsl.toml").write_text("catalog = 3\n")
    uri = client.open(project / "flux_txt2img.comfy")
    diags = client.diagnostics(uri)
    assert any("catalog" in d["message"] for d in diags)
