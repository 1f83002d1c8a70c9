"""Catalogue packs shipped in the package: named without a path (`--catalog pulid_flux`,
`packs = ["pulid_flux"]`), unknown names are clear errors, and CD101 names the pack."""

from __future__ import annotations

import json

import pytest

from comfydsl.catalog import is_pack_name, load_pack, pack_names, packs_defining
from comfydsl.config import load_settings
from comfydsl.errors import CatalogError, ConfigError
from comfydsl.target import load_target
from comfydsl.validate import check_workflow

PULID_CLASSES = {"ApplyPulidFlux", "FixPulidFluxPatch", "PulidFluxEvaClipLoader", "PulidFluxFaceDetector",
                 "PulidFluxFaceNetLoader", "PulidFluxInsightFaceLoader", "PulidFluxModelLoader",
                 "PulidFluxOptions"}


def test_the_pulid_pack_is_shipped():
    assert "pulid_flux" in pack_names()
    assert set(load_pack("pulid_flux")) == PULID_CLASSES


def test_load_pack_gives_a_fresh_copy():
    load_pack("pulid_flux")["ApplyPulidFlux"]["output"].append("junk")
    assert load_pack("pulid_flux")["ApplyPulidFlux"]["output"] == ["MODEL"]


def test_an_unknown_pack_names_the_shipped_ones():
    with pytest.raises(CatalogError, match=r"`pulid` is neither a catalogue file nor a shipped catalogue pack "
                                           r"\(shipped packs: .*pulid_flux"):
        load_pack("pulid")


@pytest.mark.parametrize("source, expected", [
    ("pulid_flux", True), ("my-pack", True),
    ("pulid_flux.json", False), ("PULID.JSON", False), ("./pulid_flux", False), ("catalogs/x", False),
    ("a\\b", False), ("C:x", False), ("http://host:8188", False), ("", False), (".", False), ("..", False),
])
def test_what_counts_as_a_pack_name(source, expected):
    assert is_pack_name(source) is expected


def test_packs_defining():
    assert packs_defining("ApplyPulidFlux") == ["pulid_flux"]
    assert packs_defining("KSampler") == [] and packs_defining("NoSuchNode") == []


def test_load_target_takes_a_pack_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = load_target(["pulid_flux"])
    assert PULID_CLASSES <= set(target.catalog) and "KSampler" in target.catalog
    assert target.catalog["PulidFluxModelLoader"].inputs["pulid_file"].model_folder == "pulid"
    assert target.models is None  # a pack lists no model files
    assert set(load_target(["pulid_flux"], builtin=False).catalog) == PULID_CLASSES


def test_an_existing_file_wins_over_a_pack_of_the_same_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pulid_flux").write_text(json.dumps({"MyNode": {"input": {"required": {}}, "output": []}}))
    assert set(load_target(["pulid_flux"], builtin=False).catalog) == {"MyNode"}


def test_load_target_with_an_unknown_pack(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CatalogError, match="shipped packs: pulid_flux"):
        load_target(["no_such_pack"])


def test_settings_packs_come_before_catalog_files(tmp_path):
    (tmp_path / "comfydsl.toml").write_text('packs = ["pulid_flux"]\ncatalog = ["mine.json", "pulid_flux"]\n')
    settings = load_settings(start=tmp_path)
    assert settings.catalog == ["pulid_flux", str((tmp_path / "mine.json").resolve()), "pulid_flux"]


def test_settings_catalog_entry_that_is_a_file_stays_a_path(tmp_path):
    (tmp_path / "pulid_flux").write_text("{}")
    (tmp_path / "comfydsl.toml").write_text('catalog = ["pulid_flux"]\n')
    assert load_settings(start=tmp_path).catalog == [str((tmp_path / "pulid_flux").resolve())]


def test_settings_packs_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.comfydsl]\npacks = ["pulid_flux"]\n')
    assert load_settings(start=tmp_path).catalog == ["pulid_flux"]


@pytest.mark.parametrize("value, message", [
    ('["pulid"]', r"`packs`: unknown catalogue pack `pulid` \(shipped packs: .*pulid_flux"),
    ('"pulid_flux"', "`packs` must be a list of strings"),
    ("[1]", "`packs` must be a list of strings"),
])
def test_bad_packs_setting(tmp_path, value, message):
    (tmp_path / "comfydsl.toml").write_text(f"packs = {value}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(start=tmp_path)


def test_cd101_names_the_shipped_pack_that_defines_the_class():
    wf = {"1": {"class_type": "ApplyPulidFlux", "inputs": {}},
          "2": {"class_type": "SaveImage", "inputs": {"filename_prefix": "x", "images": ["1", 0]}}}
    [found] = [d for d in check_workflow(wf) if d.code == "CD101"]
    assert found.help == ('the shipped catalogue pack `pulid_flux` defines `ApplyPulidFlux`: add '
                          '`--catalog pulid_flux` (or `packs = ["pulid_flux"]` in comfydsl.toml)')


def test_cd101_without_a_pack_keeps_its_other_hints():
    wf = {"1": {"class_type": "KSamplr", "inputs": {}}}
    [found] = [d for d in check_workflow(wf) if d.code == "CD101"]
    assert "similar name" in found.help and "pack" not in found.help


# -- through the command line ---------------------------------------------------------------------
PULID_WORKFLOW = {
    "1": {"class_type": "PulidFluxEvaClipLoader", "inputs": {}},
    "2": {"class_type": "PulidFluxInsightFaceLoader", "inputs": {"provider": "CPU"}},
    "3": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "x"}},
}


@pytest.fixture
def pulid_json(tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(PULID_WORKFLOW))
    return path


def test_lint_takes_a_pack_by_name(pulid_json, tmp_path):
    from support import invoke

    without = invoke("lint", pulid_json, cwd=tmp_path)
    assert without.returncode == 1 and "add `--catalog pulid_flux`" in without.stdout
    assert invoke("lint", pulid_json, "--catalog", "pulid_flux", cwd=tmp_path).returncode == 0


def test_lint_with_packs_in_the_settings(pulid_json, tmp_path):
    from support import invoke

    (tmp_path / "comfydsl.toml").write_text('packs = ["pulid_flux"]\n')
    assert invoke("lint", pulid_json, cwd=tmp_path).returncode == 0
    (tmp_path / "comfydsl.toml").write_text('packs = ["pulid_flx"]\n')
    bad = invoke("lint", pulid_json, cwd=tmp_path)
    assert bad.returncode == 2 and "unknown catalogue pack `pulid_flx` (shipped packs: pulid_flux" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("command", [["lint", "wf.json"], ["schema"]])
def test_an_unknown_pack_on_the_command_line_is_a_usage_error(pulid_json, tmp_path, command):
    from support import invoke

    done = invoke(*command, "--catalog", "pulid", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "`pulid` is neither a catalogue file nor a shipped catalogue pack (shipped packs: pulid_flux" \
        in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_compile_a_recipe_with_a_pack(tmp_path):
    from support import invoke

    (tmp_path / "r.comfy").write_text("eva = PulidFluxEvaClipLoader()\n"
                                      "img = EmptyImage(width=64, height=64, batch_size=1, color=0)\n"
                                      "SaveImage(images=img, filename_prefix=\"x\")\n")
    assert invoke("compile", "r.comfy", cwd=tmp_path).returncode == 1
    done = invoke("compile", "r.comfy", "--catalog", "pulid_flux", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["1"]["class_type"] == "PulidFluxEvaClipLoader"
