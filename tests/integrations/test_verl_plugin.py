"""The verl plug-in through verl 0.9.1's real compute_advantage, legacy (v0) and v1 call paths, on CPU."""

from __future__ import annotations

import os
import warnings

import pytest
import torch

warnings.filterwarnings("ignore")
os.environ.setdefault("VERL_LOGGING_LEVEL", "ERROR")
pytest.importorskip("verl", reason="verl not installed")
pytest.importorskip("transfer_queue", reason="verl's v1 trainer needs the TransferQueue package")

from integrations.verl_batches import make_dataproto, our_inputs  # noqa: E402
from rlvr_repro.advantages import ESTIMATORS, compute_advantages  # noqa: E402
from rlvr_repro.advantages.batch_stats import training_diagnostics  # noqa: E402
from rlvr_repro.integrations.verl import plugin  # noqa: E402
from rlvr_repro.integrations.verl.check import compose  # noqa: E402
from verl.trainer.ppo import core_algos, ray_trainer  # noqa: E402
from verl.trainer.ppo import metric_utils  # noqa: E402
from verl.trainer.ppo.v1 import trainer_base, utils as v1_utils  # noqa: E402

PARAMS = {  # non-default parameters, so the test proves they travel through algorithm.rlvr
    "grpo": {}, "drgrpo": {}, "reinforce": {},
    "ace": {"alpha": 0.5, "modulation": "relu"},
    "lens": {"neg_weight": 0.5, "mode": "full"},
    "egpo": {"w_min": 0.6, "w_max": 1.5, "renorm": "after_clamp"},
    "edge_grpo": {"entropy_norm": "batch", "clip_weight": True},
    "asymgrpo": {"beta_pos": 0.7, "beta_neg": 0.3, "flip": "neg"},
}


def algo_config(estimator: str, params: dict):
    ov = [f"algorithm.adv_estimator={plugin.verl_name(estimator)}", "actor_rollout_ref.rollout.name=vllm"]
    ov += [f"+algorithm.rlvr.{k}={v}" for k, v in params.items()]
    return compose(ov).algorithm


def v1_keys(data):
    # v1 TransferQueue keys: f"{uid}_{session}_{output_index}" (single-turn: output 0)
    return [f"{u}_{i}_0" for i, u in enumerate(data.non_tensor_batch["uid"])]


def test_setup_is_idempotent_and_patches_both_paths():
    first = plugin.setup()
    second = plugin.setup()
    assert first["compute_advantage"] == second["compute_advantage"] == list(plugin.ADVANTAGE_PATCH_POINTS)
    wrapped = ray_trainer.compute_advantage
    assert wrapped.__rlvr_wrapped__ and v1_utils.compute_advantage is wrapped
    assert not getattr(wrapped.__wrapped_original__, "__rlvr_wrapped__", False)  # never wrapped twice
    assert set(plugin.status()["registered"]) == {plugin.verl_name(n) for n in ESTIMATORS}


@pytest.mark.parametrize("estimator", sorted(PARAMS))
def test_v0_and_v1_paths_equal_direct_call(estimator):
    data = make_dataproto(seed=1)
    cfg = algo_config(estimator, PARAMS[estimator])
    expected = compute_advantages(estimator, **our_inputs(data), **PARAMS[estimator])
    v0 = ray_trainer.compute_advantage(data.slice(0, len(data)), adv_estimator=cfg.adv_estimator, num_repeat=4,
                                       config=cfg)
    v1 = v1_utils.compute_advantage_for_multi_trajectories(data.slice(0, len(data)), batch_keys=v1_keys(data),
                                                           adv_estimator=cfg.adv_estimator, num_repeat=4, config=cfg)
    for out in (v0, v1):
        assert torch.equal(out.batch["advantages"], expected)
        assert torch.equal(out.batch["returns"], expected)
    assert expected.abs().sum() > 0


def test_rlvr_grpo_equals_verl_builtin_grpo_on_both_paths():
    data = make_dataproto(seed=2)
    ours = ray_trainer.compute_advantage(data.slice(0, len(data)), adv_estimator="rlvr_grpo",
                                         config=algo_config("grpo", {}))
    builtin_cfg = compose(["algorithm.adv_estimator=grpo", "actor_rollout_ref.rollout.name=vllm"]).algorithm
    theirs_v0 = ray_trainer.compute_advantage(data.slice(0, len(data)), adv_estimator="grpo", config=builtin_cfg)
    theirs_v1 = v1_utils.compute_advantage_for_multi_trajectories(data.slice(0, len(data)), batch_keys=v1_keys(data),
                                                                  adv_estimator="grpo", config=builtin_cfg)
    for theirs in (theirs_v0, theirs_v1):
        assert torch.allclose(ours.batch["advantages"], theirs.batch["advantages"], atol=1e-5)


def test_missing_tensors_and_bad_params_fail_loudly():
    data = make_dataproto(seed=3, with_ref=False)
    with pytest.raises(KeyError, match=r"'rlvr_ace' needs data.batch\['ref_log_prob'\].*use_kl_loss=True"):
        ray_trainer.compute_advantage(data, adv_estimator="rlvr_ace", config=algo_config("ace", {}))
    no_uid = make_dataproto(seed=3)
    no_uid.non_tensor_batch.pop("uid")
    with pytest.raises(KeyError, match="uid"):
        ray_trainer.compute_advantage(no_uid, adv_estimator="rlvr_grpo", config=algo_config("grpo", {}))
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['alhpa'\] for estimator 'ace'"):
        ray_trainer.compute_advantage(make_dataproto(seed=3), adv_estimator="rlvr_ace",
                                      config=algo_config("ace", {"alhpa": 1.0}))
    with pytest.raises(ValueError, match="Unknown advantage estimator"):
        core_algos.get_adv_estimator_fn("rlvr_acee")


class _Trainer:
    """What the wrapped RayPPOTrainer._compute_old_log_prob reads of its trainer: the config."""

    def __init__(self, adv_estimator: str):
        from omegaconf import OmegaConf

        self.config = OmegaConf.create({"algorithm": {"adv_estimator": adv_estimator}})


def test_token_entropy_travels_from_the_old_log_prob_forward_to_edge_grpo():
    """verl's legacy fit: old_log_prob, mfu = _compute_old_log_prob(batch); pop 'entropys'; union; ...
    compute_advantage. The plug-in keeps the entropys for EDGE-GRPO, and only for estimators that read them."""
    from verl import DataProto

    assert getattr(ray_trainer.RayPPOTrainer._compute_old_log_prob, "__rlvr_wrapped__", False)
    data = make_dataproto(seed=7, with_entropy=False)
    entropys = torch.rand(data.batch["response_mask"].shape, generator=torch.Generator().manual_seed(0))

    def forward(self, batch):  # verl's returns ({old_log_probs, entropys}, mfu)
        return DataProto.from_dict(tensors={"old_log_probs": batch.batch["old_log_probs"], "entropys": entropys}), 0.5

    wrapped = plugin.make_compute_old_log_prob(forward)
    for estimator, kept in (("rlvr_edge_grpo", True), ("rlvr_grpo", False), ("grpo", False)):
        old_log_prob, mfu = wrapped(_Trainer(estimator), data)
        assert mfu == 0.5 and (plugin.ENTROPY_KEY in old_log_prob.batch.keys()) == kept
    old_log_prob, _ = wrapped(_Trainer("rlvr_edge_grpo"), data)
    old_log_prob.batch.pop("entropys")  # what verl's fit does right after the forward
    batch = data.slice(0, len(data))
    batch.batch.pop("old_log_probs")
    batch = batch.union(old_log_prob)
    expected = compute_advantages("edge_grpo", **our_inputs(data), token_entropy=entropys)
    out = ray_trainer.compute_advantage(batch, adv_estimator="rlvr_edge_grpo", config=algo_config("edge_grpo", {}))
    assert torch.equal(out.batch["advantages"], expected) and expected.abs().sum() > 0
    assert plugin.ENTROPY_KEY not in out.batch.keys()  # read once, never shipped to the actor update
    # without the kept entropy the estimator names the fix
    with pytest.raises(KeyError, match="rlvr_edge_grpo.*rlvr_token_entropy.*use_v1=False"):
        ray_trainer.compute_advantage(make_dataproto(seed=7, with_entropy=False), adv_estimator="rlvr_edge_grpo",
                                      config=algo_config("edge_grpo", {}))


def test_registered_functions_without_wrapper():
    data = make_dataproto(seed=4)
    b = data.batch
    fn = core_algos.get_adv_estimator_fn("rlvr_asymgrpo")
    adv, ret = fn(token_level_rewards=b["token_level_rewards"], response_mask=b["response_mask"],
                  index=data.non_tensor_batch["uid"], config=algo_config("asymgrpo", {"beta_pos": 0.7}))
    assert torch.equal(adv, compute_advantages("asymgrpo", **our_inputs(data), beta_pos=0.7))
    with pytest.raises(RuntimeError, match="compute_advantage wrapper"):
        core_algos.get_adv_estimator_fn("rlvr_ace")(token_level_rewards=b["token_level_rewards"],
                                                    response_mask=b["response_mask"], index=data.non_tensor_batch["uid"])


def test_diagnostics_reach_the_step_metrics_on_both_trainers():
    assert ray_trainer.compute_data_metrics.__rlvr_wrapped__ and trainer_base.compute_data_metrics.__rlvr_wrapped__
    for compute_metrics in (ray_trainer.compute_data_metrics, trainer_base.compute_data_metrics):
        data = make_dataproto(seed=5)
        data = ray_trainer.compute_advantage(data, adv_estimator="rlvr_lens", config=algo_config("lens", {}))
        metrics = compute_metrics(batch=data, use_critic=False)
        assert "critic/score/mean" in metrics  # verl's own metrics are still there
        expected = training_diagnostics(**our_inputs(data))
        assert {k: metrics[f"diag/{k}"] for k in expected} == expected
        assert expected["frac_none_solved"] >= 1 / 5  # make_dataproto forces one all-wrong group of five
        assert {"ace_overconfident_error_frac", "asym_kappa", "egpo_entropy_gap"} <= set(expected)
        assert "diag/frac_mixed" not in compute_metrics(batch=data, use_critic=False)  # consumed once per step
    # verl's built-in estimators get the same diagnostics
    data = ray_trainer.compute_advantage(make_dataproto(seed=6), adv_estimator="grpo",
                                         config=compose(["algorithm.adv_estimator=grpo",
                                                         "actor_rollout_ref.rollout.name=vllm"]).algorithm)
    assert "diag/frac_all_solved" in ray_trainer.compute_data_metrics(batch=data, use_critic=False)
    assert not getattr(metric_utils.compute_data_metrics, "__rlvr_wrapped__", False)  # only the trainers' names
