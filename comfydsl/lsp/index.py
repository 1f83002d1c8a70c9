"""What each name in a recipe refers to: definitions, references and calls, by offset.

Built from the syntax tree of one file; imported fragments are resolved through a
`loader` (path -> syntax tree) so that definitions and references reach across imports.
Pure Python, no pygls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from ..dsl import ast

def start_of(node: Any) -> int:
    """Where a syntax node starts (a character offset)."""
    return node.span.start or 0


def end_of(node: Any) -> int:
    """Where a syntax node ends (a character offset)."""
    return node.span.end or 0


Loader = Callable[[str], "ast.Module | None"]


@dataclass(eq=False)
class Symbol:
    """A defined name. `kind` is `param`, `variable`, `fragment` or `fragment-param`;
    `path` is the file it is defined in; `owner` the fragment for local names."""

    kind: str
    name: str
    path: str
    start: int
    end: int
    node: Any
    owner: Any = None

    @property
    def key(self) -> tuple:
        return (self.path, self.start, self.name)


@dataclass(frozen=True)
class Ref:
    """A use (or the definition) of a name at [start, end) in this file."""

    name: str
    start: int
    end: int
    symbol: Symbol | None
    definition: bool = False


@dataclass
class Index:
    """Names, references and calls of one file."""

    path: str
    module: ast.Module
    globals: dict[str, Symbol] = field(default_factory=dict)
    locals: dict[int, dict[str, Symbol]] = field(default_factory=dict)  # id(fragment) -> names
    refs: list[Ref] = field(default_factory=list)
    calls: list[ast.Call] = field(default_factory=list)
    imports: dict[str, tuple[str, Any]] = field(default_factory=dict)  # fragment -> (file, import stmt)

    # -- queries ---------------------------------------------------------------------------------
    def ref_at(self, offset: int) -> Ref | None:
        """The name under the cursor (a cursor just after a name counts)."""
        best = None
        for ref in self.refs:
            if ref.start <= offset <= ref.end and (best is None or ref.start >= best.start):
                best = ref
        return best

    def call_at(self, offset: int) -> ast.Call | None:
        """The innermost call whose parentheses (or name) hold `offset`."""
        best = None
        for call in self.calls:
            if start_of(call) <= offset <= end_of(call) and (best is None or start_of(call) >= start_of(best)):
                best = call
        return best

    def refs_to(self, symbol: Symbol) -> list[Ref]:
        return [r for r in self.refs if r.symbol is not None and r.symbol.key == symbol.key]

    def variable_call(self, name: str, offset: int | None = None) -> ast.Call | None:
        """The call a variable was assigned from (`ckpt = CheckpointLoaderSimple(...)`)."""
        symbol = self.lookup(name, offset)
        if symbol is None or symbol.kind != "variable" or not isinstance(symbol.node, ast.Assign):
            return None
        value = symbol.node.value
        return value if isinstance(value, ast.Call) and len(symbol.node.targets) == 1 else None

    def lookup(self, name: str, offset: int | None = None) -> Symbol | None:
        """The symbol `name` means at `offset` (inside a fragment, its own names first)."""
        if offset is not None:
            for frag in self.module.fragments:
                if start_of(frag) <= offset <= end_of(frag):
                    local = self.locals.get(id(frag), {}).get(name)
                    if local is not None:
                        return local
        return self.globals.get(name)

    def fragment_at(self, offset: int) -> ast.Fragment | None:
        for frag in self.module.fragments:
            if start_of(frag) <= offset <= end_of(frag):
                return frag
        return None

    def fragment_names(self) -> list[str]:
        return [n for n, s in self.globals.items() if s.kind == "fragment"]


def build_index(path: str, module: ast.Module, loader: Loader | None = None) -> Index:
    """Index a parsed file; `loader` reads imported files (none: imports stay unresolved)."""
    index = Index(path, module)
    _declare(index, loader)
    for stmt in module.statements:
        if isinstance(stmt, ast.Fragment):
            _fragment(index, stmt)
        elif isinstance(stmt, ast.Param):
            _define(index, index.globals.get(stmt.name.name), stmt.name)
            if stmt.default is not None:
                _expr(index, stmt.default, None)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                _define(index, index.globals.get(target.name), target)
            _decorators(index, stmt.decorators, None)
            _expr(index, stmt.value, None)
        elif isinstance(stmt, ast.CallStmt):
            _decorators(index, stmt.decorators, None)
            _expr(index, stmt.call, None)
        elif isinstance(stmt, ast.ImportFrom):
            for ident in stmt.names:
                symbol = index.globals.get(ident.name)
                index.refs.append(Ref(ident.name, start_of(ident), end_of(ident),
                                      symbol if symbol and symbol.kind == "fragment" else None))
    return index


def import_target(importer: str, relative: str) -> str:
    """The absolute path an import string names, relative to the importing file."""
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(importer)), relative))


def _declare(index: Index, loader: Loader | None) -> None:
    module, path = index.module, index.path
    for imp in module.imports:
        target = import_target(path, str(imp.path.value))
        sub = loader(target) if loader else None
        names = ([i.name for i in imp.names] if isinstance(imp, ast.ImportFrom)
                 else [f.name.name for f in sub.fragments] if sub else [])
        for name in names:
            index.imports.setdefault(name, (target, imp))
            frag = next((f for f in sub.fragments if f.name.name == name), None) if sub else None
            if frag is not None:
                index.globals.setdefault(name, Symbol("fragment", name, target, start_of(frag.name),
                                                      end_of(frag.name), frag))
    for stmt in module.statements:
        if isinstance(stmt, ast.Param):
            _add(index.globals, Symbol("param", stmt.name.name, path, start_of(stmt.name), end_of(stmt.name), stmt))
        elif isinstance(stmt, ast.Fragment):
            _add(index.globals, Symbol("fragment", stmt.name.name, path, start_of(stmt.name),
                                       end_of(stmt.name), stmt), replace=True)
            local: dict[str, Symbol] = {}
            for p in stmt.params:
                _add(local, Symbol("fragment-param", p.name.name, path, start_of(p.name), end_of(p.name), p, stmt))
            for body in stmt.body:
                if isinstance(body, ast.Assign):
                    for t in body.targets:
                        _add(local, Symbol("variable", t.name, path, start_of(t), end_of(t), body, stmt))
            index.locals[id(stmt)] = local
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                _add(index.globals, Symbol("variable", t.name, path, start_of(t), end_of(t), stmt))


def _add(table: dict[str, Symbol], symbol: Symbol, replace: bool = False) -> None:
    if replace or symbol.name not in table:  # a second definition is CD111; the first one counts
        table[symbol.name] = symbol


def _define(index: Index, symbol: Symbol | None, ident: ast.Ident) -> None:
    own = symbol if symbol is not None and symbol.start == start_of(ident) and symbol.path == index.path else None
    index.refs.append(Ref(ident.name, start_of(ident), end_of(ident), own or symbol, definition=True))


def _fragment(index: Index, frag: ast.Fragment) -> None:
    local = index.locals.get(id(frag), {})
    _define(index, index.globals.get(frag.name.name), frag.name)
    for p in frag.params:
        _define(index, local.get(p.name.name), p.name)
        if p.default is not None:
            _expr(index, p.default, frag)
    for stmt in frag.body:
        if isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                _define(index, local.get(t.name), t)
            _decorators(index, stmt.decorators, frag)
            _expr(index, stmt.value, frag)
        else:
            _decorators(index, stmt.decorators, frag)
            _expr(index, stmt.call, frag)
    if frag.returns is not None:
        for value in frag.returns.values:
            _expr(index, value, frag)


def _decorators(index: Index, decorators, frag) -> None:
    for deco in decorators:
        for arg in deco.args:
            _expr(index, arg, frag)


def _resolve(index: Index, name: str, frag) -> Symbol | None:
    if frag is not None:
        local = index.locals.get(id(frag), {}).get(name)
        if local is not None:
            return local
    return index.globals.get(name)


def _expr(index: Index, expr: Any, frag) -> None:
    stack = [expr]
    refs, calls = index.refs, index.calls
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            refs.append(Ref(node.name, start_of(node), end_of(node), _resolve(index, node.name, frag)))
        elif kind is ast.Call:
            calls.append(node)
            symbol = _resolve(index, node.func.name, frag)
            if symbol is not None and symbol.kind == "fragment":
                refs.append(Ref(node.func.name, start_of(node.func), end_of(node.func), symbol))
            stack.extend(arg.value if type(arg) is ast.KeywordArgument else arg for arg in node.args)
        elif kind is ast.Attr or kind is ast.Index:
            stack.append(node.value)
        elif kind is ast.BinOp:
            stack += (node.left, node.right)
        elif kind is ast.Neg:
            stack.append(node.operand)
        elif kind is ast.ListExpr:
            stack.extend(node.items)
        elif kind is ast.ObjectExpr:
            stack.extend(pair.value for pair in node.pairs)
