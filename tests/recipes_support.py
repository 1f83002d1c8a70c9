"""Helpers for the recipe, formatter and decompiler tests (importable as `recipes_support`)."""

from __future__ import annotations

import json
import random
from functools import lru_cache

from hypothesis import strategies as st

from support import ROOT

RECIPES = ROOT / "recipes"
#: The catalogue packs shipped in the package (`--catalog NAME`, `packs = [...]`).
PACKS = ROOT / "comfydsl" / "catalog" / "packs"
GOLDEN = ROOT / "tests" / "recipes" / "golden"
#: Set this environment variable to 1 to rewrite the golden files from the current compiler.
UPDATE_ENV = "COMFYDSL_UPDATE_GOLDENS"


@lru_cache(maxsize=1)
def recipe_target():
    """What the recipes are compiled against: the built-in catalogue, the PuLID fragment and
    the model manifest, as `recipes/comfydsl.toml` says."""
    from comfydsl.config import load_settings
    from comfydsl.target import load_target

    settings = load_settings(RECIPES / "comfydsl.toml")
    return load_target(settings.catalog, settings.models)


def is_name(text: str) -> bool:
    from comfydsl.dsl.decompile import is_identifier

    return is_identifier(text)


@st.composite
def decompilable_workflows(draw, max_nodes: int = 8) -> dict:
    """Random valid workflows of the real catalogue, with shuffled ids (numbers and words),
    random titles on some nodes and random text values, in a shuffled node order."""
    from strategies import valid_workflows

    from comfydsl.catalog import builtin_catalog

    catalog = builtin_catalog()
    workflow = draw(valid_workflows(max_nodes=max_nodes))
    ids = list(workflow)
    pool = [str(i) for i in range(1, 3 * len(ids) + 3)] + ["a", "node_x", "10b", "99"]
    new_ids = draw(st.lists(st.sampled_from(pool), min_size=len(ids), max_size=len(ids), unique=True))
    mapping = dict(zip(ids, new_ids))
    titles = st.one_of(st.none(), st.sampled_from(["KSampler", "Load Checkpoint", "ckpt", "x", "import", "2nd"]),
                       st.text(min_size=1, max_size=12))
    out = {}
    for old, node in workflow.items():
        inputs = {k: ([mapping[v[0]], v[1]] if isinstance(v, list) else v) for k, v in node["inputs"].items()}
        entry = {"class_type": node["class_type"], "inputs": inputs}
        title = draw(titles)
        if title is not None:
            entry["_meta"] = {"title": title}
        out[mapping[old]] = entry
    order = list(out)
    random.Random(draw(st.integers(0, 1000))).shuffle(order)
    assert all(cls in catalog for cls in (n["class_type"] for n in out.values()))
    return {k: out[k] for k in order}


def load_json(path) -> dict:
    return json.loads(path.read_text())
