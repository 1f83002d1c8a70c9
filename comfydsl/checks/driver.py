"""The driver that runs workflow rules over a CheckContext."""

from __future__ import annotations

from typing import Iterable, Protocol

from ..diagnostics import Diagnostic, Severity
from .context import CheckContext


class WorkflowCheck(Protocol):
    """What the driver needs of a rule (`rules.base.CheckRule` is one); the rules build on
    the context, so the driver names no rule module."""

    @property
    def lenient_when_unused(self) -> bool: ...

    def check(self, ctx: CheckContext) -> Iterable[Diagnostic]: ...


def run_checks(ctx: CheckContext, rules: Iterable[WorkflowCheck]) -> list[Diagnostic]:
    """Run rules (e.g. `rules.codes.workflow_rules()`) over the context.

    Errors on nodes that feed no output node are lowered to warnings for rules that allow
    it (`lenient_when_unused`): ComfyUI never validates those nodes.
    """
    found: list[Diagnostic] = []
    for rule in rules:
        for diag in rule.check(ctx):
            if (diag.severity is Severity.ERROR and rule.lenient_when_unused
                    and diag.node_id is not None and diag.node_id in ctx.nodes
                    and diag.node_id not in ctx.live and ctx.output_nodes):
                diag.severity = Severity.WARNING
                diag.notes = (*diag.notes, "this node feeds no output node, so ComfyUI skips it")
            found.append(diag)
    return found
