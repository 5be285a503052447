"""All verl checkpoints of one run -> HF directories, in one job, without redoing finished steps.

The workflow merges a run's checkpoints in one Slurm job (one submission per run instead of one per
step). Snakemake deletes a rerun job's declared outputs (the ``step_N/DONE`` markers) before it
starts, so whether a step is already merged is judged by content: the HF directory holds a model
(:func:`rlvr_repro.train.checkpoint.holds_model`) *and* its ``merged_from.json`` names the same verl
checkpoint, identified by path and modification time. A retrained run (new verl checkpoints) is
merged again; a step that failed is the only one redone.
"""

from __future__ import annotations

import json
from pathlib import Path

from rlvr_repro.train.checkpoint import holds_model
from rlvr_repro.train.verl_launch import export_hf_checkpoint, saved_steps

PROVENANCE = "merged_from.json"


def _source_id(actor: Path) -> dict:
    return {"actor": str(actor.resolve()), "mtime_ns": actor.stat().st_mtime_ns}


def is_merged(actor: Path, target: Path) -> bool:
    """``target`` holds the model merged from this very ``actor`` checkpoint."""
    try:
        recorded = json.loads((Path(target) / PROVENANCE).read_text())
    except (FileNotFoundError, ValueError):
        return False
    return holds_model(Path(target)) and recorded == _source_id(Path(actor))


def merge_run_checkpoints(run_dir: Path, steps: list[int], *, log=None, export=export_hf_checkpoint) -> dict:
    """Merge ``steps`` of the run in ``run_dir``; returns step -> "merged" | "kept".

    Raises for a step verl did not save completely (by its tracker file, :func:`saved_steps`), after
    merging every other step, so one bad step costs only itself."""
    run_dir = Path(run_dir)
    checkpoints = run_dir / "verl" / "checkpoints"
    complete = set(saved_steps(checkpoints))
    done, missing = {}, []
    for step in steps:
        actor = checkpoints / f"global_step_{step}" / "actor"
        target = run_dir / "checkpoints" / f"step_{step}"
        if step not in complete:
            missing.append(step)
            continue
        if is_merged(actor, target):
            done[step] = "kept"
        else:
            export(actor, target, log=log)
            (target / PROVENANCE).write_text(json.dumps(_source_id(actor)))
            done[step] = "merged"
        print(f"step {step}: {done[step]} ({target})", file=log)
    if missing:
        raise FileNotFoundError(f"{checkpoints}: verl saved no complete checkpoint for steps {missing} of "
                                f"{run_dir.name} (check train.save_freq / total_steps); merged: {sorted(done)}")
    return done
