"""Outputs other than images (videos, audio... as worker-comfyui is growing them) are saved by
type with the same safety rules as images; server-given names keep their extension and can
never pass for a job record."""

from __future__ import annotations

import base64
import json
import os

import pytest

from comfydsl.backends.results import JobState, JobResult, parse_output
from comfydsl.jobs import RECORD_SUFFIX, JobRecord, sanitize_filename, save_new_file
from comfydsl.serve import serve_in_thread
from support import invoke

KEY = "rp_test_key_5f0c1d2e9a"
MP4 = b"\x00\x00\x00\x18ftypmp42fake video"
WAV = b"RIFF\x24\x00\x00\x00WAVEfake audio"
PNG = b"\x89PNG\r\n\x1a\nfake"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("name, expected", [
    ("名前.png", "file.png"),
    ("ビデオ.mp4", "file.mp4"),
    ("a.job.json", "a-job.json"),
    ("A.JOB.JSON", "A-job.json"),
    ("../x.job.json", "x-job.json"),
    ("名前.job.json", "job.json"),
    ("ok.part", "ok-part"),
])
def test_names_keep_their_extension_and_never_look_like_records(name, expected):
    assert sanitize_filename(name) == expected
    assert not sanitize_filename(name).lower().endswith(RECORD_SUFFIX)


def test_a_server_name_cannot_replace_or_fake_a_record(tmp_path):
    record = JobRecord(job_id="job-1", endpoint="ep", base_url="https://rp.test/v2", status="COMPLETED")
    record.save(tmp_path)
    saved = save_new_file(tmp_path, "job-1.job.json", b'{"job_id": "job-2"}')
    assert not saved.name.endswith(RECORD_SUFFIX)
    assert JobRecord.load(tmp_path, "job-1").status == "COMPLETED"
    assert sorted(p.name for p in tmp_path.glob("*" + RECORD_SUFFIX)) == ["job-1.job.json"]


def test_parse_output_reads_other_files_by_type():
    out = parse_output({"images": [{"filename": "a.png", "type": "base64", "data": b64(PNG)}],
                        "videos": [{"filename": "clip.mp4", "type": "base64", "data": b64(MP4)}],
                        "audio": [{"filename": "../../sound.wav", "type": "base64", "data": b64(WAV)}],
                        "gifs": [{"type": "base64", "data": "data:image/gif;base64," + b64(b"GIF89a")}],
                        "errors": ["a warning"]})
    assert [i.filename for i in out.images] == ["a.png"]
    assert [(f.kind, f.filename) for f in out.files] == [
        ("audio", "../../sound.wav"), ("gifs", "animation_1.gif"), ("videos", "clip.mp4")]
    assert out.warnings == ["a warning"] and not out.no_images
    only_video = parse_output({"videos": [{"filename": "v.mp4", "type": "s3_url", "data": "https://b.test/v"}]})
    assert only_video.files[0].is_url and not only_video.no_images
    state = JobState.model_validate({"id": "j", "status": "COMPLETED", "output": {"videos": [
        {"filename": "v.mp4", "type": "base64", "data": b64(MP4)}]}})
    result = JobResult.from_state("ep", state)
    assert result.ok and [f.decode() for f in result.outputs] == [MP4]


class VideoExecutor:
    """A handler whose output lists an image, a video, an audio file and hostile names."""

    def run(self, job_input, cancelled):
        return {"images": [{"filename": "名前.png", "type": "base64", "data": b64(PNG)}],
                "videos": [{"filename": "clip.mp4", "type": "base64", "data": b64(MP4)},
                           {"filename": "evil.job.json", "type": "base64", "data": b64(b"{}")}],
                "audio": [{"filename": "/etc/../音.wav", "type": "base64", "data": b64(WAV)}]}

    def close(self):
        pass


def test_run_saves_every_output_file_safely(tmp_path):
    wf = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}},
          "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "t"}}}
    (tmp_path / "wf.json").write_text(json.dumps(wf))
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")}
    with serve_in_thread(VideoExecutor(), api_key=KEY) as srv:
        env.update(RUNPOD_API_KEY=KEY, RUNPOD_API_BASE=srv.url, RUNPOD_ENDPOINT_ID="ep")
        proc = invoke("run", "wf.json", "--out", "out", "--poll-interval", "0.05", cwd=tmp_path, env=env,
                      replace_env=True)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    [record_path] = out.glob("*" + RECORD_SUFFIX)
    record = json.loads(record_path.read_text())
    assert record["files"] == ["file.png", "file.wav", "clip.mp4", "evil-job.json"]
    assert (out / "clip.mp4").read_bytes() == MP4 and (out / "file.wav").read_bytes() == WAV
    assert sorted(p.name for p in out.iterdir()) == sorted(record["files"] + [record_path.name])
