"""The API key: checked before any request, never shown in any escaped form, sent only to the
base URL the user configured, and over plain http only to this machine."""

from __future__ import annotations

import json
import os
from urllib.parse import quote

import pytest

from comfydsl.backends.runpod import RunPodClient
from comfydsl.serve import serve_in_thread
from support import invoke

KEY = "rp_test_key_5f0c1d2e9a"
WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}


def cli(*args, cwd, key=KEY, base=None, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    env["RUNPOD_API_KEY"] = key
    env["RUNPOD_ENDPOINT_ID"] = "ep"
    if base is not None:
        env["RUNPOD_API_BASE"] = base
    env.update(env_extra)
    return invoke(*args, cwd=cwd, env=env, replace_env=True)


@pytest.mark.parametrize("suffix", ["\r\n", "\n", "\r", "  \t"])
def test_trailing_whitespace_of_the_key_is_stripped(tmp_path, suffix):
    with serve_in_thread(api_key=KEY) as srv:
        proc = cli("health", "--json", cwd=tmp_path, key=KEY + suffix, base=srv.url)
        assert srv.requests["health"] == 1
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["workers"]["idle"] == 1


@pytest.mark.parametrize("command", [["health"], ["status", "job-1"], ["cancel", "job-1"], ["retry", "job-1"],
                                     ["purge-queue"], ["run", "wf.json"]])
@pytest.mark.parametrize("bad", [KEY[:5] + "\r\n" + KEY[5:], KEY + "é", KEY[:3] + "\x1b" + KEY[3:], "ключ" + KEY])
def test_a_key_a_header_cannot_carry_is_refused_before_any_request(tmp_path, command, bad):
    (tmp_path / "wf.json").write_text(json.dumps(WORKFLOW))
    with serve_in_thread(api_key=KEY) as srv:
        proc = cli(*command, "--json", cwd=tmp_path, key=bad, base=srv.url)
        assert srv.requests.total == 0
    assert proc.returncode == 2, proc.stderr
    assert "API key" in proc.stderr and "Traceback" not in proc.stderr
    for part in (KEY, KEY[5:], bad, bad.strip(), repr(bad)[1:-1]):
        assert part not in proc.stderr and part not in proc.stdout


def test_check_api_key_messages_never_hold_the_key():
    from comfydsl.backends.runpod import check_api_key

    assert check_api_key(f"  {KEY}\r\n") == KEY
    for bad in (KEY + "\x7f", KEY + "€", "", "   "):
        with pytest.raises(ValueError) as info:
            check_api_key(bad)
        assert KEY not in str(info.value)
    with pytest.raises(ValueError):
        RunPodClient("ep", "a\nb", base_url="https://rp.test/v2")


def test_redaction_catches_escaped_forms():
    from comfydsl.backends.runpod import redact

    key = 'rp_"odd"\\key/+&=%'
    forms = [key, repr(key), json.dumps(key), quote(key, safe=""), quote(key), quote(key, safe="").lower(),
             repr(key.encode()), key.encode("unicode_escape").decode()]
    text = " | ".join(forms)
    cleaned = redact(text, key)
    for form in forms:
        assert form.strip("'\"b") not in cleaned
    assert redact("nothing here", key) == "nothing here"


def test_http_only_to_loopback_unless_allowed():
    from comfydsl.backends.runpod import check_base_url

    assert check_base_url("http://127.0.0.1:8000/v2/") == "http://127.0.0.1:8000/v2"
    assert check_base_url("http://localhost:1/v2") and check_base_url("http://[::1]:8/v2")
    with pytest.raises(ValueError, match="plain http"):
        check_base_url("http://api.example.test/v2")
    assert check_base_url("http://api.example.test/v2", allow_http=True) == "http://api.example.test/v2"
    with pytest.raises(ValueError, match="plain http"):
        RunPodClient("ep", KEY, base_url="http://10.1.2.3/v2")


def test_cli_refuses_plain_http_to_another_host(tmp_path):
    proc = cli("health", cwd=tmp_path, base="http://api.example.test/v2")
    assert proc.returncode == 2 and "plain http" in proc.stderr and "--allow-http" in proc.stderr


def test_a_planted_record_cannot_send_the_key_elsewhere(tmp_path):
    with serve_in_thread(api_key=KEY) as mine, serve_in_thread(api_key=None) as theirs:
        out = tmp_path / "out"
        out.mkdir()
        record = {"format": 1, "job_id": "job-1", "endpoint": "ep", "base_url": theirs.url, "status": "IN_QUEUE"}
        (out / "job-1.job.json").write_text(json.dumps(record))
        proc = cli("status", "job-1", "--out", "out", cwd=tmp_path, base=mine.url)
        assert proc.returncode == 2 and theirs.url in proc.stderr and "--base-url" in proc.stderr
        assert theirs.requests.total == 0 and mine.requests.total == 0
        for command in (["cancel", "job-1"], ["retry", "job-1"]):
            assert cli(*command, "--out", "out", cwd=tmp_path, base=mine.url).returncode == 2
        assert theirs.requests.total == 0
        # without any configured base, the hosted API is the configured one: still refused
        assert cli("status", "job-1", "--out", "out", cwd=tmp_path).returncode == 2
        # passing that base explicitly is the user's choice
        proc = cli("status", "job-1", "--out", "out", "--base-url", theirs.url, cwd=tmp_path, base=mine.url)
        assert theirs.requests["status"] == 1 and mine.requests.total == 0
    assert "404" in proc.stderr or "not found" in proc.stderr
