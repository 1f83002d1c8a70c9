"""The comfydsl graph API, typed for the built-in catalogue: `from comfydsl.graph.typed import Graph`.

At run time this is the ordinary `Graph`; `typed.pyi` beside it (written by
`comfydsl stubs`, see comfydsl/graph/stubs.py) gives editors and type checkers a method per
node class, with typed inputs and named outputs.
"""

from .model import Graph, Node, OutputRef

Output = OutputRef

__all__ = ["Graph", "Node", "Output", "OutputRef"]
