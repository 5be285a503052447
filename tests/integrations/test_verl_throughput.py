"""GPU throughput defaults, the train.verl_overrides passthrough, and the login-node check of override sets."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from rlvr_repro.config import load_config, validate_config
from rlvr_repro.integrations.verl import throughput
from rlvr_repro.integrations.verl.check import check_id, marker, override_sets, run_check
from rlvr_repro.integrations.verl.overrides import build_overrides, verl_override_items

warnings.filterwarnings("ignore")
os.environ.setdefault("VERL_LOGGING_LEVEL", "ERROR")
REPO = Path(__file__).resolve().parents[2]
A = "actor_rollout_ref."


@pytest.fixture(scope="module")
def plan():
    return validate_config(load_config())


def _spec(plan, model, method="grpo"):
    rid = next(r for r in plan.runs if r.startswith(model + "-") and f"-{method}-" in r)
    return plan.run_spec(rid, model_path=f"/models/{model}")


def as_dict(overrides):
    return dict(o.split("=", 1) for o in overrides)


# ---------------------------------------------------------------- derived defaults (config/train_keys.md)

@pytest.mark.parametrize("model,method,sp,budget,param_off,optim_off", [
    ("qwen25_math_7b", "grpo", 1, 16384, False, True),       # ACE: KL loss -> a reference policy
    ("qwen25_math_7b", "edge_grpo", 1, 16384, False, False),  # EGPO: no reference policy
    ("qwen3_8b_base", "grpo", 4, 16384, False, True),         # 1k + 8k tokens
    ("llama31_8b_instruct", "lens", 2, 16384, False, True),   # 1k + 4k
    ("r1_distill_qwen_1_5b", "egpo", 2, 32768, False, False),  # 1k + 16k
    ("r1_distill_qwen_7b", "egpo", 4, 16384, False, False),   # 1k + 16k
    ("qwen3_4b", "asymgrpo", 1, 24576, False, False),
])
def test_derived_defaults_of_the_paper_runs(plan, model, method, sp, budget, param_off, optim_off):
    spec = _spec(plan, model, method)
    ov = as_dict(build_overrides(spec, reward_path="/r.py"))
    assert ov[A + "actor.use_dynamic_bsz"] == "true" and ov[A + "ref.log_prob_use_dynamic_bsz"] == "true"
    assert ov[A + "actor.ulysses_sequence_parallel_size"] == ov[A + "ref.ulysses_sequence_parallel_size"] == str(sp)
    assert ov[A + "actor.ppo_max_token_len_per_gpu"] == str(budget)
    assert ov[A + "rollout.log_prob_max_token_len_per_gpu"] == str(int(budget * 1.5))
    assert ov[A + "actor.fsdp_config.param_offload"] == str(param_off).lower()
    assert ov[A + "actor.fsdp_config.optimizer_offload"] == str(optim_off).lower()
    seq = spec["train"]["max_prompt_length"] + spec["train"]["max_response_length"]
    assert budget * sp >= seq


def test_rules_scale_with_size_length_and_gpus():
    base = {"max_prompt_length": 1024, "max_response_length": 16384, "gpus_per_node": 8, "nnodes": 1,
            "gpu_memory_utilization": 0.75}
    small, big = (throughput.resolve(base, p, has_ref=False) for p in (1.5, 32.0))
    assert small["ulysses_sequence_parallel_size"] == 2 and big["ulysses_sequence_parallel_size"] == 4
    assert big["param_offload"] and big["optimizer_offload"]  # 32B on 8 GPUs: 64 GB of state per GPU
    # 4 nodes: a quarter of the state per GPU, no offload for 7B
    assert not any(throughput.resolve({**base, "nnodes": 4}, 7.0, has_ref=True)[k]
                   for k in ("param_offload", "optimizer_offload"))
    # sp must divide the GPU count: 2 GPUs cap it at 2, and the budget grows to hold one shard
    two = throughput.resolve({**base, "gpus_per_node": 2}, 7.0, has_ref=False)
    assert two["ulysses_sequence_parallel_size"] == 2 and two["ppo_max_token_len_per_gpu"] * 2 >= 17408
    # explicit keys win over derivation
    set_ = throughput.resolve({**base, "ulysses_sequence_parallel_size": 1, "param_offload": True,
                               "use_dynamic_bsz": False}, 1.5, has_ref=False)
    assert set_["ulysses_sequence_parallel_size"] == 1 and set_["param_offload"] and not set_["use_dynamic_bsz"]
    assert set_["ppo_max_token_len_per_gpu"] >= 17408  # one whole sequence per GPU


def test_unknown_model_size_names_the_key(plan):
    spec = _spec(plan, "qwen3_4b", "grpo")
    spec["model"]["params_b"] = None
    with pytest.raises(ValueError, match=r"set models\.qwen3_4b\.params_b"):
        build_overrides(spec, reward_path="/r.py")
    spec["train"].update({k: v for k, v in zip(throughput.KEYS, (True, 8192, 8192, 1, False, False))})
    assert as_dict(build_overrides(spec, reward_path="/r.py"))[A + "actor.ppo_max_token_len_per_gpu"] == "8192"


# ---------------------------------------------------------------- passthrough

def test_verl_overrides_come_last_and_replace_ours(plan):
    spec = _spec(plan, "qwen3_4b", "grpo")
    spec["train"]["verl_overrides"] = {A + "model.enable_gradient_checkpointing": False,
                                      A + "actor.ppo_max_token_len_per_gpu": 12288,
                                      "++" + A + "model.override_config": {"attention_dropout": 0.0}}
    out = build_overrides(spec, reward_path="/r.py")
    assert out[-3:] == [f"{A}model.enable_gradient_checkpointing=false", f"{A}actor.ppo_max_token_len_per_gpu=12288",
                        f"++{A}model.override_config={{attention_dropout:0.0}}"]
    keys = [o.split("=", 1)[0] for o in out]
    assert keys.count(A + "actor.ppo_max_token_len_per_gpu") == 1 and len(keys) == len(set(keys))


@pytest.mark.parametrize("key,message", [
    ("trainer.save_freq", r"set by train\.save_freq"),
    (A + "actor.optim.lr", r"set by train\.lr"),
    ("trainer.default_local_dir", "set by the run directory"),
    ("+algorithm.rlvr.alpha", r"methods\.<preset>\.params"),
    ("actor rollout", "not a dotted verl key"),
])
def test_owned_or_malformed_keys_are_refused(key, message):
    with pytest.raises(ValueError, match=message):
        verl_override_items({key: 1})


def test_plan_merges_verl_overrides_key_by_key():
    config = load_config()
    config["active_experiments"] = ["asymgrpo"]
    config["train"]["verl_overrides"] = {A + "rollout.enforce_eager": True}
    config["experiments"]["asymgrpo"]["train"] = {**config["experiments"]["asymgrpo"]["train"],
                                                  "verl_overrides": {A + "rollout.free_cache_engine": True}}
    spec = validate_config(config).run_spec("qwen3_4b-math_train-grpo-s0")
    assert spec["train"]["verl_overrides"] == {A + "rollout.enforce_eager": True, A + "rollout.free_cache_engine": True}


# ---------------------------------------------------------------- the login-node check

def test_override_sets_share_checks_across_seeds_not_settings(plan):
    sets = override_sets(plan)
    assert sum(len(s["runs"]) for s in sets.values()) == len(plan.runs)
    lens = [s for s in sets.values() if any("-lens-" in r and r.startswith("qwen25_3b-") for r in s["runs"])]
    # LENS on Qwen2.5-3B: MATH+DAPO x 2 seeds and MATH+Numina x 1 seed (LENS's 14-run matrix), one override set
    assert len(lens) == 1 and len(lens[0]["runs"]) == 3
    a, b = (plan.run_spec(r) for r in ("qwen3_4b-math_train-grpo-s0", "qwen3_4b-math_train-asymgrpo-s0"))
    assert check_id(a) != check_id(b)
    a2 = copy.deepcopy(a)
    a2["train"]["lr"] = 3e-6
    assert check_id(a2) != check_id(a)
    assert marker(check_id(a)) == f"results/checks/verl/{check_id(a)}.json"


def _config_with(verl_overrides):
    config = load_config()
    config["active_experiments"] = ["asymgrpo_entreg_qwen3"]
    config["train"]["verl_overrides"] = verl_overrides
    return validate_config(config)


def test_valid_override_reaches_the_composed_config():
    pytest.importorskip("verl")
    from rlvr_repro.integrations.verl.check import compose

    (s,) = override_sets(_config_with({A + "rollout.enforce_eager": True, A + "rollout.max_num_seqs": 256,
                                       "++" + A + "model.override_config": {"rope_scaling": {"factor": 2.0}}})).values()
    result = run_check(**s)
    assert result["runs"] == ["qwen3_4b-math_train-asym_reinforce_entreg_qwen3-s0"] and result["verl_version"] == "0.9.1"
    cfg = compose(result["overrides"])
    assert cfg.actor_rollout_ref.rollout.enforce_eager is True and cfg.actor_rollout_ref.rollout.max_num_seqs == 256
    assert cfg.actor_rollout_ref.model.override_config.rope_scaling.factor == 2.0
    assert cfg.actor_rollout_ref.actor.use_dynamic_bsz is True


def test_misspelled_key_fails_naming_it():
    pytest.importorskip("verl")
    (s,) = override_sets(_config_with({A + "rollout.enforce_eagr": True})).values()
    with pytest.raises(ValueError, match=r"asym_reinforce_entreg_qwen3-s0.*'actor_rollout_ref\.rollout\.enforce_eagr' is "
                                         r"not a verl 0\.9\.1 config key; did you mean 'actor_rollout_ref\.rollout\.enforce_eager'"):
        run_check(**s)


@pytest.mark.parametrize("verl_overrides,message", [
    ({A + "rollout.max_num_seqs": "many"}, "type mismatch"),
    ({A + "actor.ppo_max_token_len_per_gpu": 2048}, r"x sp 1 < max_prompt_length \+ max_response_length = 5120"),
    ({A + "actor.ulysses_sequence_parallel_size": 3}, "does not divide the run's 8 GPUs"),
])
def test_our_checks_catch_what_verl_lets_through(verl_overrides, message):
    pytest.importorskip("verl")
    (s,) = override_sets(_config_with(verl_overrides)).values()
    with pytest.raises(ValueError, match=message):
        run_check(**s)


def test_typo_stops_the_workflow_at_the_login_node_check(tmp_path):
    """Through Snakemake: the training job of the run is never reached; the error names the key."""
    pytest.importorskip("verl")
    extra = tmp_path / "typo.yaml"
    extra.write_text("active_experiments: [asymgrpo_entreg_qwen3]\n"
                     "train: {verl_overrides: {actor_rollout_ref.actor.fsdp_config.param_ofload: true}}\n")
    run = "qwen3_4b-math_train-asym_reinforce_entreg_qwen3-s0"
    plan = subprocess.run([sys.executable, "-m", "snakemake", f"results/runs/{run}/train_done.json", "-n",
                           "--directory", str(tmp_path), "--configfile", str(extra)], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    target = marker(check_id(validate_config(load_config(extra)).run_spec(run)))
    assert plan.returncode == 0 and f"output: {target}" in plan.stdout, plan.stdout[-3000:] + plan.stderr[-3000:]
    proc = subprocess.run([sys.executable, "-m", "snakemake", target, "--cores", "1", "--directory", str(tmp_path),
                           "--configfile", str(extra)], cwd=REPO, capture_output=True, text=True, timeout=300)
    log = "".join(p.read_text() for p in (tmp_path / "logs/checks/verl").glob("*.log"))
    assert proc.returncode != 0
    assert "'actor_rollout_ref.actor.fsdp_config.param_ofload' is not a verl 0.9.1 config key" in log, log[-3000:]
    assert "did you mean 'actor_rollout_ref.actor.fsdp_config.param_offload'" in log
    assert not (tmp_path / target).exists()
