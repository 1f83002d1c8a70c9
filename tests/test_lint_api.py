"""`comfydsl.lint`: linting as a library call, and the one-line diagnostic format."""

from __future__ import annotations

import json

import pytest

from comfydsl.diagnostics import Diagnostic, Location, Severity, Span
from comfydsl.lint import lint_paths, lint_text, lint_texts, run_notes
from comfydsl.diagnostics import diagnostic_line

BAD = {"1": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 64, "batch_size": 1, "color": 0}},
       "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}


def codes(result) -> list[str]:
    return [d.code for d in result.diagnostics]


def test_lint_text_json_and_recipe():
    result = lint_text(json.dumps(BAD, indent=1), "wf.json")
    assert result.kind == "api" and codes(result) == ["CD403"]
    assert result.diagnostics[0].location.span.path == "wf.json"
    recipe = lint_text("x = Nope()\n", "r.comfy")
    assert recipe.kind == "recipe" and "CD121" in codes(recipe)
    assert lint_text("x = Nope()\n", "stdin", language="recipe").kind == "recipe"
    with pytest.raises(ValueError, match="unknown language"):
        lint_text("{}", "x", language="yaml")


def test_lint_text_select_and_ignore():
    assert codes(lint_text(json.dumps(BAD), "wf.json", ignore=["CD4"])) == []
    assert codes(lint_text(json.dumps(BAD), "wf.json", select=["link-type-mismatch"])) == []


def test_lint_paths_searches_skips_and_notes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "wf.json").write_text(json.dumps(BAD))
    (tmp_path / "package.json").write_text('{"name": "x"}')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ok.json").write_text(json.dumps({**BAD, "1": {**BAD["1"], "inputs": {
        "width": 8, "height": 8, "batch_size": 1, "color": 0}}}))
    run = lint_paths()
    assert [r.path for r in run.files] == ["wf.json", "sub/ok.json"]
    assert run.skipped == ["package.json"] and run.summary()["errors"] == 1
    assert run_notes(run)[0] == "skipped 1 JSON file(s) that hold no workflow"
    assert [r.path for r in lint_paths(["*.json"], exclude=["wf.json"]).files] == []
    assert lint_paths(["package.json"]).files[0].kind == "other"  # named: reported, not skipped


def _mixed_texts() -> list[tuple[str, str]]:
    """Texts of every kind, in an order that cuts batches at odd places."""
    from support import CASES, DATA

    cases = sorted(CASES.glob("*.json"))[:20]
    texts = [(p.name, json.loads(p.read_text())["workflow_text"] if "workflow_text" in json.loads(p.read_text())
              else json.dumps(json.loads(p.read_text())["workflow"])) for p in cases]
    texts[3:3] = [("r.comfy", "x = Nope()\n"), ("broken.json", '{"1": '), ("list.json", "[1, 2]")]
    texts[9:9] = [("ui.json", (DATA / "ui" / "everything.ui.json").read_text()), ("wf.json", json.dumps(BAD))]
    texts.append(("dup.json", '{"1": {"class_type": "EmptyImage", "inputs": {}}, "1": {"class_type": "X", "inputs": {}}}'))
    return texts


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_lint_texts_finds_what_lint_text_finds(batch, monkeypatch):
    import comfydsl.lint as lint_module

    monkeypatch.setattr(lint_module, "BATCH_TEXTS", batch)
    texts = _mixed_texts()
    one_by_one = [lint_text(text, path, ignore=["CD603"]) for path, text in texts]
    together = list(lint_texts(texts, ignore=["CD603"]))
    assert [(r.path, r.kind, [str(d) for d in r.diagnostics], [d.to_dict() for d in r.diagnostics])
            for r in together] == [(r.path, r.kind, [str(d) for d in r.diagnostics],
                                    [d.to_dict() for d in r.diagnostics]) for r in one_by_one]
    assert {r.kind for r in together} >= {"api", "recipe", "invalid", "other", "ui"}


def test_lint_paths_keeps_the_order_of_files_around_images_and_unreadable_ones(tmp_path, monkeypatch):
    import comfydsl.lint as lint_module

    monkeypatch.setattr(lint_module, "BATCH_TEXTS", 2)
    names = []
    for i in range(5):
        (tmp_path / f"{i}a.json").write_text(json.dumps(BAD))
        names.append(f"{i}a.json")
    (tmp_path / "2b.png").write_bytes(b"not a png")
    (tmp_path / "3b.json").write_bytes(b"\xff\xfe")
    run = lint_paths([str(tmp_path / n) for n in ["0a.json", "1a.json", "2a.json", "2b.png", "3b.json", "3a.json",
                                                  "4a.json"]])
    assert [r.path.rsplit("/", 1)[-1] for r in run.files] == ["0a.json", "1a.json", "2a.json", "2b.png", "3b.json",
                                                              "3a.json", "4a.json"]
    assert [r.kind for r in run.files] == ["api", "api", "api", "other", "invalid", "api", "api"]


def test_lint_paths_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        lint_paths([str(tmp_path / "missing.json")])
    with pytest.raises(FileNotFoundError, match="no file matches"):
        lint_paths([str(tmp_path / "*.nothing")])
    with pytest.raises(ValueError, match="similar name exists: `dangling-link`"):
        lint_paths([str(tmp_path)], select=["dangling-links"])


def test_one_line_format():
    diag = Diagnostic("CD201", "missing-required-input", Severity.ERROR, "input `seed` is missing",
                      Location(node_id="3", span=Span("r.comfy", 12, 13)))
    assert diagnostic_line(diag, "other.json") == "r.comfy:12:13: CD201 [error] input `seed` is missing"
    bare = Diagnostic("CD602", "no-output", Severity.WARNING, "no output")
    assert diagnostic_line(bare, "w.json") == "w.json: CD602 [warning] no output"
    assert diagnostic_line(bare) == "CD602 [warning] no output"
    # str() of a diagnostic is the same line, with the span's own path
    assert str(diag) == "r.comfy:12:13: CD201 [error] input `seed` is missing"
    assert str(bare) == "CD602 [warning] no output"


def _long_workflow_with_problems(n: int) -> dict:
    """A chain of `n` images with problems spread over its length: an unknown class, a value out
    of range, dangling, malformed and forward links, a cycle, a misshapen node, unused nodes."""
    wf: dict = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}
    for i in range(2, n + 1):
        wf[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    wf["5"]["class_type"] = "NoSuchNode"
    wf["90"]["inputs"]["image"] = [str(n // 4), 0]  # forward, some parts on
    wf["3000"]["inputs"]["image"] = ["6000", 0]  # a cycle through a few parts
    wf[str(n // 2)]["inputs"]["image"] = ["999999", 0]
    wf[str(n // 3)]["inputs"]["image"] = [7, 0]
    wf[str(n - 7)] = "no node"
    wf[str(n + 1)] = {"class_type": "SaveImage", "inputs": {"images": [str(n), 0], "filename_prefix": "x"}}
    wf[str(n + 2)] = {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 8, "batch_size": 1, "color": 0}}
    return wf


def test_a_long_workflow_read_in_parts_is_linted_as_one_read_whole(monkeypatch):
    import comfydsl.workflow.document as document
    from comfydsl.checks import ContextBuilder

    text = json.dumps(_long_workflow_with_problems(20_000), indent=1)
    parts_from = document.PARTS_FROM
    assert len(text) > parts_from
    taken: list[int] = []
    add = ContextBuilder.add
    monkeypatch.setattr(ContextBuilder, "add", lambda self, part: (taken.append(len(part)), add(self, part))[1])
    in_parts = lint_text(text, "long.json")
    assert len(taken) > 20 and sum(taken) == 20_002  # taken into the context part by part
    taken.clear()
    monkeypatch.setattr(document, "PARTS_FROM", len(text) + 1)
    whole = lint_text(text, "long.json")
    assert taken == [20_002]
    assert [d.to_dict() for d in in_parts.diagnostics] == [d.to_dict() for d in whole.diagnostics]
    assert set(codes(whole)) == {"CD005", "CD007", "CD101", "CD103", "CD403", "CD601", "CD603"}
    # a node id written twice across parts: the parts are dropped, the workflow read whole
    monkeypatch.setattr(document, "PARTS_FROM", parts_from)
    twice = text.replace('"19990": {', '"12": {')
    taken.clear()
    found = lint_text(twice, "long.json")
    assert "CD004" in codes(found)
    assert sum(taken[:-1]) == 20_002 and taken[-1] == 20_001  # the parts, then the workflow read whole
    monkeypatch.setattr(document, "PARTS_FROM", len(text) + 1)
    assert [d.to_dict() for d in found.diagnostics] == [d.to_dict() for d in lint_text(twice, "long.json").diagnostics]
