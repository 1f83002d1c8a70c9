"""Property tests: the parser never crashes, and recipes generated from the grammar compile."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from comfydsl.dsl import lint_recipe, parse
from comfydsl.dsl.recipe import Recipe
from comfydsl.errors import ParseError
from comfydsl.target import Target

TOKENS = ["x", "img", "EmptyImage", "SaveImage", "(", ")", "[", "]", "{", "}", "=", ",", ".", ":", "@id", "@",
          "param", "fragment", "return", "import", "from", "int", "str", "1", "2.5", "-", "+", "*", "//", "%",
          '"s"', "'t'", '"""m\n"""', "true", "false", "\n", " ", "# c\n", "file", '"', "\\", "IMAGE", "[0]"]

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_error(exc: ParseError, text: str) -> None:
    span = exc.span
    assert span is not None and span.path == "p.comfy"
    assert 1 <= span.line <= text.count("\n") + 1 and span.column >= 1
    assert str(exc)


@FAST
@given(st.text(max_size=120))
def test_parser_never_crashes_on_random_text(text):
    try:
        parse(text, "p.comfy")
    except ParseError as exc:
        check_error(exc, text)


@FAST
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_parser_and_linter_never_crash_on_token_soup(builtin, text):
    try:
        parse(text, "p.comfy")
    except ParseError as exc:
        check_error(exc, text)
    for diag in lint_recipe("p.comfy", text, Target(builtin)):
        assert diag.span is not None and diag.span.path == "p.comfy", diag


def arithmetic():
    leaves = st.integers(0, 40).map(str)

    def grow(children):
        binary = st.tuples(children, st.sampled_from(["+", "-", "*", "//", "%"]), children)
        return st.one_of(binary.map(lambda t: f"({t[0]} {t[1]} {t[2]})"), children.map(lambda c: f"-{c}"))

    return st.recursive(leaves, grow, max_leaves=6)


NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n not in {"param", "fragment", "return", "import", "from", "true", "false", "file", "node", "int",
                        "str", "float", "bool"})


@st.composite
def recipes(draw):
    """A recipe in the grammar, and what its workflow must hold."""
    label = draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
    expr = draw(arithmetic())
    frag, var = draw(st.lists(NAMES, min_size=2, max_size=2, unique=True))
    gap = draw(st.sampled_from(["\n", "\n\n", "\n# note\n", "  # trailing\n"]))
    comma = draw(st.sampled_from(["", ","]))
    quote = draw(st.sampled_from(["plain", "triple"]))
    literal = json.dumps(label, ensure_ascii=False)
    if quote == "triple" and '"' not in label and "\\" not in label and "\r" not in label:
        literal = '"""' + label + '"""'
    use_fragment = draw(st.booleans())
    seed = draw(st.integers(0, 2**31))
    lines = [f"param label: str = {literal}", f"param seed: int = {seed}",
             f"fragment {frag}(image, times: int = 1) {{",
             f"    {var} = ImageInvert(image=image{comma})", f"    return {var}", "}",
             f"img = EmptyImage(width=64, height=64, batch_size=1, color=seed % 1000 + {expr}{comma})",
             f"out = {frag}(img, times=2)" if use_fragment else "out = ImageInvert(image=img)",
             'SaveImage(images=out, filename_prefix=label + "-x")']
    return gap.join(lines) + "\n", label, seed, expr, use_fragment, frag, var


@FAST
@given(recipes())
def test_generated_recipes_compile(builtin, tmp_path, case):
    text, label, seed, expr, use_fragment, frag, var = case
    try:
        color = seed % 1000 + eval(expr)  # noqa: S307 - digits and operators only
    except ZeroDivisionError:
        color = None
    path = tmp_path / "gen.comfy"
    path.write_text(text)
    recipe = Recipe(path, target=Target(builtin))
    found = recipe.check()
    if color is None:
        assert "CD140" in [d.code for d in found]
        return
    assume(0 <= color <= 16777215)
    assert [d for d in found if d.code not in ("CD120",)] == [], found
    nodes = recipe.compile()
    assert nodes["1"]["inputs"]["color"] == color
    assert nodes["3"]["inputs"]["filename_prefix"] == label + "-x"
    assert nodes["2"]["_meta"]["title"] == (f"out.{var}" if use_fragment else "out")
    assert nodes["3"]["inputs"]["images"] == ["2", 0]
    assert json.dumps(nodes) == json.dumps(recipe.compile())


@pytest.mark.parametrize("text", ["x = Foo(\n", "@@", "fragment (", "param : int", '"""open', "a, = b"])
def test_known_bad_inputs_are_parse_errors(text):
    with pytest.raises(ParseError) as info:
        parse(text, "p.comfy")
    check_error(info.value, text)
