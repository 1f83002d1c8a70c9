"""comfydsl: checked ComfyUI workflows.

Recipes (`.comfy` files) and Python programs build workflows; one validation compiler
checks them against a node catalogue and a model catalogue; `comfydsl lint` checks
existing workflow JSON in CI; a RunPod Serverless backend runs them.

One entry point per stage:

- read: `read_document` (workflow JSON text -> `Document`)
- check: `check_workflow` (a workflow -> diagnostics)
- compile: `load_recipe` (a `.comfy` recipe -> `Graph`), `Graph` (the Python graph API)
- lint: `lint_text`, `lint_paths` (what `comfydsl lint` does -> `LintRun`)
- render: `render_lint` (a `LintRun` as text, json, github or sarif)
- run: `RunPodClient` / `AsyncRunPodClient` (one job), `prepare_jobs` + `run_batch` (what `comfydsl run` does)

Names are imported on first use (a module `__getattr__`), so `import comfydsl` stays cheap:
no networkx, httpx, pydantic or lark until a stage needs them.
"""

from __future__ import annotations

import importlib
import typing

from ._version import __version__ as __version__

if typing.TYPE_CHECKING:
    from .backends.batch import BatchOptions as BatchOptions
    from .backends.batch import Connection as Connection
    from .backends.batch import prepare_jobs as prepare_jobs
    from .backends.batch import run_batch as run_batch
    from .backends.runpod import AsyncRunPodClient as AsyncRunPodClient
    from .backends.runpod import RunPodClient as RunPodClient
    from .catalog import ModelCatalog as ModelCatalog
    from .catalog import NodeCatalog as NodeCatalog
    from .catalog import builtin_catalog as builtin_catalog
    from .diagnostics import Diagnostic as Diagnostic
    from .diagnostics import Location as Location
    from .diagnostics import Severity as Severity
    from .diagnostics import Span as Span
    from .dsl import load_recipe as load_recipe
    from .errors import AuthenticationError as AuthenticationError
    from .errors import BackendConnectionError as BackendConnectionError
    from .errors import BackendError as BackendError
    from .errors import BackendStatusError as BackendStatusError
    from .errors import CatalogError as CatalogError
    from .errors import ComfyDSLError as ComfyDSLError
    from .errors import CompileError as CompileError
    from .errors import ConfigError as ConfigError
    from .errors import JobCancelled as JobCancelled
    from .errors import JobError as JobError
    from .errors import JobFailed as JobFailed
    from .errors import JobTimedOut as JobTimedOut
    from .errors import ParseError as ParseError
    from .errors import RecipeError as RecipeError
    from .errors import RequestTooLarge as RequestTooLarge
    from .errors import WorkflowError as WorkflowError
    from .graph import Graph as Graph
    from .graph import Node as Node
    from .graph import OutputRef as OutputRef
    from .lint import lint_paths as lint_paths
    from .lint import lint_text as lint_text
    from .render import FileResult as FileResult
    from .render import LintRun as LintRun
    from .render import render as render_lint
    from .validate import check_workflow as check_workflow
    from .workflow.document import Document as Document
    from .workflow.document import read_document as read_document

#: Each public name -> (the module that defines it, its name there).
_EXPORTS: dict[str, tuple[str, str]] = {
    **{name: (".backends.batch", name) for name in ("BatchOptions", "Connection", "prepare_jobs", "run_batch")},
    **{name: (".backends.runpod", name) for name in ("AsyncRunPodClient", "RunPodClient")},
    **{name: (".catalog", name) for name in ("ModelCatalog", "NodeCatalog", "builtin_catalog")},
    **{name: (".diagnostics", name) for name in ("Diagnostic", "Location", "Severity", "Span")},
    "load_recipe": (".dsl", "load_recipe"),
    **{name: (".errors", name) for name in (
        "AuthenticationError", "BackendConnectionError", "BackendError", "BackendStatusError", "CatalogError",
        "ComfyDSLError", "CompileError", "ConfigError", "JobCancelled", "JobError", "JobFailed", "JobTimedOut",
        "ParseError", "RecipeError", "RequestTooLarge", "WorkflowError")},
    **{name: (".graph", name) for name in ("Graph", "Node", "OutputRef")},
    **{name: (".lint", name) for name in ("lint_paths", "lint_text")},
    **{name: (".render", name) for name in ("FileResult", "LintRun")},
    "render_lint": (".render", "render"),
    "check_workflow": (".validate", "check_workflow"),
    **{name: (".workflow.document", name) for name in ("Document", "read_document")},
}

__all__ = [
    "AsyncRunPodClient",
    "AuthenticationError",
    "BackendConnectionError",
    "BackendError",
    "BackendStatusError",
    "BatchOptions",
    "CatalogError",
    "ComfyDSLError",
    "CompileError",
    "ConfigError",
    "Connection",
    "Diagnostic",
    "Document",
    "FileResult",
    "Graph",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobTimedOut",
    "LintRun",
    "Location",
    "ModelCatalog",
    "Node",
    "NodeCatalog",
    "OutputRef",
    "ParseError",
    "RecipeError",
    "RequestTooLarge",
    "RunPodClient",
    "Severity",
    "Span",
    "WorkflowError",
    "__version__",
    "builtin_catalog",
    "check_workflow",
    "lint_paths",
    "lint_text",
    "load_recipe",
    "prepare_jobs",
    "read_document",
    "render_lint",
    "run_batch",
]


def __getattr__(name: str) -> typing.Any:
    """Import a public name on first use and keep it (PEP 562)."""
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'comfydsl' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
