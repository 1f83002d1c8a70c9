"""Properties over random workflows built from the real catalogue."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import MODELS, valid_workflows

from comfydsl.workflow.document import read_document
from comfydsl.graph import Graph
from comfydsl.validate import check_document, check_workflow

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(valid_workflows())
def test_valid_workflows_lint_clean(workflow):
    assert _about_the_workflow(check_workflow(workflow, models=MODELS)) == []


@SETTINGS
@given(valid_workflows())
def test_json_round_trip(workflow):
    text = json.dumps(workflow)
    doc = read_document(text)
    assert doc.workflow == workflow
    assert _about_the_workflow(check_document(doc, models=MODELS)) == []
    graph = Graph.from_workflow(doc.workflow)
    assert graph.to_workflow() == {k: workflow[k] for k in graph.to_workflow()}
    assert json.loads(json.dumps(graph.compile())) == graph.to_workflow()


def _link_inputs(workflow):
    return [(nid, name) for nid, node in workflow.items() for name, v in node["inputs"].items()
            if isinstance(v, list)]


def _literal_inputs(workflow):
    return [(nid, name) for nid, node in workflow.items() for name, v in node["inputs"].items()
            if not isinstance(v, list)]


FAULTS = ["drop", "dangling", "index", "class", "negative"]


@SETTINGS
@given(valid_workflows(), st.sampled_from(FAULTS), st.data())
def test_injected_faults_are_found(workflow, fault, data):
    node_ids = list(workflow)
    if fault == "drop":
        candidates = [(n, k) for n, node in workflow.items() for k in node["inputs"]]
        if not candidates:
            return
        node_id, name = data.draw(st.sampled_from(candidates))
        del workflow[node_id]["inputs"][name]
        expected = "CD201"
    elif fault in ("dangling", "index", "negative"):
        links = _link_inputs(workflow)
        if not links:
            return
        node_id, name = data.draw(st.sampled_from(links))
        link = workflow[node_id]["inputs"][name]
        if fault == "dangling":
            link[0] = "missing-" + link[0]
            expected = "CD103"
        elif fault == "index":
            link[1] = 99
            expected = "CD104"
        else:
            link[1] = -1
            expected = "CD105"
    else:
        node_id = data.draw(st.sampled_from(node_ids))
        workflow[node_id]["class_type"] += "Typo"
        expected = "CD101"
    found = [(d.code, d.node_id) for d in check_workflow(workflow, models=MODELS) if d.is_error]
    assert (expected, node_id) in found, found


@SETTINGS
@given(st.text(max_size=200))
def test_reader_never_raises(text):
    doc = read_document(text, "random.json")
    check_document(doc)


@SETTINGS
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children,
                                                                                      max_size=3),
                    max_leaves=12))
def test_checks_never_raise_on_odd_shapes(value):
    # Any JSON value as a whole document, as a node, and as a node's inputs.
    for data in (value, {"1": value}, {"1": {"class_type": "KSampler", "inputs": value}},
                 {"1": {"class_type": "SaveImage", "inputs": {"images": value, "filename_prefix": value}}}):
        doc = read_document(json.dumps(data))
        check_document(doc)


def _about_the_workflow(diagnostics):
    """Leave out what the catalogue says of a class (deprecated, experimental: CD106-CD108), which
    the generator does not avoid."""
    return [d for d in diagnostics if d.code not in {"CD106", "CD107", "CD108"}]
