"""The checks: one rule class per problem, run over a networkx graph of the workflow."""

from __future__ import annotations

from .context import CheckContext as CheckContext
from .registry import RULES as RULES
from .registry import CheckRule as CheckRule
from .registry import all_rules as all_rules
from .registry import run_checks as run_checks

# Importing the rule modules registers their rules, in this order.
from . import references, inputs, links, values, models, structure  # noqa: E402,F401,I001
