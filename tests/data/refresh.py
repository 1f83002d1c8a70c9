"""Copy the test data into tests/data/ from a workspace's `shared` folder.

    python tests/data/refresh.py [SHARED]      # SHARED defaults to ../shared beside the checkout

The files copied, and where each comes from, are listed in tests/data/README.md. After a
refresh, run the suite: the catalogue and pack tests say when the shipped catalogues
(comfydsl/catalog/builtin.json, comfydsl/catalog/packs/) need rebuilding with the importer.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: `- folder/file` lines: the placeholder model files the catalogue was captured with.
PLACEHOLDER = re.compile(r"^\s*[-*]\s+`?[\w.-]+/[^`\s]+`?\s*$")
#: (source under SHARED, destination under tests/data)
COPIES = [
    ("comfyui/object_info.json", "comfyui/object_info.json"),
    ("comfyui/object_info.bundled_custom_nodes.json", "comfyui/object_info.bundled_custom_nodes.json"),
    ("custom_nodes/pulid_flux.object_info.json", "custom_nodes/pulid_flux.object_info.json"),
    ("custom_nodes/pulid_flux.model_folders.json", "custom_nodes/pulid_flux.model_folders.json"),
    ("conformance/index.jsonl", "conformance/index.jsonl"),
]


def refresh(shared: Path) -> None:
    for source, dest in COPIES:
        target = HERE / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / source, target)
    readme = (shared / "comfyui" / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in readme.splitlines() if PLACEHOLDER.match(line)]
    (HERE / "comfyui" / "placeholders.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cases = HERE / "conformance" / "cases"
    shutil.rmtree(cases, ignore_errors=True)
    cases.mkdir(parents=True)
    for case in sorted((shared / "conformance" / "cases").glob("*.json")):
        shutil.copyfile(case, cases / case.name)


def main(argv: list[str]) -> int:
    shared = Path(argv[0]) if argv else HERE.parents[2] / "shared"
    if not (shared / "conformance" / "index.jsonl").is_file():
        print(f"{shared}: not a shared data folder (no conformance/index.jsonl)", file=sys.stderr)
        return 2
    refresh(shared)
    print(f"copied the test data from {shared} into {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
