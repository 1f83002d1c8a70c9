"""`comfydsl stubs` and the shipped stubs: a type checker (mypy) accepts typed graph code
and rejects a wrong input name, a wrong output type and a combo value that is not an option."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from comfydsl.catalog import builtin_catalog
from comfydsl.graph.stubs import BUILTIN_MODULE, render_stubs
from support import PULID_OBJECT_INFO, ROOT, invoke

PROGRAM = '''\
from {module} import Graph

g = Graph()
ckpt = g.CheckpointLoaderSimple(ckpt_name="sd_xl_base_1.0.safetensors")
pos = g.CLIPTextEncode(text="a lighthouse", clip=ckpt.CLIP)
neg = g.CLIPTextEncode(text="", clip=ckpt.CLIP)
latent = g.EmptyLatentImage(width=1024, height=1024, batch_size=1)
samples = g.KSampler(model=ckpt.MODEL, positive=pos, negative=neg, latent_image=latent, seed=1, steps=20,
                     cfg=7, sampler_name="euler", scheduler="normal", denoise=1.0)
g.SaveImage(images=g.VAEDecode(samples=samples, vae=ckpt.VAE), filename_prefix="out")
workflow: dict = g.compile()
'''

MYPY = shutil.which("mypy", path=os.path.dirname(sys.executable)) or shutil.which("mypy")
needs_mypy = pytest.mark.skipif(MYPY is None, reason="mypy is not installed")


def test_the_shipped_stubs_are_up_to_date():
    expected = render_stubs(builtin_catalog(), "the built-in catalogue (ComfyUI 0.3.64)")
    assert BUILTIN_MODULE.read_text(encoding="utf-8") == expected, \
        "regenerate comfydsl/graph/typed.pyi (see comfydsl/graph/stubs.py)"


def test_the_typed_graph_is_the_graph_at_run_time():
    from comfydsl.graph.model import Graph
    from comfydsl.graph.typed import Graph as TypedGraph

    assert TypedGraph is Graph
    exec(compile(PROGRAM.format(module="comfydsl.graph.typed"), "prog.py", "exec"), {})


def test_stub_content_types_inputs_combos_and_outputs():
    text = BUILTIN_MODULE.read_text(encoding="utf-8")
    assert "class Node_CheckpointLoaderSimple(Node):\n    MODEL: Output[_MODEL]\n    CLIP: Output[_CLIP]" in text
    assert "class MODEL: ...  # the ComfyUI type\n_MODEL = MODEL" in text
    assert "class Node_VAEDecode(Node, Output[_IMAGE]):" in text  # one output: the node is that output
    assert "sampler_name: Literal['euler', " in text
    assert "denoise: float | int | Output[_FLOAT] = ..." in text
    # a class with inputs that are not Python names still takes them, untyped
    assert "def ModelMergeAuraflow(self, *, " in text and "**inputs: Any) -> Node_ModelMergeAuraflow" in text


def _mypy(tmp_path, *, path: str, files: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["MYPYPATH"] = os.pathsep.join([path, str(ROOT)])
    return subprocess.run([MYPY, "--no-incremental", "--follow-imports=silent", "--cache-dir", str(tmp_path / ".m"),
                           *files], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=240)


MISTAKES = [
    (None, None),
    (("model=ckpt.MODEL", "model=ckpt.CLIP"), 'incompatible type "Output[CLIP]"; expected "Output[MODEL]"'),
    (("denoise=1.0", "denoise_strength=1.0"), 'Unexpected keyword argument "denoise_strength"'),
    (('sampler_name="euler"', 'sampler_name="eulr"'), "Argument \"sampler_name\""),
    (("vae=ckpt.VAE", "vae=latent"), 'expected "Output[VAE]"'),
    (("steps=20", 'steps="20"'), 'Argument "steps"'),
]


PULID_PROGRAM = PROGRAM.format(module="comfydsl_nodes") + \
    "pulid = g.PulidFluxModelLoader(pulid_file='x')\ng.ApplyPulidFlux(model=pulid, pulid_flux=ckpt.MODEL)\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """`comfydsl stubs` for the PuLID catalogue: (its result, the folder it wrote)."""
    out = tmp_path_factory.mktemp("generated") / "stubs"
    return invoke("stubs", "--catalog", str(PULID_OBJECT_INFO), "-o", str(out)), out


@pytest.fixture(scope="module")
def mypy_verdicts(tmp_path_factory, generated) -> dict[str, list[str]]:
    """One mypy run over one program per entry of MISTAKES (prog_N.py) and one over the stubs
    generated for the PuLID catalogue (prog_pulid.py): checking the large stub dominates the
    cost, so one run for all. {file: mypy's lines about that file}."""
    tmp_path = tmp_path_factory.mktemp("mypy")
    names = []
    for n, (change, _) in enumerate(MISTAKES):
        program = PROGRAM.format(module="comfydsl.graph.typed")
        if change:
            assert change[0] in program
            program = program.replace(change[0], change[1])
        (tmp_path / f"prog_{n}.py").write_text(program)
        names.append(f"prog_{n}.py")
    (tmp_path / "prog_pulid.py").write_text(PULID_PROGRAM)
    names.append("prog_pulid.py")
    result = _mypy(tmp_path, path=str(generated[1]), files=names)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    lines = result.stdout.splitlines()
    return {name: [line for line in lines if line.startswith(name + ":")] for name in names}


@needs_mypy
@pytest.mark.parametrize("n", range(len(MISTAKES)), ids=[str(e) for _, e in MISTAKES])
def test_mypy_accepts_typed_code_and_rejects_mistakes(mypy_verdicts, n):
    error = MISTAKES[n][1]
    found = mypy_verdicts[f"prog_{n}.py"]
    if error is None:
        assert found == []
    else:
        assert any(error in line and ": error:" in line for line in found), found


@needs_mypy
def test_stubs_command_writes_a_typed_package_for_a_catalogue(generated, mypy_verdicts):
    result, out = generated
    assert result.returncode == 0, result.stderr
    package = out / "comfydsl_nodes"
    assert {p.name for p in package.iterdir()} >= {"__init__.py", "__init__.pyi", "py.typed"}
    stub = (package / "__init__.pyi").read_text()
    assert "def ApplyPulidFlux(self, *, model: Output[_MODEL], pulid_flux: Output[_PULIDFLUX]" in stub
    found = "\n".join(line for line in mypy_verdicts["prog_pulid.py"] if ": error:" in line)
    assert 'Argument "model" to "ApplyPulidFlux"' in found and 'Argument "pulid_flux"' in found, found


def test_stubs_command_refuses_a_file_as_folder(tmp_path):
    (tmp_path / "f").write_text("x")
    result = invoke("stubs", "-o", str(tmp_path / "f"))
    assert result.returncode == 2 and "not a folder" in result.stderr
