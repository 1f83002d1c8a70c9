"""The throughput benchmark still measures what it says: each section runs (small sizes) and
the profile's stage timers see the pipeline (they wrap functions by where lint looks them up);
with two runs, the profile also checks that no timer outlives its run."""

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
    assert "of reading: json.loads alone" in proc.stdout
    assert "class suggestion alone" in proc.stdout
    assert "chain per node max/min" in proc.stdout and "(one lint:" in proc.stdout
