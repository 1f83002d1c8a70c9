"""The suite runs anywhere: its data lives in tests/data (each file accounted for in the README),
no test reaches outside the checkout, and the sdist carries what the tests and docs read."""

from __future__ import annotations

import re
import tomllib

from support import CASES, CONFORMANCE, DATA, OBJECT_INFO, PLACEHOLDERS, PULID_FOLDERS, PULID_OBJECT_INFO, ROOT

README = (DATA / "README.md").read_text(encoding="utf-8")


def test_every_data_path_exists():
    for path in (OBJECT_INFO, PLACEHOLDERS, CONFORMANCE / "index.jsonl", PULID_OBJECT_INFO, PULID_FOLDERS):
        assert path.is_file(), path
    assert len(list(CASES.glob("*.json"))) == len((CONFORMANCE / "index.jsonl").read_text().splitlines())


def test_every_data_file_is_in_the_readme():
    for path in DATA.rglob("*"):
        if path.is_dir() or path.parent == CASES or path.name in {"README.md", "refresh.py"} \
                or "__pycache__" in path.parts:
            continue
        assert str(path.relative_to(DATA)) in README, f"{path.relative_to(DATA)} is not described in tests/data/README.md"


def test_no_test_reads_beside_the_checkout():
    beside = re.compile(r"""\.\./shared(?![\w.])|/work/shared|\.parent\s*/\s*["']shared["']|parents\[\d\]\s*/\s*["']shared["']""")
    for path in (ROOT / "tests").rglob("*.py"):
        if path in (DATA / "refresh.py", ROOT / "tests" / "test_data.py"):
            continue  # refresh.py copies the data in (never run by the suite); this file names the patterns
        assert not beside.search(path.read_text(encoding="utf-8")), f"{path.relative_to(ROOT)} reads ../shared"


def test_tests_import_their_helpers_as_the_sdist_run_can():
    # The sdist run starts `pytest` outside the unpacked folder's import path: `tests` is no
    # package there, so helpers are imported by their own names (pytest's `pythonpath`).
    through_package = re.compile(r"^\s*(from|import)\s+tests\.", re.M)
    for path in (ROOT / "tests").rglob("*.py"):
        assert not through_package.search(path.read_text(encoding="utf-8")), \
            f"{path.relative_to(ROOT)} imports a helper through `tests.`; use `from support import ...`"


def test_no_test_puts_the_benchmarks_on_the_import_path():
    # benchmarks/ holds runpod.py and lint.py: on sys.path they would stand in for the runpod
    # SDK and others, in whichever test worker happened to import them first
    on_path = re.compile(r"sys\.path\.(insert|append)\([^\n]*benchmarks")
    for path in (ROOT / "tests").rglob("*.py"):
        assert not on_path.search(path.read_text(encoding="utf-8")), \
            f"{path.relative_to(ROOT)} puts benchmarks/ on sys.path; load the file with importlib instead"


def test_the_sdist_holds_what_the_tests_and_docs_read():
    sdist = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["sdist"]
    included = {entry.strip("/") for entry in sdist["include"]}
    needed = {"comfydsl", "grammars", "README.md", "tests", "recipes", "examples", "docs", "benchmarks",
              ".pre-commit-hooks.yaml"}
    assert needed <= included, needed - included
