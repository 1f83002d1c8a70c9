"""Shared fixtures: the real catalogue and conformance cases from tests/data."""

from __future__ import annotations

import json

import pytest
from support import OBJECT_INFO, PLACEHOLDERS


@pytest.fixture(scope="session")
def builtin():
    from comfydsl.catalog import builtin_catalog

    return builtin_catalog()


@pytest.fixture(scope="session")
def object_info() -> dict:
    return json.loads(OBJECT_INFO.read_text())


@pytest.fixture(scope="session")
def placeholder_models():
    """The model files the conformance verdicts were taken with."""
    from comfydsl.catalog import ModelCatalog
    from comfydsl.catalog.importer import read_placeholders

    models = ModelCatalog(source="placeholders")
    for name, folder in read_placeholders(PLACEHOLDERS.read_text()).items():
        models.add(folder, [name])
    models.add("input", [])  # the validator's input folder was empty (its LoadImage lists nothing)
    return models
