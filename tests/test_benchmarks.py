"""The benchmarks still measure what they say: each section of the throughput benchmark runs
(small sizes) and the profile's stage timers see the pipeline (they wrap functions by where lint
looks them up); with two runs, the profile also checks that no timer outlives its run. The
per-stage script prints every stage at every size."""

from __future__ import annotations

import subprocess
import sys

from support import ROOT


def test_throughput_profile_nearmiss_and_scaling_sections_run():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--quick", "--repeat", "2",
                           "profile", "nearmiss", "scaling", "--shapes", "chain"], capture_output=True, text=True,
                          timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stages = {line.split("  ")[1].strip(): line for line in proc.stdout.splitlines() if line.startswith("  ")
              and line.strip().split(" ")[0] in ("read", "build", "rules")}
    assert len(stages) == 3, proc.stdout
    for line in stages.values():  # each stage took some of the time: the timers saw it
        assert " 0.0%" not in line, proc.stdout
    assert "json.loads of the whole text alone" in proc.stdout
    assert "class suggestion alone" in proc.stdout
    assert "chain per node max/min" in proc.stdout and "(one lint:" in proc.stdout


def test_node_stages_prints_every_stage_at_every_size():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "node_stages.py"), "--shape", "dag",
                           "--sizes", "60,240", "--repeat", "1"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("  ")}
    assert len(rows["60"]) == len(rows["240"]) == 8  # seven stages and their sum
    assert float(rows["240"][4]) > 0  # the random DAG has unused nodes: locating took time
    assert "largest / smallest size" in proc.stdout
