"""Snakemake entry point: one run with the local CPU trainer (rlvr_repro.train.local)."""
from pathlib import Path

from rlvr_repro.io import write_json
from rlvr_repro.models import model_dir
from rlvr_repro.plan import checkpoint_steps
from rlvr_repro.snakeio import logged
from rlvr_repro.train import checkpoint as ckpt
from rlvr_repro.train.deadline import Deadline
from rlvr_repro.tracking import LocalTracker
from rlvr_repro.train.local import train_local

with logged(snakemake.log[0]):
    spec = dict(snakemake.params.spec)
    spec["model"]["path"] = model_dir(snakemake.input.model)
    run_dir = Path(snakemake.output.done).parent
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "run.json", spec)
    # inside a Slurm job: save and stop before the time limit; the rule's retries resume the run
    deadline = Deadline.from_slurm(float(snakemake.params.save_margin_s))
    tracker = LocalTracker(dict(snakemake.params.tracking), spec, run_dir)
    try:
        final = train_local(spec, run_dir, num_threads=snakemake.threads, deadline=deadline,
                            on_step=tracker.log if tracker.active else None)
    finally:
        tracker.close()
    ckpt.remove_unplanned(run_dir, checkpoint_steps(spec["train"]))
    missing = [p for p in snakemake.output.checkpoints if not Path(p).is_file()]
    if missing:
        raise RuntimeError(f"training finished without the checkpoint markers {missing}")
    write_json(snakemake.output.done, {"run_id": spec["run_id"], "backend": "local",
                                       "final_checkpoint": str(final), "train_log": str(run_dir / "train_log.jsonl")})
