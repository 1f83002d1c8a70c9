"""Catalogue files are kept by content: the same bytes are decoded once, changed bytes again."""

from __future__ import annotations

import json
import os

import pytest

from comfydsl.catalog import cache
from comfydsl.errors import CatalogError
from comfydsl.target import load_target
from support import OBJECT_INFO, PULID_OBJECT_INFO


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


# -- what a new process gets from the disk cache -----------------------------------------------

def _folder(tmp_path):
    return tmp_path / "cache" / "comfydsl" / "catalogs"


def _write_catalogue(path, raw) -> str:
    path.write_text(json.dumps(raw), encoding="utf-8")
    return str(path)


def test_a_cached_catalogue_reads_like_a_fresh_one(tmp_path) -> None:
    raw = json.loads(OBJECT_INFO.read_text(encoding="utf-8"))
    path = _write_catalogue(tmp_path / "oi.json", raw)
    fresh = load_target([path])
    cache.clear_memory()
    again = load_target([path])  # unpickled: every class still packed
    assert list(again.catalog) == list(fresh.catalog) and again.catalog.sources == fresh.catalog.sources
    assert again.catalog.display_names() == fresh.catalog.display_names()
    for name in ("KSampler", "CheckpointLoaderSimple", "LoadImage"):
        assert again.catalog.raw(name) == raw[name] == fresh.catalog.raw(name)
        assert again.catalog[name] == fresh.catalog[name]
    assert again.models is not None and fresh.models is not None
    assert again.models.folders == fresh.models.folders


def test_a_cache_hit_skips_the_schema_check_a_miss_makes(tmp_path, monkeypatch) -> None:
    from comfydsl.catalog import schema

    path = _write_catalogue(tmp_path / "oi.json", {"A": {"input": {}, "output": ["IMAGE"]}})
    checks = []
    real = schema.validate_object_info
    monkeypatch.setattr(schema, "validate_object_info", lambda raw, source=None: checks.append(source) or real(raw, source))
    load_target([path])
    assert checks == [path]  # once, not once per reader
    cache.clear_memory()
    assert "A" in load_target([path]).catalog
    assert checks == [path]


def test_a_malformed_file_is_never_cached(tmp_path) -> None:
    path = _write_catalogue(tmp_path / "oi.json", {"A": {"input": {"required": {"x": 5}}, "output": []}})
    for _ in range(2):
        with pytest.raises(CatalogError, match="oi.json"):
            load_target([path])
        cache.clear_memory()
    assert _entries(tmp_path) == []


def test_changed_content_gives_a_new_entry(tmp_path) -> None:
    path = _write_catalogue(tmp_path / "oi.json", {"A": {"input": {}, "output": ["IMAGE"]}})
    assert list(load_target([path], builtin=False).catalog) == ["A"]
    cache.clear_memory()
    _write_catalogue(tmp_path / "oi.json", {"A": {"input": {}, "output": ["IMAGE"]}, "B": {"output": ["MASK"]}})
    assert list(load_target([path], builtin=False).catalog) == ["A", "B"]
    assert len(_entries(tmp_path)) == 2


def test_another_comfydsl_version_never_reads_an_entry(tmp_path, monkeypatch) -> None:
    import comfydsl._version

    path = tmp_path / "oi.json"
    path.write_text('{"A": {"input": {}, "output": []}}', encoding="utf-8")
    calls = []

    def build(data: bytes) -> dict:
        calls.append(1)
        return json.loads(data)

    cache.cached_file(str(path), build)
    cache.clear_memory()
    monkeypatch.setattr(comfydsl._version, "__version__", "99.0.0")
    cache.cached_file(str(path), build)
    assert len(calls) == 2 and len(_entries(tmp_path)) == 2


@pytest.mark.parametrize("damage", ["cut", "foreign", "other-key", "old-catalog"])
def test_a_damaged_or_foreign_entry_is_ignored_and_rewritten(tmp_path, damage) -> None:
    import pickle

    from comfydsl.catalog import NodeCatalog

    path = _write_catalogue(tmp_path / "oi.json", {"A": {"input": {}, "output": ["IMAGE"]}})
    load_target([path], builtin=False)
    (name,) = _entries(tmp_path)
    entry = _folder(tmp_path) / name
    good = entry.read_bytes()
    if damage == "cut":
        entry.write_bytes(good[: len(good) // 2])
    elif damage == "foreign":
        entry.write_bytes(pickle.dumps({"A": "not a catalogue"}))
    elif damage == "other-key":
        entry.write_bytes(pickle.dumps((cache.MAGIC, "0" * 40, (NodeCatalog({"Z": {"output": []}}), None))))
    else:  # a catalogue pickled by a comfydsl that keeps it in another form
        from comfydsl.catalog import nodes

        key = name[len("catalog-"):-len(".pickle")]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(nodes, "_STATE_FORMAT", -1)
            entry.write_bytes(pickle.dumps((cache.MAGIC, key, (NodeCatalog({"Z": {"output": []}}), None))))
    cache.clear_memory()
    assert list(load_target([path], builtin=False).catalog) == ["A"]
    assert entry.read_bytes() == good  # written again, whole


def test_an_unwritable_cache_folder_means_no_cache(tmp_path, monkeypatch) -> None:
    (tmp_path / "blocked").write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    path = _write_catalogue(tmp_path / "oi.json", {"A": {"input": {}, "output": ["IMAGE"]}})
    for _ in range(2):
        assert "A" in load_target([path]).catalog
        cache.clear_memory()
    assert (tmp_path / "blocked").is_file()


def test_a_gzipped_catalogue_goes_through_the_cache(tmp_path) -> None:
    import gzip

    path = tmp_path / "oi.json.gz"
    path.write_bytes(gzip.compress(b'{"A": {"input": {}, "output": ["IMAGE"]}}'))
    assert list(load_target([str(path)], builtin=False).catalog) == ["A"]
    cache.clear_memory()
    assert list(load_target([str(path)], builtin=False).catalog) == ["A"]
    assert len(_entries(tmp_path)) == 1
    path.write_bytes(gzip.compress(b'{"A": {}}')[:-12] + b"\0" * 12)  # the deflate stream cut short
    with pytest.raises(CatalogError, match="gzipped"):
        load_target([str(path)])


def test_pickled_catalogue_unpacks_classes_on_use() -> None:
    import decimal
    import pickle

    from comfydsl.catalog import NodeCatalog, builtin_catalog

    base = builtin_catalog()
    extra = NodeCatalog({"KSampler": {**base.raw("KSampler"), "display_name": "Sampler Two"},
                         "Odd": {"output": ["INT"], "extra": decimal.Decimal("1.5")}}, source="extra")
    merged = base.merged(extra)
    copy = pickle.loads(pickle.dumps(merged))
    assert isinstance(copy._raw["KSampler"][0], bytes)  # packed until used
    assert copy._raw["Odd"][0]["extra"] == decimal.Decimal("1.5")  # not JSON data: kept as it was
    assert copy.display_names() == merged.display_names()
    assert copy.display_names()["Sampler Two"] == "KSampler"
    assert copy["KSampler"] == merged["KSampler"] and copy["KSampler"].source == "extra"
    assert not isinstance(copy._raw["KSampler"][0], bytes)
    again = pickle.loads(pickle.dumps(copy))  # half unpacked, pickled again
    assert list(again) == list(merged) and again.display_names() == merged.display_names()
    assert again.merged(NodeCatalog({"KSampler": {"output": []}})).display_names().get("Sampler Two") is None
