"""`comfydsl run/status/cancel/health` through the installed console script, against
`comfydsl serve` on loopback (the server runs on threads of the test process)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from comfydsl.catalog import ModelCatalog
from comfydsl.serve import serve_in_thread
from support import comfydsl_command, invoke

KEY = "rp_test_key_5f0c1d2e9a"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

WORKFLOW = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}},
}
RECIPE = """param seed: int = 1
param width: int = 64
img = EmptyImage(width=width, height=64, batch_size=1, color=seed)
SaveImage(images=img, filename_prefix="r")
"""
MISSING_CKPT_RECIPE = """param seed: int = 1
ckpt = CheckpointLoaderSimple(ckpt_name="missing.safetensors")
latent = EmptyLatentImage(width=512, height=512, batch_size=1)
image = VAEDecode(samples=latent, vae=ckpt.VAE)
SaveImage(images=image, filename_prefix="x")
"""


@pytest.fixture
def server():
    models = ModelCatalog()
    models.add("checkpoints", ["sd_xl_base_1.0.safetensors"])
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.05, workers=4, models=models) as srv:
        yield srv


@pytest.fixture
def files(tmp_path):
    (tmp_path / "wf.json").write_text(json.dumps(WORKFLOW))
    (tmp_path / "r.comfy").write_text(RECIPE)
    (tmp_path / "bad.comfy").write_text(MISSING_CKPT_RECIPE)
    return tmp_path


def cli(args, server=None, *, cwd, key=KEY, timeout=60, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    if key is not None:
        env["RUNPOD_API_KEY"] = key
    if server is not None:
        env["RUNPOD_API_BASE"] = server.url
        env["RUNPOD_ENDPOINT_ID"] = "ep"
    env.update(env_extra or {})
    return invoke(*args, cwd=cwd, env=env, replace_env=True)


def records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("*.job.json"))]


def no_key_anywhere(proc, out: Path | None = None):
    assert KEY not in proc.stdout and KEY not in proc.stderr
    if out is not None:
        for path in out.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes()


def test_run_workflow_saves_images_and_record(server, files):
    proc = cli(["run", "wf.json", "--out", "out", "--poll-interval", "0.05"], server, cwd=files)
    assert proc.returncode == 0, proc.stderr
    out = files / "out"
    [record] = records(out)
    assert record["status"] == "COMPLETED" and record["endpoint"] == "ep" and record["base_url"] == server.url
    assert record["delay_ms"] is not None and record["execution_ms"] is not None
    assert len(record["files"]) == 1 and (out / record["files"][0]).read_bytes().startswith(PNG_MAGIC)
    assert record["job_id"] in proc.stderr and "COMPLETED" in proc.stderr
    assert server.requests["run"] == 1
    no_key_anywhere(proc, out)


def test_json_output_repeat_and_no_overwrite(server, files):
    out = files / "out"
    out.mkdir()
    (out / "ComfyUI_00001_.png").write_bytes(b"mine")
    before = {p.name for p in out.iterdir()}
    proc = cli(["run", "wf.json", "--out", "out", "--repeat", "3", "--concurrency", "2", "--json",
                "--poll-interval", "0.05"], server, cwd=files)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is True and len(summary["jobs"]) == 3
    saved = [name for job in summary["jobs"] for name in job["files"]]
    assert len(saved) == len(set(saved)) == 3 and not set(saved) & before
    assert (out / "ComfyUI_00001_.png").read_bytes() == b"mine"
    assert len(records(out)) == 3


def test_sync_mode_uses_runsync(server, files):
    proc = cli(["run", "wf.json", "--out", "out", "--sync", "--json"], server, cwd=files)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["jobs"][0]["status"] == "COMPLETED"
    assert server.requests["runsync"] == 1 and server.requests["run"] == 0


def test_recipe_sweep_runs_each_value(server, files):
    proc = cli(["run", "r.comfy", "--set", "seed=1,2,3", "--set", "width=64", "--out", "out", "--json",
                "--poll-interval", "0.05"], server, cwd=files)
    assert proc.returncode == 0, proc.stderr
    jobs = json.loads(proc.stdout)["jobs"]
    assert sorted(j["params"]["seed"] for j in jobs) == ["1", "2", "3"]
    assert all(j["source"].endswith("r.comfy") for j in jobs) and server.requests["run"] == 3


def test_local_errors_stop_everything_before_submitting(server, files):
    (files / "broken.json").write_text(json.dumps({"2": {"class_type": "SaveImage",
                                                        "inputs": {"images": ["9", 0], "filename_prefix": "t"}}}))
    proc = cli(["run", "wf.json", "broken.json", "--out", "out"], server, cwd=files)
    assert proc.returncode == 1
    assert "broken.json" in proc.stderr and "nothing was submitted" in proc.stderr
    assert server.requests.total == 0
    bad_param = cli(["run", "r.comfy", "--set", "seed=abc", "--out", "out"], server, cwd=files)
    assert bad_param.returncode == 1 and "r.comfy:1:" in bad_param.stderr and server.requests.total == 0


def test_remote_validation_failure_shown_at_recipe_lines(server, files):
    proc = cli(["run", "bad.comfy", "--out", "out", "--poll-interval", "0.05", "--json"], server, cwd=files)
    assert proc.returncode == 1
    assert "FAILED" in proc.stderr and "Workflow validation failed" in proc.stderr
    assert "bad.comfy:2:" in proc.stderr and "CD901" in proc.stderr
    [record] = records(files / "out")
    assert record["status"] == "FAILED" and "missing.safetensors" in record["error"]
    assert record["diagnostics"][0]["span"]["line"] == 2


def test_partial_failures_keep_every_result(server, files):
    proc = cli(["run", "wf.json", "bad.comfy", "--out", "out", "--poll-interval", "0.05", "--json"], server,
               cwd=files)
    assert proc.returncode == 1
    summary = json.loads(proc.stdout)
    assert [j["ok"] for j in summary["jobs"]] == [True, False] and summary["ok"] is False
    assert "1 of 2 jobs succeeded" in proc.stderr
    assert len(records(files / "out")) == 2


def test_no_wait_then_status_resumes_and_saves_once(server, files):
    proc = cli(["run", "wf.json", "--out", "out", "--no-wait", "--json"], server, cwd=files)
    assert proc.returncode == 0, proc.stderr
    job = json.loads(proc.stdout)["jobs"][0]["job_id"]
    status = cli(["status", job, "--out", "out", "--wait", "--poll-interval", "0.05"], server, cwd=files)
    assert status.returncode == 0, status.stderr
    assert "COMPLETED" in status.stdout and "saved" in status.stdout
    [record] = records(files / "out")
    assert record["status"] == "COMPLETED" and len(record["files"]) == 1
    again = cli(["status", job, "--out", "out", "--json"], server, cwd=files)
    assert again.returncode == 0 and "already saved" in again.stderr
    assert len(list((files / "out").glob("*.png"))) == 1


def test_status_from_another_machine_needs_only_id_and_endpoint(server, files, tmp_path_factory):
    proc = cli(["run", "wf.json", "--out", "out", "--no-wait", "--json"], server, cwd=files)
    job = json.loads(proc.stdout)["jobs"][0]["job_id"]
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    status = cli(["status", job, "--endpoint", "ep", "--base-url", server.url, "--wait", "--out", "got",
                  "--poll-interval", "0.05", "--json"], cwd=elsewhere)
    assert status.returncode == 0, status.stderr
    record = json.loads(status.stdout)
    assert record["status"] == "COMPLETED" and (elsewhere / "got" / record["files"][0]).exists()


def test_status_of_expired_job(server, files):
    proc = cli(["status", "no-such-job", "--out", "out"], server, cwd=files)
    assert proc.returncode == 1 and "expired" in proc.stderr


def test_cancel_and_health_commands(files):
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=5, workers=1) as srv:
        first = cli(["run", "wf.json", "--out", "out", "--no-wait", "--repeat", "2", "--json"], srv, cwd=files)
        jobs = [j["job_id"] for j in json.loads(first.stdout)["jobs"]]
        health = cli(["health", "--json"], srv, cwd=files)
        assert health.returncode == 0
        counts = json.loads(health.stdout)
        assert counts["jobs"]["inQueue"] + counts["jobs"]["inProgress"] == 2
        text = cli(["health"], srv, cwd=files)
        assert "queued" in text.stdout and "workers" in text.stdout
        for job in jobs:
            cancel = cli(["cancel", job, "--out", "out"], srv, cwd=files)
            assert cancel.returncode == 0 and "CANCELLED" in cancel.stdout
        assert {r["status"] for r in records(files / "out")} == {"CANCELLED"}
        status = cli(["status", jobs[0], "--out", "out"], srv, cwd=files)
        assert status.returncode == 1 and "CANCELLED" in status.stdout


def test_endpoint_and_key_from_configuration(server, files):
    (files / "comfydsl.toml").write_text(f'[runpod]\nendpoint = "ep"\nbase-url = "{server.url}"\n'
                                         f'api-key = "{KEY}"\n')
    proc = cli(["health"], cwd=files, key=None)
    assert proc.returncode == 0, proc.stderr
    (files / "comfydsl.toml").write_text('[runpod]\nendpont = "ep"\n')
    bad = cli(["health"], cwd=files, key=None)
    assert bad.returncode == 2 and "endpont" in bad.stderr


def test_usage_errors(server, files):
    no_endpoint = cli(["health"], cwd=files)
    assert no_endpoint.returncode == 2 and "--endpoint" in no_endpoint.stderr
    no_key = cli(["health"], server, cwd=files, key=None)
    assert no_key.returncode == 2 and "RUNPOD_API_KEY" in no_key.stderr
    assert cli(["run", "wf.json", "--set", "a=1"], server, cwd=files).returncode == 2
    assert cli(["run", "wf.json", "--sync", "--detach"], server, cwd=files).returncode == 2
    assert cli(["run", "wf.json", "--concurrency", "0"], server, cwd=files).returncode == 2
    assert cli(["run", "nope.json"], server, cwd=files).returncode == 1


def test_wrong_key_is_reported_without_leaking(server, files):
    wrong = "rp_wrong_key_7777"
    proc = cli(["run", "wf.json", "--out", "out"], server, cwd=files, key=wrong)
    assert proc.returncode == 1 and "API key" in proc.stderr
    assert wrong not in proc.stderr and wrong not in proc.stdout and "Traceback" not in proc.stderr


def test_unreachable_endpoint_is_a_clear_error(files):
    with serve_in_thread(executor="dry") as srv:
        url = srv.url
    proc = cli(["health", "--endpoint", "ep", "--base-url", url, "--retries", "1"], cwd=files, timeout=90)
    assert proc.returncode == 1 and "cannot talk to" in proc.stderr and "Traceback" not in proc.stderr
    assert "after 2 attempts" in proc.stderr


@pytest.mark.skipif(os.name == "nt", reason="pseudo-terminals are POSIX")
def test_terminal_progress_is_one_live_line(files):
    import pty

    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=0.6) as srv:
        master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
        env.update(RUNPOD_API_KEY=KEY, RUNPOD_API_BASE=srv.url, RUNPOD_ENDPOINT_ID="ep")
        proc = subprocess.Popen([*comfydsl_command(), "run", "wf.json", "--out", "out", "--poll-interval", "0.1"],
                                cwd=files, env=env, stderr=slave, stdout=subprocess.PIPE)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        proc.wait(timeout=30)
        os.close(master)
    text = seen.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "\r\x1b[K" in text and ("in queue" in text or "in progress" in text)
    assert "COMPLETED (queue" in text


def test_timeout_leaves_the_job_running_and_says_how_to_resume(files):
    with serve_in_thread(executor="dry", api_key=KEY, run_seconds=5, workers=1) as srv:
        proc = cli(["run", "wf.json", "--out", "out", "--timeout", "0.3", "--poll-interval", "0.05"], srv,
                   cwd=files)
        assert proc.returncode == 1
        assert "gave up waiting" in proc.stderr and "resume with: comfydsl status" in proc.stderr
        assert srv.requests["cancel"] == 0
        [record] = records(files / "out")
        assert record["status"] in ("IN_QUEUE", "IN_PROGRESS")


def test_policy_options_reach_the_endpoint(server, files):
    ok = cli(["run", "wf.json", "--out", "out", "--sync", "--execution-timeout", "60", "--ttl", "3600",
              "--low-priority"], server, cwd=files)
    assert ok.returncode == 0, ok.stderr
    refused = cli(["run", "wf.json", "--out", "out", "--sync", "--execution-timeout", "1"], server, cwd=files)
    assert refused.returncode == 1 and "executionTimeout" in refused.stderr and "HTTP 400" in refused.stderr
    assert cli(["run", "wf.json", "--webhook", "ftp://x"], server, cwd=files).returncode == 2


def test_out_that_is_a_file_is_a_usage_error(server, files):
    (files / "taken").write_text("mine")
    proc = cli(["run", "wf.json", "--out", "taken"], server, cwd=files)
    assert proc.returncode == 2 and "not a folder" in proc.stderr
    assert (files / "taken").read_text() == "mine" and server.requests.total == 0


@pytest.mark.parametrize("command", [["status"], ["cancel"]])
@pytest.mark.parametrize("job", ["../../etc/x", "..", ""])
def test_job_id_that_cannot_be_one_is_a_usage_error(files, command, job):
    proc = cli([*command, job, "--endpoint", "ep", "--base-url", "http://127.0.0.1:9/v2"], cwd=files)
    assert proc.returncode == 2 and "is not a job id" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("base", ["http://127.0.0.1:99999/v2", "http://127.0.0.1:port/v2", "http:///v2",
                                  "http://[::1/v2"])
def test_malformed_base_url_is_a_usage_error(files, base):
    for args in (["health"], ["run", "wf.json"]):
        proc = cli([*args, "--endpoint", "ep", "--base-url", base, "--retries", "0"], cwd=files)
        assert proc.returncode == 2 and "base URL" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("option", [["--timeout", "nan"], ["--timeout", "inf"], ["--poll-interval", "nan"],
                                    ["--poll-interval", "inf"]])
def test_wait_times_that_are_no_number_of_seconds_are_usage_errors(files, option):
    for args in (["run", "wf.json"], ["status", "abc"]):
        proc = cli([*args, *option, "--endpoint", "ep", "--base-url", "http://127.0.0.1:9/v2"], cwd=files)
        assert proc.returncode == 2 and option[0] in proc.stderr and "Traceback" not in proc.stderr
