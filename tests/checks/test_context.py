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


def test_links_against_the_file_order_are_ordered_by_a_walk() -> None:
    wf = {"3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}, "2": _image(1), "1": _empty()}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert not ctx.links_ordered
    assert ctx.is_acyclic() and ctx._graph is None  # decided while building, without networkx
    assert not [d for d in check_workflow(wf) if d.code == "CD601"]


def test_a_long_chain_against_the_file_order_builds_without_recursion() -> None:
    wf = {"20001": {"class_type": "PreviewImage", "inputs": {"images": ["20000", 0]}},
          **{str(i): _image(i - 1) for i in range(20_000, 1, -1)}, "1": _empty()}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert not ctx.links_ordered and ctx.is_acyclic() and len(ctx.live) == 20_001
    wf["1"] = _image(20_000)  # now a cycle through all of them
    ctx = CheckContext.build(wf, builtin_catalog())
    assert not ctx.is_acyclic() and len(ctx.live) == 20_001


def test_cycles_are_still_found() -> None:
    for wf in ({"1": _image(2), "2": _image(1), "3": {"class_type": "PreviewImage", "inputs": {"images": ["2", 0]}}},
               {"1": _image(1), "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}):
        ctx = CheckContext.build(wf, builtin_catalog())
        assert not ctx.links_ordered and not ctx.is_acyclic()
        assert [d.code for d in check_workflow(wf)].count("CD601") == 1


def test_a_long_chain_builds_without_recursion() -> None:
    wf = {"1": _empty(), **{str(i): _image(i - 1) for i in range(2, 20_001)},
          "20001": {"class_type": "PreviewImage", "inputs": {"images": ["20000", 0]}}}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert len(ctx.live) == 20_001 and ctx.graph.number_of_edges() == 20_000


def _random_workflow(seed: int, n: int = 60) -> dict:
    """Random nodes linking to random others (some missing, some later in the file, some
    malformed), with a few output nodes and a few unknown classes."""
    import random

    rng = random.Random(seed)
    wf: dict = {}
    for i in range(1, n + 1):
        kind = rng.random()
        if kind < 0.1:
            wf[str(i)] = {"class_type": "PreviewImage", "inputs": {"images": [str(rng.randint(1, n + 5)), 0]}}
        elif kind < 0.15:
            wf[str(i)] = {"class_type": "NoSuchNode", "inputs": {"x": [str(rng.randint(1, n)), 0]}}
        elif kind < 0.2:
            wf[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [rng.randint(1, n), 0]}}  # malformed
        elif kind < 0.22:
            wf[str(i)] = {"class_type": "NoSuchNode"}  # misshapen (no inputs), of an unknown class: live
        else:
            wf[str(i)] = _image(rng.randint(1, n))
    if seed % 2:  # links in file order: every source written earlier
        for i in range(1, n + 1):
            for value in wf[str(i)].get("inputs", {}).values():
                if isinstance(value[0], str) and int(value[0]) <= n:
                    value[0] = str(rng.randint(1, i - 1)) if i > 1 else "999"
    return wf


def test_live_nodes_and_malformed_links_match_a_walk_of_the_graph() -> None:
    import networkx as nx

    from comfydsl.checks.context import upstream
    from comfydsl.workflow.links import is_link

    catalog = builtin_catalog()
    cyclic = 0
    for seed in range(40):
        wf = _random_workflow(seed)
        cyclic += not nx.is_directed_acyclic_graph(nx.DiGraph([(v[0], t) for t, node in wf.items()
                                                               for v in node.get("inputs", {}).values()
                                                               if is_link(v)]))
        ctx = CheckContext.build(wf, catalog)
        if seed % 2:
            assert ctx.links_ordered
        seeds = ctx.output_nodes + [v.id for v in ctx.nodes.values() if v.class_type is not None and v.spec is None]
        graph = nx.DiGraph()
        graph.add_nodes_from(wf)
        graph.add_edges_from((v[0], t) for t, node in wf.items() for v in node.get("inputs", {}).values()
                             if is_link(v) and v[0] in wf)
        assert ctx.live == upstream(graph, seeds), seed
        assert ctx.live_count == len(ctx.live), seed
        # each link leads to its source's view (forward and self links too), or to none
        assert all(link.parent is ctx.nodes.get(link.source) for view in ctx.nodes.values()
                   for link in view.links), seed
        assert ctx.is_acyclic() == nx.is_directed_acyclic_graph(graph), seed
        assert sorted(ctx.graph.edges) == sorted(graph.edges)  # built on first use, the same graph
        assert [(n.id, name) for n, name, _ in ctx.malformed_links or ()] == [
            (t, name) for t, node in wf.items() for name, v in node.get("inputs", {}).items()
            if isinstance(v, list) and not is_link(v)]
    assert 5 <= cyclic <= 35  # both kinds were tried


def test_the_graph_is_built_only_when_a_check_needs_it() -> None:
    wf = {"1": _empty(), **{str(i): _image(i - 1) for i in range(2, 50)},
          "50": {"class_type": "PreviewImage", "inputs": {"images": ["49", 0]}}}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert ctx.links_ordered and ctx.live == set(wf)
    assert ctx._graph is None and ctx.is_acyclic() and ctx._graph is None
    assert ctx.graph.number_of_edges() == 49


def test_ids_that_collide_as_strings_keep_the_last_node() -> None:
    # not from JSON (its keys are strings), but a Python caller may pass int and str ids
    wf = {1: {"class_type": "ImageInvert", "inputs": {"image": [1, 0]}}, "2": _empty(), "1": _image(2)}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert list(ctx.nodes) == ["1", "2"] and ctx.nodes["1"].links[0].source == "2"
    # read again as the workflow it stands for: every list is exact, the workflow the caller's
    assert not ctx.links_ordered and ctx.malformed_links == [] and ctx.is_acyclic() and ctx.workflow is wf
    assert ctx.class_specs().keys() == {"EmptyImage", "ImageInvert"} and ctx.facts.links.dangling == []


def test_misshapen_nodes_and_classes_are_noted_while_reading() -> None:
    wf = {"1": _empty(), "2": "text", "3": {"inputs": {}}, "4": {"class_type": "ImageInvert"},
          "5": {"class_type": "NoSuchNode", "inputs": {}}, "6": _image(1)}
    ctx = CheckContext.build(wf, builtin_catalog())
    assert [v.id for v in ctx.iter_misshapen()] == ["2", "3", "4"]
    assert set(ctx.class_specs()) == {"EmptyImage", "ImageInvert", "NoSuchNode"}
    assert ctx.class_specs()["NoSuchNode"] is None
    codes = [d.code for d in check_workflow(wf, catalog=builtin_catalog())]
    assert {"CD005", "CD101", "CD102", "CD006"} <= set(codes)


def _mixed_workflow(seed: int, n: int = 40) -> dict:
    """Random links between classes of several output types: to earlier and later nodes, to
    the node itself and to missing ids, with output indexes in and out of range."""
    import random

    rng = random.Random(seed)
    takes = {"ImageInvert": ["image"], "VAEDecode": ["samples", "vae"], "PreviewImage": ["images"],
             "NoSuchNode": ["x"], "CheckpointLoaderSimple": [], "EmptyImage": []}
    wf: dict = {}
    for i in range(1, n + 1):
        cls = rng.choice(sorted(takes))
        inputs: dict = {"ckpt_name": "a.safetensors"} if cls == "CheckpointLoaderSimple" else {}
        for name in takes[cls]:
            inputs[name] = [str(rng.randint(1, n + 3)), rng.randint(-4, 3)]
        wf[str(i)] = {"class_type": cls, "inputs": inputs}
    return wf


def test_link_facts_match_a_walk_over_the_finished_nodes() -> None:
    """The one pass of `facts.sort_inputs` finds what a plain walk over the finished nodes
    finds, link by link (dangling links in file order)."""
    from comfydsl.catalog.nodes import MATCH_TYPE, types_compatible

    catalog = builtin_catalog()
    kinds = set()
    for seed in range(60):
        wf = _mixed_workflow(seed)
        ctx = CheckContext.build(wf, catalog)
        dangling, negative, out_of_range, mismatched = [], [], [], []
        for view in ctx.nodes.values():
            for link in view.links:
                source = ctx.nodes.get(link.source)
                spec = source.spec if source is not None else None
                if source is None:
                    dangling.append((view.id, link.input))
                if link.index < 0:
                    negative.append((view.id, link.input, spec))
                if spec is None:
                    continue
                if not -len(spec.outputs) <= link.index < len(spec.outputs):
                    out_of_range.append((view.id, link.input))
                    continue
                wanted = view.spec.inputs.get(link.input) if view.spec is not None else None
                got = spec.outputs[link.index].type
                if wanted is not None and MATCH_TYPE not in (got, wanted.type) \
                        and not types_compatible(got, wanted.type):
                    mismatched.append((view.id, link.input, got))
        found = ctx.facts.links
        assert [(v.id, link.input) for v, link in found.dangling] == dangling, seed
        assert sorted((v.id, link.input, id(s)) for v, link, s in found.negative) == sorted(
            (a, b, id(s)) for a, b, s in negative), seed
        assert sorted((v.id, link.input) for v, link, _ in found.out_of_range) == sorted(out_of_range), seed
        assert sorted((v.id, link.input, out.type) for v, link, _, _, out in found.mismatched) == sorted(
            mismatched), seed
        kinds.update(name for name, items in (("dangling", dangling), ("negative", negative),
                                              ("range", out_of_range), ("type", mismatched)) if items)
        kinds.add("ordered" if ctx.links_ordered else "unordered")
    assert kinds == {"dangling", "negative", "range", "type", "unordered"}  # every kind was tried


def _summary(ctx: CheckContext) -> tuple:
    """Everything `build` fills in, with views named by id."""
    views = [(v.id, v.class_type, v.spec, v.inputs, v.is_object, v.live,
              [(link.input, link.source, link.index, link.parent.id if link.parent else None) for link in v.links])
             for v in ctx.nodes.values()]
    return (views, ctx.output_nodes, ctx.unknown_nodes, [(v.id, name, value) for v, name, value in ctx.malformed_links],
            [v.id for v in ctx.misshapen], list(ctx.class_plans), sorted(ctx.traits), ctx.links_ordered, ctx.acyclic,
            ctx.live_count)


def test_a_workflow_given_in_parts_builds_the_context_built_whole() -> None:
    import random

    from comfydsl.checks import ContextBuilder

    catalog = builtin_catalog()
    for seed in range(40):
        wf = _random_workflow(seed, n=30)
        wf["31"] = "no object"
        wf["32"] = {"class_type": 5, "inputs": {"image": ["1", 0]}}
        items = list(wf.items())
        rng = random.Random(seed)
        cuts = sorted(rng.sample(range(1, len(items)), rng.randint(1, 8)))
        builder = ContextBuilder(catalog)
        for start, end in zip([0, *cuts], [*cuts, len(items)]):
            builder.add(dict(items[start:end]))
        ctx = builder.finish(wf, input_files={"a.png"}, duplicates={"3": 2})
        whole = CheckContext.build(wf, catalog)
        assert _summary(ctx) == _summary(whole), seed
        assert ctx.workflow is wf and ctx.input_files == {"a.png"} and ctx.duplicates == {"3": 2}
        assert all(link.parent is ctx.nodes.get(link.source) for view in ctx.nodes.values() for link in view.links)
