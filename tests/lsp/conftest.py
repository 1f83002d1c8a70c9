"""Fixtures of the language server tests: a copy of the shipped recipes (with the
catalogue their settings name) and a `comfydsl lsp` process talking to it over stdio."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lspclient import LspClient  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A writable copy of recipes/ (and catalogs/, which its comfydsl.toml points into)."""
    shutil.copytree(REPO / "recipes", tmp_path / "recipes")
    shutil.copytree(REPO / "catalogs", tmp_path / "catalogs")
    return tmp_path / "recipes"


@pytest.fixture
def client(project: Path):
    lsp = LspClient(cwd=str(project.parent))
    yield lsp
    lsp.close()
