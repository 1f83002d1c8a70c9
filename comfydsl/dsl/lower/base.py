"""The state every part of the lowerer shares: the graph being built, the parameter values,
the attachments, the pinned ids, the diagnostics and the name bindings of each frame.

`Lowerer` (lowerer.py) is put together from parts that each live in their own module:
`Scopes` (scope.py: names, fragment calls), `Expressions` (evaluate.py), `Nodes`
(nodes.py: node calls, decorators, ids) and `Files` (attachments.py: `file()`). The methods
one part calls on another are declared here, so each module reads (and type-checks) alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...diagnostics import Diagnostic, Span
from ...graph.model import Graph
from .. import ast
from ...rules import recipe as R
from .values import BAD, FragmentDef, _Bad

if TYPE_CHECKING:
    from .attachments import Attachments

#: A usage key: where a name is defined, to tell whether it is ever used.
UsageKey = tuple[str, "str | None", "int | None", int, int]


@dataclass
class Binding:
    """A name bound in a frame: its value, where it is defined, and what defines it."""

    value: Any
    span: Span
    kind: str  # "param", "var", "fparam"
    key: UsageKey | None = None  # usage key, for unused warnings


@dataclass
class Frame:
    """The names visible while lowering the module or one fragment call.

    `later` holds names defined further down (to say "used before it is defined");
    `prefix` names the fragment calls around (for default titles); `stack` the fragments
    being expanded (to catch recursion); `call_span` the outermost fragment call."""

    values: dict[str, Binding]
    fragments: dict[str, FragmentDef]
    later: dict[str, Span]
    prefix: str | None = None
    module_path: str | None = None
    stack: tuple[FragmentDef, ...] = ()
    call_span: Span | None = None


class LowererBase:
    """Shared state and the cross-part method declarations."""

    def __init__(self, graph: Graph | None, params: dict[str, Any], attachments: Attachments, pinned: set[str],
                 diagnostics: list[Diagnostic]) -> None:
        self._graph = graph
        self.params = params
        self.attachments = attachments
        self.pinned = pinned
        self.diagnostics = diagnostics
        self.tainted: set[tuple[str, str | None]] = set()
        self.call_sites: dict[str, Span] = {}
        self.next_id = 1
        #: node id -> its `@order(n)`: the place the written workflow gives it
        self.order: dict[str, int] = {}
        #: node id -> the codes its `@allow(...)` keeps as warnings
        self.allowed: dict[str, set[str]] = {}
        #: usage key -> [rule, name, span, used]
        self.usage: dict[UsageKey, list[Any]] = {}
        self.exempt: set[UsageKey] = set()
        #: definitions used (too early) before them: not reported as unused
        self.early: set[UsageKey] = set()

    @property
    def graph(self) -> Graph:
        """The graph being built (evaluating constants has none, and makes no nodes)."""
        if self._graph is None:
            raise RuntimeError("this lowerer evaluates constants only; it has no graph")
        return self._graph

    def error(self, rule: R.RecipeRule, span: Span | None, message: str, **kwargs: Any) -> _Bad:
        """Report a diagnostic; returns BAD, the value of what failed."""
        self.diagnostics.append(rule.at(span, message, **kwargs))
        return BAD

    # -- provided by the parts (see the module docstring) --------------------------------------
    def statement(self, stmt: ast.Assign | ast.CallStmt, frame: Frame) -> None:
        raise NotImplementedError  # lowerer.py

    def eval(self, expr: ast.Expr, frame: Frame, **node_options: Any) -> Any:
        raise NotImplementedError  # evaluate.py

    def typed(self, value: Any, type_name: str, span: Span, rule: R.RecipeRule, what: str) -> Any:
        raise NotImplementedError  # evaluate.py

    def lookup(self, expr: ast.Name, frame: Frame) -> Any:
        raise NotImplementedError  # scope.py

    def bind(self, frame: Frame, ident: ast.Ident, value: Any, kind: str) -> None:
        raise NotImplementedError  # scope.py

    def expand(self, fdef: FragmentDef, call: ast.Call, frame: Frame, prefix: str | None) -> Any:
        raise NotImplementedError  # scope.py

    def call(self, call: ast.Call, frame: Frame, *, head: ast.Call | None = None, decor: dict[str, Any] | None = None,
             title: str | None = None, prefix: str | None = None) -> Any:
        raise NotImplementedError  # nodes.py

    def input_value(self, value: Any, span: Span) -> Any:
        raise NotImplementedError  # nodes.py

    def file(self, call: ast.Call, frame: Frame) -> Any:
        raise NotImplementedError  # attachments.py
