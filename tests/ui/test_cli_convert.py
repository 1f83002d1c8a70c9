"""`comfydsl convert` and `comfydsl lint` on UI files, through the console script."""

from __future__ import annotations

import json
import subprocess

from support import comfydsl_command
from ui_support import DATA


def run(*args, cwd=None):
    return subprocess.run([*comfydsl_command(), *args], capture_output=True, text=True, cwd=cwd)


def test_convert_writes_the_api_json(tmp_path):
    out = tmp_path / "api.json"
    res = run("convert", str(DATA / "everything.ui.json"), "--catalog", str(DATA / "catalog_dynamic.json"),
              "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text()) == json.loads((DATA / "everything.api.json").read_text())


def test_convert_failure_is_located(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes": [{"id": 3, "type": "KSampler", "widgets_values": [1, 2]}], "links": []},
                              indent=1))
    res = run("convert", str(bad))
    assert res.returncode == 1 and res.stdout == ""
    assert "CD021" in res.stderr and f"{bad}:" in res.stderr


def test_lint_reports_at_the_ui_node(tmp_path):
    res = run("lint", str(DATA / "everything.ui.json"), "--catalog", str(DATA / "catalog_dynamic.json"),
              "--format", "json")
    report = json.loads(res.stdout)
    found = [d for f in report["files"] for d in f["diagnostics"]]
    missing = [d for d in found if d["code"] == "CD201" and d["node_id"] == "55"]
    assert missing and missing[0]["span"]["line"] > 1
    assert missing[0]["json_path"].startswith("$.nodes[")
    assert "(at UI node 55" in missing[0]["message"]  # the message names the UI node in every format
