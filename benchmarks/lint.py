"""Lint speed: in-process time, scaling, CLI cold start and catalogue load.

Run: python benchmarks/lint.py [--quick]

Prints
- in-process lint time (read + check) of a typical 15-node SDXL workflow (median of runs);
- time per node on synthetic chains and wide fans of 1k, 10k and 100k nodes (should stay
  flat: no quadratic step, no recursion limit);
- cold start of `comfydsl lint one.json` beside `python -c "import networkx"`, and the
  slowest imports of the lint run (`python -X importtime`);
- built-in catalogue load time.

Targets on a 2-core machine: typical workflow < 2 ms, 100k-node chain < 10 s, CLI cold
start no more than 0.15 s above the networkx import.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from comfydsl.catalog import builtin_catalog
from comfydsl.workflow.document import read_document
from comfydsl.graph import Graph
from comfydsl.validate import check_document


def typical_workflow() -> dict:
    """SDXL text to image with two LoRAs and a hires-fix pass: 15 nodes."""
    g = Graph()
    ckpt = g.CheckpointLoaderSimple(ckpt_name="sd_xl_base_1.0.safetensors")
    lora1 = g.LoraLoader(model=ckpt.MODEL, clip=ckpt.CLIP, lora_name="detail-tweaker.safetensors",
                         strength_model=0.8, strength_clip=0.8)
    lora2 = g.LoraLoader(model=lora1.MODEL, clip=lora1.CLIP, lora_name="character-lora.safetensors",
                         strength_model=0.6, strength_clip=0.6)
    pos = g.CLIPTextEncode(text="a lighthouse on a cliff at sunset", clip=lora2.CLIP)
    neg = g.CLIPTextEncode(text="blurry, low quality", clip=lora2.CLIP)
    latent = g.EmptyLatentImage(width=1024, height=1024, batch_size=1)
    first = g.KSampler(model=lora2.MODEL, positive=pos, negative=neg, latent_image=latent, seed=1, steps=25,
                       cfg=6.5, sampler_name="dpmpp_2m", scheduler="karras", denoise=1.0)
    up = g.LatentUpscaleBy(samples=first, upscale_method="nearest-exact", scale_by=1.5)
    second = g.KSampler(model=lora2.MODEL, positive=pos, negative=neg, latent_image=up, seed=1, steps=15,
                        cfg=6.5, sampler_name="dpmpp_2m", scheduler="karras", denoise=0.45)
    vae = g.VAELoader(vae_name="sdxl_vae.safetensors")
    image = g.VAEDecode(samples=second, vae=vae)
    preview = g.VAEDecode(samples=first, vae=vae)
    g.SaveImage(images=image, filename_prefix="hires")
    g.PreviewImage(images=preview)
    g.SaveImage(images=g.ImageScaleBy(image=image, upscale_method="lanczos", scale_by=0.5), filename_prefix="small")
    return g.compile()


def chain(n: int) -> dict:
    wf = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}
    for i in range(2, n):
        wf[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": [str(i - 1), 0]}}
    wf[str(n)] = {"class_type": "SaveImage", "inputs": {"images": [str(n - 1), 0], "filename_prefix": "c"}}
    return wf


def fan(n: int) -> dict:
    wf = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}
    for i in range(2, n, 2):
        wf[str(i)] = {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}}
        wf[str(i + 1)] = {"class_type": "PreviewImage", "inputs": {"images": [str(i), 0]}}
    return wf


def lint_text(text: str, catalog) -> int:
    diagnostics = check_document(read_document(text), catalog=catalog)
    errors = [d for d in diagnostics if d.is_error]
    assert not errors, errors[:3]
    return len(diagnostics)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_start(path: str, repeat: int) -> tuple[float, float]:
    exe = Path(sys.executable).parent / "comfydsl"
    cmd_lint = [str(exe), "lint", path] if exe.exists() else [sys.executable, "-m", "comfydsl", "lint", path]
    cmd_nx = [sys.executable, "-c", "import networkx"]
    env = {**os.environ, "NO_COLOR": "1"}

    def run(cmd):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        return time.perf_counter() - start

    lint_times, nx_times = [], []
    for _ in range(repeat):
        nx_times.append(run(cmd_nx))
        lint_times.append(run(cmd_lint))
    return statistics.median(lint_times), statistics.median(nx_times)


def import_profile(path: str, top: int = 8) -> list[tuple[int, str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "comfydsl", "lint", path],
                          capture_output=True, text=True, check=False)
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if cumulative.isdigit() and not name.startswith(" "):
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    quick = "--quick" in sys.argv
    catalog = builtin_catalog()
    typical = json.dumps(typical_workflow())
    lint_text(typical, catalog)
    t = median_time(lambda: lint_text(typical, catalog), 50 if quick else 300)
    print(f"typical workflow (15 nodes): {t * 1000:.3f} ms per lint (target < 2 ms)")

    print("scaling (read + check), microseconds per node:")
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
    for name, build in (("chain", chain), ("fan", fan)):
        for n in sizes:
            text = json.dumps(build(n))
            start = time.perf_counter()
            lint_text(text, catalog)
            elapsed = time.perf_counter() - start
            print(f"  {name:5} {n:>7} nodes: {elapsed:8.3f} s  {elapsed / n * 1e6:7.1f} us/node")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "one.json")
        Path(path).write_text(typical)
        lint_s, nx_s = cold_start(path, 5 if quick else 15)
        print(f"cold start: comfydsl lint one.json {lint_s * 1000:.0f} ms, python -c 'import networkx' "
              f"{nx_s * 1000:.0f} ms, difference {(lint_s - nx_s) * 1000:.0f} ms (target <= 150 ms)")
        print("slowest top-level imports of `comfydsl lint` (cumulative us):")
        for cumulative, name in import_profile(path):
            print(f"  {cumulative:>8}  {name}")

    from comfydsl.catalog import _builtin_raw

    def load():
        _builtin_raw.cache_clear()
        c = builtin_catalog()
        for name in ("KSampler", "CheckpointLoaderSimple", "SaveImage"):
            c[name]
    print(f"built-in catalogue load: {median_time(load, 20) * 1000:.1f} ms (495 classes)")


if __name__ == "__main__":
    main()
