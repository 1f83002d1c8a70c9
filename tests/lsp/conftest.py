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
    """A writable copy of recipes/ (its comfydsl.toml names the shipped `pulid_flux` pack)."""
    shutil.copytree(REPO / "recipes", tmp_path / "recipes")
    return tmp_path / "recipes"


@pytest.fixture
def client(project: Path):
    lsp = LspClient(cwd=str(project.parent))
    yield lsp
    lsp.close()
