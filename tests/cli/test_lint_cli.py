"""`comfydsl lint` through the installed console script."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess

import pytest

from clitools import (CLEAN, CONFORMANCE, PULID_OBJECT_INFO, assert_clean_usage_error, comfydsl_script, run,
                      workflow, write_json)

PULID = PULID_OBJECT_INFO
MODELS_NOTE = "model and input files were not checked"


def lint_json(*args, cwd=None, stdin=None):
    result = run("lint", "--format", "json", *args, cwd=cwd, stdin=stdin)
    assert "Traceback" not in result.stderr
    return result, json.loads(result.stdout)


def codes(report: dict) -> list[str]:
    return [d["code"] for f in report["files"] for d in f["diagnostics"]]


# -- exit status and basic output ------------------------------------------------------


def test_clean_file_exits_0_and_notes_unchecked_models(tmp_path):
    write_json(tmp_path / "ok.json", CLEAN)
    result = run("lint", "ok.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no problems found in 1 file\n"
    assert result.stderr.count(MODELS_NOTE) == 1


def test_error_exits_1_with_located_finding(tmp_path):
    write_json(tmp_path / "bad.json", workflow(n1={"width": 0}))
    result = run("lint", "--format", "concise", "bad.json", cwd=tmp_path)
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("bad.json:5:7:")
    assert ": CD403 [error] " in first


def test_models_note_once_per_run_not_per_file(tmp_path):
    for name in ("a.json", "b.json", "c.json"):
        write_json(tmp_path / name, CLEAN)
    result = run("lint", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr.count(MODELS_NOTE) == 1
    assert "in 3 files" in result.stdout


def test_models_given_no_note_and_models_checked(tmp_path):
    manifest = tmp_path / "models.toml"
    manifest.write_text('checkpoints = ["sd_xl_base_1.0.safetensors"]\n')
    wf = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "9": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["4", 2]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    }
    write_json(tmp_path / "wf.json", wf)
    result = run("lint", "--models", str(manifest), "wf.json", cwd=tmp_path)
    assert MODELS_NOTE not in result.stderr
    result, report = lint_json("--models", str(manifest), "wf.json", cwd=tmp_path)
    assert report["models_checked"] is True
    assert "CD501" in codes(report)
    _, report = lint_json("wf.json", cwd=tmp_path)
    assert report["models_checked"] is False
    assert "CD501" not in codes(report)


def test_strict_fails_on_warnings(tmp_path):
    write_json(tmp_path / "w.json", workflow(n1={"colour": 5}))
    assert run("lint", "w.json", cwd=tmp_path).returncode == 0
    assert run("lint", "--strict", "w.json", cwd=tmp_path).returncode == 1


# -- finding files ---------------------------------------------------------------------


def test_directories_are_searched_recursively(tmp_path):
    write_json(tmp_path / "a.json", CLEAN)
    write_json(tmp_path / "sub" / "deeper" / "b.json", CLEAN)
    (tmp_path / "sub" / "notes.txt").write_text("not linted")
    write_json(tmp_path / ".hidden" / "c.json", {"x": 1})
    write_json(tmp_path / "node_modules" / "d.json", {"x": 1})
    _, report = lint_json(".", cwd=tmp_path)
    assert [f["path"] for f in report["files"]] == ["a.json", os.path.join("sub", "deeper", "b.json")]


def test_no_paths_means_the_working_directory(tmp_path):
    write_json(tmp_path / "a.json", CLEAN)
    _, report = lint_json(cwd=tmp_path)
    assert [f["path"] for f in report["files"]] == ["a.json"]


def test_globs_are_expanded_without_a_shell(tmp_path):
    write_json(tmp_path / "wf" / "one.json", CLEAN)
    write_json(tmp_path / "wf" / "two.json", workflow(n1={"width": 0}))
    write_json(tmp_path / "wf" / "x" / "three.json", CLEAN)
    _, report = lint_json("wf/*.json", cwd=tmp_path)
    assert sorted(f["path"] for f in report["files"]) == [os.path.join("wf", "one.json"), os.path.join("wf", "two.json")]
    _, report = lint_json("wf/**/*.json", cwd=tmp_path)
    assert len(report["files"]) == 3


def test_same_file_twice_is_checked_once(tmp_path):
    write_json(tmp_path / "a.json", CLEAN)
    _, report = lint_json("a.json", "./a.json", ".", cwd=tmp_path)
    assert len(report["files"]) == 1


def test_exclude_option_and_setting(tmp_path):
    write_json(tmp_path / "keep.json", CLEAN)
    write_json(tmp_path / "vendor" / "skip.json", {"x": 1})
    write_json(tmp_path / "other.ui.json", {"nodes": [], "links": []})
    _, report = lint_json(".", "--exclude", "vendor/**", "--exclude", "*.ui.json", cwd=tmp_path)
    assert [f["path"] for f in report["files"]] == ["keep.json"]
    (tmp_path / "comfydsl.toml").write_text('exclude = ["vendor/**", "*.ui.json"]\n')
    (tmp_path / "sub").mkdir()
    _, report = lint_json("..", cwd=tmp_path / "sub")
    assert [os.path.basename(f["path"]) for f in report["files"]] == ["keep.json"]


def test_missing_path_is_a_usage_error(tmp_path):
    assert_clean_usage_error(run("lint", "nope.json", cwd=tmp_path), "nope.json", "no such file")


def test_glob_without_match_is_a_usage_error(tmp_path):
    assert_clean_usage_error(run("lint", "wf/*.json", cwd=tmp_path), "wf/*.json", "no file matches")


def test_unknown_option_is_a_usage_error(tmp_path):
    result = run("lint", "--no-such-option", cwd=tmp_path)
    assert_clean_usage_error(result, "--no-such-option")


def test_empty_directory_is_fine(tmp_path):
    result = run("lint", ".", cwd=tmp_path)
    assert result.returncode == 0
    assert "no .json or .comfy file" in result.stderr


# -- reading ---------------------------------------------------------------------------


def test_stdin(tmp_path):
    text = json.dumps(workflow(n1={"width": 0}))
    result, report = lint_json("-", cwd=tmp_path, stdin=text)
    assert result.returncode == 1
    assert report["files"][0]["path"] == "<stdin>"
    assert codes(report) == ["CD403"]
    _, report = lint_json("-", "--stdin-filename", "jobs/req.json", cwd=tmp_path, stdin=text)
    assert report["files"][0]["diagnostics"][0]["span"]["path"] == "jobs/req.json"


def test_document_kinds(tmp_path):
    write_json(tmp_path / "api.json", CLEAN)
    write_json(tmp_path / "runpod.json", {"input": {"workflow": CLEAN}})
    write_json(tmp_path / "prompt.json", {"prompt": CLEAN, "client_id": "x"})
    write_json(tmp_path / "ui.json", {"nodes": [], "links": [], "version": 0.4})
    (tmp_path / "invalid.json").write_text('{"1": {"class_type": "EmptyImage",}}')
    _, report = lint_json(".", cwd=tmp_path)
    kinds = {f["path"]: f["kind"] for f in report["files"]}
    assert kinds == {"api.json": "api", "invalid.json": "invalid", "prompt.json": "prompt",
                     "runpod.json": "runpod", "ui.json": "ui"}


def test_json_that_is_no_workflow(tmp_path):
    write_json(tmp_path / "api.json", CLEAN)
    write_json(tmp_path / "package.json", {"name": "x", "version": "1.0.0"})
    write_json(tmp_path / "list.json", [1, 2])
    found = run("lint", ".", cwd=tmp_path)  # found by searching: skipped, with a note
    assert found.returncode == 0 and "skipped 2 JSON file(s)" in found.stderr
    named = run("lint", "package.json", "api.json", "--format", "concise", cwd=tmp_path)
    assert named.returncode == 1 and "package.json:1:1: CD002" in named.stdout
    assert run("lint", "package.json", "api.json", "--only-workflows", cwd=tmp_path).returncode == 0
    # A broken workflow is never skipped.
    (tmp_path / "broken.json").write_text('{"1": {"class_type": "EmptyImage",}}')
    assert run("lint", ".", "--only-workflows", cwd=tmp_path).returncode == 1


def test_invalid_json_is_located(tmp_path):
    (tmp_path / "broken.json").write_text('{\n  "1": {"class_type": "EmptyImage",}\n}\n')
    result = run("lint", "--format", "concise", "broken.json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("broken.json:2:36: CD001 [error] not valid JSON")


def test_non_utf8_file_is_reported_not_crashed(tmp_path):
    (tmp_path / "latin1.json").write_bytes('{"1": "caf\xe9"}'.encode("latin-1"))
    result, report = lint_json("latin1.json", cwd=tmp_path)
    assert result.returncode == 1
    assert codes(report) == ["CD001"]
    assert "not UTF-8" in report["files"][0]["diagnostics"][0]["message"]


def test_envelope_findings_point_inside_the_envelope(tmp_path):
    body = {"input": {"workflow": workflow(n1={"width": 0}), "images": []}}
    write_json(tmp_path / "req.json", body)
    _, report = lint_json("req.json", cwd=tmp_path)
    diag = report["files"][0]["diagnostics"][0]
    text = (tmp_path / "req.json").read_text().splitlines()
    assert diag["code"] == "CD403"
    line = text[diag["span"]["line"] - 1]
    assert line[diag["span"]["column"] - 1:].startswith('"width": 0')


def test_duplicate_node_id_points_at_last_copy_with_earlier_as_related(tmp_path):
    case = json.loads((CONFORMANCE / "cases" / "a_valid_model_free__duplicate_node_id_last_valid__n2.json").read_text())
    (tmp_path / "dup.json").write_text(case["workflow_text"])
    _, report = lint_json("dup.json", cwd=tmp_path)
    dup = next(d for d in report["files"][0]["diagnostics"] if d["code"] == "CD004")
    assert dup["span"]["line"] == 4
    assert [r["span"]["line"] for r in dup["related"]] == [3]
    text = run("lint", "dup.json", cwd=tmp_path).stdout
    assert "::: dup.json:3:3" in text and "an earlier copy" in text


# -- recipes ---------------------------------------------------------------------------


def test_recipe_files_are_linted_with_spans(tmp_path):
    (tmp_path / "r.comfy").write_text(
        'img = EmptyImage(width=0, height=64, batch_size=1, color=0)\n'
        'SaveImage(images=img, filename_prefix="t")\n')
    (tmp_path / "s.comfy").write_text("img = EmptyImage(width=64 height=64)\n")
    result, report = lint_json(".", cwd=tmp_path)
    assert result.returncode == 1
    assert [f["kind"] for f in report["files"]] == ["recipe", "recipe"]
    (low,) = report["files"][0]["diagnostics"]
    assert low["code"] == "CD403" and (low["span"]["line"], low["span"]["column"]) == (1, 18)
    assert [d["code"] for d in report["files"][1]["diagnostics"]] == ["CD010"]
    text = run("lint", "r.comfy", cwd=tmp_path).stdout
    assert "1 | img = EmptyImage(width=0, height=64, batch_size=1, color=0)\n" \
           "  |                  ^^^^^^^\n" in text


def test_findings_in_an_imported_fragment_show_the_fragment_source(tmp_path):
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "scale.comfy").write_text(
        "fragment shrink(image) {\n"
        '    small = ImageScaleBy(image=image, upscale_method="lanczoz", scale_by=0.5)\n'
        "    return small\n"
        "}\n")
    (tmp_path / "main.comfy").write_text(
        'from "parts/scale.comfy" import shrink\n'
        "img = EmptyImage(width=64, height=64, batch_size=1, color=0)\n"
        'SaveImage(images=shrink(img), filename_prefix="t")\n')
    text = run("lint", "main.comfy", cwd=tmp_path).stdout
    assert "--> " + os.path.join("parts", "scale.comfy") + ":2:" in text
    assert '2 |     small = ImageScaleBy(image=image, upscale_method="lanczoz", scale_by=0.5)' in text
    assert "::: main.comfy:3:" in text
    assert '3 | SaveImage(images=shrink(img), filename_prefix="t")' in text


# -- rule selection --------------------------------------------------------------------


def test_select_and_ignore(tmp_path):
    write_json(tmp_path / "w.json", workflow(n1={"width": 0, "colour": 5}, n2={"filename_prefix": 3}))
    _, report = lint_json("w.json", cwd=tmp_path)
    assert sorted(codes(report)) == ["CD202", "CD402", "CD403"]
    _, report = lint_json("w.json", "--select", "CD4", cwd=tmp_path)
    assert sorted(codes(report)) == ["CD402", "CD403"]
    _, report = lint_json("w.json", "--select", "cd202,value-below-min", cwd=tmp_path)
    assert sorted(codes(report)) == ["CD202", "CD403"]
    _, report = lint_json("w.json", "--ignore", "CD402", "--ignore", "unknown-input", cwd=tmp_path)
    assert codes(report) == ["CD403"]


def test_unknown_selector_is_a_usage_error(tmp_path):
    write_json(tmp_path / "w.json", CLEAN)
    result = run("lint", "w.json", "--ignore", "unknwon-input", cwd=tmp_path)
    assert_clean_usage_error(result, "unknwon-input", "unknown-input")
    assert_clean_usage_error(run("lint", "w.json", "--select", "CD8", cwd=tmp_path), "CD8")


# -- catalogues ------------------------------------------------------------------------


PULID_WF = {
    "1": {"class_type": "PulidFluxInsightFaceLoader", "inputs": {"provider": "CPU"}},
    "2": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
    "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "x"}},
}


def test_catalog_is_merged_over_builtin(tmp_path):
    write_json(tmp_path / "p.json", PULID_WF)
    _, report = lint_json("p.json", cwd=tmp_path)
    assert "CD101" in codes(report)
    result, report = lint_json("p.json", "--catalog", str(PULID), cwd=tmp_path)
    assert "CD101" not in codes(report)
    _, report = lint_json("p.json", "--catalog", str(PULID), "--no-builtin", cwd=tmp_path)
    unknown = [d["class_type"] for f in report["files"] for d in f["diagnostics"] if d["code"] == "CD101"]
    assert sorted(unknown) == ["EmptyImage", "SaveImage"]


def test_bad_catalogue_and_manifest_are_usage_errors(tmp_path):
    write_json(tmp_path / "w.json", CLEAN)
    (tmp_path / "broken.json").write_text("{not json")
    assert_clean_usage_error(run("lint", "w.json", "--catalog", "missing.json", cwd=tmp_path), "missing.json")
    assert_clean_usage_error(run("lint", "w.json", "--catalog", "broken.json", cwd=tmp_path),
                             "broken.json", "not valid JSON")
    assert_clean_usage_error(run("lint", "w.json", "--models", "nowhere", cwd=tmp_path), "nowhere")
    (tmp_path / "bad.toml").write_text("checkpoints = 3\n")
    assert_clean_usage_error(run("lint", "w.json", "--models", "bad.toml", cwd=tmp_path), "bad.toml")


def test_catalogue_from_a_live_server(tmp_path):
    """`--catalog URL` fetches `/object_info` over HTTP (a loopback server here)."""
    import http.server
    import threading

    payload = PULID.read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status = 200 if self.path == "/object_info" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload if status == 200 else b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        write_json(tmp_path / "p.json", PULID_WF)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result, report = lint_json("p.json", "--catalog", url, cwd=tmp_path)
        assert "CD101" not in codes(report), report
    finally:
        server.shutdown()
        server.server_close()


# -- output ----------------------------------------------------------------------------


def test_output_file(tmp_path):
    write_json(tmp_path / "w.json", workflow(n1={"width": 0}))
    result = run("lint", "w.json", "--format", "sarif", "--output-file", "out.sarif", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    log = json.loads((tmp_path / "out.sarif").read_text())
    assert log["runs"][0]["results"][0]["ruleId"] == "CD403"


def test_output_file_never_overwrites_an_input(tmp_path):
    write_json(tmp_path / "w.json", CLEAN)
    before = (tmp_path / "w.json").read_text()
    result = run("lint", "w.json", "--output-file", "w.json", cwd=tmp_path)
    assert_clean_usage_error(result, "w.json")
    assert (tmp_path / "w.json").read_text() == before


def test_output_file_in_a_missing_folder_is_a_usage_error(tmp_path):
    write_json(tmp_path / "w.json", CLEAN)
    result = run("lint", "w.json", "--output-file", "no/such/dir/out.txt", cwd=tmp_path)
    assert_clean_usage_error(result, "no/such/dir/out.txt", "does not exist")
    assert MODELS_NOTE not in result.stderr  # refused before any file was checked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.json"]


def test_stdin_as_a_recipe(tmp_path):
    recipe = 'img = EmptyImage(width=0, height=64, batch_size=1, color=0)\nSaveImage(images=img, filename_prefix="t")\n'
    _, report = lint_json("-", "--stdin-filename", "piped.comfy", cwd=tmp_path, stdin=recipe)
    assert report["files"][0]["kind"] == "recipe"
    assert [d["code"] for d in report["files"][0]["diagnostics"]] == ["CD403"]


def test_colour_only_on_a_terminal_without_no_color(tmp_path):
    write_json(tmp_path / "w.json", workflow(n1={"width": 0}))
    piped = run("lint", "w.json", cwd=tmp_path)
    assert "\x1b[" not in piped.stdout
    assert "\x1b[1;31merror[CD403]" in _run_on_terminal(tmp_path, {})
    assert "\x1b[" not in _run_on_terminal(tmp_path, {"NO_COLOR": "1"})


def _run_on_terminal(cwd, extra_env: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(extra_env)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([comfydsl_script(), "lint", "w.json"], cwd=cwd, stdout=follower,
                                stderr=subprocess.DEVNULL, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the process ends
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "github", "sarif"])
def test_every_format_shows_file_line_column(tmp_path, fmt):
    write_json(tmp_path / "w.json", workflow(n1={"width": 0}))
    result = run("lint", "w.json", "--format", fmt, cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    expected = {
        "text": "--> w.json:5:7",
        "concise": "w.json:5:7:",
        "json": "\"line\": 5",
        "github": "file=w.json,line=5,col=7",
        "sarif": "\"startLine\": 5",
    }[fmt]
    assert expected in out


def test_the_lint_path_stays_light(tmp_path):
    """Linting JSON never imports the HTTP client, the parser generator or pydantic."""
    import sys

    write_json(tmp_path / "w.json", workflow(n1={"width": 0}))
    code = ("import sys; from comfydsl.cli import main; status = main(['lint', '--format', 'sarif', 'w.json']); "
            "print(sorted(m for m in ('httpx', 'lark', 'pydantic', 'jsonschema') if m in sys.modules), "
            "status, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "[] 1"


def test_the_console_script_is_found():
    assert os.access(comfydsl_script(), os.X_OK)
    assert shutil.which(comfydsl_script())


def test_recipe_with_a_byte_order_mark_lints_as_compile_reads_it(tmp_path):
    (tmp_path / "bom.comfy").write_bytes(b"\xef\xbb\xbfimg = EmptyImage(width=64, height=64, batch_size=1, "
                                         b"color=0)\r\nSaveImage(images=img, filename_prefix=\"x\")\r\n")
    result = run("lint", "--format", "concise", "bom.comfy", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "U+FEFF" not in result.stdout and "CD010" not in result.stdout
    (tmp_path / "bad.comfy").write_bytes(b"\xef\xbb\xbfimg = EmptyImage(width=0, height=64, batch_size=1, "
                                         b"color=0)\nSaveImage(images=img, filename_prefix=\"x\")\n")
    bad = run("lint", "--format", "concise", "bad.comfy", cwd=tmp_path)
    assert bad.returncode == 1 and bad.stdout.startswith("bad.comfy:1:18: CD403"), bad.stdout


@pytest.mark.parametrize("option,name,fragment", [
    ("--catalog", "info.json", "catalogue is not UTF-8 text"),
    ("--models", "models.json", "model manifest is not UTF-8 text"),
    ("--models", "models.toml", "model manifest is not UTF-8 text"),
])
def test_binary_catalogue_or_manifest_is_a_usage_error_not_a_traceback(tmp_path, option, name, fragment):
    write_json(tmp_path / "ok.json", CLEAN)
    (tmp_path / name).write_bytes(b"\xff\xfe\x00binary")
    assert_clean_usage_error(run("lint", "ok.json", option, name, cwd=tmp_path), name, fragment)


def test_binary_configuration_file_is_a_usage_error_not_a_traceback(tmp_path):
    write_json(tmp_path / "ok.json", CLEAN)
    (tmp_path / "comfydsl.toml").write_bytes(b"\xff\xfe\x00binary")
    assert_clean_usage_error(run("lint", "ok.json", cwd=tmp_path), "comfydsl.toml", "not UTF-8 text")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_found_in_a_folder_is_skipped_not_read(tmp_path):
    write_json(tmp_path / "ok.json", CLEAN)
    os.mkfifo(tmp_path / "pipe.json")  # reading it would block until a writer came
    result = subprocess.run([comfydsl_script(), "lint", "--format", "concise", "."], cwd=tmp_path,
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 0 and result.stdout == "no problems found in 1 file\n", result.stdout
