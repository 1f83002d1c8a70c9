"""Run the fuzzing suite's generators and checks for a while and keep every failing input.

    python benchmarks/fuzz.py --minutes 10 [--out fuzz-failures] [--only recipe,workflow] [--seed 0]

The time is shared evenly between the generators (recipe, workflow, long, catalogue, api, and
`roundtrip`: decompile then compile). Input number N of a generator is made from
`random.Random(seed + N)`, so a failure is reproduced from its seed alone; it is also
written to OUT/<generator>/<seed>.<ext> with a `.txt` beside it listing what failed.
Prints, per generator, the inputs tried and how many failed, and exits 1 if any did.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from fuzz.checks import CHECKS, check_round_trip  # noqa: E402
from fuzz.generators import GENERATORS  # noqa: E402

SUFFIX = {"recipe": ".comfy", "workflow": ".json", "long": ".json", "roundtrip": ".json", "catalogue": ".json",
          "api": ".txt"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--out", default="fuzz-failures", help="folder for failing inputs")
    parser.add_argument("--only", help="comma-separated generators")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    plan = {name: (GENERATORS[name], CHECKS[name]) for name in GENERATORS}
    plan["roundtrip"] = (GENERATORS["workflow"], check_round_trip)
    if args.only:
        plan = {k: v for k, v in plan.items() if k in args.only.split(",")}
    share = args.minutes * 60 / len(plan)
    out = Path(args.out)
    totals: dict[str, tuple[int, int]] = {}
    kinds: dict[str, Counter] = {}
    for name, (generate, check) in plan.items():
        tried = failed = 0
        kinds[name] = Counter()
        stop = time.monotonic() + share
        while time.monotonic() < stop:
            seed = args.seed + tried
            tried += 1
            value = generate(random.Random(seed))
            try:
                failures = check(value)
            except Exception as exc:  # noqa: BLE001 - the checker itself broke: keep the input too
                failures = [f"checker raised {type(exc).__name__}: {exc}"]
            if not failures:
                continue
            failed += 1
            for failure in failures:
                kinds[name][failure.split(":")[0][:80]] += 1
            folder = out / name
            folder.mkdir(parents=True, exist_ok=True)
            data = repr(value) if name == "api" else value
            (folder / f"{seed}{SUFFIX[name]}").write_bytes(str(data).encode("utf-8", "surrogatepass"))
            (folder / f"{seed}.txt" if name != "api" else folder / f"{seed}.failures.txt").write_text(
                "\n".join(failures) + "\n", encoding="utf-8", errors="backslashreplace")
        totals[name] = (tried, failed)
        print(f"{name:10} {tried:6} inputs  {failed:5} failing", flush=True)
    summary = {name: {"tried": t, "failed": f, "kinds": dict(kinds[name].most_common(10))}
               for name, (t, f) in totals.items()}
    print(json.dumps(summary, indent=2, ensure_ascii=True))
    return int(any(f for _, f in totals.values()))


if __name__ == "__main__":
    sys.exit(main())
