"""Checkpoints of the local trainer: HF model directories that appear atomically, plus resumable state.

Layout (docs/CONTRACTS.md)::

    out_dir/checkpoints/step_{N}/   config.json, model.safetensors, tokenizer files   (what evaluation loads)
                                    DONE                  marker the workflow waits for
                                    trainer_state.pt      fp32 master weights, AdamW + scheduler state,
                                                          prompt-sampler position, step, run spec
                                                          (only in the newest checkpoint; removed when
                                                          the run finishes)

A checkpoint is written into ``checkpoints/.step_{N}.tmp-*`` and renamed to ``step_{N}`` only when every
file is on disk; a crash leaves at most a hidden temporary directory, which the next start removes.
Completeness is still judged by content (:func:`holds_model`), never by the name: Snakemake creates
``step_{N}/`` itself, empty, before the job runs, because ``step_{N}/DONE`` is a declared output. The ``DONE`` marker is re-created for complete
checkpoints that lack it (Snakemake deletes a failed job's declared outputs, including those markers).
Only the newest ``trainer_state.pt`` is kept: resuming needs nothing older, and for SmolLM2 the state
(master weights + two AdamW moments in fp32) is ~1.6 GB.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import torch

from rlvr_repro.io import write_text

STATE_FILE = "trainer_state.pt"
DONE_FILE = "DONE"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def checkpoint_dir(out_dir: Path, step: int) -> Path:
    return Path(out_dir) / "checkpoints" / f"step_{step}"


# What save_checkpoint renames into place, all at once: a directory holding these is complete.
_CONFIG_FILE = "config.json"
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")


def holds_model(ckpt: Path) -> bool:
    """True when ``ckpt`` holds a saved model (config + weights). Judged by content, not by name:
    Snakemake creates the parent directory of every declared output (``step_N/DONE``) before the
    job runs, so an empty ``step_N/`` proves nothing."""
    ckpt = Path(ckpt)
    return (ckpt / _CONFIG_FILE).is_file() and any((ckpt / f).is_file() for f in _WEIGHT_FILES)


def complete_checkpoints(out_dir: Path) -> dict[int, Path]:
    """step -> directory, for every complete (renamed-into-place) checkpoint (:func:`holds_model`)."""
    root = Path(out_dir) / "checkpoints"
    found = {}
    if root.is_dir():
        for d in root.iterdir():
            m = _STEP_DIR.match(d.name)
            if m and d.is_dir() and holds_model(d):
                found[int(m.group(1))] = d
    return dict(sorted(found.items()))


def remove_stale_temporaries(out_dir: Path) -> list[Path]:
    """Delete half-written checkpoint directories left by a crash; returns what was removed."""
    root = Path(out_dir) / "checkpoints"
    stale = sorted(root.glob(".step_*.tmp-*")) if root.is_dir() else []
    for d in stale:
        shutil.rmtree(d, ignore_errors=True)
    return stale


def write_done_marker(ckpt: Path, step: int) -> None:
    write_text(Path(ckpt) / DONE_FILE, json.dumps({"step": step}) + "\n")


def restore_done_markers(out_dir: Path) -> None:
    for step, ckpt in complete_checkpoints(out_dir).items():
        if not (ckpt / DONE_FILE).exists():
            write_done_marker(ckpt, step)


def save_checkpoint(out_dir: Path, step: int, model, tokenizer, trainer_state: dict | None) -> Path:
    """Write step ``step``'s HF directory (+ trainer state) atomically; drop older trainer states."""
    final = checkpoint_dir(out_dir, step)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".step_{step}.tmp-", dir=final.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if trainer_state is not None:
            torch.save(trainer_state, tmp / STATE_FILE)
        write_done_marker(tmp, step)
        if final.exists():  # an empty dir made by Snakemake, or a superseded leftover
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for other_step, other in complete_checkpoints(out_dir).items():
        if other_step != step:
            drop_trainer_state(other)
    return final


def remove_unplanned(out_dir: Path, steps) -> list[Path]:
    """Delete complete checkpoints of steps outside ``steps`` (saved before a time limit, only to
    resume from) once they hold no trainer state, i.e. a newer checkpoint superseded them."""
    planned, removed = set(int(s) for s in steps), []
    for step, d in complete_checkpoints(out_dir).items():
        if step not in planned and not (d / STATE_FILE).exists():
            shutil.rmtree(d)
            removed.append(d)
    return removed


def drop_trainer_state(ckpt: Path) -> None:
    path = Path(ckpt) / STATE_FILE
    if path.exists():
        path.unlink()


def latest_resumable(out_dir: Path) -> tuple[int, Path] | None:
    """The newest complete checkpoint that carries a trainer state, or None."""
    candidates = [(s, d) for s, d in complete_checkpoints(out_dir).items() if (d / STATE_FILE).exists()]
    return candidates[-1] if candidates else None


def load_trainer_state(ckpt: Path) -> dict:
    return torch.load(Path(ckpt) / STATE_FILE, map_location="cpu", weights_only=True)
