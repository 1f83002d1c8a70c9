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


@pytest.fixture(scope="module")
def shared_project(tmp_path_factory) -> Path:
    """A copy of recipes/ for the tests of one module that leave the files on disk alone."""
    root = tmp_path_factory.mktemp("lsp")
    shutil.copytree(REPO / "recipes", root / "recipes")
    return root / "recipes"


@pytest.fixture(scope="module")
def shared_server(shared_project: Path):
    lsp = LspClient(cwd=str(shared_project.parent))
    yield lsp
    lsp.close()


@pytest.fixture
def shared_client(shared_server):
    """One server for the tests of a module that only open and edit documents (starting a
    server per test was most of these tests' time); each test starts with no open document."""
    shared_server.forget()
    yield shared_server
    shared_server.forget()


@pytest.fixture
def client(project: Path):
    lsp = LspClient(cwd=str(project.parent))
    yield lsp
    lsp.close()
