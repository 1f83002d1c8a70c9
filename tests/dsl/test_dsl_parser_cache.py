"""The analysed parser kept in the user's cache folder: written once, loaded after, rebuilt
when damaged, skipped when turned off or impossible."""

from __future__ import annotations

import os

import pytest

from comfydsl.dsl import parse
from comfydsl.dsl.parser import _parser

TEXT = 'param n: int = 2\n@id("7")\nx = F(a=(n + 1) * 2, b=[1, "s"], c={"k": -1.5})\nG(x=x.OUT)\n'


def build():
    """A fresh parser, as a new process would make it (`_parser` itself is built once)."""
    return _parser.__wrapped__()


def parsed(parser, text: str = TEXT):
    parser.options.transformer.begin("c.comfy", text)
    return parser.parse(text)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("COMFYDSL_NO_CACHE", raising=False)
    return tmp_path


def cache_files(home) -> list:
    folder = home / "comfydsl"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_first_build_writes_the_cache_and_the_next_loads_it(cache_home):
    expected = parse(TEXT, "c.comfy")
    assert parsed(build()) == expected
    (cache,) = cache_files(cache_home)
    assert cache.name.startswith("parser-") and cache.stat().st_size > 1000
    stamp = cache.stat().st_mtime_ns
    loaded = build()
    assert parsed(loaded) == expected
    assert loaded.grammar is not None  # hypothesis draws recipes from it
    assert cache.stat().st_mtime_ns == stamp  # read, not rewritten


def test_a_damaged_cache_is_rebuilt(cache_home):
    build()
    (cache,) = cache_files(cache_home)
    cache.write_bytes(cache.read_bytes()[:200])
    assert parsed(build()) == parse(TEXT, "c.comfy")
    assert parsed(build()) == parse(TEXT, "c.comfy")
    assert cache.stat().st_size > 1000


def test_cache_can_be_turned_off(cache_home, monkeypatch):
    monkeypatch.setenv("COMFYDSL_NO_CACHE", "1")
    assert parsed(build()) == parse(TEXT, "c.comfy")
    assert cache_files(cache_home) == []


def test_an_unusable_cache_folder_is_skipped(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.delenv("COMFYDSL_NO_CACHE", raising=False)
    assert parsed(build()) == parse(TEXT, "c.comfy")
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_is_skipped(cache_home):
    folder = cache_home / "comfydsl"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert parsed(build()) == parse(TEXT, "c.comfy")
        assert cache_files(cache_home) == []
    finally:
        folder.chmod(0o700)
