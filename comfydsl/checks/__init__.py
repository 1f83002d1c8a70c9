"""The check context (the workflow as a networkx graph) and the driver that runs rules over it.

The rules themselves are in `comfydsl.rules`; `comfydsl.validate.check_workflow` puts the two together.
"""

from __future__ import annotations

from .context import CheckContext as CheckContext
from .context import ContextBuilder as ContextBuilder
from .driver import run_checks as run_checks
from .driver import run_checks_over as run_checks_over

__all__ = ["CheckContext", "run_checks", "run_checks_over"]
