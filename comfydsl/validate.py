"""Validating workflows: the one entry point every front end (CLI, graph API, recipes,
RunPod backend) goes through.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Sequence

from .catalog.models import ModelCatalog
from .catalog.nodes import NodeCatalog
from .diagnostics import Diagnostic, sort_diagnostics
from .workflow.gcpause import gc_paused


def default_catalog() -> NodeCatalog:
    from .catalog import builtin_catalog

    return builtin_catalog()


def check_workflow(
    workflow: dict[str, Any],
    *,
    catalog: NodeCatalog | None = None,
    models: ModelCatalog | None = None,
    input_files: Iterable[str] | None = None,
    duplicates: dict[str, int] | None = None,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Every diagnostic for an API-format workflow, sorted.

    `catalog` defaults to the built-in one. `models` is the worker's model inventory (model
    files are not checked without it). `input_files` are the files uploaded with the job
    (a RunPod body's `input.images` names). `select`/`ignore` filter by code prefix.
    """
    found = workflow_findings(workflow, catalog=catalog, models=models, input_files=input_files,
                              duplicates=duplicates)
    return filter_codes(sort_diagnostics(found), select, ignore)


def workflow_findings(workflow: dict[str, Any], *, catalog: NodeCatalog | None = None,
                      models: ModelCatalog | None = None, input_files: Iterable[str] | None = None,
                      duplicates: dict[str, int] | None = None) -> list[Diagnostic]:
    """What `check_workflow` finds, unsorted and unfiltered: for callers that locate the
    findings first and sort them once, by position."""
    files = set(input_files) if input_files is not None else None
    return _findings([(workflow, files, duplicates, None)], catalog, models)[0]


#: What `_findings` checks: a workflow, the files uploaded with it, its duplicate ids, and the
#: `ContextBuilder` its nodes were already given to as it was read (or None).
_Job = tuple[dict[str, Any], set[str] | None, dict[str, int] | None, Any]


def _findings(jobs: Sequence[_Job], catalog: NodeCatalog | None, models: ModelCatalog | None) -> list[list[Diagnostic]]:
    """The rules' findings of each job, each step taken over all of them in turn: every
    context is built (or finished, when its nodes were taken in as they were read), then each
    rule runs over every context (`run_checks_over`)."""
    build, run_checks_over, rules, _ = _checker()
    catalog = catalog if catalog is not None else default_catalog()
    with gc_paused():
        contexts = [build(workflow, catalog, models=models, input_files=files, duplicates=duplicates)
                    if started is None else
                    started.finish(workflow, models=models, input_files=files, duplicates=duplicates)
                    for workflow, files, duplicates, started in jobs]
        found: list[list[Diagnostic]] = run_checks_over(contexts, rules)
        del contexts  # freed before the collector is back on, so that it does not walk them
    return found


@lru_cache(maxsize=None)
def _checker() -> tuple[Any, Any, tuple[Any, ...], Any]:
    """`CheckContext.build`, `run_checks_over`, the workflow rules and `ContextBuilder`,
    imported on first use (they bring networkx), then at hand without an import statement
    per check."""
    from .checks import CheckContext, ContextBuilder, run_checks_over
    from .rules.codes import workflow_rules

    return CheckContext.build, run_checks_over, workflow_rules(), ContextBuilder


def check_document(doc, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
                   **options: Any) -> list[Diagnostic]:
    """Reading problems of a Document plus the checks of the workflow in it, sorted."""
    return filter_codes(sort_diagnostics(document_findings(doc, **options)), select, ignore)


def document_findings(doc, **options: Any) -> list[Diagnostic]:
    """What `check_document` finds, unsorted and unfiltered (see `workflow_findings`)."""
    return documents_findings([doc], **options)[0]


def documents_findings(docs: Sequence[Any], *, catalog: NodeCatalog | None = None,
                       models: ModelCatalog | None = None) -> list[list[Diagnostic]]:
    """`document_findings` of each document, with each step taken over all of them in turn
    (`_findings`). Many small workflows are checked faster so, as the code and data of one
    step stay in the processor's caches; the findings are the same, in the same order."""
    return _documents_findings(docs, [None] * len(docs), catalog, models)


def _documents_findings(docs: Sequence[Any], started: Sequence[Any], catalog: NodeCatalog | None,
                        models: ModelCatalog | None) -> list[list[Diagnostic]]:
    found = [list(doc.diagnostics) for doc in docs]
    checked = [i for i, doc in enumerate(docs) if doc.workflow is not None]
    jobs = [(docs[i].workflow, docs[i].upload_names, docs[i].duplicates, started[i]) for i in checked]
    for i, more in zip(checked, _findings(jobs, catalog, models)):
        found[i] += more
    return found


def read_documents(batch: Sequence[tuple[str, str]], *, catalog: NodeCatalog | None = None,
                   models: ModelCatalog | None = None) -> tuple[list[Any], list[list[Diagnostic]]]:
    """Each (path, text) read (`read_document`), and what `documents_findings` finds in it.

    A long bare workflow, which reading decodes part by part, is taken into its check context
    part by part too (`ContextBuilder`), each part while it is still in the processor's
    caches; the findings are the same.
    """
    from .workflow.document import PARTS_FROM, read_document

    catalog = catalog if catalog is not None else default_catalog()
    context_builder = _checker()[3]
    docs = []
    started: list[Any] = []
    with gc_paused():
        for path, text in batch:
            if len(text) < PARTS_FROM:
                docs.append(read_document(text, path))
                started.append(None)
                continue
            builder = context_builder(catalog)
            doc = read_document(text, path, on_part=builder.add)
            docs.append(doc)
            started.append(builder if doc.read_in_parts else None)
            del builder
        return docs, _documents_findings(docs, started, catalog, models)


def filter_codes(diagnostics: list[Diagnostic], select: Iterable[str] | None,
                 ignore: Iterable[str] | None) -> list[Diagnostic]:
    """Keep diagnostics whose code (or name) starts with a selected prefix and no ignored one."""
    select = [s for s in select or () if s]
    ignore = [s for s in ignore or () if s]
    if not select and not ignore:
        return diagnostics

    def matches(diag: Diagnostic, prefixes: list[str]) -> bool:
        return any(diag.code.startswith(p) or diag.name == p for p in prefixes)

    return [d for d in diagnostics
            if (not select or matches(d, select)) and not (ignore and matches(d, ignore))]
