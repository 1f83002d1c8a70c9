"""Fragment libraries (files of fragments and imports only) lint on their own."""

from __future__ import annotations

from comfydsl.dsl import lint_recipe
from comfydsl.target import load_target

LIBRARY = """# a library
fragment shrink(image, factor: float = 0.5) {
    small = ImageScaleBy(image=image, upscale_method="lanczos", scale_by=factor)
    return small
}
"""


def codes(text: str, tmp_path) -> list[str]:
    path = tmp_path / "lib.comfy"
    path.write_text(text)
    return [d.code for d in lint_recipe(str(path), text, load_target())]


def test_a_library_has_no_workflow_findings(tmp_path):
    assert codes(LIBRARY, tmp_path) == []


def test_a_library_with_a_syntax_error_is_still_reported(tmp_path):
    assert codes(LIBRARY.replace("return small", "return small,,"), tmp_path) == ["CD010"]


def test_a_file_with_nodes_is_judged_as_a_workflow(tmp_path):
    text = LIBRARY + "img = EmptyImage(width=8, height=8, batch_size=1, color=0)\n"
    assert "CD602" in codes(text, tmp_path)
