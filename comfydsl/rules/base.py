"""The base of workflow checks, and the helpers they share.

Every rule is a class carrying its code, name, severity and documentation (see
`comfydsl.diagnostics.Rule`); `rules.codes` lists them all. Recipe rules have their base,
`RecipeRule`, in `rules.recipe`.
"""

from __future__ import annotations

from typing import Any, Iterator

from ..checks.context import CheckContext, NodeView
from ..diagnostics import Diagnostic, Location, Rule, json_path


class CheckRule(Rule):
    """A rule that inspects a CheckContext (the workflow as a graph). Subclasses implement `check`."""

    def check(self, ctx: CheckContext) -> Iterator[Diagnostic]:
        raise NotImplementedError

    def at(self, node: NodeView, message: str, *, input: str | None = None, **kwargs: Any) -> Diagnostic:
        """Report at a NodeView (and one of its inputs)."""
        return self.report(message, node_id=node.id, class_type=node.class_type, input=input, **kwargs)


def node_location(ctx: CheckContext, node_id: str, label: str | None = None, input: str | None = None) -> Location:
    """The location of a node (and one of its inputs) of the checked workflow."""
    view = ctx.nodes.get(node_id)
    path = ("inputs", input) if input else ()
    return Location(node_id=node_id, class_type=view.class_type if view else None, input=input,
                    json_path=json_path(node_id, *path), label=label)
