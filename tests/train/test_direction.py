"""It really trains: one update moves the policy the way the advantages say (fp32 and bf16 + fp32 master)."""

from __future__ import annotations

import pytest
import torch

from rlvr_repro.train.local import build_trainer, update_policy
from rlvr_repro.train.logprobs import batched_response_log_probs
from rlvr_repro.train.rollout import RolloutBatch, left_pad, response_mask_from_stops
from rlvr_repro.train.settings import parse_run_spec

from .conftest import contains_answer


def _batch(tokenizer, prompt: str, responses: list[str], stop_id: int, pad_id: int) -> RolloutBatch:
    """One group: the same prompt with hand-written responses (each ended by the stop token)."""
    p = tuple(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    prompt_ids, prompt_mask = left_pad([p] * len(responses), pad_id)
    rows = [tokenizer(r, add_special_tokens=False)["input_ids"] + [stop_id] for r in responses]
    width = max(map(len, rows))
    response_ids = torch.tensor([r + [pad_id] * (width - len(r)) for r in rows])
    return RolloutBatch(prompt_ids=prompt_ids, prompt_mask=prompt_mask, response_ids=response_ids,
                        response_mask=response_mask_from_stops(response_ids, [stop_id]),
                        uids=("g",) * len(responses), data_sources=("t",) * len(responses),
                        ground_truths=("5",) * len(responses), texts=tuple(responses), group_size=len(responses),
                        pad_id=pad_id)


@pytest.mark.parametrize("which", ["fp32", "bf16"])
@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-sum-norm"])
def test_update_follows_the_advantages(make_spec, tiny_model_dir, tiny_bf16_model_dir, which, mode):
    model_dir = tiny_model_dir if which == "fp32" else tiny_bf16_model_dir
    spec = parse_run_spec(make_spec(model_dir=model_dir, lr=1e-2, group_size=2, prompts_per_step=1,
                                    loss_agg_mode=mode, micro_batch_size=1))
    t = build_trainer(spec, reward_fn=contains_answer, dtype="float32" if which == "fp32" else "bfloat16")
    assert t.master.separate == (which == "bf16")  # bf16 model: the optimizer owns fp32 copies
    prompt = t.tokenizer.apply_chat_template([{"role": "user", "content": "What is 4 + 1?"}], tokenize=False,
                                             add_generation_prompt=True)
    batch = _batch(t.tokenizer, prompt, ["it is 5", "no idea x"], t.stop_ids[0], t.pad_id)
    inputs, width = batch.model_inputs(), batch.response_ids.shape[1]

    def seq_log_probs():
        lp = batched_response_log_probs(t.model, inputs, width, temperature=1.0, micro_batch_size=2)
        return (lp * batch.response_mask).sum(-1)

    before = seq_log_probs()
    old_log_probs = batched_response_log_probs(t.model, inputs, width, temperature=1.0, micro_batch_size=2)
    advantages = torch.tensor([[1.0], [-1.0]]) * batch.response_mask  # + for the first, - for the second
    stats = update_policy(t, batch, inputs, old_log_probs, None, advantages)
    after = seq_log_probs()
    assert after[0] > before[0] + 1e-3, (before, after)  # positive advantage: more likely
    assert after[1] < before[1] - 1e-3, (before, after)  # negative advantage: less likely
    assert stats["grad_norm"] > 0 and stats["skipped_updates"] == 0
    if which == "bf16":  # the model holds the bf16 rounding of the fp32 master weights
        for master, p in zip(t.master.params, t.master.model_params):
            assert p.dtype == torch.bfloat16 and torch.equal(p, master.to(torch.bfloat16))


def test_zero_advantages_leave_the_policy_unchanged(make_spec):
    """No signal, no KL, no entropy bonus, no weight decay: the gradient is exactly zero."""
    spec = parse_run_spec(make_spec(lr=1e-2, group_size=2, prompts_per_step=1))
    t = build_trainer(spec, reward_fn=contains_answer, dtype="auto")
    batch = _batch(t.tokenizer, "<|user|>hi<|end|><|assistant|>", ["a", "bc"], t.stop_ids[0], t.pad_id)
    inputs, width = batch.model_inputs(), batch.response_ids.shape[1]
    old = batched_response_log_probs(t.model, inputs, width, temperature=1.0, micro_batch_size=2)
    before = [p.detach().clone() for p in t.model.parameters()]
    stats = update_policy(t, batch, inputs, old, None, torch.zeros_like(batch.response_mask))
    assert stats["grad_norm"] == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, t.model.parameters()))


@pytest.mark.parametrize("estimator,params,train", [("grpo", {}, {}),
                                                    ("ace", {"alpha": 1.0, "modulation": "softplus"},
                                                     {"need_ref": True, "use_kl_loss": True}),
                                                    ("grpo", {}, {"ppo_mini_batch_size": 1})])
def test_the_first_mini_batch_reuses_the_update_forward(make_spec, monkeypatch, estimator, params, train):
    """The first mini-batch's old log-probs taken from the update's own first forward give the same step
    as a separate no-grad pass over every row (the numbers are equal; one forward fewer), also for an
    estimator that reads the old log-probs (ACE) and with two mini-batches (the second is off-policy)."""
    from rlvr_repro.train import local

    def one_step(fused: bool):
        if not fused:
            monkeypatch.setattr(local, "fused_rows", lambda s, n: 0)
        spec = parse_run_spec(make_spec(estimator=estimator, params=params, lr=1e-2, group_size=4,
                                        prompts_per_step=2, micro_batch_size=4, **train))
        t = build_trainer(spec, reward_fn=lambda d, s, g: [float(len(x) % 2) for x in s], dtype="float32")
        record = local.train_step(t, 1)
        monkeypatch.undo()
        return record, [p.detach().clone() for p in t.model.parameters()]

    fused, params_fused = one_step(True)
    plain, params_plain = one_step(False)
    assert "timing/old_log_prob_s" in plain
    assert ("timing/old_log_prob_s" in fused) == ("ppo_mini_batch_size" in train)  # only the 2nd mini-batch's rows
    assert fused["reward_mean"] == plain["reward_mean"] and fused["grad_norm"] > 0
    assert fused["grad_norm"] == pytest.approx(plain["grad_norm"], rel=1e-4)
    assert fused["entropy"] == pytest.approx(plain["entropy"], rel=1e-5)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(params_fused, params_plain))


def test_fused_rows_are_the_first_mini_batch(make_spec):
    from rlvr_repro.train.local import fused_rows

    s = parse_run_spec(make_spec(prompts_per_step=4, group_size=2)).train
    assert fused_rows(s, 8) == 8 and fused_rows(s, 6) == 6  # one mini-batch (DAPO may keep fewer groups)
    two = parse_run_spec(make_spec(prompts_per_step=4, group_size=2, ppo_mini_batch_size=2)).train
    assert fused_rows(two, 8) == 4
    epochs = parse_run_spec(make_spec(prompts_per_step=4, group_size=2, ppo_epochs=2)).train
    assert fused_rows(epochs, 8) == 8  # epoch 1 runs before any update; epoch 2 reuses the old log-probs
