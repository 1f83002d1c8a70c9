"""The facts of the `.comfy` recipe language, in one place.

The grammar (`grammars/comfy.lark`) says how text is built; this module names what the
other stages need to know about its words and literals: the keywords, the built-in
calls and decorators, the parameter types, what makes an identifier, and how string
literals are read (`decode_string`) and written (`quote`). `tests/dsl/test_syntax.py`
checks that these facts agree with the grammar.

Stdlib only, and imports nothing else from comfydsl, so any stage can use it.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Words that start a statement (or a `return` inside a fragment body).
STATEMENT_KEYWORDS = frozenset({"import", "from", "param", "fragment", "return"})
#: The boolean literals and their values.
BOOLEANS: dict[str, bool] = {"true": True, "false": False}
#: JSON's null, as a recipe writes it (real ComfyUI exports hold it for some inputs).
NULL = "null"
#: Every word the grammar reserves as a keyword.
KEYWORDS = STATEMENT_KEYWORDS | frozenset(BOOLEANS) | {NULL}

#: Parameter types (`param x: int`, `fragment f(x: float)`) and the Python type of their values.
PARAM_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}

#: The built-in calls: `file("faces/me.jpg")` attaches a file, `node("Class Name", ...)` makes
#: a node whose class name is not an identifier. A fragment of the same name takes precedence.
FILE = "file"
NODE = "node"
BUILTINS = (FILE, NODE)

#: The decorators of node statements: `@id("9")` pins the node id, `@title("...")` its title
#: (`@title()`: no title), `@order(3)` the node's place in the written workflow (for workflows
#: whose node order is not one a recipe's statements can follow; the decompiler writes it).
DECORATOR_ID = "id"
DECORATOR_TITLE = "title"
DECORATOR_ORDER = "order"
#: `@allow("coerced-value")`: findings that are errors in a recipe but warnings in workflow
#: JSON stay warnings on this node (the decompiler writes it for workflows that rely on them).
DECORATOR_ALLOW = "allow"
#: What `@allow(...)` takes: rule name -> code.
ALLOWABLE = {"unknown-input": "CD202", "coerced-value": "CD402"}
#: `@keys("inputs", "class_type")`: the order of this node's keys in the written workflow,
#: where it differs from the file's (see PRAGMA_INPUTS_FIRST); a key left out (`_meta`) goes
#: last. The decompiler writes it for workflows that order their nodes' keys node by node.
DECORATOR_KEYS = "keys"
DECORATORS = (DECORATOR_ID, DECORATOR_TITLE, DECORATOR_ORDER, DECORATOR_ALLOW, DECORATOR_KEYS)

#: Words that generated recipes (the decompiler) never use as a name, to stay readable.
RESERVED = KEYWORDS | frozenset(PARAM_TYPES) | frozenset(BUILTINS) | frozenset(DECORATORS)

#: The pragma comment, in the comments before a recipe's first statement, that writes each
#: node as ComfyUI's own exports do, `inputs` before `class_type` (the default is
#: `class_type`, `inputs`, `_meta`). The decompiler writes it for such workflows.
PRAGMA_INPUTS_FIRST = "# comfydsl: node-keys=inputs-first"
#: The order of a node's keys with the pragma (the default is the wire format's,
#: `comfydsl.workflow.links.NODE_KEYS`).
NODE_KEYS_INPUTS_FIRST = ("inputs", "class_type", "_meta")
#: The keys `@keys(...)` must name (`_meta` may be left out: it then goes last).
NODE_KEYS_REQUIRED = ("class_type", "inputs")


def header_pragmas(source: str) -> set[str]:
    """The pragma comments among the comment lines that open `source`."""
    found = set()
    for line in source.splitlines():
        text = line.strip()
        if not text:
            continue
        if not text.startswith("#"):
            break
        if text == PRAGMA_INPUTS_FIRST:
            found.add(text)
    return found


#: What a name looks like (the grammar's NAME terminal).
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Escapes of string literals other than `\uXXXX` and `\xXX`: the character after the
#: backslash -> the character it stands for. A backslash before a newline (in triple-quoted
#: strings) joins the lines.
ESCAPES: dict[str, str] = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t", "b": "\b",
                           "f": "\f", "0": "\0", "/": "/", "\n": ""}
#: Characters that `quote` writes as a short escape.
_QUOTE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: The quotes of triple-quoted strings.
LONG_QUOTES = ('"""', "'''")


def is_name(text: Any) -> bool:
    """Whether `text` has the shape of a name (keywords included)."""
    return isinstance(text, str) and IDENTIFIER.fullmatch(text) is not None


def is_bare_key(name: Any) -> bool:
    """Whether an input name can be written bare in a call (`file=...`, `steps=...`); other
    names are quoted (`"input_blocks.0."=1.0`, `"import"=1`). Built-in names are fine here."""
    return is_name(name) and name not in KEYWORDS


def key_text(name: str) -> str:
    """An input name as written in a call: bare when it can be, else quoted."""
    return name if is_bare_key(name) else quote(name)


def is_identifier(name: Any) -> bool:
    """Whether `name` can be written as a bare name in a recipe: a name that is not reserved."""
    return is_name(name) and name not in RESERVED


# -- string literals ----------------------------------------------------------------------
def decode_string(token: str) -> str:
    """The value of a string literal as written (quotes included). The lexer only admits
    valid escapes, so this never fails on a token it produced."""
    quote_len = 3 if token[:3] in LONG_QUOTES else 1
    body = token[quote_len:-quote_len]
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_decode_escape, body)


#: One escape of a literal (the lexer admitted only valid ones); plain text between them is
#: copied by `re.sub` in C, so a long literal decodes in linear time and memory.
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.DOTALL)


def _decode_escape(match: re.Match) -> str:
    code = match.group(1) or match.group(2)
    if code is not None:
        return chr(int(code, 16))
    kind = match.group(3)
    return ESCAPES.get(kind, kind)


#: The characters `quote` escapes: quotes, backslashes, control characters, lone surrogates.
_NEEDS_ESCAPE = re.compile("[\"\\\\\x00-\x1f\x7f\ud800-\udfff]")


def _quote_escape(match: re.Match) -> str:
    ch = match.group()
    return _QUOTE_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def quote(text: str) -> str:
    """The canonical literal for `text`: double quotes, `\\" \\\\ \\n \\r \\t` and `\\uXXXX`
    for other control characters and lone surrogates; everything else as it is."""
    return '"' + _NEEDS_ESCAPE.sub(_quote_escape, text) + '"'


def boolean(value: bool) -> str:
    """The literal of a boolean."""
    return next(word for word, truth in BOOLEANS.items() if truth is value)


# -- brackets ---------------------------------------------------------------------------
#: Strings and comments, skipped when matching brackets.
_SKIPPED = re.compile(r'''"""(?:[^"\\]|"(?!"")|\\.)*(?:"""|$)|\'\'\'(?:[^'\\]|'(?!'')|\\.)*(?:\'\'\'|$)'''
                      r'''|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|#[^\n]*''', re.S)
_BRACKETS = {"(": ")", "[": "]", "{": "}"}


def open_bracket(text: str, end: int) -> tuple[str, int] | None:
    """The innermost bracket opened before offset `end` of `text` and not closed by then, as
    (bracket, offset); None when every bracket is closed. Strings and comments are skipped;
    a closing bracket that does not match ends the search (the text is broken there)."""
    stack: list[tuple[str, int]] = []
    i = 0
    while i < end:
        char = text[i]
        if char in "\"'#":
            match = _SKIPPED.match(text, i)
            i = match.end() if match and match.end() > i else i + 1
            continue
        if char in _BRACKETS:
            stack.append((char, i))
        elif char in ")]}":
            if not stack or _BRACKETS[stack[-1][0]] != char:
                return None
            stack.pop()
        i += 1
    return stack[-1] if stack else None


# -- parameter types ----------------------------------------------------------------------
def type_of(value: Any) -> str | None:
    """The parameter type whose values include `value` exactly (None for other values)."""
    for name, python_type in PARAM_TYPES.items():
        if type(value) is python_type:
            return name
    return None


def as_type(value: Any, type_name: str) -> Any:
    """`value` as a value of the declared type: `float` takes integers too (and makes them
    floats), `int` does not take booleans. Raises ValueError when it does not fit."""
    if type_name == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    expected = PARAM_TYPES[type_name]
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    raise ValueError(f"expected a value of type `{type_name}`")


def parse_value(text: str, type_name: str) -> Any:
    """A value given as text (`--set name=text`) read as the parameter's type; ValueError
    says why it does not fit."""
    if type_name == "str":
        return text
    if type_name == "bool":
        lowered = text.strip().lower()
        if lowered in BOOLEANS:
            return BOOLEANS[lowered]
        raise ValueError("expected " + " or ".join(f"`{word}`" for word in BOOLEANS))
    if type_name == "int":
        if re.fullmatch(r"\s*[+-]?[0-9]+\s*", text):
            return int(text)
        raise ValueError("expected a whole number")
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def describe_types() -> str:
    """The parameter types for messages: "`str`, `int`, `float` or `bool`"."""
    names = [f"`{name}`" for name in PARAM_TYPES]
    return ", ".join(names[:-1]) + " or " + names[-1]
