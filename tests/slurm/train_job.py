"""The training job of tests/train/test_slurm_timelimit.py (run by sbatch, and once outside Slurm as
the uninterrupted reference): the local trainer on the tiny model of tests/train/conftest.py, with a
reward that sleeps so that the run outlasts a 1-minute Slurm limit, and optionally a save that hangs
at one step (the test kills the job there, once: a flag file marks that it happened)."""
import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from conftest import contains_answer  # noqa: E402  (tests/train/conftest.py)

from rlvr_repro.plan import checkpoint_steps  # noqa: E402
from rlvr_repro.train import checkpoint as ckpt  # noqa: E402
from rlvr_repro.train.deadline import Deadline  # noqa: E402
from rlvr_repro.train.local import train_local  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--spec", type=Path, required=True)
ap.add_argument("--out", type=Path, required=True)
ap.add_argument("--step-s", type=float, default=0.4)
ap.add_argument("--margin-s", type=float, default=15)
ap.add_argument("--hang-at-save", type=int, default=None)
ap.add_argument("--flag", type=Path, default=None)
args = ap.parse_args()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)
spec = json.loads(args.spec.read_text())


def slow_reward(sources, solutions, truths):
    time.sleep(args.step_s)
    return contains_answer(sources, solutions, truths)


if args.hang_at_save is not None and not args.flag.exists():
    real = ckpt.write_done_marker

    def hanging(path, step):  # called inside save_checkpoint, on the temporary dir, before the rename
        if step == args.hang_at_save and Path(path).name.startswith(f".step_{step}.tmp"):
            args.flag.write_text(str(os.getpid()))
            time.sleep(600)
        real(path, step)

    ckpt.write_done_marker = hanging

deadline = Deadline.from_slurm(args.margin_s) if os.environ.get("SLURM_JOB_ID") else None
try:
    train_local(spec, args.out, reward_fn=slow_reward, progress=False, dtype="float32", num_threads=1,
                deadline=deadline)
except Exception as e:  # the time-limit stop: say why in the job log, exit non-zero like a failed job
    print(f"{type(e).__name__}: {e}", flush=True)
    raise SystemExit(1)
ckpt.remove_unplanned(args.out, checkpoint_steps(spec["train"]))
print("TRAINING FINISHED", flush=True)
