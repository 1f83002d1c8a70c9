"""Recipes as objects: load a `.comfy` file with its imports, read its parameters, check
and compile it.

```python
from comfydsl import load_recipe

recipe = load_recipe("recipes/flux.comfy")
[p.name for p in recipe.params]           # ['prompt', 'seed', ...]
workflow = recipe.compile(seed=7)         # API dict, or CompileError with every diagnostic
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from ..diagnostics import Diagnostic, Location, Severity, Span, sort_diagnostics
from ..errors import CompileError, ParseError, RecipeError
from ..workflow.envelopes import ENVELOPES, RUN_BODY_LIMIT, RUNSYNC_BODY_LIMIT, encode_body
from ..workflow.gcpause import gc_paused
from . import ast
from ..rules import recipe as R
from .syntax import NODE_KEYS_INPUTS_FIRST, PRAGMA_INPUTS_FIRST, as_type, header_pragmas, parse_value



#: The "file" of findings about values given on the command line (`--set name=value`).
COMMAND_LINE = "<command line>"


@dataclass(frozen=True)
class RecipeParam:
    """A recipe parameter: `required` when it has no default; `default` is its value when
    that is a constant (else None, and `default_text` shows the expression)."""

    name: str
    type: str
    default: Any
    required: bool
    default_text: str | None
    span: Span

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required, "default": self.default,
                "default_text": self.default_text}


def parse_param_value(text: str, type_name: str) -> Any:
    """A `--set` value read as the parameter's type; ValueError says why it does not fit."""
    return parse_value(text, type_name)


class Recipe:
    """A `.comfy` recipe file (and the files it imports).

    `target` is the `comfydsl.target.Target` (node catalogue and models) to check against;
    the built-in catalogue by default. `envelope` wraps compiled output (`None`, `"runpod"`
    with `input.images` attachments, `"prompt"`). `body_limit` is the request body size, in
    bytes, over which attachments are an error (a warning from 10 MB on).
    """

    def __init__(self, path: str | os.PathLike, text: str | None = None, *, target=None,
                 envelope: str | None = None, body_limit: int = RUNSYNC_BODY_LIMIT) -> None:
        from ..target import Target

        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"a recipe's path must be a string or a path, not {type(path).__name__}")
        if text is not None and not isinstance(text, str):
            raise TypeError(f"a recipe's text must be a string, not {type(text).__name__}")
        if target is not None and not isinstance(target, Target):
            raise TypeError(f"`target` must be a comfydsl.target.Target (see load_target), not {type(target).__name__}")
        if envelope is not None and envelope not in ENVELOPES:
            raise ValueError(f"unknown envelope `{envelope}`; use none, runpod or prompt")
        if isinstance(body_limit, bool) or not isinstance(body_limit, int) or body_limit <= 0:
            raise ValueError(f"`body_limit` must be a positive number of bytes, not {body_limit!r}")
        self.path = str(path)
        self._text = text
        self.target = target
        self.envelope = envelope
        self.body_limit = body_limit
        self._module: ast.Module | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = _read_text(self.path)
        return self._text

    @property
    def module(self) -> ast.Module:
        """The parsed recipe; raises ParseError."""
        if self._module is None:
            from .parser import parse

            self._module = parse(self.text, self.path)
        return self._module

    @property
    def params(self) -> list[RecipeParam]:
        """The declared parameters, in file order."""
        from .lower import constant

        found = []
        for stmt in self.module.params:
            default = constant(stmt.default)
            text = None
            if stmt.default is not None:
                span = stmt.default.span
                text = self.text[span.start:span.end] if span.start is not None else None
            found.append(RecipeParam(stmt.name.name, stmt.type, default, stmt.default is None, text, stmt.span))
        return found

    # -- checking and compiling ---------------------------------------------------------------
    def check(self, params: Mapping[str, Any] | None = None, /, **kwargs: Any) -> list[Diagnostic]:
        """Every diagnostic of the recipe with these parameter values, sorted and located."""
        graph, diagnostics = self.build({**(params or {}), **kwargs})
        _release(graph)
        return diagnostics

    def graph(self, params: Mapping[str, Any] | None = None, /, **kwargs: Any):
        """The lowered Graph; raises CompileError when the recipe itself has errors."""
        graph, diagnostics = self.build({**(params or {}), **kwargs}, run_checks=False)
        if graph is None or any(d.is_error for d in diagnostics):
            raise CompileError(diagnostics)
        return graph

    def compile(self, params: Mapping[str, Any] | None = None, /, **kwargs: Any) -> dict[str, Any]:
        """The checked workflow (in `self.envelope`); raises CompileError with every diagnostic."""
        with gc_paused():  # until the workflow is out, not just through `build` (see gc_paused)
            graph, diagnostics = self.build({**(params or {}), **kwargs})
            try:
                if graph is None or any(d.is_error for d in diagnostics):
                    raise CompileError(diagnostics)
                return graph.envelope(graph.to_workflow(), self.envelope)
            finally:
                _release(graph)

    def lint(self) -> list[Diagnostic]:
        """Diagnostics for CI: like `check()` with default values, but required parameters
        without a value are not errors (inputs fed by them are not judged)."""
        graph, diagnostics = self.build({}, lint=True)
        _release(graph)
        return diagnostics

    # -- internals ---------------------------------------------------------------------------------
    def build(self, given: Mapping[str, Any], *, run_checks: bool = True, lint: bool = False):
        """`(graph, diagnostics)`: the lowered graph (None when the recipe does not parse) and
        every diagnostic; `run_checks=False` skips the workflow checks, `lint=True` forgives
        required parameters without a value."""
        if self.envelope not in (None, *ENVELOPES):
            raise ValueError(f"unknown envelope `{self.envelope}`; use none, runpod or prompt")
        with gc_paused():
            return self._build(given, run_checks, lint)

    def _build(self, given: Mapping[str, Any], run_checks: bool, lint: bool):
        try:
            module = self.module
        except ParseError as exc:
            return None, [syntax_diagnostic(exc)]
        program = _Program(self.path, module)
        values, diagnostics = self._param_values(module, given)
        try:
            lowered = program.lower(values, self._target())
        except RecursionError:
            return None, [R.INVALID_EXPRESSION.at(module.span, "the recipe nests too deeply to compile",
                                                  help="split deep expressions into variables")]
        diagnostics += program.diagnostics + lowered.diagnostics
        if lint:
            diagnostics = [d for d in diagnostics if d.code != R.MISSING_REQUIRED_PARAMETER.code]
        graph = lowered.graph
        if PRAGMA_INPUTS_FIRST in header_pragmas(module.source or ""):
            graph.node_keys = NODE_KEYS_INPUTS_FIRST
        if lint and module.is_library:
            # A fragment library is checked through the recipes that import it; on its own
            # it has no workflow to judge (no output node is not news there).
            run_checks = False
        if run_checks:
            if any(d.is_error for d in diagnostics):
                # nodes left without a consumer by a recipe error are not news
                found = [d for d in _graph_checks(lowered, self._target()) if d.code not in _RECIPE_CASCADES]
            else:
                found = _graph_checks(lowered, self._target())
            diagnostics += strict(found, lowered.allowed)
        diagnostics += self._body_size(graph, program.attachments)
        start = Span(self.path, 1, 1, 1, 1, 0, 0)
        for diag in diagnostics:  # whole-workflow findings (no output node...) point at the file
            if diag.location.span is None:
                diag.location = replace(diag.location, span=start)
        return graph, causes_first(diagnostics)

    def _target(self):
        if self.target is None:
            from ..target import load_target

            self.target = load_target()
        return self.target

    def _param_values(self, module: ast.Module, given: Mapping[str, Any]):
        declared = {p.name.name: p for p in module.params}
        values: dict[str, Any] = {}
        diagnostics: list[Diagnostic] = []
        for name, value in given.items():
            stmt = declared.get(name)
            if stmt is None:
                import difflib

                close = difflib.get_close_matches(name, list(declared), n=2)
                hint = ("a parameter with a similar name exists: " + " or ".join(f"`{c}`" for c in close)
                        if close else "its parameters are " + (", ".join(f"`{n}`" for n in declared) or "none"))
                shown = f"--set {name}=..."
                where = Span(COMMAND_LINE, 1, 1, 1, len(shown) + 1, 0, len(shown))
                diagnostics.append(R.UNKNOWN_PARAMETER.at(where, f"the recipe has no parameter `{name}`", help=hint,
                                                          name=name))
                continue
            try:
                values[name] = _typed_value(value, stmt.type)
            except ValueError as exc:
                diagnostics.append(R.INVALID_PARAMETER_VALUE.at(
                    stmt.span, f"bad value {_show(value)} for parameter `{name}` of type `{stmt.type}`: {exc}",
                    help=f"give `--set {name}=...` a value of type `{stmt.type}`", name=name))
        return values, diagnostics

    def _body_size(self, graph, attachments) -> list[Diagnostic]:
        if graph is None or not attachments.data:
            return []
        size = len(encode_body(graph.envelope(graph.to_workflow(), "runpod")))
        warn_at = min(RUN_BODY_LIMIT, self.body_limit)
        if size <= warn_at:
            return []
        largest = max(attachments.data, key=lambda n: len(attachments.data[n]))
        span = attachments.spans.get(largest)
        mb = f"{size / 1_000_000:.1f} MB"
        if size > self.body_limit:
            return [R.REQUEST_BODY_TOO_LARGE.at(
                span, f"the request body with attachments is {mb}, over the limit of "
                      f"{self.body_limit / 1_000_000:g} MB", severity=Severity.ERROR,
                help="shrink the attachments (the largest is `" + largest + "`), or raise the limit",
                size=size, limit=self.body_limit)]
        return [R.REQUEST_BODY_TOO_LARGE.at(
            span, f"the request body with attachments is {mb}; RunPod's `/run` takes at most "
                  f"{RUN_BODY_LIMIT / 1e6:g} MB",
            help=f"use `/runsync` ({RUNSYNC_BODY_LIMIT / 1e6:g} MB), or shrink the attachments",
            size=size, limit=self.body_limit)]


def load_recipe(path: str | os.PathLike, *, target=None, envelope: str | None = None,
                body_limit: int = RUNSYNC_BODY_LIMIT) -> Recipe:
    """Read a `.comfy` recipe. Raises RecipeError when the file cannot be read and ParseError
    when it is not valid syntax; everything else is reported by `check()`/`compile()`."""
    recipe = Recipe(path, target=target, envelope=envelope, body_limit=body_limit)
    recipe.module  # noqa: B018 - parse now, so syntax errors surface at load time
    return recipe


def lint_recipe(path: str, text: str, target) -> list[Diagnostic]:
    """Every diagnostic of a recipe, parse errors included, for `comfydsl lint`."""
    return Recipe(path, text, target=target).lint()


def syntax_diagnostic(exc: ParseError) -> Diagnostic:
    """A ParseError as a CD010 diagnostic; when a bracket opened earlier is still open where
    the error is, the diagnostic points at it too."""
    expected = tuple(exc.expected or ())
    related: tuple[Location, ...] = ()
    span = exc.span
    if exc.source and span is not None and span.start is not None:
        from .syntax import open_bracket

        found = open_bracket(exc.source, min(span.start, len(exc.source)))
        closing = {"(": ")", "[": "]", "{": "}"}
        if found is not None and (not expected or any(closing[found[0]] in e for e in expected)):
            bracket, offset = found
            line = exc.source.count("\n", 0, offset) + 1
            column = offset - (exc.source.rfind("\n", 0, offset) + 1) + 1
            where = Span(span.path, line, column, line, column + 1, offset, offset + 1)
            related = (Location(span=where, label=f"this `{bracket}` is not closed"),)
    return R.SYNTAX_ERROR.at(span, exc.detail, expected=list(expected), related=related)


# -- loading a program: the recipe and its imports --------------------------------------------------
class _Program:
    def __init__(self, path: str, module: ast.Module) -> None:
        from .lower import Attachments

        self.root_path = Path(path).resolve()
        self.root_dir = self.root_path.parent
        self.root = module
        self.diagnostics: list[Diagnostic] = []
        self.modules: dict[Path, ast.Module | None] = {self.root_path: module}
        self.scopes: dict[Path, dict] = {}
        self.attachments = Attachments(self.root_dir)

    def lower(self, values: dict[str, Any], target):
        from .lower import lower, pinned_ids

        scope = self.scope(self.root_path, self.root, (self.root_path,))
        modules = [m for m in self.modules.values() if m is not None]
        return lower(self.root, values, catalog=target.catalog, models=target.models, fragments=scope,
                     attachments=self.attachments, pinned=pinned_ids(modules))

    def scope(self, resolved: Path, module: ast.Module, chain: tuple[Path, ...]) -> dict:
        from .lower import fragment_scope

        imported: dict[str, tuple[Any, Span]] = {}
        for stmt in module.imports:
            for name, fdef in self._import(stmt, module, chain):
                previous = imported.get(name)
                if previous is not None and previous[0] is not fdef:
                    self.diagnostics.append(R.REDEFINED_NAME.at(
                        stmt.span, f"fragment `{name}` is imported twice from different files",
                        related=(Location(span=previous[1], label="first imported here"),)))
                    continue
                imported.setdefault(name, (fdef, stmt.span))
        scope = fragment_scope(module, imported, self.diagnostics)
        self.scopes[resolved] = scope
        return scope

    def _import(self, stmt, module: ast.Module, chain: tuple[Path, ...]):
        from .lower import resolve_path

        relative = stmt.path.value
        base = Path(module.path).parent if module.path else Path.cwd()
        target = resolve_path(base, relative)
        if target is None:
            self.diagnostics.append(R.BAD_IMPORT.at(stmt.path.span, "the import path is not a usable file path",
                                                    help="import paths are relative to the importing file"))
            return []
        display = os.path.normpath(os.path.join(os.path.dirname(module.path or ""), relative))
        if not target.is_relative_to(self.root_dir):
            self.diagnostics.append(R.PATH_OUTSIDE_TREE.at(
                stmt.path.span, f"import `{relative}` is outside the recipe's folder",
                help=f"imports must be inside `{self.root_dir}`"))
            return []
        if target in chain:
            names = " -> ".join(f"`{_display(p, self.root_dir)}`" for p in (*chain[chain.index(target):], target))
            self.diagnostics.append(R.IMPORT_CYCLE.at(stmt.path.span, f"import cycle: {names}",
                                                      help="move the shared fragments into a file both import"))
            return []
        sub = self._load(target, display, stmt)
        if sub is None:
            return []
        scope = self.scopes.get(target)
        if scope is None:
            scope = self.scope(target, sub, (*chain, target))
        own = {f.name.name for f in sub.fragments}
        if isinstance(stmt, ast.ImportAll):
            return [(name, scope[name]) for name in sorted(own) if name in scope]
        found = []
        for ident in stmt.names:
            if ident.name in own and ident.name in scope:
                found.append((ident.name, scope[ident.name]))
                continue
            import difflib

            close = difflib.get_close_matches(ident.name, sorted(own), n=2)
            hint = ("a fragment with a similar name exists: " + " or ".join(f"`{c}`" for c in close) if close
                    else "its fragments are " + (", ".join(f"`{n}`" for n in sorted(own)) or "none"))
            self.diagnostics.append(R.BAD_IMPORT.at(ident.span, f"`{relative}` has no fragment `{ident.name}`",
                                                    help=hint))
        return found

    def _load(self, target: Path, display: str, stmt) -> ast.Module | None:
        if target in self.modules:
            return self.modules[target]
        from .parser import parse

        module = None
        try:
            from ..workflow.files import read_text

            text = read_text(target, "utf-8-sig", universal_newlines=True)
        except (OSError, UnicodeDecodeError) as exc:
            missing = isinstance(exc, FileNotFoundError)
            if missing:
                reason = "it does not exist"
            elif isinstance(exc, UnicodeDecodeError):
                reason = f"it is not UTF-8 text (byte {exc.start})"
            else:
                reason = getattr(exc, "strerror", None) or str(exc)
            self.diagnostics.append(R.BAD_IMPORT.at(stmt.path.span, f"cannot import `{stmt.path.value}`: {reason}",
                                                    help="import paths are relative to the importing file"
                                                    if missing else None))
        else:
            try:
                module = parse(text, display)
            except ParseError as exc:
                self.diagnostics.append(syntax_diagnostic(exc))
            else:
                stray = [s for s in module.statements if not isinstance(s, (ast.Fragment, ast.ImportAll, ast.ImportFrom))]
                if stray:
                    self.diagnostics.append(R.BAD_IMPORT.at(
                        stray[0].span, f"`{display}` is imported, so it may hold only fragments and imports",
                        related=(Location(span=stmt.span, label="imported here"),),
                        help="move parameters and node statements into the recipe that imports this file"))
        self.modules[target] = module
        return module


#: Findings that an error causes as a side effect: a link that failed or went to the wrong
#: input leaves its source node without a consumer (CD603, a dead branch), and a recipe
#: error can leave the workflow without its output node (CD602). They are left out while
#: there are errors (CD602: recipe errors); they come back, if still true, once the errors
#: are fixed.
_CASCADES = {"CD603"}
_RECIPE_CASCADES = {"CD602", "CD603"}
#: Workflow findings that are errors in a recipe though `lint` of JSON warns: an input the
#: class does not have (CD202) and a value of the wrong JSON type that ComfyUI would convert
#: (CD402), but for a whole float given to an INT input. A recipe's author wrote the value,
#: so the recipe says exactly what runs.
_STRICT = {"CD202", "CD402"}
_UNKNOWN_INPUT, _MISSING_INPUT = "CD202", "CD201"


def strict(found: list[Diagnostic], allowed: Mapping[str, set[str]] | None = None) -> list[Diagnostic]:
    """The workflow findings of a recipe, with the recipe language's stricter policy: the
    codes of `_STRICT` are errors (unless the node's `@allow(...)` names them); a missing
    required input that a misspelt input was probably meant for is folded into the
    misspelling's error."""
    out: list[Diagnostic] = []
    meant: dict[tuple[str | None, str], Diagnostic] = {}
    allowed = allowed or {}
    for diag in found:
        if diag.code not in _STRICT or _whole_float(diag) or diag.code in allowed.get(diag.node_id or "", ()):
            out.append(diag)
            continue
        if diag.code == _UNKNOWN_INPUT:
            message = diag.message.replace("; ComfyUI ignores it", "")
            close = diag.help.split("`")[1] if diag.help and "similar name" in diag.help else None
            diag = replace(diag, severity=Severity.ERROR, message=message,
                           notes=(*diag.notes, "a recipe may set only the inputs its node class declares"))
            if close is not None:
                meant[(diag.node_id, close)] = diag
        else:
            value = diag.ctx.get("value")
            message = diag.message.split(";")[0] + (f", not {_show(value)}" if "value" in diag.ctx else "")
            diag = replace(diag, severity=Severity.ERROR, message=message,
                           notes=(*diag.notes, "a recipe gives values of the input's own type; ComfyUI's conversions "
                                    "are accepted in workflow JSON only"))
        out.append(diag)
    kept = []
    for diag in out:
        typo = meant.get((diag.node_id, diag.input or "")) if diag.code == _MISSING_INPUT else None
        if typo is not None:  # `denoise` is missing because it was written `denoise_strength`
            continue
        kept.append(diag)
    return kept


def _whole_float(diag: Diagnostic) -> bool:
    """A float with a whole value for an INT input (`size * 1.5` = `192.0`): arithmetic on
    float parameters gives these, and the recipe language has no other way to make an
    integer of them, so they stay a warning."""
    value = diag.ctx.get("value")
    return diag.code == "CD402" and isinstance(value, float) and value.is_integer() \
        and diag.ctx.get("converted") == value


def causes_first(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in the order to read them: errors first (each by position), then the
    rest; while there are errors, their knock-on findings (`_CASCADES`) are left out."""
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        diagnostics = [d for d in diagnostics if d.is_error or d.code not in _CASCADES]
    ordered = sort_diagnostics(diagnostics)
    return [d for d in ordered if d.is_error] + [d for d in ordered if not d.is_error]


def _graph_checks(lowered, target) -> list[Diagnostic]:
    graph = lowered.graph
    found = []
    for diag in graph.check(models=target.models):
        if (diag.node_id, diag.input) in lowered.tainted or (diag.node_id, None) in lowered.tainted:
            continue
        site = lowered.call_sites.get(diag.node_id or "")
        if site is not None:
            diag.related = (*diag.related, Location(span=site, label="in the fragment called here"))
        found.append(diag)
    return found


def _release(graph) -> None:
    """Empty a graph that is not handed out. Its nodes and the graph point at each other, so
    otherwise all of it (nodes, inputs, spans) would wait for the cyclic garbage collector."""
    if graph is not None:
        graph.nodes.clear()


def _typed_value(value: Any, type_name: str) -> Any:
    if isinstance(value, str) and type_name != "str":
        return parse_value(value, type_name)
    return as_type(value, type_name)


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (str, int, float, bool)) else repr(value)
    return "`" + (text if len(text) <= 40 else text[:39] + "…") + "`"


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:  # pragma: no cover - cycles stay inside the tree
        return str(path)


def _read_text(path: str) -> str:
    try:
        from ..workflow.files import read_text

        return read_text(path, "utf-8-sig", universal_newlines=True)
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file") from None
    except UnicodeDecodeError:
        raise RecipeError(f"{path}: the recipe is not UTF-8 text") from None
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read the recipe: {exc.strerror or exc}") from None
