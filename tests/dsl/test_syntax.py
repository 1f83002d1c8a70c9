"""`dsl/syntax.py` states the recipe language's facts once, and they agree with the grammar."""

from __future__ import annotations

import ast as pyast
import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfydsl.dsl import syntax
from comfydsl.dsl.parser import _parser

DSL = Path(syntax.__file__).parent


def _terminals() -> dict:
    return {t.name: t.pattern for t in _parser().terminals}


def test_keywords_are_the_grammar_keywords():
    from lark.lexer import PatternStr

    words = {p.value for p in _terminals().values() if isinstance(p, PatternStr) and syntax.is_name(p.value)}
    assert words == syntax.KEYWORDS
    assert syntax.STATEMENT_KEYWORDS | set(syntax.BOOLEANS) | {syntax.NULL} == syntax.KEYWORDS


def test_param_types_are_the_grammar_types():
    pattern = _terminals()["TYPE"].value
    alternatives = re.match(r"\(([^)]*)\)", pattern)
    assert alternatives is not None and set(alternatives.group(1).split("|")) == set(syntax.PARAM_TYPES)
    assert syntax.describe_types() == "`str`, `int`, `float` or `bool`"


def test_identifiers_are_the_grammar_names():
    assert _terminals()["NAME"].value == syntax.IDENTIFIER.pattern
    assert syntax.is_identifier("ckpt_2") and syntax.is_identifier("_x")
    for word in ["2x", "a-b", "", "é", None, 3, *syntax.RESERVED]:
        assert not syntax.is_identifier(word)
    assert syntax.is_name("import") and not syntax.is_identifier("import")


@pytest.mark.parametrize("terminal, quote, extra", [("STRING", '"', ""), ("LONG_STRING", '"""', "\n")])
def test_escapes_are_the_grammar_escapes(terminal, quote, extra):
    regex = re.compile(_terminals()[terminal].to_regexp())
    admitted = {c for c in string.printable if regex.fullmatch(f"{quote}\\{c}{quote}")}
    assert admitted == set(syntax.ESCAPES) - ({"\n"} - set(extra))


def test_decoding_reads_every_escape():
    assert syntax.decode_string(r'"a\"b\\c\n\t\u00e9\x41\/"') == 'a"b\\c\n\té' + "A/"
    assert syntax.decode_string("'''one\\\ntwo'''") == "onetwo"
    assert syntax.decode_string("'it\\'s'") == "it's"


@given(st.text())
def test_quote_writes_a_string_literal_that_decodes_back(text):
    literal = syntax.quote(text)
    assert re.fullmatch(_terminals()["STRING"].to_regexp(), literal)
    assert syntax.decode_string(literal) == text


def test_types_of_values():
    assert [syntax.type_of(v) for v in (True, 1, 1.5, "s", None, [])] == ["bool", "int", "float", "str", None, None]
    assert syntax.as_type(2, "float") == 2.0 and isinstance(syntax.as_type(2, "float"), float)
    for value, type_name in [(True, "int"), (True, "float"), (1, "bool"), ("1", "int"), (1.0, "int")]:
        with pytest.raises(ValueError, match=f"type `{type_name}`"):
            syntax.as_type(value, type_name)
    assert syntax.parse_value(" TRUE ", "bool") is True
    assert syntax.parse_value("-3", "int") == -3
    with pytest.raises(ValueError, match="`true` or `false`"):
        syntax.parse_value("yes", "bool")
    assert [syntax.boolean(True), syntax.boolean(False)] == ["true", "false"]


def _imports(path: Path) -> set[str]:
    """The comfydsl.dsl modules a file imports, lazily or not (relative names resolved)."""
    package = "comfydsl.dsl" + ("." + path.parent.name if path.parent != DSL else "")
    found = set()
    for node in pyast.walk(pyast.parse(path.read_text())):
        if isinstance(node, pyast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, pyast.Import):
            found |= {a.name for a in node.names}
    return found


def test_fmt_does_not_import_decompile():
    assert not any("decompile" in name for name in _imports(DSL / "fmt.py"))
    assert "comfydsl.dsl.fmt" in _imports(DSL / "decompile.py")


def test_the_language_facts_are_not_restated():
    """No other dsl module spells the keyword set, the escape table or the name pattern."""
    for path in [*DSL.glob("*.py"), *DSL.glob("lower/*.py")]:
        if path.name in ("syntax.py", "rules.py"):
            continue
        text = path.read_text()
        assert "[A-Za-z_][A-Za-z0-9_]*" not in text, path
        assert '"fragment", "return"' not in text, path
        assert '"n": "\\n"' not in text, path
        assert '("str", "int", "float", "bool")' not in text, path


def test_syntax_imports_nothing_from_comfydsl():
    assert not any(name.startswith("comfydsl") for name in _imports(DSL / "syntax.py"))


def test_fmt_reads_the_grammar_tokens_comments_included():
    from comfydsl.dsl.fmt import FormatError, tokenize

    toks = tokenize('param n: int = 1  # c\nx = A(a=true, b=-1.5e3, c=\'\'\'l\nq\'\'\') // 2\n')
    assert [(t.kind, t.text) for t in toks[:7]] == [
        ("name", "param"), ("name", "n"), ("op", ":"), ("name", "int"), ("op", "="), ("int", "1"), ("comment", "# c")]
    assert [t.kind for t in toks if t.kind in ("float", "long")] == ["float", "long"]
    assert [t.text for t in toks if t.own_line] == ["param", "x"]
    after_long = next(t for t in toks if t.text == ")")
    assert (after_long.line, after_long.own_line) == (3, False)
    with pytest.raises(FormatError) as info:
        tokenize('x = A(a="not closed)\n', "r.comfy")
    assert (info.value.span.line, info.value.span.column) == (1, 9) and "string" in info.value.detail


def test_lower_parts_import_alone():
    import importlib

    for part in ("values", "base", "scope", "evaluate", "nodes", "attachments", "lowerer"):
        importlib.import_module(f"comfydsl.dsl.lower.{part}")
    from comfydsl.dsl import lower

    assert lower.__all__ == sorted(lower.__all__) and all(hasattr(lower, name) for name in lower.__all__)
    assert lower.constant(None) is None
