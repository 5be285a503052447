# rlvr-repro: datasets -> training runs -> checkpoint evaluation -> paper tables.
#
#   snakemake --profile profiles/slurm all              the papers' matrix on a Slurm cluster
#   snakemake --profile profiles/local all              the CPU smoke run (config/local.yaml)
#   snakemake -n all                                    plan only
#   snakemake data | train | evaluate | tables | report one stage (and what it needs)
#   snakemake results/eval/ace/<run>/step_20/math500/metrics.json   any single file
#
# Config: the files below are merged in order, then any --configfile on top (docs: config/config.yaml).
import os
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# This process and every job (scripts, Slurm jobs) import the same source tree, installed or not.
# `envvars:` declares it, so executors that do not inherit the login shell's environment pass it on.
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p)


# OpenMP threads that sleep when they wait instead of spinning (GNU libgomp spins first): on a shared
# CPU a job's spinning threads hold the cores that it and its neighbours need; a 2-thread step beside a
# busy process ran many times slower (benchmarks/bench_local_step.py). Every job inherits it before torch
# loads; a value exported by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


envvars:
    "PYTHONPATH",
    "OMP_WAIT_POLICY",


from rlvr_repro.config import CONFIG_FILES

# Absolute paths: the workflow also runs with `--directory <elsewhere>` (tests, scratch space).
# The file list and its order live in rlvr_repro.config.CONFIG_FILES (tests load the same merge).

for _name in CONFIG_FILES:

    configfile: Path(workflow.basedir) / "config" / _name


include: "workflow/rules/common.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        rules.tables.output,
        rules.report.output,
        PLAN.eval_part_targets(),  # packed checkpoints: one Slurm allocation per part (evaluate.smk)
        # every metrics.json: the report rules read each checkpoint's score.json, and Snakemake rebuilds
        # a deleted output only when a job asks for that very file
        PLAN.metrics_targets(),
