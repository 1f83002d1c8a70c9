"""The check context (the workflow as a networkx graph) and the driver that runs rules over it.

The rules themselves are in `comfydsl.rules`; `comfydsl.validate.check_workflow` puts the two together.
"""

from __future__ import annotations

from .context import CheckContext as CheckContext
from .driver import run_checks as run_checks

__all__ = ["CheckContext", "run_checks"]
