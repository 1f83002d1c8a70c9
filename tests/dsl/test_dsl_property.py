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
                        "str", "float", "bool",
                        # the names the generated recipe itself defines (a clash is a real CD111)
                        "img", "out", "label", "seed", "image", "times"})


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


STEPS = st.sampled_from(["node", "fragment", "nested", "inline", "scale"])


@st.composite
def programs(draw):
    """A recipe (and a library file it imports) built from random steps, and its expected shape."""
    steps = draw(st.lists(STEPS, max_size=6))
    pins = draw(st.lists(st.integers(1, 12), max_size=len(steps), unique=True))
    imported = draw(st.booleans())
    lines = ['from "lib/parts.comfy" import one, two' if imported else 'import "lib/parts.comfy"',
             "param w: int = 64",
             "img0 = EmptyImage(width=w, height=w // 2, batch_size=1, color=0)"]
    expected = [("EmptyImage", None)]
    for i, step in enumerate(steps, 1):
        pin = pins[i - 1] if i - 1 < len(pins) and step in ("node", "scale") else None
        if pin is not None:
            lines.append(f'@id({pin}) @title("step {i}")')
        prev = f"img{i - 1}"
        if step == "node":
            lines.append(f"img{i} = ImageInvert(image={prev})")
            expected.append(("ImageInvert", pin))
        elif step == "fragment":
            lines.append(f"img{i} = one({prev})")
            expected.append(("ImageInvert", None))
        elif step == "nested":
            lines.append(f"img{i} = two(image={prev})")
            expected += [("ImageInvert", None)] * 2
        elif step == "inline":
            lines.append(f"img{i} = ImageInvert(image=ImageInvert(image={prev}))")
            expected += [("ImageInvert", None)] * 2
        else:
            width = draw(st.integers(1, 300))
            lines.append(f'img{i} = ImageScale(image={prev}, upscale_method="lanczos", width={width} + w,'
                         f' height=64, crop="disabled")')
            expected.append(("ImageScale", pin))
    lines.append(f'SaveImage(images=img{len(steps)}, filename_prefix="gen")')
    expected.append(("SaveImage", None))
    library = "fragment one(image) {\n    inv = ImageInvert(image=image)\n    return inv\n}\n" \
              "fragment two(image) {\n    return one(one(image))\n}\n"
    return "\n".join(lines) + "\n", library, expected


@FAST
@given(programs())
def test_generated_programs_compile_to_the_expected_graph(builtin, tmp_path, case):
    text, library, expected = case
    (tmp_path / "lib").mkdir(exist_ok=True)
    (tmp_path / "lib" / "parts.comfy").write_text(library)
    path = tmp_path / "prog.comfy"
    path.write_text(text)
    nodes = Recipe(path, target=Target(builtin)).compile()
    assert sorted(n["class_type"] for n in nodes.values()) == sorted(c for c, _ in expected)
    pinned = {str(p) for _, p in expected if p is not None}
    for pin in pinned:
        assert nodes[pin]["_meta"]["title"].startswith("step ")
    free = [k for k in nodes if k not in pinned]
    wanted = [str(n) for n in range(1, len(nodes) + len(pinned) + 1) if str(n) not in pinned][:len(free)]
    assert sorted(free, key=int) == wanted
    for node in nodes.values():
        for value in node["inputs"].values():
            if isinstance(value, list):
                assert value[0] in nodes and value[1] == 0
    order = [nodes[k]["class_type"] for k in sorted(free, key=int)]
    assert order[0] == "EmptyImage" and order[-1] == "SaveImage"


def _spaced(*words):
    return st.sampled_from([f" {w} " for w in words])


def grammar_strings():
    """Strings drawn from the grammar itself (hypothesis' lark support); keywords and names
    are padded with spaces so that neighbouring tokens do not run together."""
    from hypothesis.extra.lark import from_lark

    from comfydsl.dsl.parser import _parser

    names = st.one_of(
        st.from_regex(r"[a-z][a-z0-9_]{0,4}", fullmatch=True).map(lambda s: f" v{s} "),
        _spaced("EmptyImage", "SaveImage", "ImageInvert", "CheckpointLoaderSimple", "file", "node", "id",
                "title", "x", "image", "IMAGE", "MODEL", "width"))
    explicit = {
        "TYPE": _spaced("str", "int", "float", "bool"), "NAME": names,
        "INT": st.integers(0, 999).map(lambda i: f" {i} "),
        "FLOAT": _spaced("1.5", ".5", "2e3", "3.25E-2"),
        "LONG_STRING": st.just(' """two\nlines""" '), "COMMENT": st.just(" # note\n"),
        "IMPORT": _spaced("import"), "FROM": _spaced("from"), "PARAM": _spaced("param"),
        "FRAGMENT": _spaced("fragment"), "RETURN": _spaced("return"), "TRUE": _spaced("true"),
        "FALSE": _spaced("false"),
    }
    return from_lark(_parser(), explicit=explicit)


@FAST
@given(grammar_strings())
def test_grammar_strings_parse_and_lint_without_crashing(builtin, text):
    try:
        parse(text, "g.comfy")
    except ParseError as exc:  # the grammar itself does not know the one-statement-per-line rule
        assert exc.detail == "expected a new line before the next statement", str(exc)
    for diag in lint_recipe("g.comfy", text, Target(builtin)):
        assert diag.span is not None and diag.span.path == "g.comfy"


def test_odd_import_and_attachment_paths_are_diagnostics(builtin, tmp_path):
    for text in ('import "\\0"', 'x = LoadImage(image=file("a\\0b"))', 'import ""'):
        found = lint_recipe(str(tmp_path / "r.comfy"), text, Target(builtin))
        assert {d.code for d in found} & {"CD116", "CD119"}, (text, found)
