"""Fixtures for the RunPod backend tests: a small valid workflow and a fast poll policy."""

from __future__ import annotations

import pytest

@pytest.fixture
def workflow() -> dict:
    """A workflow that passes the checks with the built-in catalogue and no model inventory."""
    return {
        "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
    }


@pytest.fixture
def broken_workflow() -> dict:
    """A workflow with a dangling link: the checks report an error."""
    return {"2": {"class_type": "SaveImage", "inputs": {"images": ["9", 0], "filename_prefix": "t"}}}
