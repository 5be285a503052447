"""Saving before a Slurm allocation ends, so that a run longer than one time limit loses at most a step.

Slurm kills a job at its end time (SIGTERM, then SIGKILL ``KillWait`` seconds later). Two signals
tell a trainer to save a resumable checkpoint and stop early:

* the job's end time, read once from ``squeue -h -j $SLURM_JOB_ID -o %e`` at start: save when what is
  left is at most ``margin_s`` plus the longest step so far (the next step would not fit). verl does the
  same from ``MLP_CURRENT_CAPACITY_BLOCK_EXPIRATION_TIMESTAMP`` (``should_save_ckpt_esi``), which
  :func:`verl_esi_env` sets from the same end time;
* SIGTERM (preemption, ``scancel``, the limit itself): noted, and acted on after the current step.

The trainer then exits with :class:`TimeLimitReached` (a failed job), and the workflow's retries
(config ``cluster.train_retries``) resubmit it; the next attempt resumes from that checkpoint.
Outside Slurm nothing changes: no end time, no signal handler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime


class TimeLimitReached(RuntimeError):
    """Raised after the resumable checkpoint is saved: the job ends so that its retry resumes."""


def slurm_end_time(job_id: str | None = None, *, run=subprocess.run) -> float | None:
    """The job's end time as a Unix timestamp, or None outside Slurm / without a limit."""
    job_id = job_id or os.environ.get("SLURM_JOB_ID")
    if not job_id:
        return None
    try:
        out = run(["squeue", "-h", "-j", str(job_id), "-o", "%e"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (out.stdout or "").strip().splitlines()
    if out.returncode != 0 or not text:
        return None
    try:
        return datetime.fromisoformat(text[0].strip()).timestamp()  # Slurm prints local time
    except ValueError:  # N/A, Unknown, UNLIMITED
        return None


def verl_esi_env(end_time: float | None) -> dict:
    """verl's expiration variable (read by should_save_ckpt_esi) for the job's end time."""
    return {"MLP_CURRENT_CAPACITY_BLOCK_EXPIRATION_TIMESTAMP": str(end_time)} if end_time else {}


class Deadline:
    """When to save and stop: ``end_time`` (Unix seconds, or None) minus ``margin_s`` and the longest step."""

    def __init__(self, end_time: float | None, margin_s: float = 300.0, clock=time.time):
        self.end_time, self.margin_s, self.clock = end_time, float(margin_s), clock
        self.longest_step_s = 0.0
        self.signalled = False

    @classmethod
    def from_slurm(cls, margin_s: float = 300.0) -> "Deadline":
        """The current Slurm job's deadline, with a SIGTERM handler; a no-op deadline outside Slurm."""
        d = cls(slurm_end_time(), margin_s)
        if os.environ.get("SLURM_JOB_ID"):
            signal.signal(signal.SIGTERM, d._on_sigterm)
        return d

    def _on_sigterm(self, signum, frame):
        self.signalled = True

    def reached(self, step_seconds: float) -> bool:
        """Called after each step with its duration: True when the next step might not finish in time."""
        self.longest_step_s = max(self.longest_step_s, float(step_seconds))
        if self.signalled:
            return True
        if self.end_time is None:
            return False
        return self.end_time - self.clock() <= self.margin_s + self.longest_step_s

    def why(self) -> str:
        if self.signalled:
            return "SIGTERM received (time limit, preemption or scancel)"
        left = self.end_time - self.clock() if self.end_time else float("nan")
        return (f"{left:.0f} s left before the job's end time <= margin {self.margin_s:.0f} s "
                f"+ longest step {self.longest_step_s:.1f} s")
