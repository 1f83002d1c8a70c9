"""The `comfydsl lsp` command, the lazy import of pygls, and the TextMate grammar."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import REPO


def test_lint_does_not_import_pygls():
    code = ("import sys, comfydsl.cli as c; c.build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith(('pygls', 'lsprotocol', 'comfydsl.lsp'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lsp_with_a_missing_settings_file_is_a_usage_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "comfydsl", "lsp", "--config", str(tmp_path / "nope.toml")],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert "no such configuration file" in out.stderr and "Traceback" not in out.stderr


def test_server_started_with_a_catalogue_uses_it(project, tmp_path):
    from lspclient import LspClient

    (project / "comfydsl.toml").unlink()  # no settings: the PuLID nodes come from --catalog only
    text = (project / "flux_pulid.comfy").read_text()
    plain = LspClient(cwd=str(tmp_path))
    try:
        codes = {d["code"] for d in plain.diagnostics(plain.open(project / "flux_pulid.comfy", text))}
    finally:
        plain.close()
    assert "CD101" in codes
    given = LspClient("--catalog", "pulid_flux",
                      "--models", str(project / "models.toml"), cwd=str(tmp_path))
    try:
        codes = {d["code"] for d in given.diagnostics(given.open(project / "flux_pulid.comfy", text))}
    finally:
        given.close()
    assert "CD101" not in codes


def test_textmate_grammar_is_valid():
    grammar = json.loads((REPO / "editors" / "comfy.tmLanguage.json").read_text())
    assert grammar["scopeName"] == "source.comfy" and grammar["fileTypes"] == ["comfy"]
    found = []

    def visit(node):
        if isinstance(node, dict):
            for key in ("match", "begin", "end"):
                if key in node:
                    found.append(node[key])
            if "include" in node and node["include"].startswith("#"):
                assert node["include"][1:] in grammar["repository"], node["include"]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(grammar)
    for pattern in found:
        re.compile(pattern)  # the patterns use only syntax Oniguruma and Python share
    assert len(found) > 15
    keywords = next(p["match"] for p in grammar["repository"]["expression"]["patterns"]
                    if p.get("name") == "keyword.control.comfy")
    for word in ("param", "fragment", "import", "from", "return"):
        assert re.search(keywords, word)
