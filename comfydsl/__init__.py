"""comfydsl: checked ComfyUI workflows.

Recipes (`.comfy` files) and Python programs build workflows; one validation compiler
checks them against a node catalogue and a model catalogue; `comfydsl lint` checks
existing workflow JSON in CI; a RunPod Serverless backend runs them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .catalog import ModelCatalog as ModelCatalog
from .catalog import NodeCatalog as NodeCatalog
from .catalog import builtin_catalog as builtin_catalog
from .diagnostics import Diagnostic as Diagnostic
from .diagnostics import Location as Location
from .diagnostics import Severity as Severity
from .diagnostics import Span as Span
from .dsl import load_recipe as load_recipe
from .errors import CompileError as CompileError
from .errors import ComfyDSLError as ComfyDSLError
from .graph import Graph as Graph
from .graph import Node as Node
from .graph import OutputRef as OutputRef
from .validate import check_workflow as check_workflow

__all__ = [
    "ComfyDSLError",
    "CompileError",
    "Diagnostic",
    "Graph",
    "Location",
    "ModelCatalog",
    "Node",
    "NodeCatalog",
    "OutputRef",
    "Severity",
    "Span",
    "__version__",
    "builtin_catalog",
    "check_workflow",
    "load_recipe",
]
