"""Lint throughput targets (issue 13): every figure, one section each.

Run: python benchmarks/throughput.py [--quick] [--repeat N] [SECTION ...]

Sections (all by default):
  realistic  read + check + locate + render (JSON) of the conformance cases and the other
             real workflows of the repository, repeated to a few thousand, in one process
             with the catalogue loaded once; the ratio to `json.loads` of the same texts
             (target <= 10x) and the time per workflow
  scaling    time per node of chains, fans and random DAGs from 1k to 300k nodes (target:
             flat within 1.5x), and the 300k-node chain (target < 5 s); CPU time of the
             same number of nodes at every size, the sizes taken in turn in each round
  memory     peak memory (tracemalloc) of linting a big chain against `json.loads` of it
             (target <= 3x)
  catalog    loading a 2 MB /object_info file merged over the built-in catalogue in a new
             process (target < 50 ms): the first load, later ones (cached by content on
             disk), one with the disk cache off, and one more in the same process
  nearmiss   near-miss suggestions for unknown class types and unknown input names: cost
             per suggestion after the first, and growth with their number (target: a few
             microseconds each, linear)
  startup    cold start of `comfydsl lint one.json` against `python -c "import networkx"`
             (target: within 0.1 s)
  profile    cProfile of a 300k-node chain lint, split by stage (target: no stage > 40%)

The machine these run on is shared: timings are the best of N runs (`--repeat`), which
is the figure least disturbed by other load.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from comfydsl.lint import lint_text, lint_texts
from comfydsl.render import LintRun
from comfydsl.render.json import render as render_json
from comfydsl.target import Target, load_target

from lint import chain, fan  # benchmarks/lint.py: the chain and fan shapes both benchmarks scale

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# -- workflows ------------------------------------------------------------------------------


def dag(n: int, seed: int = 13) -> dict:
    """A random DAG: each blend takes the previous image and a random earlier one; every
    50th node previews a random earlier image."""
    rng = random.Random(seed)
    wf = {"1": {"class_type": "EmptyImage", "inputs": {"width": 8, "height": 8, "batch_size": 1, "color": 0}}}
    images = ["1"]
    for i in range(2, n + 1):
        if i % 50 == 0 or i == n:
            wf[str(i)] = {"class_type": "PreviewImage", "inputs": {"images": [rng.choice(images), 0]}}
            continue
        wf[str(i)] = {"class_type": "ImageBlend", "inputs": {
            "image1": [images[-1], 0], "image2": [rng.choice(images), 0],
            "blend_factor": 0.5, "blend_mode": "normal"}}
        images.append(str(i))
    return wf


SHAPES = {"chain": chain, "fan": fan, "dag": dag}


def realistic_texts() -> list[tuple[str, str]]:
    """The conformance workflows (as their case files hold them) and the repository's other
    real workflows: the examples and the UI-format test workflows."""
    items = []
    for path in sorted((DATA / "conformance" / "cases").glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        items.append((path.name, case.get("workflow_text") or json.dumps(case["workflow"], indent=1)))
    paths = sorted((ROOT / "examples").glob("*.json"))
    paths += [p for p in sorted((DATA / "ui").glob("*.json")) if "object_info" not in p.name
              and "catalog" not in p.name]
    return items + [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in paths]


def lint_and_render(items: list[tuple[str, str]], target: Target) -> str:
    """What `comfydsl lint --format json` does with the texts of many files: `lint_texts`
    (batches of texts, as `lint_paths` lints them), then one rendering."""
    results = list(lint_texts(items, target=target))
    return render_json(LintRun(results, models_checked=target.models_checked))


# -- sections -------------------------------------------------------------------------------


def load_base(folder: str):
    """An earlier checkout's `comfydsl` package, imported as `comfydsl_base` (its imports are
    relative), with its own lint and render functions and default target."""
    import importlib

    link_dir = tempfile.mkdtemp(prefix="comfydsl-base-")
    os.symlink(os.path.join(os.path.abspath(folder), "comfydsl"), os.path.join(link_dir, "comfydsl_base"))
    sys.path.insert(0, link_dir)
    lint = importlib.import_module("comfydsl_base.lint")
    render_mod = importlib.import_module("comfydsl_base.render.json")
    runs = importlib.import_module("comfydsl_base.render")
    target = importlib.import_module("comfydsl_base.target").load_target()

    class Base:
        name = folder

        @staticmethod
        def lint_and_render(items: list[tuple[str, str]]) -> str:
            if hasattr(lint, "lint_texts"):
                results = list(lint.lint_texts(items, target=target))
            else:  # a checkout from before batches
                results = [lint.lint_text(text, path, target=target) for path, text in items]
            return render_mod.render(runs.LintRun(results, models_checked=target.models_checked))

        @staticmethod
        def lint_one(text: str) -> None:
            result = lint.lint_text(text, "big.json", target=target)
            render_mod.render(runs.LintRun([result], models_checked=target.models_checked))

        @staticmethod
        def load_target(sources: list[str]) -> object:
            return importlib.import_module("comfydsl_base.target").load_target(sources)

        @staticmethod
        def check(workflow: dict) -> list:
            return importlib.import_module("comfydsl_base.validate").check_workflow(workflow, catalog=target.catalog)

    return Base


_BASE = None


def base_of(args):
    """The earlier checkout named by --against, loaded once (None without it)."""
    global _BASE
    if args.against and _BASE is None:
        _BASE = load_base(args.against)
    return _BASE


def realistic(args, target: Target) -> None:
    base = realistic_texts()
    copies = max(1, (400 if args.quick else 3000) // len(base))
    items = base * copies
    texts = [t for _, t in items]
    lint_and_render(base, target)  # warm: lazily parsed catalogue classes, imports

    def decode_all() -> None:
        for text in texts:  # each result dropped at once, as lint drops each workflow
            json.loads(text)

    base_version = base_of(args)
    other = base_version.lint_and_render if base_version else None
    if other is not None:
        assert other(base) == lint_and_render(base, target), "the two versions find different things"
    t_json, t_lint, t_other = [], [], []
    for _ in range(args.repeat):  # interleaved, so that load on the machine hits each alike
        t_json.append(best(decode_all, 1))
        t_lint.append(best(lambda: lint_and_render(items, target), 1))
        if other is not None:
            t_other.append(best(lambda: other(items), 1))
    found = sum(len(lint_text(t, p, target=target).diagnostics) for p, t in base)
    print(f"realistic set: {len(base)} workflows x {copies} = {len(items)} texts, {found * copies} findings "
          f"(best of {args.repeat}, interleaved)")
    j, lt = min(t_json), min(t_lint)
    print(f"  json.loads                 {j * 1000:8.1f} ms  {j / len(items) * 1e6:7.1f} us/workflow")
    print(f"  read+check+locate+render   {lt * 1000:8.1f} ms  {lt / len(items) * 1e6:7.1f} us/workflow"
          f"   ratio {lt / j:5.1f}x (target <= 10x)")
    if t_other:
        o = min(t_other)
        print(f"  the same, {args.against:14} {o * 1000:8.1f} ms  {o / len(items) * 1e6:7.1f} us/workflow"
              f"   ratio {o / j:5.1f}x (same output: checked)")


def lint_one(text: str, target: Target) -> LintRun:
    result = lint_text(text, "big.json", target=target)
    run = LintRun([result], models_checked=target.models_checked)
    render_json(run)
    return run


def scaling(args, target: Target) -> None:
    sizes = (1_000, 3_000, 10_000) if args.quick else (1_000, 10_000, 100_000, 300_000)
    work = max(sizes)  # nodes linted per timing at every size: many small workflows, one big one
    print(f"scaling: read + check + locate + render JSON, us per node (CPU time, best of {args.repeat} rounds; "
          "target: flat within 1.5x, 300k chain < 5 s); json.loads of the same text beside it (collector "
          "paused, as lint reads), since its own cost per node grows with the heap. Each round times every "
          "size in turn, so that drifts in the machine's speed hit all sizes alike.")
    from comfydsl.workflow.gcpause import gc_paused

    def decode(text: str) -> None:
        with gc_paused():  # as lint reads: the collector paused
            json.loads(text)

    def cpu(fn, times: int) -> float:
        """CPU time of `fn` run `times` times (time the process waits for a core is not
        counted: the machine is shared)."""
        gc.collect()
        start = time.process_time()
        for _ in range(times):
            fn()
        return time.process_time() - start

    base_version = base_of(args)
    for name, build in SHAPES.items():
        if args.shapes and name not in args.shapes:
            continue
        texts = {n: json.dumps(build(n)) for n in sizes}
        lint_t: dict[int, list[float]] = {n: [] for n in sizes}
        decode_t: dict[int, list[float]] = {n: [] for n in sizes}
        earlier_t: dict[int, list[float]] = {n: [] for n in sizes}
        biggest = {max(sizes): []}  # wall time of one lint of the biggest workflow
        for _ in range(max(1, args.repeat)):
            for n, text in texts.items():
                times = max(1, work // n)
                lint_t[n].append(cpu(lambda: lint_one(text, target), times) / (times * n))
                decode_t[n].append(cpu(lambda: decode(text), times) / (times * n))
                if base_version is not None and n <= args.against_max:
                    earlier_t[n].append(cpu(lambda: base_version.lint_one(text), times) / (times * n))
                if n in biggest:
                    biggest[n].append(best(lambda: lint_one(text, target), 1))
        per_node, beyond = [], []
        for n in sizes:
            lint_n, decode_n = min(lint_t[n]), min(decode_t[n])
            per_node.append(lint_n)
            beyond.append(lint_n - decode_n)
            extra = ""
            if earlier_t[n]:
                earlier = min(earlier_t[n])
                extra = f"   {args.against}: {earlier * 1e6:7.2f} us/node"
            whole = f"  (one lint: {min(biggest[n]):.3f} s wall)" if n in biggest else ""
            print(f"  {name:5} {n:>7} nodes: {lint_n * 1e6:7.2f} us/node   json.loads {decode_n * 1e6:6.2f} us/node"
                  f"   lint/json.loads {lint_n / decode_n:5.1f}x{extra}{whole}")
        del texts
        gc.collect()
        print(f"  {name:5} per node max/min {max(per_node) / min(per_node):.2f}x "
              f"(json.loads alone grows too); beyond json.loads, per node "
              f"{min(beyond) * 1e6:.2f}..{max(beyond) * 1e6:.2f} us, max/min {max(beyond) / min(beyond):.2f}x")


def memory(args, target: Target) -> None:
    n = 30_000 if args.quick else 300_000
    print(f"memory: peak traced allocations, {n}-node workflows (target <= 3x json.loads)")
    for name, build in SHAPES.items():
        if args.shapes and name not in args.shapes:
            continue
        text = json.dumps(build(n))
        gc.collect()
        tracemalloc.start()
        json.loads(text)
        _, peak_json = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.collect()
        tracemalloc.start()
        lint_one(text, target)
        _, peak_lint = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  {name:5}: json.loads {peak_json / 2**20:7.1f} MiB, lint {peak_lint / 2**20:7.1f} MiB, "
              f"ratio {peak_lint / peak_json:.2f}x")
        del text
        gc.collect()


def big_object_info(tmp: str) -> str:
    """A ~2 MB /object_info: the stock ComfyUI answer, its classes copied under new names."""
    raw = json.loads((DATA / "comfyui" / "object_info.json").read_text(encoding="utf-8"))
    out = dict(raw)
    copy = 0
    while len(json.dumps(out)) < 2_000_000:
        copy += 1
        for name, entry in raw.items():
            out[f"{name}_Pack{copy}"] = {**entry, "name": f"{name}_Pack{copy}"}
    path = os.path.join(tmp, "object_info.json")
    Path(path).write_text(json.dumps(out), encoding="utf-8")
    return path


#: Loads a catalogue in a new process, timing `load_target` alone (start-up is the `startup` section).
LOAD_IN_NEW_PROCESS = """
import sys, time
from comfydsl.target import load_target
start = time.perf_counter()
target = load_target([sys.argv[1]])
print(time.perf_counter() - start, len(target.catalog))
"""


def installed_env(tmp: str, **extra: str) -> dict[str, str]:
    """The environment of a new process that starts like an installed tool, from compiled modules:
    with PYTHONDONTWRITEBYTECODE (set in many containers) every process would compile the package
    again, which no installed copy does. The compiled files go to a folder of `tmp`."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"), **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def load_in_new_process(path: str, env: dict[str, str]) -> tuple[float, int]:
    proc = subprocess.run([sys.executable, "-c", LOAD_IN_NEW_PROCESS, path], env=env, capture_output=True,
                          text=True)
    if proc.returncode:
        raise SystemExit(f"loading the catalogue in a new process failed:\n{proc.stderr[-2000:]}")
    elapsed, count = proc.stdout.split()
    return float(elapsed), int(count)


def catalog(args, _target: Target) -> None:
    """The new-process figures come from new processes: nothing this process imported or keeps
    (the built-in catalogue, its model folders, lazily imported modules) is there for free."""
    with tempfile.TemporaryDirectory() as tmp:
        path = big_object_info(tmp)
        size = os.path.getsize(path)
        cache = os.path.join(tmp, "cache")
        env = installed_env(tmp, XDG_CACHE_HOME=cache)
        env.pop("COMFYDSL_NO_CACHE", None)
        # compile the modules once, without filling the cache
        load_in_new_process(path, {**env, "COMFYDSL_NO_CACHE": "1"})
        t_first, count = load_in_new_process(path, env)
        files_cached = os.path.isdir(cache) and any(Path(cache).rglob("*.pickle"))
        t_cold = min(load_in_new_process(path, env)[0] for _ in range(args.repeat))
        t_nocache = min(load_in_new_process(path, {**env, "COMFYDSL_NO_CACHE": "1"})[0]
                        for _ in range(max(1, args.repeat // 2)))
        os.environ["XDG_CACHE_HOME"] = cache
        try:
            load_target([path])
            t_warm = best(lambda: load_target([path]), args.repeat)
            t_json = best(lambda: json.loads(Path(path).read_text(encoding="utf-8")), args.repeat)
            base_version = base_of(args)
            t_base = best(lambda: base_version.load_target([path]), args.repeat) if base_version else None
        finally:
            os.environ.pop("XDG_CACHE_HOME", None)
    print(f"catalogue: {size / 1e6:.2f} MB /object_info merged over the built-in one ({count} classes), "
          f"best of {args.repeat}; load_target alone, imports of comfydsl.target before the clock")
    print(f"  new process, empty disk cache      {t_first * 1000:7.1f} ms  (fills it)")
    print(f"  new process, disk cache            {t_cold * 1000:7.1f} ms  (target < 50 ms)"
          f"{'' if files_cached else '  [NO CACHE ENTRY WAS WRITTEN]'}")
    print(f"  new process, COMFYDSL_NO_CACHE=1   {t_nocache * 1000:7.1f} ms")
    print(f"  same process again                 {t_warm * 1000:7.1f} ms")
    print(f"  for scale: json.loads of the file  {t_json * 1000:7.1f} ms")
    if t_base is not None:
        print(f"  {args.against}, same process:   {t_base * 1000:7.1f} ms")


def unknown_classes(n: int) -> dict:
    wf = {}
    for i in range(1, n + 1):
        wf[str(i)] = {"class_type": f"KSamplerr{i % 1000}", "inputs": {}}
    return wf


def unknown_inputs(n: int) -> dict:
    inputs = {f"sead{i}": 1 for i in range(n)}
    inputs.update({"width": 8, "height": 8, "batch_size": 1, "color": 0})
    return {"1": {"class_type": "EmptyImage", "inputs": inputs},
            "2": {"class_type": "PreviewImage", "inputs": {"images": ["1", 0]}}}


def nearmiss(args, target: Target) -> None:
    from comfydsl.validate import check_workflow

    catalog = target.catalog
    print(f"near-miss suggestions (check only, best of {args.repeat}; target: a few us each, linear)")
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 50_000)
    for label, build, isizes in (("unknown class_type", unknown_classes, sizes),
                                 ("unknown input names (one node)", unknown_inputs,
                                  (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000, 1_000_000))):
        for n in isizes:
            wf = build(n)
            repeat = args.repeat if n <= 50_000 else 1
            elapsed = best(lambda: check_workflow(wf, catalog=catalog), repeat)
            extra = ""
            base_version = base_of(args)
            if base_version is not None and n <= min(args.against_max, 10_000):
                earlier = best(lambda: base_version.check(wf), 1)
                extra = f"   {args.against}: {earlier:8.3f} s {earlier / n * 1e6:8.2f} us each"
            print(f"  {label:31} {n:>8}: {elapsed:8.3f} s  {elapsed / n * 1e6:7.2f} us each (whole check){extra}")
    try:
        from comfydsl.catalog.names import near_miss_index
    except ImportError:
        return
    index = near_miss_index(catalog)
    names = [f"KSamplr{i}" for i in range(2000)]
    index.classes.suggest("KSamplr")
    t = best(lambda: [index.classes.suggest(n) for n in names], args.repeat)
    print(f"  class suggestion alone, after the first: {t / len(names) * 1e6:.2f} us each")


def startup(args, _target: Target) -> None:
    script = str(Path(sys.executable).with_name("comfydsl"))
    doc = {"1": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0}},
           "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "out"}}}
    runs = 5 if args.quick else 15
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "one.json").write_text(json.dumps(doc, indent=2))
        # both start from compiled modules, as installed copies do (the first run compiles them)
        env = installed_env(tmp, XDG_CACHE_HOME=os.path.join(tmp, "cache"))
        cmds = {"lint": [script, "lint", "one.json"], "networkx": [sys.executable, "-c", "import networkx"]}
        for cmd in cmds.values():
            subprocess.run(cmd, cwd=tmp, capture_output=True, env=env)
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(runs):
            for key, cmd in cmds.items():
                start = time.perf_counter()
                subprocess.run(cmd, cwd=tmp, capture_output=True, env=env)
                times[key].append(time.perf_counter() - start)
    lint, nx = min(times["lint"]), min(times["networkx"])
    print(f"cold start (best of {runs}): comfydsl lint one.json {lint * 1000:.0f} ms, "
          f"python -c 'import networkx' {nx * 1000:.0f} ms, difference {(lint - nx) * 1000:.0f} ms "
          "(target <= 100 ms)")


#: each stage's label and the functions (file, name) it is made of, for cProfile
STAGES = (
    ("read (json, envelope)", (("document.py", "read_document"),)),
    ("build context", (("context.py", "add"), ("context.py", "finish"))),
    ("rules (+ pass over inputs)", (("driver.py", "run_checks_over"),)),
    ("sort diagnostics", (("diagnostics.py", "sort_diagnostics"),)),
    ("locate (json positions)", (("jsonpos.py", "attach_spans"),)),
    ("render JSON", (("json.py", "render"),)),
)


def _stage_timers() -> tuple[dict[str, float], list]:
    """Wrap each stage's function where the lint pipeline looks it up, adding its wall time to
    the returned totals; the second value undoes the wrapping. No profiler: its per-call cost
    would weigh stages by how many Python calls they make rather than by their time.

    A stage's time excludes that of the stages called inside it: a long workflow is taken into
    its context (build) part by part while it is read, from inside `read_document`."""
    import comfydsl.checks as checks
    import comfydsl.lint as lint_module
    import comfydsl.render.json as render_module
    import comfydsl.validate as validate
    import comfydsl.workflow.document as document
    import comfydsl.workflow.jsonpos as jsonpos
    from comfydsl.checks.context import CheckContext, ContextBuilder

    totals = {label: 0.0 for label, _ in STAGES}
    undo = []
    inner = [0.0]  # time of the timed calls inside the current one

    def wrap(owner, name, label, unwrap_classmethod=False):
        original = getattr(owner, name)
        # what to put back: for a classmethod, the descriptor itself (taken before it is replaced)
        stored = owner.__dict__[name] if unwrap_classmethod else original

        def timed(*args, **kwargs):
            outer = inner[0]
            inner[0] = 0.0
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                totals[label] += spent - inner[0]
                inner[0] = outer + spent

        setattr(owner, name, classmethod(lambda cls, *a, **k: timed(*a, **k)) if unwrap_classmethod else timed)
        undo.append((owner, name, stored))

    labels = [label for label, _ in STAGES]
    wrap(document, "read_document", labels[0])
    wrap(CheckContext, "build", labels[1], unwrap_classmethod=True)
    wrap(ContextBuilder, "add", labels[1])
    wrap(ContextBuilder, "finish", labels[1])
    wrap(checks, "run_checks_over", labels[2])
    wrap(validate, "sort_diagnostics", labels[3])
    wrap(lint_module, "sort_diagnostics", labels[3])
    wrap(jsonpos, "attach_spans", labels[4])
    wrap(render_module, "render", labels[5])
    _forget_pipeline()  # the pipeline keeps the functions it found: it looks them up again now
    return totals, undo


def _forget_pipeline() -> None:
    """Drop the functions lint and check_workflow looked up once (private caches), so that
    they take the wrapped ones, or the originals again after the timing."""
    import comfydsl.lint as lint_module
    import comfydsl.validate as validate

    lint_module._json_steps.cache_clear()
    validate._checker.cache_clear()


def profile(args, target: Target) -> None:
    n = 30_000 if args.quick else 300_000
    text = json.dumps(chain(n))
    lint_one(text, target)
    # 1. wall time per stage, measured with timers around each stage (best run of N)
    from comfydsl.workflow.gcpause import gc_paused

    def decode() -> None:
        with gc_paused():  # as reading does it
            json.loads(text)

    best_totals, best_total, best_loads = None, None, 0.0
    runs = []  # (stage totals, run time) of every run
    for _ in range(max(1, min(args.repeat, 3))):
        gc.collect()
        loads = best(decode, 1)  # beside each run: the machine's speed drifts between runs
        gc.collect()
        totals, undo = _stage_timers()
        try:
            start = time.perf_counter()
            result = lint_text(text, "big.json", target=target)
            from comfydsl.render.json import render as timed_render

            timed_render(LintRun([result], models_checked=target.models_checked))
            total = time.perf_counter() - start
        finally:
            for owner, name, original in reversed(undo):
                setattr(owner, name, original)
            _forget_pipeline()
        runs.append((totals, total))
        if best_total is None or total < best_total:
            best_totals, best_total, best_loads = totals, total, loads
    assert best_totals is not None and best_total is not None
    if any(sum(totals.values()) > total * 1.02 for totals, total in runs):
        raise SystemExit("the stage timers of a run counted more than the run: a timer was left in place after "
                         "its run (see `_stage_timers`)")
    print(f"profile: {n}-node chain, {best_total:.2f} s, wall time per stage (timers, best of "
          f"{max(1, min(args.repeat, 3))})")
    covered = 0.0
    for label, spent in best_totals.items():
        covered += spent
        print(f"  {label:28} {spent:6.2f} s  {spent / best_total * 100:5.1f}%")
    print(f"  {'other':28} {best_total - covered:6.2f} s  {(best_total - covered) / best_total * 100:5.1f}%"
          f"  (target: no stage > 40%)")
    # for scale: json.loads of the whole text, timed just before the run (reading decodes a text
    # this long in parts, and checks each part for ids written twice: `document._decode_in_parts`)
    print(f"  for scale: json.loads of the whole text alone {best_loads:.2f} s "
          f"({best_loads / best_total * 100:.1f}% of the run)")
    if covered < best_total / 2:
        raise SystemExit("the stage timers saw less than half the run: a stage function is no longer looked "
                         "up where `_stage_timers` wraps it")
    # 2. the same run under cProfile, for the functions inside the stages; its per-call cost
    # inflates the stages that make many Python calls, so its shares lean that way
    prof = cProfile.Profile()
    gc.collect()
    prof.enable()
    lint_one(text, target)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    raw = stats.stats  # type: ignore[attr-defined]
    def cumulative(funcs) -> float:
        return sum(ct for (file, _, fn), (_, _, _, ct, _) in raw.items()
                   if any(file.endswith(file_end) and fn == func for file_end, func in funcs))

    # the parts of a long workflow taken into the context from inside reading count as building
    taken_in = sum(ct for (file, _, fn), (_, _, _, _, callers) in raw.items()
                   if file.endswith("context.py") and fn == "add"
                   for (caller_file, _, caller), (_, _, _, ct) in callers.items()
                   if caller_file.endswith("document.py"))
    shares = []
    for i, (label, funcs) in enumerate(STAGES):
        share = cumulative(funcs) - (taken_in if i == 0 else 0.0)
        shares.append(f"{label.split(' (')[0]} {share / total * 100:.0f}%")
    print(f"  under cProfile ({total:.2f} s, its overhead included): " + ", ".join(shares))
    if args.verbose:
        stats.sort_stats("tottime").print_stats(15)


SECTIONS = {"realistic": realistic, "scaling": scaling, "memory": memory, "catalog": catalog,
            "nearmiss": nearmiss, "startup": startup, "profile": profile}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing; the best is shown")
    parser.add_argument("--shapes", nargs="+", choices=list(SHAPES), help="only these shapes (scaling, memory)")
    parser.add_argument("--against", metavar="DIR",
                        help="a checkout of an earlier comfydsl, timed beside this one (realistic, scaling, nearmiss)")
    parser.add_argument("--against-max", type=int, default=100_000, metavar="N",
                        help="time the earlier checkout on workflows of at most N nodes (default 100000)")
    parser.add_argument("--verbose", action="store_true", help="the top functions of the profile too")
    args = parser.parse_args()
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    target = load_target()
    for name in args.sections or SECTIONS:
        SECTIONS[name](args, target)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
