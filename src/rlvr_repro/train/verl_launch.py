"""Launching verl inside a Slurm allocation, and turning its outputs into the pipeline's files.

What runs where (verl 0.9.1; docs/verl-0.9.1.md "Slurm"):
  * single node: verl's own ``ray.init()`` starts a local Ray; we pass the allocation's CPU count
    (``ray_kwargs.ray_init.num_cpus``), otherwise Ray sees every core of the node and the FAQ's
    "Unable to register worker with raylet" follows.
  * several nodes: we start Ray ourselves — head on the first node, workers on the others, each with
    ``srun --nodes=1 --ntasks=1 -w <node>`` — then run the trainer on the head node, attached through
    ``RAY_ADDRESS``. ``num_cpus`` must then stay null (Ray raises otherwise). Each job uses its own
    port and temp dir, so two jobs sharing a node never attach to each other's cluster.

The trainer itself is ``python -m rlvr_repro.integrations.verl.entry <overrides>``: verl's
``main_ppo`` with our estimators registered inside the Ray TaskRunner actor.

verl's file logger rewrites its file on every start, so each attempt logs to its own
``verl/metrics.<attempt>.jsonl``; :func:`convert_metrics` merges the attempts (a resumed attempt's
steps replace the old ones) into ``train_log.jsonl`` with the field names of docs/CONTRACTS.md.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from rlvr_repro.io import write_json, write_jsonl
from rlvr_repro.plan import checkpoint_steps

# verl metric name -> train_log.jsonl field (docs/CONTRACTS.md); others are kept under "verl/<name>".
VERL_METRIC_NAMES = {
    "critic/score/mean": "reward_mean",
    "response_length/mean": "response_length_mean",
    "actor/entropy": "entropy",
    "actor/pg_clipfrac": "clip_frac",
    "actor/ppo_kl": "ppo_kl",
    "actor/kl_loss": "kl",
    "actor/pg_loss": "loss",
    "actor/grad_norm": "grad_norm",
    "actor/lr": "lr",
    "timing_s/step": "time_s",
}


def slurm_nodes() -> list[str]:
    """Host names of the current allocation (a single local host outside Slurm)."""
    nodelist = os.environ.get("SLURM_JOB_NODELIST")
    if not nodelist:
        return [socket.gethostname()]
    out = subprocess.run(["scontrol", "show", "hostnames", nodelist], check=True,
                         capture_output=True, text=True).stdout
    return [h for h in out.split() if h]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def start_ray_cluster(nodes: list[str], *, gpus_per_node: int, cpus_per_node: int,
                      temp_dir: Path, log) -> tuple[str, list[subprocess.Popen]]:
    """Start a Ray head on ``nodes[0]`` and workers on the rest; return (address, processes)."""
    head = nodes[0]
    ip = subprocess.run(["srun", "--nodes=1", "--ntasks=1", "--overlap", "-w", head, "hostname",
                         "--ip-address"], check=True, capture_output=True, text=True).stdout.split()[0]
    port = free_port()
    address = f"{ip}:{port}"
    common = [f"--num-cpus={cpus_per_node}", f"--num-gpus={gpus_per_node}", f"--temp-dir={temp_dir}",
              "--block"]
    procs = [subprocess.Popen(["srun", "--nodes=1", "--ntasks=1", "--overlap", "-w", head, "ray", "start",
                               "--head", f"--node-ip-address={ip}", f"--port={port}",
                               f"--dashboard-port={free_port()}", *common], stdout=log, stderr=log)]
    _wait_for_nodes(address, 1)
    for node in nodes[1:]:
        procs.append(subprocess.Popen(["srun", "--nodes=1", "--ntasks=1", "--overlap", "-w", node, "ray",
                                       "start", f"--address={address}", *common], stdout=log, stderr=log))
    _wait_for_nodes(address, len(nodes))
    return address, procs


def _wait_for_nodes(address: str, n: int, timeout_s: float = 300.0) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        probe = subprocess.run([sys.executable, "-c",
                                "import ray, sys; ray.init(address=sys.argv[1]); "
                                "print(sum(1 for x in ray.nodes() if x['Alive']))", address],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip().splitlines()[-1:] and \
                int(probe.stdout.strip().splitlines()[-1]) >= n:
            return
        time.sleep(5)
    raise TimeoutError(f"Ray cluster at {address} did not reach {n} nodes within {timeout_s:.0f} s")


def attempt_number(verl_dir: Path) -> int:
    """1 + the number of earlier attempts (their metrics files)."""
    return 1 + len(list(verl_dir.glob("metrics.*.jsonl")))


def convert_metrics(verl_dir: Path, out_path: Path) -> int:
    """Merge verl's per-attempt metric files into ``train_log.jsonl``; return the number of steps."""
    rows: dict[int, dict] = {}
    files = sorted(verl_dir.glob("metrics.*.jsonl"), key=lambda p: int(p.name.split(".")[1]))
    for path in files:
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if line_no == len(path.read_text().splitlines()):
                    break  # torn last line of a killed attempt
                raise ValueError(f"{path}:{line_no}: not JSON")
            step, data = int(record["step"]), record.get("data") or {}
            row = {"step": step}
            for key, value in data.items():
                if isinstance(value, float) and not math.isfinite(value):
                    value = None  # verl logs NaN for empty statistics; JSON has no NaN
                if key in VERL_METRIC_NAMES:
                    row[VERL_METRIC_NAMES[key]] = value
                elif key.startswith("diag/"):
                    row[key] = value  # our estimators' diagnostics (rlvr_repro.integrations.verl.plugin)
                else:
                    row["verl/" + key] = value
            rows[step] = row  # a later attempt (resume) replaces the earlier record of a step
    write_jsonl(out_path, [rows[step] for step in sorted(rows)])
    return len(rows)


TRACKER_FILE = "latest_checkpointed_iteration.txt"


def saved_steps(verl_dir: Path) -> list[int]:
    """Steps for which verl *finished* an actor checkpoint (``global_step_N/actor``).

    A ``global_step_N/actor`` directory exists from the moment verl starts saving, so a job killed
    mid-save leaves one that looks complete. verl writes ``latest_checkpointed_iteration.txt`` only
    after a save returns (``ray_trainer._save_checkpoint``; saves are synchronous, in step order), so
    steps above the tracker's value are partial and not counted. Without a tracker nothing is."""
    tracker = Path(verl_dir) / TRACKER_FILE
    try:
        latest = int(tracker.read_text().strip())
    except (FileNotFoundError, ValueError):
        return []
    steps = []
    for d in Path(verl_dir).glob("global_step_*"):
        m = re.fullmatch(r"global_step_(\d+)", d.name)
        if m and int(m.group(1)) <= latest and (d / "actor").is_dir():
            steps.append(int(m.group(1)))
    return sorted(steps)


def export_hf_checkpoint(actor_dir: Path, target_dir: Path, log=None) -> Path:
    """verl actor checkpoint -> HF directory (weights, config, tokenizer), atomically.

    If verl already wrote full HF weights (``save_contents`` includes ``hf_model``) they are copied;
    otherwise the sharded FSDP state is merged with verl's own ``python -m verl.model_merger``.
    """
    actor_dir, target_dir = Path(actor_dir), Path(target_dir)
    hf_src = actor_dir / "huggingface"
    tmp = target_dir.with_name(target_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    if any(hf_src.glob("*.safetensors")):
        shutil.copytree(hf_src, tmp)
    else:
        subprocess.run([sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp",
                        "--local_dir", str(actor_dir), "--target_dir", str(tmp)],
                       check=True, stdout=log, stderr=log)
        for f in hf_src.glob("*"):  # tokenizer + chat template live next to the config
            if f.is_file() and not (tmp / f.name).exists():
                shutil.copy2(f, tmp / f.name)
    if not (tmp / "config.json").is_file():
        raise FileNotFoundError(f"exporting {actor_dir}: no config.json in the merged model")
    shutil.rmtree(target_dir, ignore_errors=True)
    os.replace(tmp, target_dir)
    return target_dir


def run_training(spec: dict, run_dir: Path, *, cpus: int, log, run=subprocess.run,
                 save_margin_s: float = 300.0, end_time: float | None = None, tracking: dict | None = None) -> dict:
    """Train one run with verl inside the current allocation; return the ``train_done.json`` summary.

    ``spec`` is the resolved run spec with absolute paths (Ray workers do not share the driver's
    working directory). Writes ``run.json``, starts Ray on every node of a multi-node allocation,
    runs the entry point, merges the attempts' metrics into ``train_log.jsonl``, and checks that
    verl saved every checkpoint step the plan expects. ``run`` is injectable for tests.

    Time limits: verl's ``should_save_ckpt_esi`` saves a checkpoint when the expiration timestamp
    it reads is within one step + 60 s + ``trainer.esi_redundant_time`` (= ``save_margin_s``); we set
    that timestamp to the Slurm job's end time (``end_time``, default ``squeue -o %e`` of this job),
    and ``resume_mode=auto`` lets the retried job continue from it. ``tracking``: the config's
    ``tracking`` block (rlvr_repro.tracking), passed as ``trainer.logger`` and W&B / TensorBoard env.
    """
    from rlvr_repro.tracking import verl_tracking
    from rlvr_repro.train.deadline import slurm_end_time, verl_esi_env
    from rlvr_repro.integrations.verl.overrides import build_overrides

    run_dir = Path(run_dir)
    verl_dir = run_dir / "verl"
    verl_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "run.json", spec)
    nodes = slurm_nodes()
    env = dict(os.environ, VERL_USE_EXTERNAL_MODULES="rlvr_repro.integrations.verl.plugin",
               VERL_FILE_LOGGER_PATH=str(verl_dir / f"metrics.{attempt_number(verl_dir)}.jsonl"))
    env.update(verl_esi_env(end_time if end_time is not None else slurm_end_time()))
    overrides = build_overrides(spec, run_dir=run_dir)
    overrides.append(f"trainer.esi_redundant_time={float(save_margin_s)}")
    track_overrides, track_env = verl_tracking(tracking, spec, run_dir)
    replaced = {o.split("=", 1)[0] for o in track_overrides}
    overrides = [o for o in overrides if o.split("=", 1)[0] not in replaced] + track_overrides
    env.update(track_env)
    procs: list[subprocess.Popen] = []
    if len(nodes) == 1:  # verl starts Ray itself: give it the allocation's CPUs, not the node's
        overrides.append(f"ray_kwargs.ray_init.num_cpus={cpus}")
    else:
        temp_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"ray-{os.environ.get('SLURM_JOB_ID', 'local')}"
        address, procs = start_ray_cluster(nodes, gpus_per_node=int(spec["train"]["gpus_per_node"]),
                                           cpus_per_node=cpus, temp_dir=temp_dir, log=log)
        env["RAY_ADDRESS"] = address
    print("verl overrides:\n  " + "\n  ".join(overrides), file=sys.stderr)
    try:
        run([sys.executable, "-m", "rlvr_repro.integrations.verl.entry", *overrides],
            check=True, env=env, stdout=log, stderr=log)
    finally:
        for p in procs:
            p.terminate()
    n_logged = convert_metrics(verl_dir, run_dir / "train_log.jsonl")
    steps = saved_steps(verl_dir / "checkpoints")
    missing = sorted(set(checkpoint_steps(spec["train"])) - set(steps))
    if missing:
        raise RuntimeError(f"verl finished without checkpoints for steps {missing} (saved: {steps}); "
                           f"see {verl_dir} and the log above")
    return {"run_id": spec["run_id"], "backend": "verl", "logged_steps": n_logged, "saved_steps": steps}
