"""Saving images (atomic, never overwriting, sanitised names) and job records."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comfydsl.jobs import JobRecord, sanitize_filename, save_new_file


@pytest.mark.parametrize("name, expected", [
    ("ComfyUI_00001_.png", "ComfyUI_00001_.png"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\win.ini", "win.ini"),
    ("/abs/path/x.png", "x.png"),
    ("..", "image.png"),
    ("", "image.png"),
    (None, "image.png"),
    ("a b\x00c.png", "a_b_c.png"),
    (".hidden.png", "hidden.png"),
    ("CON.png", "CON_image.png"),
])
def test_sanitize(name, expected):
    assert sanitize_filename(name) == expected


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_sanitized_names_stay_inside(name):
    clean = sanitize_filename(name)
    assert clean and "/" not in clean and "\\" not in clean and clean not in (".", "..")
    assert not clean.startswith(".") and len(clean) <= 120


def test_never_overwrites(tmp_path):
    (tmp_path / "x.png").write_bytes(b"mine")
    first = save_new_file(tmp_path, "x.png", b"one")
    second = save_new_file(tmp_path, "../x.png", b"two")
    assert (tmp_path / "x.png").read_bytes() == b"mine"
    assert first.name == "x-1.png" and first.read_bytes() == b"one"
    assert second.name == "x-2.png" and second.parent == tmp_path
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


def test_no_extension_and_new_folder(tmp_path):
    target = tmp_path / "new" / "deeper"
    a = save_new_file(target, "noext", b"1")
    b = save_new_file(target, "noext", b"2")
    assert (a.name, b.name) == ("noext", "noext-1")


def test_record_round_trip(tmp_path):
    record = JobRecord(job_id="abc-u1", endpoint="ep", base_url="http://127.0.0.1:1/v2", status="IN_QUEUE",
                       submitted_at=10.0, finished_at=12.5, files=["a.png"])
    path = record.save(tmp_path)
    assert path.name == "abc-u1.job.json"
    loaded = JobRecord.load(tmp_path, "abc-u1")
    assert loaded == record and loaded.wall_seconds == 2.5
    assert JobRecord.load(tmp_path, "other") is None


def test_bad_record_is_a_clear_error(tmp_path):
    (tmp_path / "j.job.json").write_text("{not json")
    with pytest.raises(ValueError, match="j.job.json"):
        JobRecord.load(tmp_path, "j")
