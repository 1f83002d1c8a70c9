"""Shared fixtures: the real catalogue and conformance cases from tests/data."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest
from support import OBJECT_INFO, PLACEHOLDERS

# Container images often set PYTHONDONTWRITEBYTECODE, and then every worker and every CLI
# subprocess compiles the package and the test modules again (a fifth of the suite's CPU on the
# 2-core machine). The suite keeps its compiled files in a folder of its own instead, never
# beside the sources, so the wish behind the setting (a clean tree) still holds.
if sys.dont_write_bytecode:
    _PYCACHE = Path(tempfile.gettempdir()) / f"comfydsl-tests-pycache-{os.getuid() if hasattr(os, 'getuid') else 0}"
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    sys.dont_write_bytecode = False
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than there are cores. About a third of the suite's time is
    spent waiting on loopback servers (backoff, Retry-After, timeouts), which the extra worker
    fills with other tests."""
    return (os.cpu_count() or 1) + 1


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
