"""`file(...)` attachments: upload names, RunPod `input.images`, confinement, body size limits."""

from __future__ import annotations

import base64

import pytest

from comfydsl import CompileError
from comfydsl.dsl import Recipe
from comfydsl.target import Target
from support_dsl import codes

LOAD = 'img = LoadImage(image=file("{path}"))\nSaveImage(images=img.IMAGE, filename_prefix="t")\n'


@pytest.fixture
def target(builtin):
    return Target(builtin)


def make(tmp_path, text, target, **options):
    path = tmp_path / "r.comfy"
    path.write_text(text)
    return Recipe(path, target=target, **options)


def test_attachment_is_uploaded_with_the_job(tmp_path, target):
    (tmp_path / "faces").mkdir()
    (tmp_path / "faces" / "base.jpg").write_bytes(b"\xff\xd8jpeg bytes")
    r = make(tmp_path, LOAD.format(path="faces/base.jpg"), target, envelope="runpod")
    body = r.compile()
    assert body["input"]["workflow"]["1"]["inputs"]["image"] == "base.jpg"
    assert body["input"]["images"] == [{"name": "base.jpg", "image": base64.b64encode(b"\xff\xd8jpeg bytes").decode()}]
    r.envelope = None
    assert r.compile()["1"]["inputs"]["image"] == "base.jpg"  # the bare workflow names the upload


def test_names_are_unique_and_one_file_is_sent_once(tmp_path, target):
    for folder, data in (("a", b"A"), ("b", b"B")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "face.png").write_bytes(data)
    text = ('one = LoadImage(image=file("a/face.png"))\ntwo = LoadImage(image=file("b/face.png"))\n'
            'again = LoadImage(image=file("a/../a/face.png"))\n'
            'SaveImage(images=ImageBlend(image1=one.IMAGE, image2=two.IMAGE, blend_factor=0.5, '
            'blend_mode="normal"), filename_prefix="t")\nPreviewImage(images=again.IMAGE)\n')
    body = make(tmp_path, text, target, envelope="runpod").compile()
    nodes = body["input"]["workflow"]
    assert [nodes[i]["inputs"]["image"] for i in ("1", "2", "3")] == ["face.png", "face-2.png", "face.png"]
    assert [(i["name"], base64.b64decode(i["image"])) for i in body["input"]["images"]] == [
        ("face-2.png", b"B"), ("face.png", b"A")]


def test_attachments_outside_the_recipe_folder_are_refused(tmp_path, target):
    (tmp_path / "secret.png").write_bytes(b"x")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link.png").symlink_to(tmp_path / "secret.png")
    for path in ("../secret.png", str(tmp_path / "secret.png"), "link.png"):
        found = make(project, LOAD.format(path=path), target).check()
        assert codes(found) == ["CD117"], path
        assert (found[0].span.line, found[0].span.column) == (1, 23)


def test_missing_attachment(tmp_path, target):
    found = make(tmp_path, LOAD.format(path="nope.png"), target).check()
    assert codes(found) == ["CD119"]


def write_big(tmp_path, size: int) -> None:
    (tmp_path / "big.png").write_bytes(bytes(size))


def test_body_over_10_mb_is_a_warning(tmp_path, target):
    write_big(tmp_path, 8_000_000)  # 10.7 MB once base64-encoded
    r = make(tmp_path, LOAD.format(path="big.png"), target)
    found = r.check()
    assert codes(found) == ["CD122"] and not found[0].is_error
    assert found[0].ctx["size"] > 10_000_000 and found[0].span.line == 1
    assert "/run" in found[0].message
    assert r.compile()["1"]["inputs"]["image"] == "big.png"


def test_body_over_the_limit_is_an_error(tmp_path, target):
    write_big(tmp_path, 15_500_000)  # 20.7 MB once base64-encoded
    with pytest.raises(CompileError) as info:
        make(tmp_path, LOAD.format(path="big.png"), target).compile()
    assert codes(info.value.diagnostics) == ["CD122"] and info.value.diagnostics[0].is_error


def test_the_limit_is_an_option(tmp_path, target):
    write_big(tmp_path, 300_000)
    found = make(tmp_path, LOAD.format(path="big.png"), target, body_limit=200_000).check()
    assert codes(found) == ["CD122"] and found[0].is_error
    assert make(tmp_path, LOAD.format(path="big.png"), target, body_limit=500_000).check() == []


def test_small_bodies_are_quiet(tmp_path, target):
    write_big(tmp_path, 1000)
    assert make(tmp_path, LOAD.format(path="big.png"), target).check() == []
