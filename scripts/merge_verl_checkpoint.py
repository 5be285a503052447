"""Snakemake entry point: verl actor checkpoint of one step -> HF directory + DONE marker."""
from pathlib import Path

from rlvr_repro.snakeio import logged
from rlvr_repro.train.verl_launch import export_hf_checkpoint, saved_steps

with logged(snakemake.log[0]) as log:
    run_dir = Path(snakemake.input[0]).parent
    step = int(snakemake.wildcards.step)
    checkpoints = run_dir / "verl" / "checkpoints"
    actor = checkpoints / f"global_step_{step}" / "actor"
    if step not in saved_steps(checkpoints):  # by verl's tracker: a half-saved step is not merged
        raise FileNotFoundError(f"{actor}: verl saved no complete checkpoint for step {step} "
                                f"(check train.save_freq / total_steps of run {snakemake.wildcards.run})")
    target = Path(snakemake.output[0]).parent
    export_hf_checkpoint(actor, target, log=log)
    Path(snakemake.output[0]).write_text(f"step {step}\n")
