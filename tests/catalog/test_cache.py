"""Catalogue files are kept by content: the same bytes are decoded once, changed bytes again."""

from __future__ import annotations

import json
import os

import pytest

from comfydsl.catalog import cache
from comfydsl.errors import CatalogError
from comfydsl.target import load_target
from support import PULID_OBJECT_INFO


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("COMFYDSL_NO_CACHE", raising=False)
    cache.clear_memory()
    yield
    cache.clear_memory()


def _entries(tmp_path) -> list[str]:
    folder = tmp_path / "cache" / "comfydsl" / "catalogs"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_same_content_is_built_once(tmp_path) -> None:
    path = tmp_path / "oi.json"
    path.write_text(PULID_OBJECT_INFO.read_text(encoding="utf-8"), encoding="utf-8")
    calls = []

    def build(data: bytes) -> dict:
        calls.append(1)
        return json.loads(data)

    first = cache.cached_file(str(path), build)
    assert cache.cached_file(str(path), build) is first  # memory
    cache.clear_memory()
    assert cache.cached_file(str(path), build) == first  # disk
    assert len(calls) == 1 and len(_entries(tmp_path)) == 1
    path.write_text(json.dumps({**first, "Extra": first[next(iter(first))]}), encoding="utf-8")
    assert "Extra" in cache.cached_file(str(path), build)
    assert len(calls) == 2


def test_load_target_gives_the_same_catalogue_from_the_cache(tmp_path) -> None:
    path = str(tmp_path / "oi.json")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(PULID_OBJECT_INFO.read_text(encoding="utf-8"))
    fresh = load_target([path])
    cache.clear_memory()
    again = load_target([path])
    assert _entries(tmp_path)
    assert list(again.catalog) == list(fresh.catalog)
    assert again.catalog.raw("ApplyPulidFlux") == fresh.catalog.raw("ApplyPulidFlux")
    assert (again.models is None) == (fresh.models is None)


def test_a_damaged_entry_is_rebuilt(tmp_path) -> None:
    path = tmp_path / "oi.json"
    path.write_text('{"A": {"input": {}, "output": []}}', encoding="utf-8")
    cache.cached_file(str(path), json.loads)
    (entry,) = _entries(tmp_path)
    (tmp_path / "cache" / "comfydsl" / "catalogs" / entry).write_bytes(b"not a pickle")
    cache.clear_memory()
    assert cache.cached_file(str(path), json.loads) == {"A": {"input": {}, "output": []}}


def test_no_cache_and_errors(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COMFYDSL_NO_CACHE", "1")
    path = tmp_path / "oi.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid JSON"):
        load_target([str(path)])
    with pytest.raises(CatalogError, match="cannot read"):
        load_target([str(tmp_path / "missing.json")])
    path.write_text('{"A": {"input": {}, "output": []}}', encoding="utf-8")
    assert "A" in load_target([str(path)]).catalog
    assert _entries(tmp_path) == []
    assert os.environ["COMFYDSL_NO_CACHE"] == "1"
