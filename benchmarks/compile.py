"""Recipe compile times, in process.

Prints, for each recipe in recipes/, the median time of a full compile (parse, imports,
lowering, every workflow check), and the same for a generated recipe of 5,000 nodes.
Targets: the FLUX recipe under 20 ms, the 5,000-node recipe under 2 s.

    python benchmarks/compile.py [--repeat N] [--nodes N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
TARGETS_MS = {"flux_txt2img.comfy": 20.0}
LARGE_TARGET_MS = 2000.0


def generated_recipe(nodes: int) -> str:
    """A valid recipe of about `nodes` nodes: a checkpoint, then chains of encode -> sample ->
    decode -> save, each sampler fed by the previous one's latent."""
    lines = ['ckpt = CheckpointLoaderSimple(ckpt_name="sd_xl_base_1.0.safetensors")',
             "latent_0 = EmptyLatentImage(width=512, height=512, batch_size=1)"]
    count, i = 2, 0
    while count + 5 <= nodes:
        i += 1
        lines += [
            f'pos_{i} = CLIPTextEncode(text="prompt number {i}", clip=ckpt.CLIP)',
            f'neg_{i} = CLIPTextEncode(text="", clip=ckpt.CLIP)',
            f"latent_{i} = KSampler(model=ckpt.MODEL, seed={i}, steps=20, cfg=7.0, sampler_name=\"euler\", "
            f"scheduler=\"normal\", positive=pos_{i}, negative=neg_{i}, latent_image=latent_{i - 1}, denoise=0.5)",
            f"image_{i} = VAEDecode(samples=latent_{i}, vae=ckpt.VAE)",
            f'SaveImage(images=image_{i}, filename_prefix="out_{i}")',
        ]
        count += 5
    while count < nodes:
        lines.append(f"PreviewImage(images=image_{i})")
        count += 1
    return "\n".join(lines) + "\n"


def median_ms(run, repeat: int) -> float:
    run()  # warm up: caches (grammar, catalogue specs) are filled once per process
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="timed runs per recipe (default 21)")
    parser.add_argument("--nodes", type=int, default=5000, help="size of the generated recipe (default 5000)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from comfydsl.config import load_settings
    from comfydsl.dsl import Recipe
    from comfydsl.target import load_target

    settings = load_settings(RECIPES / "comfydsl.toml")
    target = load_target(settings.catalog, settings.models)
    failed = False
    print(f"{'recipe':<32} {'nodes':>6} {'median ms':>10}  target")
    for path in sorted(RECIPES.glob("*.comfy")):
        nodes = len(Recipe(str(path), target=target).compile())
        ms = median_ms(lambda: Recipe(str(path), target=target).compile(), args.repeat)
        goal = TARGETS_MS.get(path.name)
        verdict = "" if goal is None else (f"< {goal:g} ms " + ("ok" if ms < goal else "MISSED"))
        failed |= goal is not None and ms >= goal
        print(f"{path.name:<32} {nodes:>6} {ms:>10.2f}  {verdict}")
    text = generated_recipe(args.nodes)
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "generated.comfy"
        big.write_text(text)
        nodes = len(Recipe(str(big), target=target).compile())
        ms = median_ms(lambda: Recipe(str(big), text, target=target).compile(), max(3, args.repeat // 4))
    ok = ms < LARGE_TARGET_MS
    failed |= not ok
    print(f"{'generated.comfy':<32} {nodes:>6} {ms:>10.2f}  < {LARGE_TARGET_MS:g} ms {'ok' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
