"""The in-process runner the CLI tests use (`support.invoke`) behaves like a fresh process and
leaves nothing behind."""

from __future__ import annotations

import os
import signal
import sys

from clitools import CLEAN, write_json
from support import invoke


def test_exit_statuses_and_streams_like_a_process(tmp_path):
    version = invoke("--version")
    assert version.returncode == 0 and version.stdout.startswith("comfydsl ")
    usage = invoke("lint", "--no-such-option")
    assert usage.returncode == 2 and "unrecognized arguments" in usage.stderr and usage.stdout == ""
    write_json(tmp_path / "ok.json", CLEAN)
    clean = invoke("lint", "ok.json", cwd=tmp_path)
    assert clean.returncode == 0 and clean.args == ["comfydsl", "lint", "ok.json"]


def test_stdin_and_bytes_output(tmp_path):
    done = invoke("fmt", "-", stdin=b"x=A( )\r\n", text=False)
    assert done.returncode == 0 and done.stdout == b"x = A()\n"


def test_nothing_leaks_out(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    before = (os.getcwd(), dict(os.environ), sys.stdout, sys.stderr, sys.stdin, sys.argv,
              signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    seen = invoke("lint", "--no-such-option", cwd=tmp_path, env={"COMFYDSL_TEST_VAR": "x"})
    assert seen.returncode == 2
    after = (os.getcwd(), dict(os.environ), sys.stdout, sys.stderr, sys.stdin, sys.argv,
             signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    assert after == before


def test_environment_seen_by_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COMFYDSL_OUTER", "1")
    seen = {}

    def spy(argv):
        seen.update(os.environ)
        seen["cwd"] = os.getcwd()
        return 0

    monkeypatch.setattr("comfydsl.cli.main", spy)
    assert invoke("x", cwd=tmp_path, env={"A": "b"}).returncode == 0
    assert "NO_COLOR" not in seen and seen["A"] == "b" and seen["COMFYDSL_OUTER"] == "1"
    assert seen["cwd"] == str(tmp_path)
    seen.clear()
    invoke("x", env={"A": "b"}, replace_env=True)
    assert "COMFYDSL_OUTER" not in seen and seen["A"] == "b"
