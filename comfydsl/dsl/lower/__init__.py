"""Recipe AST -> `comfydsl.graph.Graph`.

Lowering evaluates the recipe top to bottom: parameters take their values, node calls
become graph nodes (ids 1, 2, 3... in evaluation order, skipping ids pinned with `@id`),
fragment calls expand their bodies in place, and compile-time arithmetic is folded. Every
problem becomes a diagnostic of `rules.py`; lowering goes on after a problem, so one run
reports them all. Node spans are copied onto the graph (`node.span`, `node.input_spans`)
so that the workflow checks locate their findings in the recipe.

The parts, each a module of this package:

- `values`      what expressions evaluate to besides JSON values and nodes (BAD, fragments...)
- `base`        the state the parts share: graph, diagnostics, frames and bindings
- `scope`       fragment scopes, names (bind, look up, unused), fragment calls and their arguments
- `evaluate`    expressions: literals, names, outputs, arithmetic, lists, objects, declared types
- `nodes`       node calls, the `node()` built-in, decorators, node ids
- `attachments` files attached with `file()`, confined to the recipe's folder
- `lowerer`     the `Lowerer` made of those parts, its statement driver, `lower` and `constant`
"""

from __future__ import annotations

from .attachments import Attachments as Attachments
from .attachments import resolve_path as resolve_path
from .lowerer import Lowered as Lowered
from .lowerer import constant as constant
from .lowerer import lower as lower
from .scope import fragment_scope as fragment_scope
from .scope import pinned_ids as pinned_ids
from .values import BAD as BAD
from .values import NO_VALUE as NO_VALUE
from .values import FragmentDef as FragmentDef
from .values import Results as Results

__all__ = [
    "Attachments",
    "BAD",
    "FragmentDef",
    "Lowered",
    "NO_VALUE",
    "Results",
    "constant",
    "fragment_scope",
    "lower",
    "pinned_ids",
    "resolve_path",
]
