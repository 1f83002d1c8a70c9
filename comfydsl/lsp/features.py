"""The language features, as functions of a document's text, its index and its project.

Each function takes plain values (text, offsets, an `Index`, a `Project`) and returns
lsprotocol types; `server.py` only wires them to requests.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from typing import Any, Iterable

from lsprotocol import types as T

from ..dsl import ast
from ..dsl.syntax import DECORATOR_KEYS
from ..workflow.links import NODE_KEYS
from .index import end_of, start_of, Index, Symbol, import_target
from .text import BUILTINS, DECORATORS, KEYWORDS, TYPES, SourceText, Token, lex

#: How far back completion looks for the call it is in (characters).
WINDOW = 20_000
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# -- helpers ---------------------------------------------------------------------------------------


def lsp_range(src: SourceText, start: int, end: int) -> T.Range:
    sl, sc = src.position(start)
    el, ec = src.position(end)
    return T.Range(T.Position(sl, sc), T.Position(el, ec))


def literal(value: Any) -> str:
    """A Python value written as a recipe literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def describe_input(spec) -> str:
    """`INT, default 20, 1 to 10000` for an input."""
    parts = [spec.type if not spec.is_combo else "COMBO"]
    if spec.default is not None:
        parts.append(f"default {literal(spec.default)}")
    if spec.minimum is not None or spec.maximum is not None:
        low = "" if spec.minimum is None else f"{spec.minimum:g}" if isinstance(spec.minimum, float) else str(spec.minimum)
        high = "" if spec.maximum is None else f"{spec.maximum:g}" if isinstance(spec.maximum, float) else str(spec.maximum)
        parts.append(f"range {low}..{high}")
    if spec.model_folder:
        parts.append(f"model file in `{spec.model_folder}`")
    if not spec.required:
        parts.append(spec.section)
    return ", ".join(parts)


def class_markdown(spec) -> str:
    """A node class's inputs and outputs, for hover and completion documentation."""
    title = f"**{spec.name}**" + (f" ({spec.display_name})" if spec.display_name and spec.display_name != spec.name else "")
    lines = [title]
    if spec.category:
        lines.append(f"category: `{spec.category}`" + ("; output node" if spec.output_node else ""))
    inputs = [s for s in spec.inputs.values() if not s.hidden]
    if inputs:
        lines += ["", "inputs:"]
        lines += [f"- `{s.name}`: {describe_input(s)}" for s in sorted(inputs, key=lambda s: not s.required)]
    if spec.outputs:
        lines += ["", "outputs:"]
        lines += [f"- `{o.name}`: `{o.type}`" + (" (list)" if o.is_list else "") for o in spec.outputs]
    return "\n".join(lines)


def input_markdown(class_name: str, spec) -> str:
    lines = [f"**{class_name}.{spec.name}**: {describe_input(spec)}"]
    if spec.options:
        shown = ", ".join(f"`{o}`" for o in spec.options[:30])
        more = f" and {len(spec.options) - 30} more" if len(spec.options) > 30 else ""
        lines += ["", f"options: {shown}{more}"]
    tooltip = spec.config.get("tooltip") if isinstance(spec.config, dict) else None
    if isinstance(tooltip, str):
        lines += ["", tooltip]
    return "\n".join(lines)


def fragment_signature(frag: ast.Fragment, text: str | None) -> str:
    def show(p: ast.FragmentParam) -> str:
        out = p.name.name + (f": {p.type}" if p.type else "")
        if p.default is not None and text is not None and p.default.span.start is not None:
            out += " = " + text[start_of(p.default):end_of(p.default)]
        return out
    return f"fragment {frag.name.name}({', '.join(show(p) for p in frag.params)})"


def symbol_markdown(symbol: Symbol, texts) -> str:
    node = symbol.node
    text = texts(symbol.path)
    if symbol.kind == "param":
        default = "" if node.default is None or text is None else " = " + text[start_of(node.default):end_of(node.default)]
        head = f"param {node.name.name}: {node.type}{default}"
        note = "required parameter (no default)" if node.default is None else "recipe parameter"
    elif symbol.kind == "fragment-param":
        default = "" if node.default is None or text is None else " = " + text[start_of(node.default):end_of(node.default)]
        head = f"{node.name.name}" + (f": {node.type}" if node.type else "") + default
        note = f"parameter of fragment `{symbol.owner.name.name}`"
    elif symbol.kind == "fragment":
        head = fragment_signature(node, text)
        returns = len(node.returns.values) if node.returns else 0
        note = f"fragment, returns {returns} value{'s' if returns != 1 else ''}"
    else:
        value = node.value
        shown = text[start_of(value):end_of(value)] if text is not None else ""
        if len(shown) > 80:
            shown = shown[:77] + "..."
        head = f"{', '.join(t.name for t in node.targets)} = {shown}"
        note = "variable" + (f" in fragment `{symbol.owner.name.name}`" if symbol.owner else "")
    return f"```comfy\n{head}\n```\n{note}"


# -- completion ------------------------------------------------------------------------------------


class Context:
    """Where the cursor is, read from the tokens before it."""

    def __init__(self, text: str, offset: int) -> None:
        base = max(0, offset - WINDOW)
        if base:
            base = text.rfind("\n", 0, base) + 1
        self.base = base
        self.tokens = lex(text[base:offset])
        self.offset = offset
        self.prefix = ""
        self.string: Token | None = None
        toks = self.tokens
        last = toks[-1] if toks else None
        if last is not None and last.kind == "string" and not last.closed and "\n" not in last.text[1:]:
            self.string = last
            self.before = toks[:-1]
        elif last is not None and last.kind == "name" and base + last.end == offset:
            self.prefix = last.text
            self.before = toks[:-1]
        else:
            self.before = toks
        self.prev = self.before[-1] if self.before else None
        self.open_call, self.open_index = self._open_bracket()

    def _open_bracket(self) -> tuple[str | None, int | None]:
        """The name before the innermost unclosed `(` (None if it is another bracket)."""
        depth = 0
        for i in range(len(self.before) - 1, -1, -1):
            tok = self.before[i]
            if tok.kind != "op":
                continue
            if tok.text in ")]}":
                depth += 1
            elif tok.text in "([{":
                if depth == 0:
                    if tok.text == "(" and i > 0 and self.before[i - 1].kind == "name":
                        return self.before[i - 1].text, i
                    return (None, None) if tok.text != "{" else ("{", i)
                depth -= 1
        return None, None

    def given_keywords(self) -> set[str]:
        """Keyword arguments already written in the open call (before the cursor)."""
        if self.open_index is None:
            return set()
        found, depth = set(), 0
        toks = self.before[self.open_index + 1:]
        for i, tok in enumerate(toks):
            if tok.kind == "op" and tok.text in "([{":
                depth += 1
            elif tok.kind == "op" and tok.text in ")]}":
                depth -= 1
            elif depth == 0 and tok.kind == "name" and i + 1 < len(toks) and toks[i + 1].text == "=":
                found.add(tok.text)
        return found


def completion(text: str, offset: int, index: Index | None, project, folder: str,
               doc_path: str) -> list[T.CompletionItem]:
    """Completion items for the cursor at `offset`."""
    ctx = Context(text, offset)
    catalog = project.target.catalog
    if ctx.string is not None:
        return _string_completion(ctx, text, offset, project, folder, doc_path)
    prev = ctx.prev
    if prev is not None and prev.text == "." and len(ctx.before) >= 2 and ctx.before[-2].kind == "name":
        return _output_completion(ctx.before[-2].text, text, offset, index, catalog)
    if prev is not None and prev.text == "@":
        return [T.CompletionItem(d, kind=T.CompletionItemKind.Function, detail="decorator") for d in DECORATORS]
    if prev is not None and prev.text == ":" and len(ctx.before) >= 3 and ctx.before[-3].text in ("param",) \
            or (prev is not None and prev.text == ":" and ctx.open_call is not None and ctx.open_call != "{"
                and _in_fragment_header(ctx)):
        return [T.CompletionItem(t, kind=T.CompletionItemKind.TypeParameter) for t in sorted(TYPES)]
    if prev is not None and prev.text in ("param", "fragment", "import") or (prev and prev.kind == "string"
                                                                               and len(ctx.before) >= 2
                                                                               and ctx.before[-2].text == "from"):
        if prev.kind == "string":
            return [T.CompletionItem("import", kind=T.CompletionItemKind.Keyword)]
        return []
    call = ctx.open_call
    if call not in (None, "{") and prev is not None and prev.text in ("(", ","):
        items = _argument_completion(call, ctx, index, offset, catalog, text)
        if items is not None:
            return items
    names = _names(index, offset, text)
    items = [T.CompletionItem(n, kind=T.CompletionItemKind.Variable if k == "variable" else
                              T.CompletionItemKind.Function if k == "fragment" else T.CompletionItemKind.Variable,
                              detail=k, sort_text="0" + n)
             for n, k in names]
    statement = prev is None or _line_start(text, offset - len(ctx.prefix)) and ctx.open_call in (None, "{")
    if statement:
        items += [T.CompletionItem(k, kind=T.CompletionItemKind.Keyword, sort_text="2" + k)
                  for k in ("param", "fragment", "import", "from", "return")]
    else:
        items += [T.CompletionItem(k, kind=T.CompletionItemKind.Keyword, sort_text="2" + k) for k in ("true", "false")]
    items += [T.CompletionItem(b, kind=T.CompletionItemKind.Function, detail="built-in", sort_text="1" + b)
              for b in BUILTINS]
    items += _class_items(catalog, ctx.prefix)
    return items


def _line_start(text: str, offset: int) -> bool:
    start = text.rfind("\n", 0, offset) + 1
    return text[start:offset].strip() == ""


def _in_fragment_header(ctx: Context) -> bool:
    i = ctx.open_index
    return i is not None and i >= 2 and ctx.before[i - 2].text == "fragment"


def _class_items(catalog, prefix: str) -> list[T.CompletionItem]:
    items = []
    low = prefix.lower()
    for name in catalog:
        try:
            spec = catalog[name]
        except Exception:  # a malformed catalogue entry: skip it here, lint reports it
            continue
        if low and low not in name.lower() and low not in (spec.display_name or "").lower():
            continue
        items.append(T.CompletionItem(
            name, kind=T.CompletionItemKind.Class, detail=spec.display_name or name,
            label_details=T.CompletionItemLabelDetails(description=spec.category or None),
            filter_text=f"{name} {spec.display_name or ''}".strip() if spec.display_name else name,
            sort_text="3" + name, data={"class": name}))
    return items


def resolve_item(item: T.CompletionItem, project) -> T.CompletionItem:
    """Add a class's inputs and outputs to a class completion item."""
    data = item.data if isinstance(item.data, dict) else {}
    name = data.get("class")
    if name and name in project.target.catalog:
        item.documentation = T.MarkupContent(T.MarkupKind.Markdown, class_markdown(project.target.catalog[name]))
    return item


def _names(index: Index | None, offset: int, text: str) -> list[tuple[str, str]]:
    """Parameters, variables and fragments visible at `offset`."""
    if index is not None:
        seen: dict[str, str] = {}
        frag = index.fragment_at(offset)
        if frag is not None:
            for name, sym in index.locals.get(id(frag), {}).items():
                seen[name] = "parameter" if sym.kind == "fragment-param" else "variable"
        for name, sym in index.globals.items():
            if frag is not None and sym.kind in ("variable", "param"):
                continue  # a fragment sees only its own names and other fragments
            seen.setdefault(name, {"param": "parameter"}.get(sym.kind, sym.kind))
        return sorted(seen.items())
    found = {m.group(1): "parameter" for m in re.finditer(r"(?m)^\s*param\s+([A-Za-z_]\w*)", text)}
    found.update({m.group(1): "fragment" for m in re.finditer(r"(?m)^\s*fragment\s+([A-Za-z_]\w*)", text)})
    for m in re.finditer(r"(?m)^\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*=(?!=)", text):
        for name in m.group(1).split(","):
            found.setdefault(name.strip(), "variable")
    return sorted(found.items())


def _argument_completion(call: str, ctx: Context, index: Index | None, offset: int, catalog,
                         text: str) -> list[T.CompletionItem] | None:
    given = ctx.given_keywords()
    if index is not None:
        symbol = index.lookup(call, offset)
        if symbol is not None and symbol.kind == "fragment":
            items = [T.CompletionItem(p.name.name, kind=T.CompletionItemKind.Field, insert_text=p.name.name + "=",
                                      detail=(p.type or "any") + ("" if p.default is None else " (optional)"),
                                      sort_text=("1" if p.default is not None else "0") + f"{i:03}")
                     for i, p in enumerate(symbol.node.params) if p.name.name not in given]
            return items + [T.CompletionItem(n, kind=T.CompletionItemKind.Variable, detail=k, sort_text="2" + n)
                            for n, k in _names(index, offset, text)]
    if call in BUILTINS or call not in catalog:
        return None if call in BUILTINS or call in (KEYWORDS | TYPES) else []
    spec = catalog[call]
    items = []
    for i, inp in enumerate(spec.inputs.values()):
        if inp.hidden or inp.name in given:
            continue
        items.append(T.CompletionItem(
            inp.name, kind=T.CompletionItemKind.Field, insert_text=inp.name + "=",
            detail=describe_input(inp),
            documentation=T.MarkupContent(T.MarkupKind.Markdown, input_markdown(call, inp)),
            sort_text=("0" if inp.required else "1") + f"{i:03}"))
    return items


def _output_completion(var: str, text: str, offset: int, index: Index | None, catalog) -> list[T.CompletionItem]:
    class_name = None
    if index is not None:
        call = index.variable_call(var, offset)
        class_name = call.func.name if call is not None else None
    if class_name is None:
        match = None
        for match in re.finditer(rf"(?m)^\s*{re.escape(var)}\s*=\s*([A-Za-z_]\w*)\s*\(", text[:offset]):
            pass
        class_name = match.group(1) if match else None
    if class_name is None or class_name not in catalog:
        return []
    spec = catalog[class_name]
    return [T.CompletionItem(o.name, kind=T.CompletionItemKind.Property, detail=f"{o.type} (output {o.index})",
                             sort_text=f"{o.index:03}") for o in spec.outputs]


def _string_completion(ctx: Context, text: str, offset: int, project, folder: str,
                       doc_path: str) -> list[T.CompletionItem]:
    string = ctx.string
    assert string is not None
    start = ctx.base + string.start + (3 if string.text[:3] in ('"""', "'''") else 1)
    src = SourceText(text)
    edit_range = lsp_range(src, start, offset)
    typed = text[start:offset]
    prev = ctx.prev
    if prev is not None and prev.text in ("import", "from"):
        return [T.CompletionItem(p, kind=T.CompletionItemKind.File, text_edit=T.TextEdit(edit_range, p))
                for p in import_paths(folder, doc_path) if p.startswith(typed.rsplit("/", 1)[0] if "/" in typed else "")]
    opened = ctx.open_index or 0
    if (ctx.open_call == DECORATOR_KEYS and prev is not None and prev.text in ("(", ",") and opened >= 2
            and ctx.before[opened - 2].text == "@"):  # `@keys("inputs", "class_type")`
        return [T.CompletionItem(k, kind=T.CompletionItemKind.EnumMember, detail="node key",
                                 text_edit=T.TextEdit(edit_range, k), sort_text=f"{i:05}")
                for i, k in enumerate(NODE_KEYS) if k.startswith(typed)]
    if prev is None or prev.text != "=" or len(ctx.before) < 2 or ctx.before[-2].kind != "name":
        return []
    call = ctx.open_call
    catalog = project.target.catalog
    if call in (None, "{") or call not in catalog:
        return []
    spec = catalog[call].inputs.get(ctx.before[-2].text)
    if spec is None:
        return []
    values: list[tuple[str, str]] = []
    if spec.options:
        values = [(str(o), "option") for o in spec.options if isinstance(o, (str, int, float))]
    elif spec.model_folder and project.target.models is not None:
        values = [(f, f"model file in {spec.model_folder}") for f in project.target.models.files(spec.model_folder)]
    return [T.CompletionItem(v, kind=T.CompletionItemKind.EnumMember if d == "option" else T.CompletionItemKind.File,
                             detail=d, text_edit=T.TextEdit(edit_range, v), sort_text=f"{i:05}")
            for i, (v, d) in enumerate(values)]


def import_paths(folder: str, doc_path: str, limit: int = 500) -> list[str]:
    """`.comfy` files below `folder`, relative to it, for import completion."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__"))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if name.endswith(".comfy") and os.path.abspath(path) != os.path.abspath(doc_path):
                found.append(os.path.relpath(path, folder).replace(os.sep, "/"))
                if len(found) >= limit:
                    return found
    return found


# -- hover -----------------------------------------------------------------------------------------


def hover(text: str, offset: int, index: Index | None, project, diagnostics: list, texts) -> T.Hover | None:
    """Documentation for the thing under the cursor, and the rules of the findings there."""
    src = SourceText(text)
    parts: list[str] = []
    span: tuple[int, int] | None = None
    catalog = project.target.catalog
    if index is not None:
        ref = index.ref_at(offset)
        call = index.call_at(offset)
        if ref is not None and ref.symbol is not None:
            parts.append(symbol_markdown(ref.symbol, texts))
            span = (ref.start, ref.end)
        elif call is not None and start_of(call.func) <= offset <= end_of(call.func) and call.func.name in catalog:
            parts.append(class_markdown(catalog[call.func.name]))
            span = (start_of(call.func), end_of(call.func))
        elif call is not None and call.func.name in catalog:
            for kw in call.keywords:
                if start_of(kw.name) <= offset <= end_of(kw.name):
                    spec = catalog[call.func.name].inputs.get(kw.name.name)
                    if spec is not None:
                        parts.append(input_markdown(call.func.name, spec))
                        span = (start_of(kw.name), end_of(kw.name))
        if not parts:
            found = _attr_at(index, offset, catalog)
            if found is not None:
                parts.append(found[0])
                span = found[1]
    docs = None
    for diag in diagnostics:
        if diag.location.span is None:
            continue
        start, end = src.span_offsets(diag.location.span)
        if start <= offset <= end:
            docs = docs or _rule_docs()
            rule = docs.get(diag.code)
            if rule is not None:
                parts.append(f"**{rule.code}** `{rule.name}` ({diag.severity.value})\n\n{rule.doc()}")
    if not parts:
        return None
    return T.Hover(T.MarkupContent(T.MarkupKind.Markdown, "\n\n---\n\n".join(parts)),
                   range=lsp_range(src, *span) if span else None)


_RULES: dict | None = None


def _rule_docs() -> dict:
    global _RULES
    if _RULES is None:
        from .project import rule_docs

        _RULES = rule_docs()
    return _RULES


def _attr_at(index: Index, offset: int, catalog):
    for stmt in index.module.statements:
        if not (start_of(stmt) <= offset <= end_of(stmt)):
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Attr) and start_of(node.attr) <= offset <= end_of(node.attr) \
                    and isinstance(node.value, ast.Name):
                call = index.variable_call(node.value.name, offset)
                if call is None or call.func.name not in catalog:
                    return None
                try:
                    out = catalog[call.func.name].output(node.attr.name)
                except KeyError:
                    return None
                text = f"**{call.func.name}** output {out.index} `{out.name}`: `{out.type}`"
                return text, (start_of(node.attr), end_of(node.attr))
    return None


# -- code actions ----------------------------------------------------------------------------------

_SIMILAR = re.compile(r"similar name exists: (.*)")


def suggestions(help_text: str | None) -> list[str]:
    """The names a finding's help suggests (`a ... with a similar name exists: `x` or `y``)."""
    match = _SIMILAR.search(help_text or "")
    return re.findall(r"`([^`]+)`", match.group(1)) if match else []


def code_actions(uri: str, text: str, diagnostics: list, lsp_diagnostics: list[T.Diagnostic],
                 index: Index | None, project) -> list[T.CodeAction]:
    """Quick fixes for the findings in the request that have an unambiguous fix."""
    src = SourceText(text)
    actions: list[T.CodeAction] = []
    for shown in lsp_diagnostics:
        start = src.offset(shown.range.start.line, shown.range.start.character)
        end = src.offset(shown.range.end.line, shown.range.end.character)
        diag = next((d for d in diagnostics if d.code == shown.code and d.location.span is not None
                     and src.span_offsets(d.location.span) == (start, end)), None)
        if diag is None:
            continue
        for title, edits in _fixes(diag, text, start, end, index, project):
            actions.append(T.CodeAction(
                title, kind=T.CodeActionKind.QuickFix, diagnostics=[shown],
                is_preferred=True if len(edits) and title.startswith(("replace `True`", "replace `False`", "add `")) else None,
                edit=T.WorkspaceEdit(changes={uri: [T.TextEdit(lsp_range(src, s, e), new) for s, e, new in edits]})))
    return actions


def _fixes(diag, text: str, start: int, end: int, index: Index | None, project):
    written = text[start:end]
    code = diag.code
    if code == "CD110" and written in ("True", "False"):
        yield f"replace `{written}` with `{written.lower()}`", [(start, end, written.lower())]
    elif code in ("CD101", "CD113", "CD110"):
        for name in suggestions(diag.help):
            if IDENT.match(name):
                yield f"replace `{written}` with `{name}`", [(start, end, name)]
    elif code == "CD202" and diag.input and written.startswith(diag.input):
        for name in suggestions(diag.help):
            yield f"rename input `{diag.input}` to `{name}`", [(start, start + len(diag.input), name)]
    elif code == "CD201" and index is not None:
        fix = _missing_input(diag, start, index, project, text)
        if fix is not None:
            yield fix


def _missing_input(diag, at: int, index: Index, project, text: str):
    catalog = project.target.catalog
    if diag.class_type not in catalog or diag.input is None:
        return None
    spec = catalog[diag.class_type].inputs.get(diag.input)
    if spec is None or spec.default is None or spec.takes_link_only:
        return None
    call = next((c for c in index.calls if start_of(c.func) == at), None)
    if call is None:
        return None
    close = end_of(call) - 1  # the `)`
    value = f"{diag.input}={literal(spec.default)}"
    inner = text[end_of(call.func) + 1:close]
    if not call.args:
        return f"add `{value}`", [(close, close, value)]
    last_start, last_end = start_of(call.args[-1]), end_of(call.args[-1])
    between = text[last_end:close]
    if "\n" in inner.strip("\n") or "\n" in between:
        line_start = text.rfind("\n", 0, last_start) + 1
        indent = text[line_start:last_start]
        indent = indent if indent.strip() == "" else "    "
        comma = "" if between.lstrip().startswith(",") else ","
        insert_at = last_end + (between.index(",") + 1 if comma == "" else 0)
        return f"add `{value}`", [(insert_at, insert_at, f"{comma}\n{indent}{value}," if comma == "" else
                                   f",\n{indent}{value}")]
    comma = "" if between.strip().startswith(",") else ", "
    if comma == "":
        return f"add `{value}`", [(close, close, (" " if not between.endswith(" ") else "") + value)]
    return f"add `{value}`", [(last_end, last_end, comma + value)]


# -- semantic tokens -------------------------------------------------------------------------------

TOKEN_TYPES = ["keyword", "type", "class", "function", "variable", "parameter", "property", "string",
               "number", "comment", "decorator", "operator"]
TOKEN_MODIFIERS = ["declaration", "defaultLibrary"]
_TYPE = {name: i for i, name in enumerate(TOKEN_TYPES)}


def semantic_tokens(text: str, index: Index | None) -> list[int]:
    """The protocol's relative encoding of every token's kind."""
    src = SourceText(text)
    toks = lex(text)
    params = _param_names(index, text)
    fragments = set(index.fragment_names()) if index is not None else set(
        re.findall(r"(?m)^\s*fragment\s+([A-Za-z_]\w*)", text))
    data: list[int] = []
    last_line = last_col = 0
    depth = 0
    header = False  # inside `fragment name(...)`
    for i, tok in enumerate(toks):
        kind, mods = _classify(toks, i, depth, header, params, fragments, index)
        if tok.kind == "op":
            if tok.text in "([{":
                if tok.text == "(" and i >= 2 and toks[i - 2].text == "fragment":
                    header = True
                depth += 1
            elif tok.text in ")]}":
                depth = max(0, depth - 1)
                if depth == 0:
                    header = False
        if kind is None:
            continue
        start = tok.start
        for piece in tok.text.split("\n"):
            line, col = src.position(start)
            length = len(piece) + sum(1 for c in piece if ord(c) > 0xFFFF)
            if length:
                data += [line - last_line, col - last_col if line == last_line else col, length, _TYPE[kind], mods]
                last_line, last_col = line, col
            start += len(piece) + 1
    return data


def _param_names(index: Index | None, text: str) -> set[str]:
    if index is None:
        return set(re.findall(r"(?m)^\s*param\s+([A-Za-z_]\w*)", text))
    names = {n for n, s in index.globals.items() if s.kind == "param"}
    for local in index.locals.values():
        names |= {n for n, s in local.items() if s.kind == "fragment-param"}
    return names


def _classify(toks: list[Token], i: int, depth: int, header: bool, params: set[str], fragments: set[str],
              index: Index | None) -> tuple[str | None, int]:
    tok = toks[i]
    if tok.kind in ("comment", "string", "number"):
        return tok.kind, 0
    if tok.kind == "op":
        if tok.text == "@":
            return "decorator", 0
        return ("operator", 0) if tok.text in "+-*/%=//" else (None, 0)
    if tok.kind != "name":
        return None, 0
    prev = toks[i - 1] if i else None
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if tok.text in KEYWORDS:
        return "keyword", 0
    if tok.text in TYPES and prev is not None and prev.text == ":":
        return "type", 0
    if prev is not None and prev.text == "@":
        return "decorator", 0
    if prev is not None and prev.text == ".":
        return "property", 0
    if prev is not None and prev.text in ("param",):
        return "parameter", 1
    if prev is not None and prev.text == "fragment":
        return "function", 1
    if nxt is not None and nxt.text == "(":
        if tok.text in BUILTINS:
            return "function", 2
        return ("function", 0) if tok.text in fragments else ("class", 0)
    if header and depth == 1 and (prev is not None and prev.text in ("(", ",")):
        return "parameter", 1
    if depth and nxt is not None and nxt.text == "=" and prev is not None and prev.text in ("(", ","):
        return "property", 0
    if prev is not None and prev.text == "import" or (index is None and tok.text in fragments):
        return "function", 0
    if tok.text in params:
        return "parameter", 0
    decl = 1 if nxt is not None and nxt.text in ("=", ",") and depth == 0 and (prev is None or prev.text != "=") else 0
    return "variable", decl
