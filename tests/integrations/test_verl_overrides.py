"""build_overrides / check_overrides: every preset at paper scale composes and passes verl's validation."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import yaml

from rlvr_repro.integrations.verl.overrides import build_overrides, hydra_value
from rlvr_repro.models import params_billions

warnings.filterwarnings("ignore")
os.environ.setdefault("VERL_LOGGING_LEVEL", "ERROR")
ROOT = Path(__file__).resolve().parents[2]
METHODS = yaml.safe_load((ROOT / "config/methods.yaml").read_text())["methods"]


def _config():
    path = ROOT / "config/config.yaml"
    if not path.exists():
        pytest.skip("config/config.yaml not present")
    return yaml.safe_load(path.read_text())


def paper_spec(preset: str) -> dict:
    """Run spec at the scale of the first experiment that uses ``preset`` (ACE's if none does):
    train defaults <- experiment <- the experiment's first model <- method preset."""
    cfg = _config()
    exps = [e for e in cfg["experiments"].values() if preset in e["methods"]] or [cfg["experiments"]["ace"]]
    exp = exps[0]
    model = exp["models"][0]
    train = {**cfg["train"], **exp.get("train", {}), **exp.get("train_per_model", {}).get(model, {}),
             **(METHODS[preset].get("train") or {})}
    m = METHODS[preset]
    return {"run_id": f"{model}-{exp['datasets'][0]}-{preset}-s0", "seed": 0, "backend": "verl",
            "model": {"name": model, "family": "qwen_math", "path": f"/scratch/resources/models/{model}",
                      "params_b": params_billions(model, cfg["models"][model])},
            "dataset": {"name": exp["datasets"][0], "train_files": f"/scratch/results/data/{exp['datasets'][0]}/train.parquet",
                        "val_files": f"/scratch/results/data/{exp['datasets'][0]}/val.parquet"},
            "method": {"name": preset, "estimator": m["estimator"], "params": m.get("params") or {}},
            "train": train}


def as_dict(overrides: list[str]) -> dict:
    return dict(o.split("=", 1) for o in overrides)


def test_footguns_are_encoded():
    ace = as_dict(build_overrides(paper_spec("ace_grpo"), reward_path="/r.py"))
    assert ace["algorithm.adv_estimator"] == "rlvr_ace" and ace["+algorithm.rlvr.alpha"] == "1.0"
    assert ace["actor_rollout_ref.actor.use_kl_loss"] == "true"
    assert ace["actor_rollout_ref.actor.clip_ratio_low"] == "0.2" and "actor_rollout_ref.actor.clip_ratio_high" in ace
    assert ace["reward.custom_reward_function.path"] == "/r.py" and "custom_reward_function.path" not in ace
    assert "ray_kwargs.ray_init.num_cpus" not in ace
    assert ace["actor_rollout_ref.actor.checkpoint.save_contents"] == "[model,optimizer,extra,hf_model]"
    assert ace["hydra.run.dir"].endswith("/verl/hydra")
    ace_dapo = as_dict(build_overrides(paper_spec("ace_dapo"), reward_path="/r.py"))
    # DAPO has no KL term: the reference policy exists for ACE only, with a zero coefficient
    assert ace_dapo["actor_rollout_ref.actor.use_kl_loss"] == "true" and ace_dapo["actor_rollout_ref.actor.kl_loss_coef"] == "0.0"
    assert ace_dapo["algorithm.filter_groups.enable"] == "true" and ace_dapo["algorithm.filter_groups.metric"] == "acc"
    assert ace_dapo["reward.reward_manager.name"] == "dapo"
    assert ace_dapo["+reward.reward_kwargs.overlong_buffer_cfg.len"] == "512"
    assert ace_dapo["actor_rollout_ref.actor.clip_ratio_high"] == "0.28"
    dr = as_dict(build_overrides(paper_spec("drgrpo"), reward_path="/r.py"))
    assert dr["actor_rollout_ref.actor.loss_agg_mode"] == "seq-mean-token-sum-norm"
    assert dr["actor_rollout_ref.actor.loss_scale_factor"] == dr["data.max_response_length"]
    egpo = as_dict(build_overrides(paper_spec("egpo_c4"), reward_path="/r.py"))
    assert egpo["+algorithm.rlvr.nsr_uniform"] == "true" and egpo["+algorithm.rlvr.w_min"] == "0.8"
    # EDGE-GRPO reads the old-log-prob forward's entropys, which only the legacy loop hands over (plug-in)
    edge = as_dict(build_overrides(paper_spec("edge_grpo"), reward_path="/r.py"))
    assert edge["trainer.use_v1"] == "false" and edge["+algorithm.rlvr.clip_weight"] == "true"
    assert "trainer.use_v1" not in egpo


def test_token_entropy_estimator_refuses_the_v1_trainer():
    pytest.importorskip("verl")
    from rlvr_repro.integrations.verl.check import check_overrides

    overrides = build_overrides(paper_spec("edge_grpo"), reward_path="/r.py")
    assert check_overrides(overrides)["adv_estimator"] == "rlvr_edge_grpo"
    with pytest.raises(ValueError, match="needs the per-token entropy.*v1 trainer"):
        check_overrides(overrides + ["trainer.use_v1=true"])


def test_an_estimator_that_reads_ref_log_probs_gets_a_reference_policy_without_asking():
    """REQUIRES, not the preset's need_ref, decides: ACE without need_ref and without KL still gets a
    reference policy (use_kl_loss with a zero coefficient); GRPO with the same train keys gets none."""
    spec = paper_spec("ace_grpo")
    spec["train"] = {**spec["train"], "need_ref": False, "use_kl_loss": False}
    ace = as_dict(build_overrides(spec, reward_path="/r.py"))
    assert ace["actor_rollout_ref.actor.use_kl_loss"] == "true" and ace["actor_rollout_ref.actor.kl_loss_coef"] == "0.0"
    grpo = as_dict(build_overrides({**spec, "method": {"name": "grpo", "estimator": "grpo", "params": {}}},
                                   reward_path="/r.py"))
    assert grpo["actor_rollout_ref.actor.use_kl_loss"] == "false"


def test_train_keys_left_out_take_the_tables_defaults():
    spec = paper_spec("grpo")
    for key in ("clip_ratio_c", "kl_loss_type", "ppo_mini_batch_size", "weight_decay"):
        spec["train"].pop(key)
    got = as_dict(build_overrides(spec, reward_path="/r.py"))
    assert got["actor_rollout_ref.actor.clip_ratio_c"] == "3.0" and got["actor_rollout_ref.actor.kl_loss_type"] == "low_var_kl"
    assert got["actor_rollout_ref.actor.optim.weight_decay"] == "0.01"
    # ppo_mini_batch_size null = prompts_per_step (fully on-policy), as in the local trainer
    assert got["actor_rollout_ref.actor.ppo_mini_batch_size"] == got["data.train_batch_size"]


def test_bad_specs_fail_with_names():
    spec = paper_spec("grpo")
    with pytest.raises(KeyError, match=r"unknown train key\(s\) \['clip_high'\]"):
        build_overrides({**spec, "train": {**spec["train"], "clip_high": 0.3}}, reward_path="/r.py")
    with pytest.raises(KeyError, match="run spec is missing .train."):
        build_overrides({k: v for k, v in spec.items() if k != "train"}, reward_path="/r.py")
    with pytest.raises(ValueError, match="unknown parameter"):
        build_overrides({**spec, "method": {"estimator": "lens", "params": {"alpha": 1}}}, reward_path="/r.py")


def test_hydra_values_round_trip_through_compose():
    pytest.importorskip("verl")
    from rlvr_repro.integrations.verl.check import compose

    odd = "/data/a b/it's=1,2 [x].parquet"
    cfg = compose([f"data.train_files={hydra_value(odd)}", "actor_rollout_ref.rollout.name=vllm",
                   f"trainer.experiment_name={hydra_value('null')}", f"+algorithm.rlvr.x={hydra_value(1e-06)}"])
    assert cfg.data.train_files == odd and cfg.trainer.experiment_name == "null" and cfg.algorithm.rlvr.x == 1e-6


@pytest.mark.parametrize("preset", ["grpo", "ace_dapo", "drgrpo"])
def test_check_overrides_representative_presets(preset):
    pytest.importorskip("verl")
    from rlvr_repro.integrations.verl.check import check_overrides

    spec = paper_spec(preset)
    info = check_overrides(build_overrides(spec, reward_path="/r.py"))
    assert info["adv_estimator"] == "rlvr_" + METHODS[preset]["estimator"] and info["lints"] == []
    t = spec["train"]
    assert info["use_reference_policy"] == bool(t["use_kl_loss"] or t.get("need_ref"))


@pytest.mark.slow
def test_check_overrides_every_preset():
    pytest.importorskip("verl")
    from rlvr_repro.integrations.verl.check import check_overrides

    for preset in METHODS:
        spec = paper_spec(preset)
        info = check_overrides(build_overrides(spec, reward_path="/r.py"))
        assert info["rlvr_params"].keys() >= set(METHODS[preset].get("params") or {}), preset


SLOW = pytest.mark.slow


@pytest.mark.parametrize("extra,message", [
    (["actor_rollout_ref.rollout.n=eight"], "type mismatch"),
    (["+algorithm.rlvr.alhpa=2"], r"unknown parameter\(s\) \['alhpa'\]"),
    (["actor_rollout_ref.actor.use_kl_loss=false"], "needs ref_log_prob but this config creates no reference policy"),
    pytest.param(["algorithm.adv_estimater=rlvr_grpo"], "composition failed", marks=SLOW),
    pytest.param(["actor_rollout_ref.actor.loss_agg_mode=seq-mean-token-sum-nrm"], "verl rejected the config", marks=SLOW),
    pytest.param(["data.train_batch_size=127", "actor_rollout_ref.rollout.n=5"], "not divisible by the run's 8 GPUs",
                 marks=SLOW),
    pytest.param(["algorithm.adv_estimator=rlvr_acee"], "not registered in verl", marks=SLOW),
    pytest.param(["+custom_reward_function.path=/x.py"], "composition failed|legacy", marks=SLOW),
])
def test_check_overrides_fails_loudly(extra, message):
    pytest.importorskip("verl")
    from rlvr_repro.integrations.verl.check import check_overrides

    with pytest.raises(ValueError, match=message):
        check_overrides(build_overrides(paper_spec("ace_grpo"), reward_path="/r.py") + extra)
