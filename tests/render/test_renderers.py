"""Renderers: exact text for a few findings (wording is pinned here only), escaping, cutting."""

from __future__ import annotations

import json

import pytest

from comfydsl.catalog import builtin_catalog
from comfydsl.diagnostics import Diagnostic, Location, Severity, Span
from comfydsl.lint import lint_text
from comfydsl.render import FileResult, LintRun, render
from comfydsl.render.github import annotation, escape_data, escape_property
from comfydsl.target import Target

SNAP = """\
{
  "1": {
    "class_type": "EmptyImage",
    "inputs": {"width": 0, "height": 64, "batch_size": 1, "color": 0, "colour": 5}
  },
  "2": {
    "class_type": "SaveImage",
    "inputs": {"images": ["1", 0]}
  }
}
"""


def lint(path: str, text: str, **kw) -> FileResult:
    return lint_text(text, path, target=Target(builtin_catalog()), **kw)


@pytest.fixture(scope="module")
def snap_run() -> LintRun:
    result = lint("snap.json", SNAP)
    return LintRun([result], models_checked=False)


def test_text_snapshot(snap_run):
    assert render(snap_run, "text") == """\
error[CD403]: input `width` is 0, below the minimum 1
 --> snap.json:4:16
  |
4 |     "inputs": {"width": 0, "height": 64, "batch_size": 1, "color": 0, "colour": 5}
  |                ^^^^^^^^^^
  = help: `width` takes values from 1 to 16384

warning[CD202]: `EmptyImage` has no input `colour`; ComfyUI ignores it
 --> snap.json:4:71
  |
4 |     "inputs": {"width": 0, "height": 64, "batch_size": 1, "color": 0, "colour": 5}
  |                                                                       ^^^^^^^^^^^
  = help: an input with a similar name exists: `color`

error[CD201]: node `2` (`SaveImage`) is missing required input `filename_prefix`
 --> snap.json:8:5
  |
8 |     "inputs": {"images": ["1", 0]}
  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  = help: set `filename_prefix=` (the default is "ComfyUI") or link an output of type `STRING` to it

found 2 errors and 1 warning in 1 file
"""


def test_concise_snapshot(snap_run):
    assert render(snap_run, "concise") == """\
snap.json:4:16: CD403 [error] input `width` is 0, below the minimum 1
snap.json:4:71: CD202 [warning] `EmptyImage` has no input `colour`; ComfyUI ignores it
snap.json:8:5: CD201 [error] node `2` (`SaveImage`) is missing required input `filename_prefix`
found 2 errors and 1 warning in 1 file
"""


def test_github_snapshot(snap_run):
    assert render(snap_run, "github").splitlines() == [
        "::error file=snap.json,line=4,col=16,endLine=4,endColumn=26,title=CD403 value-below-min::"
        "input `width` is 0, below the minimum 1%0Ahelp: `width` takes values from 1 to 16384",
        "::warning file=snap.json,line=4,col=71,endLine=4,endColumn=82,title=CD202 unknown-input::"
        "`EmptyImage` has no input `colour`; ComfyUI ignores it%0Ahelp: an input with a similar name exists: `color`",
        "::error file=snap.json,line=8,col=5,endLine=8,endColumn=35,title=CD201 missing-required-input::"
        "node `2` (`SaveImage`) is missing required input `filename_prefix`%0Ahelp: set `filename_prefix=` "
        '(the default is "ComfyUI") or link an output of type `STRING` to it',
    ]


def test_json_shape(snap_run):
    data = json.loads(render(snap_run, "json"))
    assert data["version"] == 1
    assert data["models_checked"] is False
    assert data["summary"] == {"errors": 2, "warnings": 1, "notes": 0, "files": 1}
    (entry,) = data["files"]
    assert entry["path"] == "snap.json" and entry["kind"] == "api"
    first = entry["diagnostics"][0]
    for key in ("code", "name", "severity", "message", "help", "node_id", "class_type", "input",
                "json_path", "span"):
        assert key in first
    assert first == {
        "code": "CD403", "name": "value-below-min", "severity": "error",
        "message": "input `width` is 0, below the minimum 1",
        "help": "`width` takes values from 1 to 16384", "notes": [],
        "node_id": "1", "class_type": "EmptyImage", "input": "width",
        "json_path": "$['1'].inputs.width",
        "span": {"path": "snap.json", "line": 4, "column": 16, "end_line": 4, "end_column": 26},
        "related": [],
    }


def test_clean_run_summary():
    run = LintRun([FileResult("a.json", "api"), FileResult("b.json", "api")])
    assert render(run, "text") == "no problems found in 2 files\n"
    assert render(run, "concise") == "no problems found in 2 files\n"
    assert render(run, "github") == ""


def test_colour_codes_only_when_asked(snap_run):
    plain = render(snap_run, "text")
    coloured = render(snap_run, "text", color=True)
    assert "\x1b[" not in plain
    assert coloured.startswith("\x1b[1;31merror[CD403]\x1b[0m")
    assert "\x1b[1;33mwarning[CD202]\x1b[0m" in coloured


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown format"):
        render(LintRun([]), "xml")


# -- related locations, notes, long lines, tabs ------------------------------------------


CYCLE = """\
{
  "1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
  "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
  "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}}
}
"""


def test_related_locations_are_shown_with_labels():
    result = lint("cycle.json", CYCLE)
    text = render(LintRun([result]), "text")
    assert """\
error[CD601]: nodes form a dependency cycle: `1` -> `2` -> `1`
 --> cycle.json:2:3
  |
2 |   "1": {"class_type": "ImageInvert", "inputs": {"image": ["2", 0]}},
  |   ^^^
 ::: cycle.json:3:3
  |
3 |   "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
  |   --- in the cycle
  = help: remove one of the links so that no node depends on itself
""" in text


def test_notes_are_shown():
    diag = Diagnostic("CD201", "missing-required-input", Severity.WARNING, "a message",
                      Location(span=Span("w.json", 1, 1, 1, 2)), help="do this",
                      notes=("this node feeds no output node, so ComfyUI skips it",))
    text = render(LintRun([FileResult("w.json", "api", [diag], "{}\n")]), "text")
    assert text == """\
warning[CD201]: a message
 --> w.json:1:1
  |
1 | {}
  | ^
  = help: do this
  = note: this node feeds no output node, so ComfyUI skips it

found 1 warning in 1 file
"""


def test_long_lines_are_cut_around_the_span():
    nodes = {str(i): {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}}
             for i in range(1, 40)}
    nodes["39"]["inputs"]["width"] = 0
    nodes["40"] = {"class_type": "SaveImage", "inputs": {"images": ["39", 0], "filename_prefix": "x"}}
    compact = json.dumps(nodes)
    result = lint("compact.json", compact, select=["CD403"])
    text = render(LintRun([result]), "text")
    lines = text.splitlines()
    source, caret = lines[3], lines[4]
    assert source.startswith("1 | …") and source.endswith("…")
    assert len(source) < 120
    start = caret.index("^")
    assert source[start:].startswith('"width": 0')
    assert caret[start:] == "^" * len('"width": 0')


def test_tabs_keep_the_caret_aligned():
    text_in = '{\n\t"1": {"class_type": "EmptyImage", "inputs": {"width": 0, "height": 64, "batch_size": 1, "color": 0}},\n' \
              '\t"2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}\n}\n'
    result = lint("tabs.json", text_in)
    lines = render(LintRun([result]), "text").splitlines()
    source, caret = lines[3], lines[4]
    assert "\t" not in source
    start = caret.index("^")
    assert source[start:].startswith('"width": 0')


def test_diagnostic_without_span_shows_the_file():
    diag = Diagnostic("CD602", "no-output-node", Severity.ERROR, "no output", Location())
    run = LintRun([FileResult("w.json", "api", [diag], None)])
    assert render(run, "concise").splitlines()[0] == "w.json: CD602 [error] no output"
    assert "--> w.json\n" in render(run, "text")
    assert render(run, "github").startswith("::error file=w.json,title=CD602 no-output-node::no output")


# -- GitHub escaping -------------------------------------------------------------------


def test_github_escaping():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("dir,x/a:b%.json\n") == "dir%2Cx/a%3Ab%25.json%0A"
    diag = Diagnostic("CD405", "value-not-in-options", Severity.NOTE, "50% off: a, b\nc",
                      Location(span=Span("a:b,c.json", 2, 3, 4, 5)))
    assert annotation(diag, "a:b,c.json") == (
        "::notice file=a%3Ab%2Cc.json,line=2,col=3,endLine=4,title=CD405 value-not-in-options::"
        "50%25 off: a, b%0Ac")
