"""The recipe formatter: one canonical layout for `.comfy` files, comments kept.

The layout:

- 4-space indentation inside fragment bodies; one statement per line; decorators on
  their own line just above the statement they decorate.
- Spaces around `=` in assignments, parameters and annotated fragment parameters, none
  around `=` of keyword arguments (`f(x=1)`); one space after `,` and `:`; spaces around
  binary operators, none after a unary minus, none around `.` and before `(`/`[` of a
  call or index.
- A statement longer than 100 columns has its last bracket group (call arguments, list,
  object, fragment parameters) wrapped one item per line, each item ending with a comma;
  items that are still too long are wrapped the same way. A bracket group that holds a
  comment is always wrapped.
- Sections (imports, parameters, each fragment, node statements) are separated by one
  blank line; inside a section at most one blank line is kept where the source had one.
- Short strings use double quotes with the escapes `\\" \\\\ \\n \\r \\t \\uXXXX`;
  triple-quoted strings and numbers are kept as written.
- Comments stay where they were: own-line comments before the statement (or item) that
  follows them, end-of-line comments after the statement (or item), two spaces before `#`.

The formatter reads its tokens, comments included, with the grammar's own lexer (see
`parser.tokens`), and checks that its output holds the same tokens, with the same string
values, and the same comments as its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ..diagnostics import Span
from ..errors import FormatError, ParseError, UnsafeFormat
from .syntax import STATEMENT_KEYWORDS
from .syntax import decode_string, is_name, quote

#: Lines longer than this are wrapped.
LINE_LENGTH = 100
INDENT = "    "

_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {v: k for k, v in _OPEN.items()}
_BINARY = frozenset({"+", "-", "*", "/", "//", "%"})
#: The formatter's token kinds by grammar terminal; keywords are names, other terminals
#: (punctuation and operators) are "op".
_KINDS = {"NAME": "name", "TYPE": "name", "STRING": "string", "LONG_STRING": "long", "INT": "int",
          "FLOAT": "float", "COMMENT": "comment"}




@dataclass(slots=True)
class Token:
    """One lexical token with its position; `own_line` marks the first token of a line."""

    kind: str
    text: str
    line: int
    column: int
    start: int
    own_line: bool = False
    unary: bool = False
    #: a statement keyword as such, not as a name (an output after `.` may be called `return`)
    keyword: bool = False

    @property
    def is_comment(self) -> bool:
        return self.kind == "comment"


def tokenize(text: str, path: str | None = None) -> list[Token]:
    """The tokens of a recipe, comments included, whitespace and newlines left out. The
    grammar's lexer reads them (see `parser.tokens`); FormatError at a character it cannot read."""
    from .parser import ignored_terminals
    from .parser import tokens as lex

    skip = ignored_terminals() - {"COMMENT"}
    found: list[Token] = []
    last_line = 0  # the line on which the previous token ended
    previous: Token | None = None  # the previous token other than a comment
    try:
        for tok in lex(text, path):
            if tok.type in skip:
                continue
            value = str(tok)
            kind = _KINDS.get(tok.type) or ("name" if is_name(value) else "op")
            line = tok.line or 0
            token = Token(kind, value, line, tok.column or 0, tok.start_pos or 0, own_line=line > last_line)
            if value in STATEMENT_KEYWORDS:
                token.keyword = not (previous is not None and previous.text == ".")
            found.append(token)
            if kind != "comment":
                previous = token
            last_line = tok.end_line or line
    except FormatError:
        raise
    except ParseError as exc:
        raise FormatError(str(exc), span=exc.span, source=text, detail=exc.detail) from None
    return found


def normalize_string(token: Token) -> str:
    """Short strings in double quotes with canonical escapes; triple-quoted ones as written."""
    if token.kind != "string":
        return token.text
    return quote(decode_string(token.text))


# -- structure ---------------------------------------------------------------------------
@dataclass
class Group:
    """A bracket pair and the comma-separated items inside it."""

    open: Token
    close: Token | None
    items: list[Item] = field(default_factory=list)
    dangling: list[Token] = field(default_factory=list)
    wrappable: bool = True

    @property
    def first(self) -> Token:
        return self.open

    @property
    def last(self) -> Token:
        return self.close or self.open


@dataclass
class Item:
    """One element of a bracket group, with the comments that belong to it."""

    elems: list = field(default_factory=list)
    leading: list[Token] = field(default_factory=list)
    trailing: list[Token] = field(default_factory=list)
    annotated: bool = False


@dataclass
class Entry:
    """A line-level piece of a block: a statement, a comment, or a fragment with its body."""

    kind: str  # "stmt", "comment", "fragment"
    tokens: list[Token] = field(default_factory=list)
    blank_before: bool = False
    trailing: list[Token] = field(default_factory=list)
    body: list[Entry] = field(default_factory=list)
    close_trailing: list[Token] = field(default_factory=list)

    @property
    def section(self) -> str:
        if self.kind == "fragment":
            return "fragment"
        head = self.tokens[0].text if self.tokens else ""
        if head in ("import", "from"):
            return "imports"
        if head == "param":
            return "params"
        return "body"


def _ends_expression(tok: Token | None) -> bool:
    if tok is None:
        return False
    if tok.kind in ("name",):
        return not tok.keyword
    return tok.kind in ("string", "long", "int", "float") or tok.text in (")", "]", "}")


def split_entries(tokens: list[Token], path: str | None = None, text: str = "") -> list[Entry]:
    """Group tokens into top-level entries (fragments hold their own entries)."""
    root: list[Entry] = []
    stack: list[list[Entry]] = [root]
    frames: list[Entry] = []
    current: list[Token] = []
    pending: list[Token] = []  # own-line comments at depth 0 not yet placed
    depth = 0
    last_sig: Token | None = None
    decorators_only = False
    last_end_line = 0

    def blank(first_line: int) -> bool:
        return last_end_line > 0 and first_line > last_end_line + 1

    def flush() -> None:
        nonlocal current, last_end_line
        if current:
            sig = [t for t in current if not t.is_comment]
            entry = Entry("stmt", current, blank_before=blank(current[0].line))
            stack[-1].append(entry)
            last_end_line = max(last_end_line, sig[-1].line + sig[-1].text.count("\n") if sig else 0)
            current = []

    def place_pending(inside: bool) -> None:
        nonlocal pending, last_end_line
        if inside:
            current.extend(pending)
        else:
            for com in pending:
                stack[-1].append(Entry("comment", [com], blank_before=blank(com.line)))
                last_end_line = com.line
        pending = []

    for tok in tokens:
        if tok.is_comment:
            if tok.own_line and depth == 0:
                pending.append(tok)
            elif current or depth:
                current.append(tok)
            elif frames and last_sig is not None and last_sig.text == "{" and not stack[-1]:
                frames[-1].trailing.append(tok)  # after the `{` of a fragment header
            elif stack[-1] and not pending:
                _attach_after(stack[-1][-1], tok)
            else:
                pending.append(tok)
            continue
        if depth == 0:
            if tok.text == "}" and len(stack) > 1:
                flush()
                place_pending(False)
                frame = frames.pop()
                stack.pop()
                last_end_line = tok.line
                last_sig = tok
                continue
            # a name or `@` first on its line, after a complete expression, starts a statement
            starts = (tok.own_line and (tok.kind == "name" or tok.text == "@") and _ends_expression(last_sig)
                      and not decorators_only)
            if current and starts:
                flush()
            place_pending(inside=bool(current))
            if not current:
                decorators_only = tok.text == "@"
            elif decorators_only and tok.kind == "name" and last_sig is not None and last_sig.text == ")":
                decorators_only = False
            if tok.text == "{" and current and current[0].text == "fragment":
                frame = Entry("fragment", current, blank_before=blank(current[0].line))
                stack[-1].append(frame)
                frames.append(frame)
                stack.append(frame.body)
                last_end_line = tok.line
                current = []
                last_sig = tok
                continue
        if tok.text in _OPEN:
            depth += 1
        elif tok.text in _CLOSE:
            if depth == 0:
                raise _syntax(tok, f"unmatched `{tok.text}`", path, text)
            depth -= 1
        current.append(tok)
        last_sig = tok
    if depth or frames:
        where = frames[-1].tokens[0] if frames and not depth else (current[0] if current else tokens[-1])
        raise _syntax(where, "unclosed bracket or fragment body", path, text)
    flush()
    place_pending(False)
    return root


def _attach_after(entry: Entry, tok: Token) -> None:
    if entry.kind == "fragment":
        entry.close_trailing.append(tok)
    else:
        entry.trailing.append(tok)


def _syntax(tok: Token, message: str, path: str | None, text: str) -> FormatError:
    return FormatError(f"{path or '<recipe>'}:{tok.line}:{tok.column}: {message}",
                       span=Span(path, tok.line, tok.column, start=tok.start, end=tok.start + len(tok.text)),
                       source=text, detail=message)


def build(tokens: list[Token]) -> tuple[list, list[Token], list[Token], list[tuple[int, Token]]]:
    """The element tree of one statement: tokens and Groups; plus its leading and trailing
    comments, and the comments among its decorators (with how many decorators precede each)."""
    leading: list[Token] = []
    trailing: list[Token] = []
    among_decorators: list[tuple[int, Token]] = []
    elems: list = []
    prev: Token | None = None
    it = iter(tokens)
    for tok in it:
        if tok.is_comment:
            if elems:
                decorators, rest = _split_decorators(elems)
                if decorators and not rest:  # the statement itself has not started yet
                    among_decorators.append((len(decorators), tok))
                    continue
            (leading if tok.own_line and not elems else trailing).append(tok)
            continue
        if trailing:  # comments between two tokens of the statement go above it, in order
            leading += trailing
            trailing = []
        _mark_unary(tok, prev)
        if tok.text in _OPEN:
            group, prev = _build_group(tok, it, elems[-1] if elems else None)
            elems.append(group)
            continue
        elems.append(tok)
        prev = tok
    return elems, leading, trailing, among_decorators


def _mark_unary(tok: Token, prev: Token | None) -> None:
    if tok.text == "-":
        tok.unary = (prev is None or prev.text in _BINARY or prev.text in "=,:([{@"
                     or (prev.keyword and prev.text == "return"))


def _build_group(open_tok: Token, it: Iterator[Token], before) -> tuple[Group, Token]:
    before_tok = before.last if isinstance(before, Group) else before
    group = Group(open_tok, None)
    if open_tok.text == "(":
        group.wrappable = before_tok is not None and before_tok.kind == "name" and not before_tok.keyword
    elif open_tok.text == "[":
        # after anything that ends an expression (a name, a literal, a closing bracket) `[` is
        # an index, which must stay on one line; elsewhere it opens a list
        group.wrappable = not _ends_expression(before_tok)
    item = Item()
    pending: list[Token] = []
    prev: Token = open_tok
    last_item: Item | None = None
    for tok in it:
        if tok.is_comment:
            if tok.own_line:
                pending.append(tok)
            elif item.elems:
                item.trailing.append(tok)
            elif last_item is not None:
                last_item.trailing.append(tok)
            else:
                pending.append(tok)
            continue
        _mark_unary(tok, prev)
        if tok.text == _OPEN[open_tok.text]:
            group.close = tok
            if item.elems:
                group.items.append(item)
                item.leading = pending + item.leading
                pending = []
            group.dangling = pending
            return group, tok
        if tok.text == ",":
            group.items.append(item)
            last_item, item = item, Item()
            prev = tok
            continue
        if not item.elems and pending:
            item.leading, pending = pending, []
        if tok.text == ":" and open_tok.text == "(":
            item.annotated = True
        if tok.text in _OPEN:
            sub, prev = _build_group(tok, it, item.elems[-1] if item.elems else None)
            item.elems.append(sub)
            continue
        item.elems.append(tok)
        prev = tok
    raise ValueError("unbalanced brackets")  # split_entries has checked the balance


# -- rendering ---------------------------------------------------------------------------
def _space(prev, nxt, tight_eq: bool) -> str:
    a = prev.last if isinstance(prev, Group) else prev
    b = nxt.first if isinstance(nxt, Group) else nxt
    if b.text in (",", ":") or a.text in (".", "@") or b.text == ".":
        return ""
    if a.unary:
        return ""
    if b.text == "=" or a.text == "=":
        return "" if tight_eq else " "
    if b.text == "(" and isinstance(nxt, Group):
        return "" if a.kind == "name" and not a.keyword else " "
    if b.text == "[" and isinstance(nxt, Group) and not nxt.wrappable:
        return ""
    return " "


def _flat(elems: list, tight_eq: bool, hoisted: list[Token]) -> str:
    out: list[str] = []
    prev = None
    for elem in elems:
        if prev is not None:
            out.append(_space(prev, elem, tight_eq))
        out.append(_flat_group(elem, hoisted) if isinstance(elem, Group) else _tok_text(elem))
        prev = elem
    return "".join(out)


def _tok_text(tok: Token) -> str:
    return normalize_string(tok)


def _flat_group(group: Group, hoisted: list[Token]) -> str:
    tight = group.open.text == "("
    parts = []
    for item in group.items:
        hoisted.extend(item.leading)
        hoisted.extend(item.trailing)
        parts.append(_flat(item.elems, tight and not item.annotated, hoisted))
    hoisted.extend(group.dangling)
    return group.open.text + ", ".join(parts) + _OPEN[group.open.text]


def _has_comments(elems: list) -> bool:
    for elem in elems:
        if isinstance(elem, Group):
            if elem.dangling or any(i.leading or i.trailing or _has_comments(i.elems) for i in elem.items):
                return True
    return False


def render_elems(elems: list, indent: str, tight_eq: bool, suffix: str = "",
                 reserve: int = 0) -> tuple[list[str], list[Token]]:
    """Lines for a sequence of elements at `indent`, wrapping as needed; plus comments to hoist.

    `reserve` is room kept at the end of a single line (for a trailing comment)."""
    hoisted: list[Token] = []
    flat = _flat(elems, tight_eq, hoisted)
    # only a group that wrapping opens up keeps comments in place; comments held by groups
    # that stay on one line (an index, a parenthesised expression) go above the statement,
    # and wrapping some other group for them would be undone by the next pass. An empty
    # group without comments is never opened: `[` and `]` on two lines hold nothing.
    candidates = [i for i, e in enumerate(elems) if isinstance(e, Group) and e.wrappable and (e.items or e.dangling)]
    with_comments = [i for i in candidates if _has_comments([elems[i]])]
    if len(indent) + len(flat) + len(suffix) + reserve <= LINE_LENGTH and not with_comments:
        return [indent + flat + suffix], hoisted
    if not candidates:
        return [indent + flat + suffix], hoisted
    wrap_at = (with_comments or candidates)[-1]
    hoisted = []
    head_elems, group, tail_elems = elems[:wrap_at], elems[wrap_at], elems[wrap_at + 1:]
    head = _flat(head_elems, tight_eq, hoisted)
    if head_elems:
        head += _space(head_elems[-1], group, tight_eq)
    lines = [indent + head + group.open.text]
    inner = indent + INDENT
    tight = group.open.text == "("
    for item in group.items:
        lines += [inner + c.text.rstrip() for c in item.leading]
        item_lines, sub_hoisted = render_elems(item.elems, inner, tight and not item.annotated, ",")
        lines += [inner + c.text.rstrip() for c in sub_hoisted]
        if item.trailing:
            item_lines[-1] += "  " + item.trailing[0].text.rstrip()
            item_lines += [inner + c.text.rstrip() for c in item.trailing[1:]]
        lines += item_lines
    lines += [inner + c.text.rstrip() for c in group.dangling]
    tail = _OPEN[group.open.text]
    if tail_elems:
        tail += _space(group, tail_elems[0], tight_eq) + _flat(tail_elems, tight_eq, hoisted)
    lines.append(indent + tail + suffix)
    return lines, hoisted


def _split_decorators(elems: list) -> tuple[list[list], list]:
    decorators: list[list] = []
    i = 0
    while i < len(elems) and isinstance(elems[i], Token) and elems[i].text == "@":
        end = i + 2
        if end < len(elems) and isinstance(elems[end], Group):
            end += 1
        decorators.append(elems[i:end])
        i = end
    return decorators, elems[i:]


def render_stmt(tokens: list[Token], indent: str, suffix: str = "") -> list[str]:
    """The lines of one statement (decorators, the statement, its comments)."""
    elems, leading, trailing, among_decorators = build(tokens)
    decorators, rest = _split_decorators(elems)
    out = [indent + c.text.rstrip() for c in leading]
    body: list[str] = []
    hoisted: list[Token] = []
    if decorators:
        texts = [_flat(d, True, hoisted) for d in decorators]
        joined = " ".join(texts)
        if not among_decorators and len(indent) + len(joined) <= LINE_LENGTH:
            body.append(indent + joined)
        else:  # one per line, each comment staying after the decorator it followed
            for number, text in enumerate(texts, 1):
                body.append(indent + text)
                for _, comment in (c for c in among_decorators if c[0] == number):
                    if comment.own_line or body[-1].lstrip().startswith("#"):
                        body.append(indent + comment.text.rstrip())
                    else:
                        body[-1] += "  " + comment.text.rstrip()
    reserve = len("  " + trailing[0].text.rstrip()) if trailing else 0
    lines, more = render_elems(rest, indent, False, suffix, reserve)
    hoisted += more
    body += lines
    out += [indent + c.text.rstrip() for c in hoisted]
    if trailing:
        body[-1] += "  " + trailing[0].text.rstrip()
        body += [indent + c.text.rstrip() for c in trailing[1:]]
    return out + body


def render_entries(entries: list[Entry], indent: str) -> list[str]:
    """The lines of a block: sections apart, comments in place."""
    lines: list[str] = []
    groups: list[list[Entry]] = []
    current: list[Entry] = []
    for entry in entries:
        current.append(entry)
        if entry.kind != "comment":
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    prev_group: list[Entry] | None = None
    for group in groups:
        head = group[-1]
        if prev_group is not None:
            prev_head = prev_group[-1]
            apart = (head.kind != "comment" and prev_head.kind != "comment"
                     and (head.section != prev_head.section or "fragment" in (head.kind, prev_head.kind)))
            if apart or group[0].blank_before:
                lines.append("")
        for i, entry in enumerate(group):
            if i and entry.blank_before:
                lines.append("")
            lines += _render_entry(entry, indent)
        prev_group = group
    return lines


def _render_entry(entry: Entry, indent: str) -> list[str]:
    if entry.kind == "comment":
        return [indent + entry.tokens[0].text.rstrip()]
    if entry.kind == "stmt":
        tokens = entry.tokens + entry.trailing
        return render_stmt(tokens, indent)
    lines = render_stmt(entry.tokens + [t for t in entry.trailing], indent, " {")
    body = entry.body
    if body:
        body[0].blank_before = False
    lines += render_entries(body, indent + INDENT)
    close = indent + "}"
    if entry.close_trailing:
        close += "  " + entry.close_trailing[0].text.rstrip()
        lines.append(close)
        lines += [indent + c.text.rstrip() for c in entry.close_trailing[1:]]
    else:
        lines.append(close)
    return lines


# -- entry points ------------------------------------------------------------------------
def format_source(text: str, path: str | None = None) -> str:
    """The canonical layout of a recipe. Raises ParseError (with a span) on bad syntax."""
    from .parser import parse

    text = text.removeprefix("\ufeff")  # a byte order mark is not part of the recipe
    parse(text, path)
    tokens = tokenize(text, path)
    if not tokens:
        return ""
    entries = split_entries(tokens, path, text)
    if entries:
        entries[0].blank_before = False
    result = "\n".join(line.rstrip() for line in render_entries(entries, "")) + "\n"
    _check_same(tokens, tokenize(result, path), path)
    try:  # a layout the parser would read differently (or not at all) is never written
        parse(result, path)
    except ParseError:
        raise UnsafeFormat(f"{path or '<recipe>'}: the formatter's layout of this file does not parse, so the "
                           "file is left as it is; this is a bug in comfydsl fmt, please report it with the "
                           "file") from None
    return result


def _signature(tokens: list[Token]) -> list[tuple[str, str]]:
    sig = []
    sig_tokens = [t for t in tokens if not t.is_comment]
    for i, tok in enumerate(sig_tokens):
        if tok.text == "," and i + 1 < len(sig_tokens) and sig_tokens[i + 1].text in _CLOSE:
            continue  # trailing commas come and go with wrapping
        sig.append(("string", decode_string(tok.text)) if tok.kind == "string" else (tok.kind, tok.text))
    return sig


def _check_same(before: list[Token], after: list[Token], path: str | None) -> None:
    comments_before = sorted(t.text.rstrip() for t in before if t.is_comment)
    comments_after = sorted(t.text.rstrip() for t in after if t.is_comment)
    if _signature(before) != _signature(after) or comments_before != comments_after:
        raise UnsafeFormat(f"{path or '<recipe>'}: the formatter would change what the recipe says, so the "
                           "file is left as it is; this is a bug in comfydsl fmt, please report it with the file")


def check_formatted(text: str, path: str | None = None) -> bool:
    """Whether `text` is already in the canonical layout."""
    return format_source(text, path) == text
