"""`comfydsl serve` run as the installed console script."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess

import httpx
import pytest

from serve_helpers import OBJECT_INFO, SAVE_TWO
from support import comfydsl_command


def comfydsl() -> str:
    return comfydsl_command()[0]


class Served:
    """A `comfydsl serve` process; the base URL is read from its first line."""

    def __init__(self, *args: str, env: dict | None = None, preexec_fn=None) -> None:
        self.proc = subprocess.Popen([comfydsl(), "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
                                     preexec_fn=preexec_fn)
        self.banner = ""
        for line in self.proc.stdout:  # the banner ends with the Ctrl-C hint
            self.banner += line
            if "Ctrl-C" in line:
                break
        match = re.search(r"(http://127\.0\.0\.1:\d+/v2)", self.banner)
        if not match:
            self.proc.kill()
            raise AssertionError(f"no URL in {self.banner!r}; stderr: {self.proc.stderr.read()}")
        self.url = match.group(1)

    def stop(self, sig=signal.SIGINT) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=15)
        return self.proc.returncode, out, err


def test_serve_runs_jobs_and_stops_on_ctrl_c():
    served = Served("--api-key", "k", "--run-time", "0.05", "--workers", "2")
    try:
        answer = httpx.post(f"{served.url}/abc/runsync", json={"input": {"workflow": SAVE_TWO}},
                            headers={"Authorization": "Bearer k"}, timeout=10).json()
        assert answer["status"] == "COMPLETED" and len(answer["output"]["images"]) == 2
        assert httpx.get(f"{served.url}/abc/health", timeout=5).status_code == 401
    finally:
        code, out, err = served.stop()
    assert code == 0
    assert f'runpod.endpoint_url_base = "{served.url}"' in served.banner
    assert "stopped" in err and "Traceback" not in err
    assert "POST /v2/abc/runsync" in err


def test_sigterm_stops_cleanly_and_env_key_is_used():
    served = Served("--quiet", env={"COMFYDSL_SERVE_API_KEY": "envkey"})
    try:
        assert httpx.get(f"{served.url}/x/health", headers={"Authorization": "Bearer envkey"}).status_code == 200
        assert httpx.get(f"{served.url}/x/health", headers={"Authorization": "Bearer k"}).status_code == 401
    finally:
        code, _, err = served.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err


def test_ctrl_c_works_when_started_as_a_background_job():
    """A shell starts background jobs with SIGINT ignored; `serve` still stops on it."""
    served = Served("--quiet", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    code, _, err = served.stop(signal.SIGINT)
    assert code == 0 and "stopped" in err


def test_faults_and_catalogue_options():
    served = Served("--any-key", "--quiet", "--fault", "op=health,status=429,retry_after=2",
                    "--catalog", str(OBJECT_INFO), "--no-builtin", "--run-time", "0", "--worker-version", "3")
    try:
        first = httpx.get(f"{served.url}/x/health", headers={"Authorization": "anything"})
        assert first.status_code == 429 and first.headers["Retry-After"] == "2"
        assert httpx.get(f"{served.url}/x/health", headers={"Authorization": "anything"}).status_code == 200
        done = httpx.post(f"{served.url}/x/runsync", json={"input": {"workflow": SAVE_TWO}},
                          headers={"Authorization": "anything"}, timeout=10).json()
        assert done["output"]["status"] == "success" and "message" in done["output"]
    finally:
        code, _, _ = served.stop()
    assert code == 0


@pytest.mark.parametrize("args,fragment", [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--executor", "comfyui"], "--comfyui-url"),
    (["--fault", "op=nope,status=500"], "unknown operation"),
    (["--run-time", "-1"], "--run-time"),
    (["--run-time", "nan"], "--run-time"),
    (["--retention", "inf"], "--retention"),
    (["--comfyui-url", "ftp://x", "--executor", "comfyui"], "http://"),
])
def test_usage_errors_exit_2(args, fragment):
    result = subprocess.run([comfydsl(), "serve", "--port", "0", *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_bad_catalogue_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = subprocess.run([comfydsl(), "serve", "--port", "0", "--catalog", str(bad)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "bad.json" in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_exits_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([comfydsl(), "serve", "--port", str(port)], capture_output=True, text=True,
                                timeout=30)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def test_comfyui_executor_from_the_command_line():
    from fake_comfyui import FakeComfyUI

    with FakeComfyUI(polls_to_finish=0) as fake:
        served = Served("--quiet", "--executor", "comfyui", "--comfyui-url", fake.url, "--api-key", "k")
        try:
            done = httpx.post(f"{served.url}/x/runsync", json={"input": {"workflow": SAVE_TWO}},
                              headers={"Authorization": "Bearer k"}, timeout=10).json()
        finally:
            code, _, err = served.stop()
    assert done["status"] == "COMPLETED", (done, err)
    assert [i["filename"] for i in done["output"]["images"]] == ["dry/test_00001_.png"]
    assert fake.prompts[0]["prompt"] == SAVE_TWO and code == 0
