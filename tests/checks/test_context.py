"""The check context: one pass over the workflow, the graph filled in bulk."""

from __future__ import annotations

from comfydsl.catalog import builtin_catalog
from comfydsl.checks import CheckContext
from comfydsl.validate import check_workflow


def _image(i: int) -> dict:
    return {"class_type": "ImageInvert", "inputs": {"image": [str(i), 0]}}


def _empty() -> dict:
    return {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}


def test_graph_nodes_edges_and_links() -> None:
    wf = {"1": _empty(), "2": _image(1),
          "3": {"class_type": "ImageBlend", "inputs": {"image1": ["2", 0], "image2": ["2", 0],
                                                       "blend_factor": 0.5, "blend_mode": "normal"}},
          "4": {"class_type": "PreviewImage", "inputs": {"images": ["3", 0]}},
          "5": {"class_type": "PreviewImage", "inputs": {"images": ["99", 0]}},
          "6": "not a node"}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert list(ctx.graph.nodes) == ["1", "2", "3", "4", "5", "6"]
    assert list(ctx.graph.edges) == [("1", "2"), ("2", "3"), ("3", "4")]  # two links, one edge
    assert [(link.input, link.source) for link in ctx.nodes["3"].links] == [("image1", "2"), ("image2", "2")]
    assert [link.source for link in ctx.nodes["5"].links] == ["99"]  # a dangling link is kept, without an edge
    assert ctx.nodes["6"].class_type is None and not ctx.nodes["6"].is_object
    assert ctx.output_nodes == ["4", "5"] and ctx.live == {"1", "2", "3", "4", "5"}
    assert ctx.links_ordered and ctx.is_acyclic()


def test_links_against_the_file_order_fall_back_to_networkx() -> None:
    wf = {"3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}, "2": _image(1), "1": _empty()}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert not ctx.links_ordered
    assert ctx.is_acyclic()
    assert not [d for d in check_workflow(wf) if d.code == "CD601"]


def test_cycles_are_still_found() -> None:
    for wf in ({"1": _image(2), "2": _image(1), "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}},
               {"1": _image(1), "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}):
        ctx = CheckContext.build(wf, builtin_catalog())
        assert not ctx.links_ordered and not ctx.is_acyclic()
        assert [d.code for d in check_workflow(wf)].count("CD601") == 1


def test_shared_results_are_computed_once() -> None:
    ctx = CheckContext.build({"1": _empty()}, builtin_catalog())
    calls = []

    def compute(c: CheckContext) -> list[str]:
        calls.append(1)
        return list(c.nodes)

    assert ctx.shared("ids", compute) == ["1"]
    assert ctx.shared("ids", compute) == ["1"]
    assert len(calls) == 1


def test_a_long_chain_builds_without_recursion() -> None:
    wf = {"1": _empty(), **{str(i): _image(i - 1) for i in range(2, 20_001)},
          "20001": {"class_type": "PreviewImage", "inputs": {"images": ["20000", 0]}}}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert len(ctx.live) == 20_001 and ctx.graph.number_of_edges() == 20_000
