"""`comfydsl lsp`: the language server, on pygls.

Every open `.comfy` buffer is linted with the same catalogue, model manifest and settings
as `comfydsl lint` would use for the file (its folder's `comfydsl.toml`, or what the
server was started with), a short while after the last change (`debounce`, seconds; the
client may set it in `initializationOptions`). Linting runs in a worker thread, so
completion and hover answer while a large recipe is being checked; a result for text that
has changed since is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .._version import __version__
from . import features as F
from .index import end_of, start_of, Index, Symbol, build_index, import_target
from .project import Analysis, Projects, ServerOptions, format_text, lint_text, parse_text
from .text import SourceText

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE = 0.25
SEVERITY = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
            "note": T.DiagnosticSeverity.Information}
#: Findings about things that are never used: editors grey them out.
UNNECESSARY = {"CD120", "CD121", "CD603"}


@dataclass
class Document:
    """An open recipe and what is known about it."""

    uri: str
    path: str
    text: str
    version: int
    analysis: Analysis | None = None
    analysed_version: int = -1
    index: Index | None = None
    indexed_text: str | None = None
    task: asyncio.Task | None = None
    shown: list = field(default_factory=list)  # the compiler diagnostics last published


class RecipeServer(LanguageServer):
    """The language server and its open documents."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        super().__init__("comfydsl", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.projects = Projects(options)
        self.docs: dict[str, Document] = {}
        self.debounce = DEFAULT_DEBOUNCE

    # -- documents -------------------------------------------------------------------------------
    def open(self, uri: str, text: str, version: int) -> Document:
        path = os.path.abspath(to_fs_path(uri) or uri)
        doc = Document(uri, path, text, version)
        self.docs[uri] = doc
        return doc

    def file_text(self, path: str) -> str | None:
        """A file's text: the editor's buffer when it is open, else the file on disk."""
        for doc in list(self.docs.values()):  # also called from the lint thread
            if doc.path == path:
                return doc.text
        try:
            with open(path, encoding="utf-8-sig") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError):
            return None

    def load_module(self, path: str):
        text = self.file_text(path)
        return parse_text(path, text) if text is not None else None

    def index_of(self, doc: Document) -> Index | None:
        """An index of the buffer as it is now, or of its last text that parsed."""
        if doc.indexed_text != doc.text:
            module = None
            if doc.analysis is not None and doc.analysed_version == doc.version:
                module = doc.analysis.module
            if module is None:
                module = parse_text(doc.path, doc.text)
            if module is not None:
                doc.index = build_index(doc.path, module, self.load_module)
                doc.indexed_text = doc.text
        return doc.index

    def project_of(self, doc: Document):
        return self.projects.for_file(doc.path)

    # -- diagnostics -----------------------------------------------------------------------------
    def schedule(self, doc: Document, delay: float | None = None) -> None:
        if doc.task is not None and not doc.task.done():
            doc.task.cancel()
        doc.task = asyncio.ensure_future(self._lint_later(doc, doc.version, self.debounce if delay is None else delay))

    async def _lint_later(self, doc: Document, version: int, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        if self.docs.get(doc.uri) is not doc or doc.version != version:
            return
        text = doc.text
        project = self.project_of(doc)
        loop = asyncio.get_running_loop()
        analysis, index = await loop.run_in_executor(None, self._analyse, doc.path, text, project)
        if self.docs.get(doc.uri) is not doc or doc.version != version:
            return  # the text changed meanwhile: its own lint is on the way
        doc.analysis, doc.analysed_version = analysis, version
        if index is not None:
            doc.index, doc.indexed_text = index, text
        self.publish(doc, project)

    def _analyse(self, path: str, text: str, project) -> tuple[Analysis, Index | None]:
        """Lint and index a text (in a worker thread)."""
        analysis = lint_text(path, text, project)
        index = build_index(path, analysis.module, self.load_module) if analysis.module is not None else None
        return analysis, index

    def publish(self, doc: Document, project) -> None:
        assert doc.analysis is not None
        src = SourceText(doc.text)
        shown, out = [], []
        if project.error:
            out.append(T.Diagnostic(T.Range(T.Position(0, 0), T.Position(0, 0)), project.error,
                                    severity=T.DiagnosticSeverity.Error, source="comfydsl"))
        for diag in doc.analysis.diagnostics:
            converted = self.convert(diag, doc, src)
            if converted is not None:
                shown.append(diag)
                out.append(converted)
        doc.shown = shown
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(doc.uri, out, version=doc.version))

    def convert(self, diag, doc: Document, src: SourceText) -> T.Diagnostic | None:
        span = diag.location.span
        related = []
        for loc in diag.related:
            if loc.span is not None:
                rng = self.range_in(loc.span, doc, src)
                if rng is not None:
                    related.append(T.DiagnosticRelatedInformation(
                        T.Location(from_fs_path(self.abs(loc.span.path, doc)) or doc.uri, rng), loc.label or "here"))
        message = diag.message
        if span is not None and self.abs(span.path, doc) != doc.path:
            # a finding inside an imported file: shown at the call site (or the import) here
            elsewhere = self.abs(span.path, doc)
            rng = self.range_in(span, doc, src)
            if rng is not None:
                related.insert(0, T.DiagnosticRelatedInformation(
                    T.Location(from_fs_path(elsewhere) or doc.uri, rng), "the problem is here"))
            site = self.call_site(diag, doc, src, elsewhere)
            if site is None:
                return None
            rel = os.path.relpath(elsewhere, os.path.dirname(doc.path)).replace(os.sep, "/")
            message = f"in `{rel}`: {message}"
            rng = site
        elif span is not None:
            rng = F.lsp_range(src, *src.span_offsets(span))
        else:
            rng = T.Range(T.Position(0, 0), T.Position(0, 0))
        if diag.help:
            message += f"\nhelp: {diag.help}"
        for note in diag.notes:
            message += f"\nnote: {note}"
        data = {"name": diag.name, "input": diag.location.input, "class_type": diag.location.class_type}
        return T.Diagnostic(rng, message, severity=SEVERITY.get(diag.severity.value, T.DiagnosticSeverity.Error),
                            code=diag.code, source="comfydsl",
                            code_description=None, related_information=related or None,
                            tags=[T.DiagnosticTag.Unnecessary] if diag.code in UNNECESSARY else None,
                            data=json.loads(json.dumps(data, default=str)))

    def abs(self, path: str | None, doc: Document) -> str:
        if not path:
            return doc.path
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(os.path.dirname(doc.path), path))

    def range_in(self, span, doc: Document, src: SourceText) -> T.Range | None:
        path = self.abs(span.path, doc)
        if path == doc.path:
            return F.lsp_range(src, *src.span_offsets(span))
        text = self.file_text(path)
        if text is None:
            return None
        other = SourceText(text)
        return F.lsp_range(other, *other.span_offsets(span))

    def call_site(self, diag, doc: Document, src: SourceText, elsewhere: str) -> T.Range | None:
        """Where, in this file, the import or fragment call that leads to `elsewhere` is."""
        for loc in diag.related:
            if loc.span is not None and self.abs(loc.span.path, doc) == doc.path:
                return F.lsp_range(src, *src.span_offsets(loc.span))
        module = doc.analysis.module if doc.analysis else None
        if module is None:
            return None
        imports = module.imports
        for stmt in imports:
            if import_target(doc.path, str(stmt.path.value)) == elsewhere:
                return F.lsp_range(src, start_of(stmt), end_of(stmt))
        if imports:
            return F.lsp_range(src, start_of(imports[0]), end_of(imports[0]))
        return None


def create_server(options: ServerOptions | None = None) -> RecipeServer:
    """A language server with every feature registered."""
    server = RecipeServer(options)
    _register(server)
    return server


def _offset(doc: Document, pos: T.Position) -> int:
    return SourceText(doc.text).offset(pos.line, pos.character)


def _register(ls: RecipeServer) -> None:  # noqa: C901 - one place that lists every feature
    @ls.feature(T.INITIALIZE)
    def initialize(params: T.InitializeParams) -> None:
        opts = params.initialization_options
        if isinstance(opts, dict) and isinstance(opts.get("debounce"), (int, float)):
            ls.debounce = max(0.0, float(opts["debounce"]))

    @ls.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: T.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        doc = ls.open(item.uri, item.text, item.version)
        ls.schedule(doc, delay=0)

    @ls.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: T.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return
        for change in params.content_changes:
            if isinstance(change, T.TextDocumentContentChangePartial):
                src = SourceText(doc.text)
                start = src.offset(change.range.start.line, change.range.start.character)
                end = src.offset(change.range.end.line, change.range.end.character)
                doc.text = doc.text[:start] + change.text + doc.text[end:]
            else:
                doc.text = change.text
        doc.version = params.text_document.version
        ls.schedule(doc)

    @ls.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: T.DidSaveTextDocumentParams) -> None:
        for doc in ls.docs.values():  # a saved fragment file changes what its importers see
            if doc.uri != params.text_document.uri:
                ls.schedule(doc)

    @ls.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: T.DidCloseTextDocumentParams) -> None:
        doc = ls.docs.pop(params.text_document.uri, None)
        if doc is not None and doc.task is not None:
            doc.task.cancel()
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(params.text_document.uri, []))

    @ls.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(params: T.DidChangeWatchedFilesParams) -> None:
        ls.projects.invalidate()
        for doc in ls.docs.values():
            ls.schedule(doc)

    @ls.feature(T.TEXT_DOCUMENT_COMPLETION,
                T.CompletionOptions(trigger_characters=[".", "(", ",", '"', "/", "@", "="], resolve_provider=True))
    def completion(params: T.CompletionParams) -> T.CompletionList | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        offset = _offset(doc, params.position)
        project = ls.project_of(doc)
        items = F.completion(doc.text, offset, ls.index_of(doc), project, os.path.dirname(doc.path), doc.path)
        return T.CompletionList(is_incomplete=False, items=items)

    @ls.feature(T.COMPLETION_ITEM_RESOLVE)
    def resolve(item: T.CompletionItem) -> T.CompletionItem:
        doc = next(iter(ls.docs.values()), None)
        return F.resolve_item(item, ls.project_of(doc)) if doc is not None else item

    @ls.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(params: T.HoverParams) -> T.Hover | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        diagnostics = doc.shown if doc.analysed_version == doc.version else []
        return F.hover(doc.text, _offset(doc, params.position), ls.index_of(doc), ls.project_of(doc),
                       diagnostics, ls.file_text)

    @ls.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(params: T.DefinitionParams) -> T.Location | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        offset = _offset(doc, params.position)
        index = ls.index_of(doc)
        if index is None:
            return None
        target = _import_at(index, offset, doc)
        if target is not None:
            return T.Location(from_fs_path(target) or target, T.Range(T.Position(0, 0), T.Position(0, 0)))
        ref = index.ref_at(offset)
        if ref is None or ref.symbol is None:
            return None
        return _location(ls, ref.symbol, doc)

    @ls.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(params: T.ReferenceParams) -> list[T.Location] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        found = _references(ls, doc, _offset(doc, params.position), params.context.include_declaration)
        return None if found is None else [T.Location(from_fs_path(p) or p, r) for p, r in found]

    @ls.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(params: T.PrepareRenameParams):
        doc = ls.docs.get(params.text_document.uri)
        index = ls.index_of(doc) if doc else None
        if doc is None or index is None:
            return None
        ref = index.ref_at(_offset(doc, params.position))
        if ref is None or ref.symbol is None:
            return None
        src = SourceText(doc.text)
        return T.PrepareRenamePlaceholder(F.lsp_range(src, ref.start, ref.end), ref.name)

    @ls.feature(T.TEXT_DOCUMENT_RENAME)
    def rename(params: T.RenameParams) -> T.WorkspaceEdit | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        new = params.new_name
        if not F.IDENT.match(new) or new in F.KEYWORDS:
            raise ValueError(f"`{new}` is not a valid name")
        found = _references(ls, doc, _offset(doc, params.position), True)
        if not found:
            return None
        changes: dict[str, list[T.TextEdit]] = {}
        for path, rng in found:
            changes.setdefault(from_fs_path(path) or path, []).append(T.TextEdit(rng, new))
        return T.WorkspaceEdit(changes=changes)

    @ls.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(params: T.DocumentFormattingParams) -> list[T.TextEdit] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        from ..errors import ComfyDSLError

        try:
            formatted = format_text(doc.text, doc.path)
        except ComfyDSLError as exc:
            ls.window_log_message(T.LogMessageParams(T.MessageType.Warning, f"cannot format: {exc}"))
            return None
        if formatted == doc.text:
            return []
        src = SourceText(doc.text)
        return [T.TextEdit(F.lsp_range(src, 0, len(doc.text)), formatted)]

    @ls.feature(T.TEXT_DOCUMENT_CODE_ACTION, T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]))
    def code_action(params: T.CodeActionParams) -> list[T.CodeAction] | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None or doc.analysis is None:
            return None
        return F.code_actions(doc.uri, doc.text, doc.shown, list(params.context.diagnostics), ls.index_of(doc),
                              ls.project_of(doc))

    @ls.feature(T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL,
                T.SemanticTokensLegend(token_types=F.TOKEN_TYPES, token_modifiers=F.TOKEN_MODIFIERS))
    def semantic_tokens(params: T.SemanticTokensParams) -> T.SemanticTokens:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return T.SemanticTokens(data=[])
        return T.SemanticTokens(data=F.semantic_tokens(doc.text, ls.index_of(doc)))


def _import_at(index: Index, offset: int, doc: Document) -> str | None:
    for stmt in index.module.imports:
        if start_of(stmt.path) <= offset <= end_of(stmt.path):
            return import_target(doc.path, str(stmt.path.value))
    return None


def _location(ls: RecipeServer, symbol: Symbol, doc: Document) -> T.Location | None:
    text = ls.file_text(symbol.path)
    if text is None:
        return None
    src = SourceText(text)
    return T.Location(from_fs_path(symbol.path) or symbol.path, F.lsp_range(src, symbol.start, symbol.end))


def _references(ls: RecipeServer, doc: Document, offset: int, declaration: bool):
    """(path, range) of every use of the symbol under the cursor, across the files that
    import its file when it is a fragment."""
    index = ls.index_of(doc)
    if index is None:
        return None
    ref = index.ref_at(offset)
    if ref is None or ref.symbol is None:
        return None
    symbol = ref.symbol
    indexes = {doc.path: index}
    if symbol.kind == "fragment" or symbol.path != doc.path:
        for path in _project_files(ls, doc, symbol.path):
            if path in indexes:
                continue
            text = ls.file_text(path)
            if text is None or (path != symbol.path and not re.search(r"(?m)^\s*(import|from)\b", text)):
                continue
            module = parse_text(path, text)
            if module is not None:
                indexes[path] = build_index(path, module, ls.load_module)
    found = []
    for path, idx in indexes.items():
        text = ls.file_text(path) if path != doc.path else doc.text
        if text is None:
            continue
        src = SourceText(text)
        for r in idx.refs_to(symbol):
            if declaration or not (r.definition and path == symbol.path and r.start == symbol.start):
                found.append((path, F.lsp_range(src, r.start, r.end)))
    return found


def _project_files(ls: RecipeServer, doc: Document, also: str) -> list[str]:
    """The `.comfy` files of the recipe's folder tree (capped), and `also`."""
    project = ls.project_of(doc)
    root = str(project.root) if project.config else os.path.dirname(doc.path)
    paths = [also] + [d.path for d in ls.docs.values()]
    for rel in F.import_paths(root, "", limit=2000):
        paths.append(os.path.normpath(os.path.join(root, rel)))
    return list(dict.fromkeys(paths))


def serve_stdio(options: ServerOptions | None = None) -> None:
    """Speak the protocol on standard input and output until the client exits."""
    logging.basicConfig(level=logging.WARNING, format="comfydsl lsp: %(message)s")
    create_server(options).start_io()
