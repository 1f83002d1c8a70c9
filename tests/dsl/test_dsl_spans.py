"""Spans of the recipe AST (built while lark parses), the nesting bound, the parser's
shared state (the garbage-collector pause, concurrent parses) and what a compile leaves behind."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from test_dsl_property import grammar_strings

from comfydsl.dsl import ast, parse
from comfydsl.dsl.syntax import decode_string
from comfydsl.dsl.parser import MAX_DEPTH
from comfydsl.workflow.gcpause import gc_paused
from comfydsl.errors import ParseError

HERE = Path(__file__).parent / "spans"


def dump(module: ast.Module) -> list[str]:
    """One line per AST node, depth first: class, name/operator/value, line:col-line:col, offsets."""
    lines = []
    for node in ast.walk(module):
        label = ""
        for field in ("name", "op", "value"):
            value = getattr(node, field, None)
            if isinstance(value, (str, int, float, bool)):
                label = f" {value!r}"
                break
        s = node.span
        lines.append(f"{type(node).__name__}{label} {s.line}:{s.column}-{s.end_line}:{s.end_column} {s.start}-{s.end}")
    return lines


def test_every_construct_keeps_its_snapshot_spans():
    """The snapshot was taken with the earlier tree-then-transform parser (lark's
    `propagate_positions`); the inline parser must give the very same spans."""
    text = (HERE / "every_construct.comfy").read_text(encoding="utf-8")
    expected = (HERE / "every_construct.spans").read_text(encoding="utf-8").splitlines()
    assert dump(parse(text, "every_construct.comfy")) == expected


@pytest.mark.parametrize("text, part, outer, inner", [
    ("x = (a + b) * c", lambda v: v.left, "(a + b) * c", "a + b"),
    ("x = c * ((a + b))", lambda v: v.right, "c * ((a + b))", "a + b"),
    ("x = -(a)", lambda v: v.operand, "-(a)", "a"),
    ("x = (ckpt).MODEL", lambda v: v.value, "(ckpt).MODEL", "ckpt"),
])
def test_parentheses_count_for_the_enclosing_span_only(text, part, outer, inner):
    assign = parse(text, "p.comfy").statements[0]
    value = assign.value
    assert text[value.span.start:value.span.end] == outer
    assert text[part(value).span.start:part(value).span.end] == inner
    assert assign.span.end == len(text)


def test_spans_with_crlf_tabs_and_long_strings():
    text = 'a = F(\r\n\tx="""one\ntwo""",\r\n\ty=2)\r\nb = a\r\n'
    assign = parse(text, "w.comfy").statements[0]
    x, y = assign.value.args
    assert (x.span.line, x.span.column, x.span.end_line, x.span.end_column) == (2, 2, 3, 7)
    assert (y.span.line, y.span.column) == (4, 2)
    assert (assign.span.end_line, assign.span.end_column) == (4, 6)


def _line_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(grammar_strings())
def test_spans_agree_with_offsets_and_nest(text):
    try:
        module = parse(text, "g.comfy")
    except ParseError:
        assume(False)
    stack = [(module, None)]
    while stack:
        node, parent = stack.pop()
        s = node.span
        assert s.path == "g.comfy"
        assert (s.line, s.column) == _line_column(text, s.start)
        assert (s.end_line, s.end_column) == _line_column(text, s.end)
        if parent is not None:
            assert parent.start <= s.start <= s.end <= parent.end, (node, parent)
        if isinstance(node, (ast.Ident, ast.Name)):
            written = text[s.start:s.end]
            if written[:1] in ("'", '"'):  # a quoted input name: `"input_blocks.0."=1.0`
                written = decode_string(written)
            assert written == node.name
        for name in node.__dataclass_fields__:
            child = getattr(node, name)
            for item in child if isinstance(child, tuple) else (child,):
                if name != "span" and hasattr(item, "__dataclass_fields__"):
                    stack.append((item, s))


def nested_lists(depth: int) -> str:
    return "x = " + "[" * (depth - 1) + "]" * (depth - 1)


def test_nesting_up_to_the_bound_parses():
    module = parse(nested_lists(MAX_DEPTH), "d.comfy")  # the statement and MAX_DEPTH - 1 lists
    assert isinstance(module.statements[0].value, ast.ListExpr)


@pytest.mark.parametrize("text,line,column", [
    (nested_lists(MAX_DEPTH + 1), 1, 1),
    ("x = 1\nfragment f() {\n  y = " + "-" * MAX_DEPTH + "1\n}", 3, 3),  # the statement that nests
    ("x = " + " + ".join(["1"] * (MAX_DEPTH + 1)), 1, 1),
])
def test_nesting_past_the_bound_is_a_located_parse_error(text, line, column):
    with pytest.raises(ParseError) as info:
        parse(text, "d.comfy")
    assert "nests too deeply" in str(info.value)
    assert (info.value.span.path, info.value.span.line, info.value.span.column) == ("d.comfy", line, column)


def at_the_bound() -> str:
    """A recipe whose statements each nest exactly MAX_DEPTH levels, in four ways."""
    return "\n".join([
        nested_lists(MAX_DEPTH),
        "y = " + "F(a=" * ((MAX_DEPTH - 1) // 2) + "1" + ")" * ((MAX_DEPTH - 1) // 2),
        "z = " + "-" * (MAX_DEPTH - 2) + "1",
        "w = " + " + ".join(["1"] * (MAX_DEPTH - 1)),
    ]) + "\n"


def test_later_stages_cope_with_the_deepest_recipe(builtin):
    from comfydsl.dsl import lint_recipe
    from comfydsl.dsl.fmt import format_source
    from comfydsl.target import Target

    text = at_the_bound()
    assert format_source(text, "deep.comfy").count("\n") >= 4
    codes = {d.code for d in lint_recipe("deep.comfy", text, Target(builtin))}
    assert "CD121" in codes and "CD140" not in codes  # lowered in full, not cut short by recursion


def test_long_flat_statements_are_not_deep():
    text = "x = [" + ", ".join(str(i) for i in range(3 * MAX_DEPTH)) + "]\n"
    assert len(parse(text, "f.comfy").statements[0].value.items) == 3 * MAX_DEPTH


def test_gc_pause_restores_the_collector_state():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_parse_error_leaves_the_collector_running():
    with pytest.raises(ParseError):
        parse("x = (", "e.comfy")
    assert gc.isenabled()


def test_concurrent_parses_keep_their_own_paths():
    texts = {f"r{i}.comfy": "\n".join(f"v{j} = F(a={j}, b=[{i}])" for j in range(200)) for i in range(6)}
    results: dict[str, ast.Module] = {}
    errors = []

    def work(path: str) -> None:
        try:
            results[path] = parse(texts[path], path)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(path,)) for path in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for path, module in results.items():
        assert module.source == texts[path]
        assert {node.span.path for node in ast.walk(module)} == {path}
        assert module.statements[-1].value.args[1].value.items[0].value == int(path[1])


def test_compile_check_and_lint_leave_no_reference_cycles(builtin):
    """The graph (nodes and graph point at each other) is emptied once it is not needed, so a
    compile's memory goes back at once instead of waiting for the cyclic collector."""
    from comfydsl.dsl.recipe import Recipe
    from comfydsl.target import Target

    text = "\n".join([
        'img = EmptyImage(width=64, height=64, batch_size=1, color=0)',
        *(f"inv{i} = ImageInvert(image=img)\nSaveImage(images=inv{i}, filename_prefix=\"p{i}\")" for i in range(20)),
    ]) + "\n"
    recipe = Recipe("c.comfy", text, target=Target(builtin))
    assert len(recipe.compile()) == 41  # warm: parser and catalogue caches are built
    gc.collect()
    gc.disable()
    try:
        assert len(recipe.compile()) == 41
        assert not any(d.is_error for d in recipe.check()) and not any(d.is_error for d in recipe.lint())
        assert gc.collect() == 0
    finally:
        gc.enable()
