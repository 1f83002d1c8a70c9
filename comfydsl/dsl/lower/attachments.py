"""Files attached to a job with `file("...")`: where they may come from (the recipe's folder
tree), what they are uploaded as, and the `file()` built-in itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...diagnostics import Diagnostic, Span
from .. import ast
from ...rules import recipe as R
from ..syntax import FILE
from .base import Frame, LowererBase
from .values import BAD


class Attachments:
    """Files uploaded with the job (`file("...")`), confined to the recipe's folder tree."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.names: dict[Path, str] = {}
        self.data: dict[str, bytes] = {}
        #: where each attachment is first named in the recipe
        self.spans: dict[str, Span] = {}

    def add(self, base: str | None, relative: str, span: Span) -> str | Diagnostic:
        """The upload name of a file, or the diagnostic that says why it cannot be attached."""
        folder = Path(base).parent if base else Path.cwd()
        target = resolve_path(folder, relative)
        if target is None:
            return R.ATTACHMENT_NOT_FOUND.at(span, f"`{short(relative)}` is not a usable file path",
                                             help="give a path relative to the recipe file")
        if not target.is_relative_to(self.root):
            return R.PATH_OUTSIDE_TREE.at(span, f"attachment `{relative}` is outside the recipe's folder",
                                          help=f"attachments must be inside `{self.root}`")
        if target in self.names:
            return self.names[target]
        try:
            from ...workflow.files import read_bytes

            data = read_bytes(target)
        except OSError as exc:
            reason = "it does not exist" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
            return R.ATTACHMENT_NOT_FOUND.at(span, f"cannot read attachment `{relative}`: {reason}",
                                             help="give a path relative to the recipe file")
        name = self._unique(target.name)
        self.names[target] = name
        self.data[name] = data
        self.spans[name] = span
        return name

    def _unique(self, name: str) -> str:
        if name not in self.data:
            return name
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 2
        while f"{stem}-{n}{dot}{ext}" in self.data:
            n += 1
        return f"{stem}-{n}{dot}{ext}"


def resolve_path(folder: Path, relative: str) -> Path | None:
    """`folder / relative` with symlinks resolved, or None when it cannot be a path
    (a NUL character, a symlink loop)."""
    if "\0" in relative:
        return None
    try:
        return (folder / relative).resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def short(text: str, limit: int = 60) -> str:
    """`text` with its unprintable characters escaped, cut to `limit` characters."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Files(LowererBase):
    """The `file("path")` built-in."""

    def file(self, call: ast.Call, frame: Frame) -> Any:
        if len(call.args) != 1 or isinstance(call.args[0], ast.KeywordArgument):
            return self.error(R.INVALID_EXPRESSION, call.span, f"`{FILE}(...)` takes one path: `{FILE}(\"faces/me.jpg\")`")
        path = self.eval(call.args[0], frame)
        if path is BAD:
            return BAD
        if not isinstance(path, str) or not path:
            return self.error(R.INVALID_EXPRESSION, call.args[0].span, f"the path of `{FILE}(...)` must be a string")
        found = self.attachments.add(frame.module_path, path, call.span)
        if isinstance(found, Diagnostic):
            self.diagnostics.append(found)
            return BAD
        return found
