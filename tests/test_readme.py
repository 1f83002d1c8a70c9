"""The README's examples stay true: the quick start and the outputs it shows."""

from __future__ import annotations

import re
import subprocess

from support import ROOT, comfydsl_command

README = (ROOT / "README.md").read_text()


def shown_output(command: str) -> list[str]:
    """The lines the README shows under `$ <command>`, up to the end of the block."""
    block = re.search(r"\$ " + re.escape(command) + r"\n(.*?)```", README, re.S)
    assert block, f"README shows no `$ {command}`"
    return block.group(1).rstrip("\n").splitlines()


def run(args: list[str], cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(comfydsl_command() + args, cwd=cwd, capture_output=True, text=True,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def test_quick_start_commands_are_in_the_readme():
    assert '$ pip install . && comfydsl lint examples/\n' in README
    assert '$ pip install ".[test]" && python -m pytest\n' in README


def test_examples_lint_as_described():
    assert run(["lint", "examples/sd15_txt2img.json", "--models", "examples/models.toml"]).returncode == 0
    assert run(["lint", "examples/"]).returncode == 1


def test_concise_lint_output_matches_readme():
    result = run(["lint", "examples/broken_sd15.json", "--format", "concise"])
    shown = shown_output("comfydsl lint examples/broken_sd15.json --format concise")
    assert result.stdout.splitlines() + result.stderr.splitlines() == shown


def test_recipe_error_output_matches_readme():
    result = run(["compile", "flux_txt2img.comfy", "--set", "steps=0"], cwd=ROOT / "recipes")
    assert result.returncode == 1
    assert (result.stdout + result.stderr).rstrip("\n").splitlines() == \
        shown_output("comfydsl compile flux_txt2img.comfy --set steps=0")


def test_the_flux_example_is_the_shipped_recipe_in_fmt_layout():
    from comfydsl.dsl.fmt import format_source

    shipped = (ROOT / "recipes" / "flux_txt2img.comfy").read_text()
    block = re.search(r"```\n(# FLUX.*?)```", README, re.S)
    assert block, "README shows no FLUX recipe"
    assert block.group(1) == shipped
    assert format_source(shipped) == shipped
