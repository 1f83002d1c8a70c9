"""Language server responsiveness: time from a change to its diagnostics.

Starts `comfydsl lsp` as a subprocess and talks to it over stdio like an editor (the
client of the test suite, tests/lsp/lspclient.py). For each shipped recipe, and for a
generated recipe of 5,000 nodes, it opens the file, then makes one-character edits (a
value changed back and forth) and times each from sending `didChange` to receiving the
`publishDiagnostics` of that version. The server's debounce is set to 0 here, so the
figures are the server's own work; an editor adds the debounce (0.25 s by default) to
each. Also timed on the large recipe: completion of a class's input names and hover, each
answered while no lint is running.

    python benchmarks/lsp.py [--repeat N] [--nodes N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "lsp"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from compile import generated_recipe  # noqa: E402
from lspclient import LspClient, find  # noqa: E402


def change_times(client: LspClient, uri: str, needle: str, repeat: int) -> list[float]:
    """Milliseconds from each edit to its diagnostics."""
    text = client.texts[uri]
    line, col = find(text, needle, delta=len(needle))
    original = text[text.index(needle) + len(needle)]
    times = []
    for i in range(repeat):
        new = "7" if i % 2 == 0 else original
        old_len = 1
        start = time.perf_counter()
        version = client.edit(uri, (line, col), (line, col + old_len), new)
        client.diagnostics(uri, version, timeout=120)
        times.append((time.perf_counter() - start) * 1000)
    return times


def request_ms(client: LspClient, method: str, uri: str, line: int, col: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.at(method, uri, line, col)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11, help="edits per shipped recipe (default 11)")
    parser.add_argument("--nodes", type=int, default=5000, help="size of the generated recipe")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "recipes", work / "recipes")
        shutil.copytree(ROOT / "catalogs", work / "catalogs")
        big = work / "recipes" / "generated.comfy"
        big.write_text(generated_recipe(args.nodes))
        client = LspClient(cwd=str(work / "recipes"), debounce=0)
        try:
            print(f"{'recipe':32} {'nodes':>6}  {'open ms':>8}  {'change->diagnostics ms (median, max)':>36}")
            for path in sorted((work / "recipes").glob("*.comfy")):
                if path == big:
                    continue
                row(client, path, "=", args.repeat, nodes=path.read_text().count("("))
            row(client, big, "seed=", max(3, args.repeat // 3), nodes=args.nodes)
            uri = big.resolve().as_uri()
            text = client.texts[uri]
            line, col = find(text, "KSampler(", nth=args.nodes // 10, delta=len("KSampler("))
            print(f"\non {big.name}: completion of input names {request_ms(client, 'textDocument/completion', uri, line, col, 5):.1f} ms, "
                  f"hover on a class {request_ms(client, 'textDocument/hover', uri, line, col - 3, 5):.1f} ms (medians)")
        finally:
            client.close()
    return 0


def row(client: LspClient, path: Path, needle: str, repeat: int, nodes: int) -> None:
    start = time.perf_counter()
    uri = client.open(path)
    client.diagnostics(uri, timeout=120)
    opened = (time.perf_counter() - start) * 1000
    text = client.texts[uri]
    needle = _numeric_needle(text) if needle == "=" else needle
    times = change_times(client, uri, needle, repeat)
    print(f"{path.name:32} {nodes:>6}  {opened:8.1f}  {statistics.median(times):26.1f} {max(times):9.1f}")


def _numeric_needle(text: str) -> str:
    """Text right before the first digit of a keyword value, e.g. `batch_size=`."""
    import re

    match = re.search(r"[a-z_]+=(?=[0-9])", text)
    return match.group() if match else "="


if __name__ == "__main__":
    raise SystemExit(main())
