#!/usr/bin/env python
"""`snakemake --profile slurm -n all` on the paper config: this checkout against a baseline commit.

    python benchmarks/bench_dryrun.py                     # baseline: the commit before issue 16
    python benchmarks/bench_dryrun.py --baseline main --rounds 3

The baseline's tree is exported with ``git archive`` into a temporary directory (its Snakefile puts
its own ``src/`` first on the path, so each run plans with its own code), and both dry runs are timed
in this process, alternating baseline and current ``--rounds`` times, so load on a shared machine hits
both alike. Printed per run: wall seconds, CPU seconds of the snakemake process (user + system, which
load inflates less than wall time) and the number of planned jobs; then the medians and the ratios
baseline / current. The issue's goal: <= 20 s on a 2-core machine.

The two trees plan the same runs and cells but not the same jobs: since the baseline the default config
gained the figures' analysis passes (+4,869 jobs with per-cell grading), and grades and metrics became
one job per checkpoint (``score_{protocol}``: 8,394 per-cell jobs became 1,126), so the job counts are
printed, not required to match. Measured here: 74cc274 26.3 s / 4,995 jobs, per-cell grading with the
analysis passes 51.0 s / 10,054 jobs, now ~16 s / 2,793 jobs.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = "74cc274"  # main before issue 16 (estimator registry, train-key table, light planning)
COMMAND = [sys.executable, "-m", "snakemake", "--profile", "slurm", "-n", "all"]


def export(ref: str, into: Path) -> Path:
    """The tree of ``ref`` under ``into`` (no .git, no results)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def dry_run(tree: Path) -> tuple[float, float, int]:
    """(wall s, CPU s of the child, planned jobs) of one dry run in ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(COMMAND, cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"dry run failed in {tree}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    total = re.findall(r"^total\s+(\d+)\s*$", proc.stdout + proc.stderr, flags=re.M)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, int(total[-1]) if total else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default=BASELINE, help=f"git ref of the baseline (default {BASELINE})")
    ap.add_argument("--rounds", type=int, default=2, help="baseline/current pairs (default 2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_dryrun_") as tmp:
        trees = {"baseline": export(args.baseline, Path(tmp) / "baseline"), "current": REPO}
        results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in trees}
        for r in range(args.rounds):
            for name, tree in trees.items():
                wall, cpu, jobs = dry_run(tree)
                results[name].append((wall, cpu, jobs))
                print(f"round {r + 1}  {name:8s}  wall {wall:6.1f} s  cpu {cpu:6.1f} s  jobs {jobs}", flush=True)
    jobs = {name: {j for _, _, j in rs} for name, rs in results.items()}
    if jobs["baseline"] != jobs["current"]:
        print(f"note: the trees plan different job counts (see the docstring): {jobs}")
    med = {name: (statistics.median(w for w, _, _ in rs), statistics.median(c for _, c, _ in rs))
           for name, rs in results.items()}
    for name, (wall, cpu) in med.items():
        print(f"median   {name:8s}  wall {wall:6.1f} s  cpu {cpu:6.1f} s")
    print(f"ratio baseline / current: wall {med['baseline'][0] / med['current'][0]:.2f}x, "
          f"cpu {med['baseline'][1] / med['current'][1]:.2f}x  (goal: current <= 20 s wall on 2 cores)")


if __name__ == "__main__":
    main()
