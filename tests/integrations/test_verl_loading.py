"""How the plug-in reaches verl's processes: env var, `verl.plugins` entry point, our entry point (Ray actor).

Each test starts fresh Python processes (verl's import alone takes ~8 s here), hence `slow`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("verl", reason="verl not installed")
pytestmark = pytest.mark.slow

PLUGIN = "rlvr_repro.integrations.verl.plugin"
# The entry-point line for pyproject.toml:  [project.entry-points."verl.plugins"]  rlvr_repro = "<PLUGIN>"
ENTRY_POINTS_TXT = f"[verl.plugins]\nrlvr_repro = {PLUGIN}\n"
PROBE = ("import json, verl; from verl.trainer.ppo import core_algos, ray_trainer; "
         "print(json.dumps({'registered': 'rlvr_ace' in core_algos.ADV_ESTIMATOR_REGISTRY, "
         "'wrapped': bool(getattr(ray_trainer.compute_advantage, '__rlvr_wrapped__', False))}))")


def _probe(env_extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    env.update(VERL_LOGGING_LEVEL="ERROR", PYTHONWARNINGS="ignore", **env_extra)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_env_var_loads_plugin_and_control_does_not():
    assert _probe({"VERL_USE_EXTERNAL_MODULES": PLUGIN, "VERL_USE_EXTERNAL_PLUGINS": "none"}) == \
        {"registered": True, "wrapped": True}
    assert _probe({"VERL_USE_EXTERNAL_PLUGINS": "none"}) == {"registered": False, "wrapped": False}


def test_verl_plugins_entry_point(tmp_path: Path):
    dist = tmp_path / "rlvr_entry_probe-0.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: rlvr-entry-probe\nVersion: 0.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS_TXT)
    pythonpath = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    assert _probe({"PYTHONPATH": pythonpath, "VERL_USE_EXTERNAL_PLUGINS": "rlvr_repro"}) == \
        {"registered": True, "wrapped": True}


def _paper_overrides(tmp_path: Path) -> list[str]:
    from rlvr_repro.integrations.verl.overrides import build_overrides

    spec = {"run_id": "m-d-ace_grpo-s0", "seed": 0, "backend": "verl",
            "model": {"name": "m", "family": "generic", "path": "/models/m", "params_b": 0.5},
            "dataset": {"name": "d", "train_files": "/data/train.parquet", "val_files": "/data/val.parquet"},
            "method": {"name": "ace_grpo", "estimator": "ace", "params": {"alpha": 1.0}},
            "train": {"total_steps": 10, "save_freq": 5, "prompts_per_step": 64, "group_size": 8,
                      "ppo_mini_batch_size": 64, "ppo_epochs": 1, "micro_batch_size": 8, "lr": 1e-6,
                      "weight_decay": 0.01, "warmup_steps": 0, "grad_clip": 1.0, "temperature": 1.0, "top_p": 1.0,
                      "max_prompt_length": 512, "max_response_length": 1024, "clip_ratio_low": 0.2,
                      "clip_ratio_high": 0.2, "clip_ratio_c": 3.0, "loss_agg_mode": "token-mean",
                      "entropy_coeff": 0.0, "use_kl_loss": False, "kl_coef": 0.001, "kl_loss_type": "low_var_kl",
                      "need_ref": True, "gpu_memory_utilization": 0.6, "tensor_parallel_size": 1, "nnodes": 1,
                      "gpus_per_node": 8}}
    return build_overrides(spec, run_dir=tmp_path / "run", reward_path=str(tmp_path / "reward.py"))


@pytest.mark.parametrize("use_v1", ["true", "false"])
def test_entry_point_sets_up_plugin_inside_the_task_runner_actor(tmp_path: Path, use_v1: str):
    report = tmp_path / "actor.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    env.update(VERL_LOGGING_LEVEL="ERROR", VERL_USE_EXTERNAL_PLUGINS="none", RLVR_VERL_DRY_RUN=str(report))
    cmd = [sys.executable, "-m", "rlvr_repro.integrations.verl.entry", *_paper_overrides(tmp_path),
           f"trainer.use_v1={use_v1}", "ray_kwargs.ray_init.num_cpus=2"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    seen = json.loads(report.read_text())
    assert seen["pid"] != os.getpid() and seen["adv_estimator"] == "rlvr_ace" and seen["adv_estimator_registered"]
    assert all(seen["compute_advantage_wrapped"].values()) and len(seen["compute_advantage_wrapped"]) == 2
    assert ("RlvrTaskRunnerV1" if use_v1 == "true" else "RlvrTaskRunnerV0") in seen["runner_mro"]
    assert (tmp_path / "run" / "verl" / "hydra").is_dir()  # hydra.run.dir honoured, no ./outputs/<date>


def test_entry_point_rejects_bad_estimator_config_before_ray(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    env.update(VERL_LOGGING_LEVEL="ERROR", VERL_USE_EXTERNAL_PLUGINS="none")
    cmd = [sys.executable, "-m", "rlvr_repro.integrations.verl.entry", *_paper_overrides(tmp_path),
           "+algorithm.rlvr.alhpa=2.0"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "unknown parameter(s) ['alhpa']" in out.stderr
    assert "ray init kwargs" not in out.stdout  # failed before run_ppo started Ray
