"""Runs longer than one Slurm allocation, on the real single-node Slurm (tests/conftest.py): a local
training job under a 1-minute limit (`sbatch -t 1`) is resubmitted the way Snakemake's retries
(`cluster.train_retries`) resubmit it, until it finishes, and its final checkpoint equals the one of
an uninterrupted run of the same spec.

Attempt 1 is killed (SIGKILL, as on a node failure) while it saves step 40's checkpoint: the next
attempt must not take the half-written directory for a checkpoint, and resumes from step 20.
Attempt 2 runs into the time limit: rlvr_repro.train.deadline reads the job's end time from squeue
and saves a resumable checkpoint `margin` seconds before it, then exits (FAILED, not TIMEOUT).
Attempt 3 finishes. The tiny model of conftest.py trains in milliseconds a step; the reward sleeps
0.4 s so that 150 steps outlast one minute. Wall time: about 2.5 minutes.

Tolerance: the final weights must agree to 1e-5 absolute (fp32, one thread in every process); the
measured maximum difference is printed, and was 0 (bitwise equal) when this test was written.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
JOB = REPO / "tests" / "slurm" / "train_job.py"
TOTAL, SAVE_FREQ, HANG_AT = 150, 20, 40
TOLERANCE = 1e-5


def _state(job_id: str) -> str:
    out = subprocess.run(["squeue", "-h", "--states=all", "-j", job_id, "-o", "%T"], capture_output=True,
                         text=True, timeout=30).stdout.strip()
    return out or "UNKNOWN"


def _wait(job_id: str, timeout: float, until=None) -> str:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if until is not None and until():
            return "CONDITION"
        state = _state(job_id)
        if state in ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL", "OUT_OF_MEMORY"):
            return state
        time.sleep(0.5)
    subprocess.run(["scancel", job_id], timeout=30)
    raise AssertionError(f"job {job_id} still {_state(job_id)} after {timeout} s")


def _weights(ckpt_dir: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(ckpt_dir / "model.safetensors"))


@pytest.mark.timeout(900)
def test_run_outlives_its_time_limit_and_a_kill_during_a_save(slurm_cluster, make_spec, tmp_path):
    spec = make_spec(total_steps=TOTAL, save_freq=SAVE_FREQ, lr=1e-2)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    base = [sys.executable, str(JOB), "--spec", str(tmp_path / "spec.json")]

    # the uninterrupted reference, outside Slurm, while the Slurm attempts run
    ref = subprocess.Popen(base + ["--out", str(tmp_path / "straight")], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    out, flag = tmp_path / "sliced", tmp_path / "hung_once"
    cmd = " ".join(base + ["--out", str(out), "--hang-at-save", str(HANG_AT), "--flag", str(flag)])
    attempts = []
    for attempt in range(1, 6):
        log = tmp_path / f"attempt{attempt}.log"
        sub = subprocess.run(["sbatch", "--parsable", "-t", "1", "-c", "1", "--mem", "2000", "-o", str(log),
                              "-D", str(tmp_path), "--wrap", cmd], env=env, capture_output=True, text=True, timeout=60)
        assert sub.returncode == 0, sub.stderr
        job = sub.stdout.strip().split(";")[0]
        if attempt == 1:
            assert _wait(job, 240, until=flag.exists) == "CONDITION", log.read_text()[-3000:]
            hidden = list((out / "checkpoints").glob(f".step_{HANG_AT}.tmp-*"))
            assert hidden, "the kill must land inside step 40's save"
            subprocess.run(["scancel", "--signal=KILL", "--full", job], check=True, timeout=30)
            state = _wait(job, 120)
        else:
            state = _wait(job, 240)
        attempts.append((state, log.read_text(errors="replace") if log.exists() else ""))
        if state == "COMPLETED":
            break
    states = [s for s, _ in attempts]
    print(f"\n[slurm] attempts: {states}")
    logs = "\n".join(f"--- attempt {i + 1} ({s})\n{text[-2500:]}" for i, (s, text) in enumerate(attempts))
    assert states[-1] == "COMPLETED" and "TRAINING FINISHED" in attempts[-1][1], logs
    assert states[0] in ("CANCELLED", "FAILED"), logs
    # attempt 2 resumed from step 20 (not from the half-saved 40), and stopped itself before the limit
    assert "removed a half-written checkpoint" in attempts[1][1] or "resuming" in attempts[1][1], logs
    assert "resuming" in attempts[1][1] and "from step 20" in attempts[1][1], logs
    assert any("stopped after step" in text and "left before the job's end time" in text
               for s, text in attempts[1:-1] if s == "FAILED"), logs
    assert "TIMEOUT" not in states, logs
    assert len(attempts) >= 3, logs

    ref_out, _ = ref.communicate(timeout=600)
    assert ref.returncode == 0, ref_out[-3000:]
    final = f"checkpoints/step_{TOTAL}"
    a, b = _weights(tmp_path / "straight" / final), _weights(out / final)
    assert a.keys() == b.keys()
    diff = max(float((a[k].float() - b[k].float()).abs().max()) for k in a)
    print(f"[slurm] final checkpoint: max |w_sliced - w_straight| = {diff:.3g} ({len(a)} tensors)")
    assert diff <= TOLERANCE, diff
    # every planned checkpoint is there, the extra one saved before the limit is gone, the log is whole
    steps = sorted(int(p.name.split("_")[1]) for p in (out / "checkpoints").glob("step_*"))
    assert steps == list(range(SAVE_FREQ, TOTAL + 1, SAVE_FREQ)) + ([TOTAL] if TOTAL % SAVE_FREQ else [])
    rows = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, TOTAL + 1))
    assert not list((out / "checkpoints").glob(".step_*"))
