"""The driver that runs workflow rules over a CheckContext."""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence

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
    return run_checks_over([ctx], rules)[0]


def run_checks_over(contexts: Sequence[CheckContext], rules: Iterable[WorkflowCheck]) -> list[list[Diagnostic]]:
    """`run_checks` of each context, the same findings in the same order, with the rules
    taken one at a time over all the contexts: a rule's code and the catalogue data it
    reads stay in the processor's caches from one workflow to the next."""
    found: list[list[Diagnostic]] = [[] for _ in contexts]
    for rule in rules:
        lenient = rule.lenient_when_unused
        for ctx, out in zip(contexts, found):
            for diag in rule.check(ctx):
                if lenient and diag.severity is Severity.ERROR and diag.node_id is not None and ctx.output_nodes:
                    view = ctx.nodes.get(diag.node_id)
                    if view is not None and not view.live:
                        diag.severity = Severity.WARNING
                        diag.notes = (*diag.notes, "this node feeds no output node, so ComfyUI skips it")
                out.append(diag)
    return found
