"""Text output: the full rustc-like form (`text`) and one line per finding (`concise`).

```
error[CD201]: node `3` (`KSampler`) is missing required input `seed`
  --> workflow.json:12:5
   |
12 |     "inputs": {
   |     ^^^^^^^^
   = help: set `seed=` (the default is 0) or link an `INT` output to it
```
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, Location, Span, diagnostic_line
from . import FileResult, LintRun, display_path

#: Longest stretch of a source line shown; longer lines (compact JSON) are cut around the span.
WINDOW = 100

_STYLES = {
    "error": "1;31",
    "warning": "1;33",
    "note": "1;36",
    "help": "1;36",
    "gutter": "1;34",
    "bold": "1",
}


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, style: str) -> str:
        if not self.color or not text:
            return text
        return f"\x1b[{_STYLES[style]}m{text}\x1b[0m"


def render(run: LintRun, *, color: bool = False) -> str:
    """Every finding with its source line, then a summary line."""
    paint = _Painter(color)
    sources = Sources(run)
    blocks = []
    for result in run.files:
        for diag in result.diagnostics:
            blocks.append(render_diagnostic(diag, result, sources, paint))
    blocks.append(summary_line(run))
    return "\n".join(blocks) + "\n"


def render_concise(run: LintRun) -> str:
    """`path:line:col: CODE [severity] message`, one line per finding, then a summary line."""
    lines = [diagnostic_line(diag, result.path) for result in run.files for diag in result.diagnostics]
    lines.append(summary_line(run))
    return "\n".join(lines) + "\n"



def summary_line(run: LintRun) -> str:
    """`found 2 errors and 1 warning in 3 files`, or `no problems found in 3 files`."""
    counts = run.summary()
    files = _plural(counts["files"], "file")
    parts = [_plural(counts[key], word) for key, word in
             (("errors", "error"), ("warnings", "warning"), ("notes", "note")) if counts[key]]
    if not parts:
        return f"no problems found in {files}"
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"found {text} in {files}"


def render_diagnostic(diag: Diagnostic, result: FileResult, sources: Sources, paint: _Painter) -> str:
    """One finding in the full form."""
    severity = diag.severity.value
    head = paint(f"{severity}[{diag.code}]", severity) + paint(f": {diag.message}", "bold")
    snippets = [(diag.location, "-->", "^", severity)] + [(loc, ":::", "-", "note") for loc in diag.related]
    width = max((len(str(loc.span.line)) for loc, *_ in snippets if loc.span), default=1)
    out = [head]
    for location, arrow, mark, style in snippets:
        path = (location.span.path if location.span and location.span.path else None) or result.path
        out.append(" " * width + paint(arrow, "gutter") + " " + _where(path, location.span)
                   + _node_suffix(location, diag))
        out += _snippet(location, sources.lines(path), width, mark, style, paint)
    gutter = " " * (width + 1)
    if diag.help:
        out.append(gutter + paint("=", "gutter") + " " + paint("help", "help") + ": " + diag.help)
    for note in diag.notes:
        out.append(gutter + paint("=", "gutter") + " " + paint("note", "note") + ": " + note)
    return "\n".join(out) + "\n"


def _node_suffix(location: Location, diag: Diagnostic) -> str:
    """For related locations that are not in the source text: which node they name."""
    if location is diag.location or location.span is not None or location.node_id is None:
        return ""
    text = f" node `{location.node_id}`"
    return text + (f": {location.label}" if location.label else "")


def _snippet(location: Location, lines: _Lines, width: int, mark: str, style: str,
             paint: _Painter) -> list[str]:
    span = location.span
    line = lines.get(span.line) if span is not None else None
    if span is None or line is None:
        return []
    shown, start, length = _cut(line, span)
    bar = paint("|", "gutter")
    number = paint(str(span.line).rjust(width), "gutter")
    label = f" {location.label}" if location.label else ""
    return [
        " " * (width + 1) + bar,
        f"{number} {bar} {shown}".rstrip(),
        " " * (width + 1) + bar + " " + " " * start + paint(mark * length + label, style),
    ]


def _cut(line: str, span: Span) -> tuple[str, int, int]:
    """The part of `line` to show, and the caret's start and length within it."""
    col0 = min(max(span.column - 1, 0), len(line))
    if span.end_line is not None and span.end_line == span.line and span.end_column is not None:
        end0 = min(max(span.end_column - 1, col0 + 1), len(line))
    else:
        end0 = len(line)
    if "\t" in line:
        col0, end0 = len(line[:col0].expandtabs(4)), len(line[:end0].expandtabs(4))
        line = line.expandtabs(4)
    length = max(end0 - col0, 1)
    if len(line) <= WINDOW:
        return line, col0, length
    begin = max(0, col0 - WINDOW // 3)
    end = min(len(line), begin + WINDOW)
    shown = ("…" if begin else "") + line[begin:end] + ("…" if end < len(line) else "")
    caret = col0 - begin + (1 if begin else 0)
    return shown, caret, max(1, min(length, end - col0))


def _where(path: str, span: Span | None) -> str:
    return f"{path}:{span.line}:{span.column}" if span is not None else path


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class Sources:
    """The source lines of every file a run's findings point into.

    A file's own text comes with its result; a span in another file (a recipe fragment
    imported from `parts/`) is read from disk on first use.
    """

    def __init__(self, run: LintRun) -> None:
        self._by_path: dict[str, _Lines] = {r.path: _Lines(r.source) for r in run.files if r.source is not None}

    def lines(self, path: str) -> _Lines:
        found = self._by_path.get(path)
        if found is None:
            try:
                with open(path, encoding="utf-8") as fh:
                    text: str | None = fh.read()
            except (OSError, UnicodeDecodeError):
                text = None
            found = self._by_path[path] = _Lines(text)
        return found


class _Lines:
    """The lines of a source text, split on first use."""

    def __init__(self, source: str | None) -> None:
        self.source = source
        self._lines: list[str] | None = None

    def get(self, number: int) -> str | None:
        if self.source is None:
            return None
        if self._lines is None:
            self._lines = self.source.split("\n")
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1].rstrip("\r")
        return None

