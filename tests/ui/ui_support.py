"""Shared helpers of the UI-format tests."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "ui"


@lru_cache(maxsize=1)
def dynamic_catalog():
    from comfydsl.catalog import NodeCatalog, builtin_catalog

    return builtin_catalog().merged(NodeCatalog.from_file(str(DATA / "catalog_dynamic.json")))


@lru_cache(maxsize=1)
def modern_catalog():
    from comfydsl.catalog import NodeCatalog, builtin_catalog

    raw = json.loads(gzip.decompress((DATA / "object_info.autoflow-0.9.json.gz").read_bytes()))
    return builtin_catalog().merged(NodeCatalog(raw, source="autoflow-0.9"))


def load(name: str):
    return json.loads((DATA / name).read_text())
