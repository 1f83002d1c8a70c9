"""Cold start of `comfydsl lint one.json` against `python -c "import networkx"`.

Run: python benchmarks/lint_startup.py [--runs N]

Prints the median wall time of each (fresh processes; the first, cache-warming run is not
counted), the cumulative import time of the biggest modules of the lint path from
`python -X importtime`, and whether any heavy module (httpx, lark, pydantic, jsonschema)
was imported at all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("httpx", "lark", "pydantic", "jsonschema", "yaml")
WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "out"}},
}


def wall(commands: dict[str, list[str]], runs: int, cwd: str) -> dict[str, float]:
    """Median wall time of each command; runs alternate so that load on the machine hits all alike."""
    for cmd in commands.values():
        subprocess.run(cmd, cwd=cwd, capture_output=True)  # warm the bytecode cache
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, cwd=cwd, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def import_profile(cwd: str) -> list[tuple[int, str]]:
    code = "import sys; sys.argv = ['comfydsl', 'lint', 'one.json']; from comfydsl.cli import main; main()"
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=cwd,
                         capture_output=True, text=True).stderr
    rows = []
    for line in err.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), match.group(3).count(" ") - 1, match.group(4)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("comfydsl"))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "one.json").write_text(json.dumps(WORKFLOW, indent=2))
        medians = wall({"lint": [script, "lint", "one.json"],
                        "networkx": [sys.executable, "-c", "import networkx"],
                        "bare": [sys.executable, "-c", "pass"]}, args.runs, tmp)
        lint, networkx, bare = medians["lint"], medians["networkx"], medians["bare"]
        rows = import_profile(tmp)
    print(f"comfydsl lint one.json      {lint * 1000:7.0f} ms (median of {args.runs})")
    print(f"python -c 'import networkx' {networkx * 1000:7.0f} ms")
    print(f"python -c 'pass'            {bare * 1000:7.0f} ms")
    print(f"lint minus networkx         {(lint - networkx) * 1000:7.0f} ms")
    print("\nlargest top-level imports on the lint path (cumulative, -X importtime):")
    for cumulative, _, name in sorted((r for r in rows if r[1] <= 0), reverse=True)[:8]:
        print(f"  {cumulative / 1000:7.1f} ms  {name}")
    heavy = sorted({name.split(".")[0] for _, _, name in rows if name.split(".")[0] in HEAVY})
    print(f"\nheavy modules imported: {', '.join(heavy) if heavy else 'none'}")
    sys.exit(1 if heavy else 0)


if __name__ == "__main__":
    os.environ.pop("NO_COLOR", None)
    main()
