"""Settings: discovery upward, `[tool.comfydsl]` in pyproject.toml, bad files, and how
`comfydsl lint` uses them (command line over settings, paths relative to the file)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from comfydsl.config import find_config, load_settings
from comfydsl.errors import ConfigError

sys.path.insert(0, str(Path(__file__).parent / "cli"))
from clitools import CLEAN, assert_clean_usage_error, run, workflow, write_json  # noqa: E402
from support import PULID_OBJECT_INFO as PULID  # noqa: E402


# -- discovery -------------------------------------------------------------------------


def test_nearest_file_upward_wins(tmp_path):
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / "comfydsl.toml").write_text("strict = true\n")
    (tmp_path / "a" / "pyproject.toml").write_text('[tool.comfydsl]\nformat = "json"\n')
    assert find_config(deep) == tmp_path / "a" / "pyproject.toml"
    assert load_settings(start=deep).format == "json"
    (tmp_path / "a" / "b" / "comfydsl.toml").write_text('format = "github"\n')
    assert find_config(deep) == tmp_path / "a" / "b" / "comfydsl.toml"


def test_pyproject_without_the_table_is_skipped(tmp_path):
    (tmp_path / "comfydsl.toml").write_text("strict = true\n")
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.ruff]\nline-length = 1\n')
    assert find_config(tmp_path / "proj") == tmp_path / "comfydsl.toml"
    (tmp_path / "proj" / "pyproject.toml").write_text("tool = 1\n")
    assert find_config(tmp_path / "proj") == tmp_path / "comfydsl.toml"


def test_comfydsl_toml_beats_pyproject_in_the_same_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.comfydsl]\nstrict = false\n")
    (tmp_path / "comfydsl.toml").write_text("strict = true\n")
    assert load_settings(start=tmp_path).strict is True


def test_no_file_gives_defaults(tmp_path):
    settings = load_settings(start=tmp_path)
    if settings.path is None:  # a file above the temporary folder would be found, as designed
        assert settings.catalog == [] and settings.format is None and not settings.strict


def test_pyproject_table_and_relative_paths(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[tool.comfydsl]\n"
        'catalog = ["cat/extra.json", "http://127.0.0.1:8188"]\n'
        'models = "models.toml"\nno-builtin = true\nselect = ["CD2"]\nignore = ["CD603"]\n'
        'exclude = ["vendor/**"]\n[tool.comfydsl.runpod]\nendpoint = "abc"\n')
    settings = load_settings(start=tmp_path)
    assert settings.catalog == [str(tmp_path / "cat" / "extra.json"), "http://127.0.0.1:8188"]
    assert settings.models == str(tmp_path / "models.toml")
    assert settings.no_builtin is True
    assert (settings.select, settings.ignore, settings.exclude) == (["CD2"], ["CD603"], ["vendor/**"])
    assert settings.runpod == {"endpoint": "abc"}
    assert settings.root == tmp_path


def test_catalog_may_be_one_string(tmp_path):
    (tmp_path / "comfydsl.toml").write_text('catalog = "one.json"\n')
    assert load_settings(start=tmp_path).catalog == [str(tmp_path / "one.json")]


@pytest.mark.parametrize("text, fragment", [
    ("colour = 1\n", "unknown setting(s): colour"),
    ("strict = 'yes'\n", "`strict` must be true or false"),
    ("no-builtin = 1\n", "`no-builtin` must be true or false"),
    ("select = 'CD2'\n", "`select` must be a list of strings"),
    ("ignore = [1]\n", "`ignore` must be a list of strings"),
    ("catalog = 3\n", "`catalog` must be a list of strings"),
    ("models = 3\n", "`models` must be a string"),
    ("format = 3\n", "`format` must be a string"),
    ("runpod = 'x'\n", "`runpod` must be a table"),
    ("strict = \n", "not valid TOML"),
])
def test_bad_settings(tmp_path, text, fragment):
    (tmp_path / "comfydsl.toml").write_text(text)
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_settings(start=tmp_path)


def test_bad_tool_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool]\ncomfydsl = 1\n")
    with pytest.raises(ConfigError, match="must be a table"):
        load_settings(tmp_path / "pyproject.toml")


# -- through the CLI -------------------------------------------------------------------


@pytest.mark.parametrize("text, fragment", [
    ("colour = 1\n", "unknown setting"),
    ("strict = 'yes'\n", "`strict` must be true or false"),
    ("format = 'xml'\n", "`format` must be one of"),
    ("strict = \n", "not valid TOML"),
    ("ignore = ['no-such-rule']\n", "comfydsl.toml: `ignore`: `no-such-rule` matches no rule"),
    ('catalog = ["missing.json"]\n', "missing.json"),
])
def test_bad_config_exits_2(tmp_path, text, fragment):
    (tmp_path / "comfydsl.toml").write_text(text)
    write_json(tmp_path / "w.json", CLEAN)
    assert_clean_usage_error(run("lint", "w.json", cwd=tmp_path), fragment)


def test_missing_config_file_exits_2(tmp_path):
    assert_clean_usage_error(run("lint", "--config", "nope.toml", cwd=tmp_path), "nope.toml")


def test_settings_apply_and_command_line_overrides(tmp_path):
    write_json(tmp_path / "w.json", workflow(n1={"width": 0, "colour": 5}))
    (tmp_path / "comfydsl.toml").write_text('format = "concise"\nignore = ["CD403"]\nstrict = true\n')
    result = run("lint", "w.json", cwd=tmp_path)
    assert result.returncode == 1  # strict: the CD202 warning fails the run
    assert result.stdout.splitlines()[0].startswith("w.json:9:7: CD202")
    assert "CD403" not in result.stdout
    result = run("lint", "w.json", "--format", "json", "--ignore", "CD202", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert [d["code"] for d in report["files"][0]["diagnostics"]] == ["CD403"]


def test_explicit_config_and_paths_relative_to_it(tmp_path):
    conf = tmp_path / "conf"
    write_json(conf / "catalogs" / "pulid.json", json.loads(PULID.read_text()))
    (conf / "lint.toml").write_text('catalog = ["catalogs/pulid.json"]\n')
    wf = {"5": {"class_type": "PulidFluxInsightFaceLoader", "inputs": {"provider": "CPU"}}, **CLEAN}
    write_json(tmp_path / "work" / "p.json", wf)
    plain = json.loads(run("lint", "p.json", "--format", "json", cwd=tmp_path / "work").stdout)
    assert "CD101" in [d["code"] for d in plain["files"][0]["diagnostics"]]
    configured = run("lint", "p.json", "--format", "json", "--config", str(conf / "lint.toml"),
                     cwd=tmp_path / "work")
    codes = [d["code"] for d in json.loads(configured.stdout)["files"][0]["diagnostics"]]
    assert "CD101" not in codes


def test_config_found_from_a_subfolder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.comfydsl]\nformat = "github"\n')
    write_json(tmp_path / "wf" / "w.json", workflow(n1={"width": 0}))
    result = run("lint", "w.json", cwd=tmp_path / "wf")
    assert result.stdout.startswith("::error file=w.json,line=5,col=7")
