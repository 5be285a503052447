"""Snakemake entry point: every verl actor checkpoint of one run -> HF directory + DONE marker."""
from pathlib import Path

from rlvr_repro.snakeio import logged
from rlvr_repro.train.verl_merge import merge_run_checkpoints

with logged(snakemake.log[0]) as log:
    run_dir = Path(snakemake.input[0]).parent
    merge_run_checkpoints(run_dir, [int(s) for s in snakemake.params.steps], log=log)
    for step, marker in zip(snakemake.params.steps, snakemake.output):
        Path(marker).write_text(f"step {step}\n")
