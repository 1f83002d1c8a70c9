"""The parser: AST shapes, spans, literals, and located parse errors in words."""

from __future__ import annotations

import re

import pytest

from comfydsl.dsl import ast, parse
from comfydsl.errors import ParseError


def stmt(text: str):
    return parse(text, "t.comfy").statements[0]


def value(text: str):
    return stmt(f"x = {text}").value


def test_statements_and_spans():
    module = parse('param seed: int = 42\nckpt = CheckpointLoaderSimple(ckpt_name="a")\n', "r.comfy")
    param, assign = module.statements
    assert isinstance(param, ast.Param) and param.type == "int" and param.default.value == 42
    assert (param.name.span.line, param.name.span.column) == (1, 7)
    assert isinstance(assign, ast.Assign) and assign.targets[0].name == "ckpt"
    call = assign.value
    assert call.func.name == "CheckpointLoaderSimple"
    assert (call.func.span.line, call.func.span.column, call.func.span.end_column) == (2, 8, 30)
    kw = call.keywords[0]
    assert (kw.span.line, kw.span.column) == (2, 31) and kw.span.path == "r.comfy"
    assert module.source.count("\n") == 2


@pytest.mark.parametrize("text, expected", [
    ('"a\\"b"', 'a"b'),
    ("'it\\'s'", "it's"),
    ('"tab\\tnew\\nline"', "tab\tnew\nline"),
    ('"\\u00e9\\x41\\\\"', "éA\\"),
    ('"""multi\nline "quoted" text"""', 'multi\nline "quoted" text'),
    ("'''one\n'two'\n'''", "one\n'two'\n"),
    ('"ünïcödé ✓"', "ünïcödé ✓"),
])
def test_strings(text, expected):
    assert value(text).value == expected


@pytest.mark.parametrize("text, expected", [
    ("42", 42), ("4.5", 4.5), ("1e3", 1000.0), (".5", 0.5), ("2.5E-2", 0.025), ("true", True), ("false", False),
])
def test_numbers_and_booleans(text, expected):
    literal = value(text)
    assert literal.value == expected and type(literal.value) is type(expected)


def test_expressions():
    expr = value("-(a + 2) * 3 // b % 4 - 1.5")
    assert isinstance(expr, ast.BinOp) and expr.op == "-"
    assert isinstance(value("ckpt.MODEL"), ast.Attr)
    assert value("ckpt[1]").index == 1
    assert isinstance(value("[1, 'a', [2],]"), ast.ListExpr)
    obj = value('{"k": 1, "n": {"m": [true]}}')
    assert [p.key.value for p in obj.pairs] == ["k", "n"]
    inline = value("SaveImage(images=VAEDecode(samples=s, vae=c.VAE))")
    assert isinstance(inline.keywords[0].value, ast.Call)
    frag = value("lora(ckpt.MODEL, clip=ckpt.CLIP)")
    assert len(frag.positional) == 1 and len(frag.keywords) == 1


def test_fragments_imports_decorators_and_comments():
    module = parse('''# a recipe
import "parts/a.comfy"            # all fragments
from "parts/b.comfy" import x, y
fragment lora(model, clip, name: str, strength: float = 1.0) {
    l = LoraLoader(model=model, clip=clip)   # inside
    return l.MODEL, l.CLIP
}
fragment side(image) {
    SaveImage(images=image)
}
@id("9") @title("Save")
SaveImage(images=img)
''', "r.comfy")
    imp_all, imp_from, lora, side, save = module.statements
    assert imp_all.path.value == "parts/a.comfy"
    assert [n.name for n in imp_from.names] == ["x", "y"]
    assert [(p.name.name, p.type, p.default is not None) for p in lora.params] == [
        ("model", None, False), ("clip", None, False), ("name", "str", False), ("strength", "float", True)]
    assert len(lora.returns.values) == 2 and side.returns is None
    assert [d.name.name for d in save.decorators] == ["id", "title"]
    assert isinstance(save, ast.CallStmt)


def test_keywords_are_still_usable_as_output_names_but_types_only_after_colons():
    assert value("x.str").attr.name == "str"
    assert stmt("param int_value: int = 1").name.name == "int_value"


def error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(text, "bad.comfy")
    return info.value


@pytest.mark.parametrize("text, line, column, words", [
    ('x = Foo(a=1\ny = 2', 2, 1, ["`)`", "`,`"]),
    ("x = \n\n", 3, 1, ["an expression"]),
    ("param x: strng", 1, 10, ["a type"]),
    ("fragment f( {", 1, 13, ["`)`", "a name"]),
    ("x = 1 y = 2", 1, 7, ["a new line"]),
    ("ckpt = X()\n  $", 2, 3, []),
    ('s = "open', 1, 5, []),
])
def test_parse_errors_are_located_and_worded(text, line, column, words):
    exc = error(text)
    assert (exc.span.line, exc.span.column) == (line, column)
    assert exc.span.path == "bad.comfy"
    for word in words:
        assert word in str(exc)
    assert not re.search(r"\b(RPAR|LPAR|COMMA|NAME|__ANON|\$END)\b", str(exc)), str(exc)


def test_unclosed_string_message_explains():
    assert "not closed" in str(error('s = "open\nmore"'))


def test_parentheses_make_no_tree_node():
    assert value("(" * 150 + "1" + ")" * 150).value == 1


def test_parentheses_count_toward_the_nesting_limit():
    # issue 11 item 2: `fmt` nests on every bracket, so 400 parentheses were accepted by
    # `compile` yet overflowed the formatter's recursion
    exc = error("x = " + "(" * 400 + "1" + ")" * 400)
    assert (exc.span.line, exc.span.column) == (1, 1) and "deeply" in str(exc)
    exc = error('x = F(a="((((", b=' + "(" * 201 + "1" + ")" * 201 + ")")
    assert "deeply" in str(exc)
    # brackets inside strings and comments do not count
    assert value('"' + "(" * 500 + '"').value == "(" * 500


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "F(a=" * 3000 + "1" + ")" * 3000, "-" * 5000 + "1"])
def test_deep_nesting_is_a_parse_error_not_a_crash(text):
    exc = error("x = " + text)
    assert (exc.span.line, exc.span.column) == (1, 1) and "deeply" in str(exc)


def test_parse_error_text_starts_with_the_location():
    exc = error("x = 1\ny = (\n")
    assert str(exc).startswith("bad.comfy:3:1: unexpected end of file") and exc.detail.startswith("unexpected")


def test_integer_longer_than_python_converts_is_a_located_parse_error():
    import sys

    digits = "9" * (sys.get_int_max_str_digits() + 1)
    with pytest.raises(ParseError) as info:
        parse(f"x = A(width={digits})\n", "r.comfy")
    assert info.value.span.line == 1 and info.value.span.column == 13
    assert f"{len(digits)} digits" in info.value.detail
    assert parse(f"x = A(width={digits[:-1]})\n").statements  # at the limit it still reads


def test_deep_nesting_points_at_the_statement_that_nests():
    exc = error('param x: str = "a"\n\ny = ' + "+".join(["x"] * 1000) + "\n")
    assert (exc.span.line, exc.span.column) == (3, 1) and "deeply" in str(exc)


@pytest.mark.parametrize(("source", "word", "column"), [
    ('from "x.comfy" import fragment\nx = 1\n', "fragment", 23),
    ('from "x.comfy" import a, param\n', "param", 26),
    ("x, fragment = f()\n", "fragment", 4),
    ("x, true = f()\n", "true", 4),
    ("param true: int\n", "true", 7),
    ("fragment fragment() {\n}\n", "fragment", 10),
    ("fragment f(param) {\n}\n", "param", 12),
    ("x = import\n", "import", 5),
    ("x = param(1)\n", "param", 5),
    ("@return(1)\nf()\n", "return", 2),
    ("fragment f() {\n    fragment(1)\n}\n", "fragment", 5),
])
def test_a_keyword_is_not_a_name_of_the_recipe(source, word, column):
    with pytest.raises(ParseError) as info:
        parse(source, "k.comfy")
    assert info.value.detail == f"`{word}` is a keyword, it cannot be used as a name"
    line = info.value.span.line
    assert (info.value.span.column, str(info.value).split(": ")[0]) == (column, f"k.comfy:{line}:{column}")


def test_keywords_stay_allowed_as_catalogue_names():
    module = parse('x = A(return=b.fragment, "param"=1)\nA(from=x.import)\n')
    assert len(module.statements) == 2
