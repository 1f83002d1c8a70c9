"""The rule registry and the driver that runs every rule over a workflow."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from ..diagnostics import Diagnostic, Location, Rule, Severity, json_path
from .context import CheckContext

RULES: list[CheckRule] = []


class CheckRule(Rule):
    """A rule that inspects a CheckContext. Subclasses implement `check`."""

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        raise NotImplementedError

    def at(self, node, message: str, *, input: str | None = None, **kwargs: Any) -> Diagnostic:
        """Report at a NodeView (and one of its inputs)."""
        return self.report(message, node_id=node.id, class_type=node.class_type, input=input, **kwargs)


def register(cls: type[CheckRule]) -> type[CheckRule]:
    """Class decorator: add one instance of the rule to the registry."""
    RULES.append(cls())
    return cls


def all_rules() -> list[Rule]:
    """Every rule, sorted by code: reading rules, workflow checks, recipe rules, and the
    rule that carries a worker's own rejection of a workflow."""
    from ..workflow import document
    from ..backends.worker_errors import REJECTED
    from ..dsl import rules as dsl_rules

    rules: dict[str, Rule] = {r.code: r for r in (*document.READ_RULES, *RULES, *dsl_rules.RULES, REJECTED)}
    return [rules[code] for code in sorted(rules)]


def run_checks(ctx: CheckContext, rules: Iterable[CheckRule] | None = None) -> list[Diagnostic]:
    """Run rules over the context; lower findings on nodes that feed no output to warnings."""
    found: list[Diagnostic] = []
    for rule in rules if rules is not None else RULES:
        for diag in rule.check(ctx):
            if (diag.severity is Severity.ERROR and rule.lenient_when_unused
                    and diag.node_id is not None and diag.node_id in ctx.nodes
                    and diag.node_id not in ctx.live and ctx.output_nodes):
                diag.severity = Severity.WARNING
                diag.notes = (*diag.notes, "this node feeds no output node, so ComfyUI skips it")
            found.append(diag)
    return found


def show(value: Any, limit: int = 60) -> str:
    """A value as JSON text, shortened for messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def node_location(ctx: CheckContext, node_id: str, label: str | None = None, input: str | None = None) -> Location:
    view = ctx.nodes.get(node_id)
    path = ("inputs", input) if input else ()
    return Location(node_id=node_id, class_type=view.class_type if view else None, input=input,
                    json_path=json_path(node_id, *path), label=label)
