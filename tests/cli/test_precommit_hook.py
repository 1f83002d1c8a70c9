"""`.pre-commit-hooks.yaml`: other repositories run `comfydsl lint` as a pre-commit hook."""

from __future__ import annotations

import re

import pytest

from clitools import ROOT

HOOKS = ROOT / ".pre-commit-hooks.yaml"


def _hooks_by_text() -> list[dict[str, str | list[str]]]:
    """The hook list read as plain text: `- id: x` starts a hook, `key: value` lines follow
    (a `[a, b]` value is a list)."""
    hooks: list[dict[str, str | list[str]]] = []
    for line in HOOKS.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.match(r"^(- )?\s*([a-z_]+):\s*(.*)$", line)
        assert match, f"unexpected line: {line!r}"
        if match.group(1):
            hooks.append({})
        value = match.group(3).strip()
        if value.startswith("[") and value.endswith("]"):
            hooks[-1][match.group(2)] = [item.strip().strip("'\"") for item in value[1:-1].split(",") if item.strip()]
        else:
            hooks[-1][match.group(2)] = value.strip("'\"")
    return hooks


def test_hook_definition():
    (hook,) = _hooks_by_text()
    assert hook["id"] == "comfydsl-lint"
    # in `entry`: a user's `args` replace the hook's args, and package.json must stay skipped
    assert hook["entry"] == "comfydsl lint --only-workflows"
    assert "args" not in hook
    assert hook["language"] == "python"
    files = re.compile(hook["files"])
    for name in ("wf.json", "recipes/portrait.comfy", "a/b/api.json"):
        assert files.search(name), name
    for name in ("wf.json.bak", "notes.comfyx", "README.md"):
        assert not files.search(name), name


def test_hook_is_valid_yaml_when_a_parser_is_installed():
    yaml = pytest.importorskip("yaml")
    data = yaml.safe_load(HOOKS.read_text())
    assert isinstance(data, list) and data[0]["id"] == "comfydsl-lint"
    assert data == [{k: (v == "true" if v in ("true", "false") else v) for k, v in h.items()}
                    for h in _hooks_by_text()]
