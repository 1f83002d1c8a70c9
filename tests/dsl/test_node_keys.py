"""`@keys(...)`: a node's own order of `class_type` / `inputs` / `_meta` in the written JSON,
where it differs from the file's (the default, or `# comfydsl: node-keys=inputs-first`)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comfydsl.dsl import Recipe
from comfydsl.dsl.decompile import decompile
from comfydsl.dsl.fmt import format_source
from comfydsl.errors import CompileError
from comfydsl.target import Target
from support import DATA

PRAGMA = "# comfydsl: node-keys=inputs-first"


def lower(text: str, catalog) -> dict:
    return Recipe("r.comfy", text, target=Target(catalog, None)).graph().to_workflow()


def errors(text: str, catalog) -> list:
    with pytest.raises(CompileError) as caught:
        lower(text, catalog)
    return [d for d in caught.value.diagnostics if d.is_error]


def test_a_node_keeps_its_own_key_order(builtin):
    text = ('@keys("inputs", "class_type") @title("source")\n'
            'img = EmptyImage(width=8, height=8, batch_size=1, color=0)\n'
            '@keys("_meta", "inputs", "class_type") @title("shown")\n'
            'PreviewImage(images=img)\n'
            '@title()\n'
            'ImageInvert(image=img)\n')
    nodes = lower(text, builtin)
    assert list(nodes["1"]) == ["inputs", "class_type", "_meta"]  # `_meta` left out: it goes last
    assert list(nodes["2"]) == ["_meta", "inputs", "class_type"]
    assert list(nodes["3"]) == ["class_type", "inputs"]  # the file's default
    # with the pragma the default flips, and `@keys` still wins where it is given
    flipped = lower(PRAGMA + "\n" + text.replace('@keys("inputs", "class_type")', '@keys("class_type", "inputs")'),
                    builtin)
    assert [list(n) for n in flipped.values()] == [["class_type", "inputs", "_meta"],
                                                   ["_meta", "inputs", "class_type"], ["inputs", "class_type"]]


@pytest.mark.parametrize("decorator, message", [
    ('@keys("inputs", "clas_type")', '`@keys` takes the node keys "class_type", "inputs", "_meta"'),
    ('@keys("inputs", 1)', '`@keys` takes the node keys'),
    ('@keys("inputs", "inputs", "class_type")', '`@keys` names "inputs" twice'),
    ('@keys("inputs")', '`@keys` must name both "class_type" and "inputs"'),
    ('@keys()', '`@keys` must name both "class_type" and "inputs"'),
    ('@keys("inputs", "class_type") @keys("class_type", "inputs")', "`@keys` is given twice"),
])
def test_bad_keys_are_located_errors(builtin, decorator, message):
    found = errors(decorator + "\nimg = EmptyImage(width=8, height=8, batch_size=1, color=0)\n"
                   "PreviewImage(images=img)\n", builtin)
    assert [d.code for d in found] == ["CD011"]
    assert message in found[0].message
    assert found[0].location.span.line == 1


def test_keys_apply_to_node_calls_only(builtin):
    found = errors('@keys("inputs", "class_type")\nw = 8\n', builtin)
    assert [d.code for d in found] == ["CD011"] and "node calls only" in found[0].message


def test_an_unknown_decorator_names_keys_among_the_real_ones(builtin):
    found = errors('@kees("inputs", "class_type")\nPreviewImage(images=EmptyImage(width=8, height=8, '
                   'batch_size=1, color=0))\n', builtin)
    assert "@keys(" in found[0].help


MIXED = {
    "1": {"inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}, "class_type": "EmptyImage",
          "_meta": {"title": "Empty"}},
    "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}, "_meta": {"title": "Invert"}},
    "3": {"inputs": {"images": ["2", 0]}, "_meta": {"title": "Preview"}, "class_type": "PreviewImage"},
    "4": {"inputs": {"image": ["1", 0]}, "class_type": "ImageInvert"},
}


def test_decompile_writes_keys_only_where_a_node_differs(builtin):
    text = decompile(MIXED, builtin)
    assert PRAGMA in text.splitlines()  # most nodes write `inputs` first
    assert text.count("@keys(") == 2
    assert '@keys("class_type", "inputs")' in text  # `_meta` last: left out
    assert '@keys("inputs", "_meta", "class_type")' in text
    assert json.dumps(lower(text, builtin)) == json.dumps(MIXED)
    assert format_source(text) == text


def test_fmt_keeps_the_decorator_and_its_meaning(builtin):
    text = ('@keys( "inputs" ,"class_type", )  @title( "a" )\n'
            'img = EmptyImage(width=8, height=8, batch_size=1, color=0)\nPreviewImage(images=img)\n')
    formatted = format_source(text)
    assert formatted.splitlines()[0] == '@keys("inputs", "class_type") @title("a")'
    assert format_source(formatted) == formatted
    assert json.dumps(lower(formatted, builtin)) == json.dumps(lower(text, builtin))


@pytest.mark.parametrize("name", ["hw12_image_ops_model_free__noop_reorder_keys",
                                  "hw17_sd15_batch_postprocess__noop_reorder_keys",
                                  "b_valid_flux_txt2img__noop_reorder_keys"])
def test_the_reordered_conformance_cases_come_back_byte_for_byte(builtin, name):
    data = json.loads((DATA / "conformance" / "cases" / f"{name}.json").read_text())
    workflow = data["workflow"] if "workflow" in data else json.loads(data["workflow_text"])
    text = decompile(workflow, builtin)
    assert "@keys(" in text
    assert json.dumps(lower(text, builtin)) == json.dumps(workflow)


def test_a_loaded_workflow_keeps_each_node_s_key_order(builtin):
    from comfydsl import Graph

    assert json.dumps(Graph.from_workflow(MIXED, builtin).to_workflow()) == json.dumps(MIXED)


_ORDERS = st.permutations(["class_type", "inputs", "_meta"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=st.lists(st.tuples(_ORDERS, st.booleans()), min_size=1, max_size=5))
def test_any_key_orders_round_trip_exactly(builtin, orders):
    workflow: dict = {}
    for i, (order, titled) in enumerate(orders, start=1):
        parts = {"class_type": "EmptyImage" if i == 1 else "ImageInvert",
                 "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0} if i == 1 else {"image": [str(i - 1), 0]},
                 "_meta": {"title": f"node {i}"}}
        workflow[str(i)] = {key: parts[key] for key in order if key != "_meta" or titled}
    workflow[str(len(orders) + 1)] = {"inputs": {"images": [str(len(orders)), 0]}, "class_type": "PreviewImage"}
    text = decompile(workflow, builtin)
    assert json.dumps(lower(text, builtin)) == json.dumps(workflow)
    assert json.dumps(lower(format_source(text), builtin)) == json.dumps(workflow)


def test_an_empty_meta_comes_back_exactly(builtin):
    # Found by the fuzzing suite: `"_meta": {}` was dropped by decompile then compile.
    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
                      "_meta": {}},
                "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    text = decompile(workflow, builtin)
    assert '@keys("class_type", "inputs", "_meta") @title()' in text
    assert json.dumps(lower(text, builtin)) == json.dumps(workflow)


def test_a_null_title_is_refused_rather_than_changed(builtin):
    from comfydsl.errors import DecompileError

    workflow = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0},
                      "_meta": {"title": None}},
                "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    with pytest.raises(DecompileError, match="title"):
        decompile(workflow, builtin)
