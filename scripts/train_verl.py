"""Snakemake entry point: one verl training run inside its Slurm allocation (rlvr_repro.train.verl_launch)."""
import os
from pathlib import Path

from rlvr_repro.io import write_json
from rlvr_repro.models import model_dir
from rlvr_repro.snakeio import logged
from rlvr_repro.train.verl_launch import run_training

with logged(snakemake.log[0]) as log:
    spec = dict(snakemake.params.spec)
    spec["model"]["path"] = model_dir(snakemake.input.model)
    spec["dataset"]["train_files"] = str(Path(snakemake.input.train).resolve())
    spec["dataset"]["val_files"] = str(Path(snakemake.input.val).resolve())
    summary = run_training(spec, Path(snakemake.output.done).parent.resolve(), log=log,
                           cpus=int(os.environ.get("SLURM_CPUS_PER_TASK", snakemake.threads)),
                           save_margin_s=float(snakemake.params.save_margin_s),
                           tracking=dict(snakemake.params.tracking))
    write_json(snakemake.output.done, summary)
