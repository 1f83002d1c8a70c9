"""The graph API as an author meets it: atomic calls, clear misuse errors, located
diagnostics, eager checking."""

from __future__ import annotations

import pytest

from comfydsl import CompileError, Graph
from comfydsl.diagnostics import Diagnostic, Location, Severity, Span
from comfydsl.render.text import diagnostic_line


def test_a_failed_call_leaves_nothing_behind():
    g = Graph()
    img = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    for _ in range(3):
        with pytest.raises(TypeError):
            g.VAEDecode(img)  # positional
        with pytest.raises(TypeError):
            g.VAEDecode(samples=img, vae=object())  # not a JSON value
        with pytest.raises(ValueError):
            g.node("VAEDecode", id="1")  # id taken
    assert list(g.nodes) == ["1"]
    assert g.ImageInvert(image=img).id == "2"  # ids were not used up either


def test_positional_arguments_get_the_languages_message():
    g = Graph()
    with pytest.raises(TypeError, match="takes keyword arguments only"):
        g.VAEDecode(1)
    with pytest.raises(TypeError, match="takes keyword arguments only"):
        g.node("VAEDecode", 1)
    node = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    with pytest.raises(TypeError, match="by keyword only"):
        node.set(1)


@pytest.mark.parametrize("call, kind, word", [
    (lambda g: g.node("X", id=[1]), TypeError, "`id`"),
    (lambda g: g.node("X", id=True), TypeError, "`id`"),
    (lambda g: g.node("X", title=5), TypeError, "`title`"),
    (lambda g: g.node("X", title=b"t"), TypeError, "`title`"),
    (lambda g: g.node(5), TypeError, "class name"),
    (lambda g: g.node("X", value={1: 2}), TypeError, "input `value`"),
    (lambda g: g.attach(5, 7), TypeError, "attach()"),
    (lambda g: g.attach("a.png", 7), TypeError, "attach()"),
    (lambda g: g.EmptyImage(width=8, height=8, batch_size=1, color=0).out(None), TypeError, "node.out()"),
    (lambda g: g.EmptyImage(width=8, height=8, batch_size=1, color=0).out(1.5), TypeError, "node.out()"),
    (lambda g: Graph(models="models.toml"), TypeError, "Graph(models=...)"),
    (lambda g: Graph(catalog="x.json"), TypeError, "Graph(catalog=...)"),
    (lambda g: Graph(eager="yes"), TypeError, "Graph(eager=...)"),
    (lambda g: Graph.from_workflow([]), TypeError, "from_workflow()"),
])
def test_misuse_raises_at_the_call_naming_the_argument(call, kind, word):
    g = Graph()
    before = len(g)
    with pytest.raises(kind) as info:
        call(g)
    assert word in str(info.value)
    assert len(g) <= before + 1  # at most the helper node of the call itself


def test_a_non_string_input_name_is_a_type_error_in_check():
    g = Graph()
    node = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    node.inputs[5] = 1
    with pytest.raises(TypeError, match="input name 5"):
        g.check()


def test_recipe_and_parse_misuse():
    from comfydsl import load_recipe
    from comfydsl.dsl import parse

    with pytest.raises(TypeError, match="target"):
        load_recipe("recipes/flux_txt2img.comfy", target=5)
    with pytest.raises(TypeError, match="parse()"):
        parse(5)


def test_diagnostics_point_at_the_python_line_that_made_the_node():
    g = Graph()
    img = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    line = _line_of("bad = g.SaveImage(images=img, filename_prefix=5, dpi=3)")
    bad = g.SaveImage(images=img, filename_prefix=5, dpi=3)  # noqa: F841
    found = [d for d in g.check() if d.node_id == "2"]
    assert found and all(d.span.path == __file__ and d.span.line == line for d in found)
    text = str(found[0])
    assert text.startswith(f"{__file__}:{line}:1: {found[0].code} [")
    assert text == diagnostic_line(found[0])


def test_str_of_a_diagnostic_reads_like_the_cli_line():
    diag = Diagnostic("CD201", "missing-required-input", Severity.ERROR, "node `5` is missing `seed`",
                      Location(span=Span("r.comfy", 12, 13)))
    assert str(diag) == "r.comfy:12:13: CD201 [error] node `5` is missing `seed`" == diagnostic_line(diag)
    assert str(Diagnostic("CD602", "no-output-node", Severity.ERROR, "no output")) == "CD602 [error] no output"


def test_eager_mode_raises_at_the_offending_line_and_keeps_the_graph_clean():
    g = Graph(eager=True)
    img = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    line = _line_of("g.VAEDecode(samples=img, vae=img)  # eager")
    with pytest.raises(CompileError) as info:
        g.VAEDecode(samples=img, vae=img)  # eager
    assert {d.code for d in info.value.diagnostics} == {"CD301"}
    assert all(d.span.line == line for d in info.value.diagnostics)
    assert list(g.nodes) == ["1"]
    node = g.EmptyImage(width=8, height=8, batch_size=1, color=0)
    with pytest.raises(CompileError):
        node.set(width=-5)
    assert node.inputs["width"] == 8  # a refused change is undone
    # whole-graph findings (no output node yet, unused nodes) wait for check()/compile()
    g.SaveImage(images=g.ImageInvert(image=img), filename_prefix="ok")
    assert Graph(eager=False).eager is False


def _line_of(text: str) -> int:
    lines = open(__file__, encoding="utf-8").read().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(text) and "_line_of" not in line)
