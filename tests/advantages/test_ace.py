"""ACE (eqs. 4-6, App. C, §5.5): hand-worked values and edge cases."""

from __future__ import annotations

import math

import pytest
import torch

from advantages.helpers import constant_logprob_rows, random_batch, row_values, response_advantages
from rlvr_repro.advantages import compute_advantages


def softplus(x):
    return math.log1p(math.exp(x))


def _batch(rewards, old_means, ref_means, lengths, index=None):
    old, mask = constant_logprob_rows(old_means, lengths, width=5)
    ref, _ = constant_logprob_rows(ref_means, lengths, width=5)
    return dict(rewards=rewards, index=index or ["q"] * len(rewards), response_mask=mask,
                old_log_probs=old, ref_log_probs=ref)


# rewards [1, 0, 0, 1]; per-token old - ref = [0.5, 2.0, -1.0, 0.0], lengths differ (c is length-normalised)
B = _batch([1.0, 0.0, 0.0, 1.0], [-1.0, -1.0, -3.0, -2.0], [-1.5, -3.0, -2.0, -2.0], [2, 3, 5, 1])
A = 0.5 / (math.sqrt(1 / 3) + 1e-6)  # GRPO: mean .5, unbiased std sqrt(1/3)  ->  ±0.866024


def test_softplus_hand_worked():
    # incorrect rows: c = 2.0 -> A·(1 + softplus(2)) = -0.866024·3.126928; c = -1 -> -0.866024·1.313262
    adv = row_values(compute_advantages("ace", **B), B["response_mask"])
    expected = [A, -A * (1 + softplus(2.0)), -A * (1 + softplus(-1.0)), A]
    assert torch.allclose(adv, torch.tensor(expected), atol=1e-5)


def test_relu_ablation_and_alpha():
    # ACE-ReLU: relu(2) = 2 -> -A·(1 + 0.5·2) = -2A; relu(-1) = 0 -> -A (exploratory/self-correcting untouched)
    adv = row_values(compute_advantages("ace", modulation="relu", alpha=0.5, **B), B["response_mask"])
    assert torch.allclose(adv, torch.tensor([A, -2 * A, -A, A]), atol=1e-5)


def test_alpha_zero_is_grpo_and_correct_rows_unchanged():
    b = random_batch(seed=11)
    assert torch.allclose(response_advantages("ace", alpha=0.0, **b), response_advantages("grpo", **b))
    ace = response_advantages("ace", **b)
    grpo = response_advantages("grpo", **b)
    pos = grpo >= 0
    assert torch.equal(ace[pos], grpo[pos])
    assert (ace[~pos] <= grpo[~pos]).all()  # penalties only ever grow (1 + alpha·softplus > 1)


def test_uniform_groups_single_and_empty_responses():
    # all-incorrect and all-correct groups keep GRPO's 0; a singleton keeps verl's r/(1+eps)
    b = _batch([0.0, 0.0, 1.0, 1.0, 0.0], [-1.0] * 5, [-3.0] * 5, [3, 3, 3, 3, 0], index=["w", "w", "c", "c", "s"])
    adv = compute_advantages("ace", **b)
    assert torch.equal(adv, torch.zeros_like(adv))
    # zero-length incorrect response in a mixed group: finite, and 0 everywhere (mask)
    b = _batch([1.0, 0.0], [-1.0, -1.0], [-2.0, -2.0], [3, 0])
    adv = compute_advantages("ace", **b)
    assert torch.isfinite(adv).all() and adv[1].abs().sum() == 0


def test_missing_reference_fails_loudly():
    b = dict(B)
    b.pop("ref_log_probs")
    with pytest.raises(ValueError, match="'ace' needs ref_log_probs.*need_ref"):
        compute_advantages("ace", **b)
    with pytest.raises(ValueError, match="ace.params.modulation: .tanh. is not one of"):
        compute_advantages("ace", modulation="tanh", **B)
