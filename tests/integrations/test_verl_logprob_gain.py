"""AsymGRPO Fig. 2(d) on verl: train key logprob_gain_diag -> legacy loop + the plug-in's re-scoring after
the actor update, queued as diag/logprob_gain_correct for the step's metrics (verl 0.9.1, CPU)."""
from __future__ import annotations

import types

import pytest
import torch

pytest.importorskip("verl", reason="verl not installed")

from integrations.test_verl_overrides import as_dict, paper_spec  # noqa: E402
from integrations.verl_batches import make_dataproto  # noqa: E402
from rlvr_repro.advantages.batch_stats import logprob_gain_correct  # noqa: E402
from rlvr_repro.integrations.verl import plugin  # noqa: E402
from rlvr_repro.integrations.verl.check import check_overrides  # noqa: E402
from rlvr_repro.integrations.verl.overrides import build_overrides  # noqa: E402


def test_key_switches_the_legacy_loop_and_the_flag_and_composes():
    on, off = paper_spec("asym_neg_only"), paper_spec("grpo")
    assert on["train"]["logprob_gain_diag"] is True and not off["train"].get("logprob_gain_diag")
    ov = as_dict(build_overrides(on, reward_path="/r.py"))
    assert ov["trainer.use_v1"] == "false" and ov["+algorithm.rlvr_logprob_gain"] == "true"
    assert "+algorithm.rlvr_logprob_gain" not in as_dict(build_overrides(off, reward_path="/r.py"))
    assert check_overrides(build_overrides(on, reward_path="/r.py"))["lints"] == []


def test_update_actor_wrapper_rescores_the_batch_after_the_update():
    from verl import DataProto
    from verl.trainer.ppo import ray_trainer

    assert ray_trainer.RayPPOTrainer._update_actor.__rlvr_wrapped__
    data = make_dataproto(seed=3)
    shift = 0.1 * data.batch["response_mask"]
    calls = []

    def original(self, batch):
        calls.append("update")
        return "actor-output"

    def rescore(batch):
        calls.append("rescore")
        return DataProto.from_dict(tensors={"old_log_probs": batch.batch["old_log_probs"] + shift}), 0.0

    wrapped = plugin.make_update_actor(original)
    for flag, expect in ((False, ["update"]), (True, ["update", "rescore"])):
        calls.clear()
        plugin._LAST_DIAGNOSTICS.clear()
        trainer = types.SimpleNamespace(config={"algorithm": {"rlvr_logprob_gain": flag}},
                                        _compute_old_log_prob=rescore)
        assert wrapped(trainer, data) == "actor-output" and calls == expect
    expected = logprob_gain_correct(rewards=data.batch["token_level_scores"].sum(-1),
                                    response_mask=data.batch["response_mask"],
                                    old_log_probs=data.batch["old_log_probs"],
                                    new_log_probs=data.batch["old_log_probs"] + shift)
    assert plugin._LAST_DIAGNOSTICS == expected and expected["logprob_gain_correct"] == pytest.approx(0.1)


def test_logprob_gain_counts_correct_nonempty_responses_only():
    mask = torch.tensor([[1., 1., 0.], [1., 0., 0.], [0., 0., 0.], [1., 1., 1.]])
    old = torch.zeros(4, 3)
    new = torch.tensor([[0.2, 0.4, 9.], [1., 9., 9.], [9., 9., 9.], [5., 5., 5.]])
    out = logprob_gain_correct(rewards=torch.tensor([1., 1., 1., 0.]), response_mask=mask,
                               old_log_probs=old, new_log_probs=new)
    assert out == {"n_correct": 2.0, "logprob_gain_correct": pytest.approx((0.3 + 1.0) / 2)}
    assert "logprob_gain_correct" not in logprob_gain_correct(rewards=torch.zeros(4), response_mask=mask,
                                                              old_log_probs=old, new_log_probs=new)
