"""The near-miss index gives exactly difflib's suggestions, and remembers them."""

from __future__ import annotations

import difflib
import random
import string
import time

import pytest

from comfydsl.catalog import builtin_catalog
from comfydsl.catalog.names import MEMO_LIMIT, SEARCH_LIMIT, NearMiss, near_miss_index
from comfydsl.catalog.nodes import NodeCatalog
from comfydsl.validate import check_workflow


def _mutations(name: str, rng: random.Random) -> list[str]:
    out = [name, name.lower(), name[:-1], name + "s", name[1:], name[::-1], ""]
    for _ in range(4):
        chars = list(name)
        if chars:
            chars[rng.randrange(len(chars))] = rng.choice(string.ascii_letters)
        out.append("".join(chars))
    return out


@pytest.mark.parametrize(("n", "cutoff"), [(2, 0.75), (1, 0.6), (3, 0.5), (5, 0.0), (1, 1.0)])
def test_same_answers_as_difflib(n: int, cutoff: float) -> None:
    rng = random.Random(7)
    names = list(builtin_catalog())[::4] + ["", "a", "ab", "KSampler", "KSampler"]
    index = NearMiss(names, n=n, cutoff=cutoff)
    words = [w for name in rng.sample(names, 8) for w in _mutations(name, rng)] + ["", "zzzz", "KSamplr"]
    for word in words:
        expected = difflib.get_close_matches(word, names, n=n, cutoff=cutoff)
        assert index.suggest(word) == expected, word
        assert index.suggest(word) == expected, word  # remembered: same answer


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        NearMiss(["a"], n=0)
    with pytest.raises(ValueError):
        NearMiss(["a"], cutoff=1.5)


def test_memo_is_bounded() -> None:
    index = NearMiss(["width", "height"], n=1)
    for i in range(MEMO_LIMIT + 10):  # cheap searches: two short names
        index.suggest(f"w{i}")
    assert len(index._memo) <= MEMO_LIMIT
    assert index.suggest("widht") == ["width"]


def test_catalog_index_is_built_once_and_follows_additions() -> None:
    catalog = NodeCatalog({k: builtin_catalog().raw(k) for k in ("KSampler", "SaveImage")})
    first = near_miss_index(catalog)
    assert near_miss_index(catalog) is first
    assert first.classes.suggest("KSamplr") == ["KSampler"]
    catalog.add({"KSamplerPlus": builtin_catalog().raw("KSampler")}, source="more")
    second = near_miss_index(catalog)
    assert second is not first
    assert second.classes.suggest("KSamplerPlsu")[0] == "KSamplerPlus"


def test_input_index_lists_visible_inputs_only() -> None:
    catalog = builtin_catalog()
    names = near_miss_index(catalog)
    spec = catalog["KSampler"]
    assert names.inputs(spec).suggest("sead") == ["seed"]
    assert "`seed`" in names.input_listing(spec)
    assert all(not spec.inputs[n].hidden for n in names.inputs(spec).names)


def _unknown_classes(count: int) -> dict:
    return {str(i): {"class_type": f"KSamplr{i % 50}", "inputs": {}} for i in range(1, count + 1)}


def test_many_unknown_classes_cost_one_search_per_distinct_name() -> None:
    catalog = builtin_catalog()
    check_workflow(_unknown_classes(50), catalog=catalog)  # the index, and the 50 names
    start = time.perf_counter()
    found = check_workflow(_unknown_classes(5000), catalog=catalog)
    elapsed = time.perf_counter() - start
    assert sum(d.code == "CD101" for d in found) == 5000
    assert elapsed < 5.0  # was ~0.5 ms of difflib per node before the index (and far more on a busy machine)


def test_many_unknown_inputs_stay_linear() -> None:
    inputs = {f"sead{i}": 1 for i in range(20_000)}
    inputs.update({"width": 8, "height": 8, "batch_size": 1, "color": 0})
    wf = {"1": {"class_type": "EmptyImage", "inputs": inputs},
          "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}
    found = check_workflow(wf, catalog=builtin_catalog())
    unknown = [d for d in found if d.code == "CD202"]
    assert len(unknown) == 20_000
    reference = difflib.get_close_matches("sead7", ["width", "height", "batch_size", "color"], n=1)
    expected = (f"an input with a similar name exists: `{reference[0]}`" if reference else
                "`EmptyImage` takes: `width`, `height`, `batch_size`, `color`")
    assert next(d for d in unknown if d.input == "sead7").help == expected


def test_searches_per_workflow_are_bounded() -> None:
    count = SEARCH_LIMIT + 50
    wf = {str(i): {"class_type": f"KSamplr{i}", "inputs": {}} for i in range(1, count + 1)}
    found = {d.node_id: d.help for d in check_workflow(wf, catalog=builtin_catalog()) if d.code == "CD101"}
    assert "`KSampler`" in found["1"]
    assert "`KSampler`" not in found[str(count)] and "--catalog" in found[str(count)]
    index = NearMiss(["width"], n=1)
    budget = [1]
    assert index.suggest_within("widht", budget) == ["width"] and budget == [0]
    assert index.suggest_within("widht", budget) == ["width"]  # remembered: no search spent
    assert index.suggest_within("wdth", budget) == []
