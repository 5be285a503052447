"""Start-up validation of the shipped configs, and errors that name the bad key."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr_repro.config import load_config as merged
from rlvr_repro.config import validate_config
from rlvr_repro.plan import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_paper_scale_config_is_valid_and_covers_the_papers():
    plan = validate_config(merged())
    # the papers' main protocols, and the figures' analysis passes (ACE Fig. 3 and 4, AsymGRPO App. G)
    assert set(plan.protocols()) == {"ace", "lens", "egpo", "asymgrpo", "ace_analysis", "ace_entropy", "asymgrpo_appg"}
    # every paper's main methods are trained
    methods = {r.method for r in plan.runs.values()}
    assert {"grpo", "dapo", "ace_grpo", "ace_dapo", "lens", "egpo", "edge_grpo", "asymgrpo", "reinforce",
            "drgrpo"} <= methods
    assert all("/" not in rid for rid in plan.runs)
    assert all(r.train["backend"] == "verl" for r in plan.runs.values())


def test_local_config_is_valid():
    plan = validate_config(merged("local.yaml"))
    assert list(plan.experiments) == ["local"]
    assert {r.method for r in plan.runs.values()} == {"grpo", "ace_grpo"}
    assert plan.benchmarks() == ["local_arith", "local_words", "local_hard"]


def test_local_runs_share_one_matched_recipe():
    """The local table is a method comparison: same data, steps, batch, learning rate and seed for
    every method; only the method preset's own keys differ. Answers fit the budget both sides."""
    config = merged("local.yaml")
    plan = validate_config(config)
    specs = [plan.run_spec(r) for r in plan.runs]
    shared = ("total_steps", "prompts_per_step", "group_size", "lr", "max_response_length", "temperature",
              "ppo_mini_batch_size", "ppo_epochs")
    for key in shared:
        assert len({s["train"][key] for s in specs}) == 1, key
    assert len({s["seed"] for s in specs}) == 1 and len({s["dataset"]["name"] for s in specs}) == 1
    assert {s["model"]["family"] for s in specs} == {"short_answer"}
    assert config["protocols"]["local"]["max_tokens"] == specs[0]["train"]["max_response_length"]
    assert plan.decontamination_set("local_arith") == ["local_arith", "local_words", "local_hard"]


@pytest.mark.parametrize("mutate, expected", [
    (lambda c: c["train"].update(lrr=1e-6), "train: Additional properties are not allowed ('lrr' was unexpected)"),
    (lambda c: c["experiments"]["ace"]["train"].update(loss_agg_mode="token_mean"),
     "experiments.ace.train.loss_agg_mode: 'token_mean' is not one of"),
    (lambda c: c["train"].update(lr="fast"), "train.lr: 'fast' is not of type 'number'"),
    (lambda c: c["methods"]["ace_grpo"]["params"].update(alpah=2.0), "methods.ace_grpo.params"),
    (lambda c: c["models"]["qwen3_4b"].update(family="qwen4"), "models.qwen3_4b.family: 'qwen4' is not one of"),
    (lambda c: c.update(activ_experiments=["ace"]), "'activ_experiments' was unexpected"),
])
def test_bad_key_or_value_is_named(mutate, expected):
    config = merged()
    mutate(config)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert expected in str(err.value), str(err.value)


def test_errors_are_reported_together():
    config = merged()
    config["train"]["lr"] = "fast"
    config["eval"]["backend"] = "tgi"
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert "train.lr" in str(err.value) and "eval.backend" in str(err.value)


# Loaded by the interpreter at start-up (PYTHONPATH): writes which heavy modules the process imported.
HEAVY_IMPORTS_PROBE = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["RLVR_IMPORT_PROBE"], "w").write(
    json.dumps(sorted(m for m in ("torch", "transformers", "verl", "vllm", "matplotlib") if m in sys.modules))))
"""


def test_snakemake_plans_the_default_config(tmp_path):
    """`snakemake -n all` with the paper-scale config plans every stage without error, and without
    importing torch, transformers, verl or matplotlib (a login node plans the DAG, fast; the Slurm
    executor plugin itself imports pandas)."""
    (tmp_path / "sitecustomize.py").write_text(HEAVY_IMPORTS_PROBE)
    probe = tmp_path / "imported.json"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "RLVR_IMPORT_PROBE": str(probe)}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "all", "--quiet", "rules"], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert json.loads(probe.read_text()) == [], "planning imported heavy modules"
    for rule in ("download_source", "prepare_model", "build_dataset", "render_family", "check_verl",
                 "train_verl_160steps_every20_1x8gpu", "merge_checkpoints_160steps_every20", "generate_ace", "score_ace", "diagnostics_ace", "tables", "figures",
                 "report"):
        assert rule in out, f"{rule} missing from the plan"
