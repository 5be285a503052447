"""AsymGRPO (eq. 8; §3.1 presets; §3.2 flips with App. C endpoint extrapolation): hand-worked values."""

from __future__ import annotations

import math

import pytest
import torch

from advantages.helpers import random_batch, row_values, response_advantages
from rlvr_repro.advantages import compute_advantages


def _batch(groups):
    rewards, index = [], []
    for uid, rs in groups:
        rewards += rs
        index += [uid] * len(rs)
    return dict(rewards=rewards, index=index, response_mask=torch.ones(len(rewards), 2))


def vals(b, **kw):
    return row_values(compute_advantages("asymgrpo", **b, **kw), b["response_mask"])


# group of 4 with one correct: p = 1/4
#   correct:   ((1-p)/p)^0.9 = 3^0.9 = 2.687875
#   incorrect: -(p/(1-p))^0.4 = -(1/3)^0.4 = -0.644394
ONE_OF_FOUR = ("g", [1.0, 0.0, 0.0, 0.0])


def test_default_betas_hand_worked():
    assert torch.allclose(vals(_batch([ONE_OF_FOUR])),
                          torch.tensor([3 ** 0.9] + [-(1 / 3) ** 0.4] * 3), atol=1e-6)


def test_presets_pos_only_neg_only_and_symmetric():
    b = _batch([ONE_OF_FOUR])
    # Pos-Only (0.5, 0): [sqrt(3), -1, -1, -1];  Neg-Only (0, 0.5): [1, -sqrt(1/3) x3]
    assert torch.allclose(vals(b, beta_pos=0.5, beta_neg=0.0), torch.tensor([math.sqrt(3), -1, -1, -1.0]))
    assert torch.allclose(vals(b, beta_pos=0.0, beta_neg=0.5), torch.tensor([1.0] + [-math.sqrt(1 / 3)] * 3))
    # symmetric 0.7 (App. H): [3^0.7, -(1/3)^0.7 x3]
    assert torch.allclose(vals(b, beta_pos=0.7, beta_neg=0.7), torch.tensor([3 ** 0.7] + [-(1 / 3) ** 0.7] * 3))


def test_reinforce_point_and_grpo_closed_form():
    rb = random_batch(seed=4)
    rein = response_advantages("reinforce", **rb)
    assert torch.equal(response_advantages("asymgrpo", beta_pos=0.0, beta_neg=0.0, **rb), rein)
    # (0.5, 0.5) = GRPO's eq. 4 closed form = GRPO with the population std; check on p = 1/4:
    # mean .25, population std sqrt(.25·.75) = 0.4330 -> (1-.25)/0.4330 = sqrt(3)
    b = _batch([ONE_OF_FOUR])
    pop = (torch.tensor([1.0, 0, 0, 0]) - 0.25) / math.sqrt(0.25 * 0.75)
    assert torch.allclose(vals(b, beta_pos=0.5, beta_neg=0.5), pop, atol=1e-6)


def test_uniform_groups_and_singletons():
    b = _batch([("c", [1.0, 1.0, 1.0]), ("w", [0.0, 0.0]), ("s", [1.0]), ("t", [0.0])])
    assert torch.equal(vals(b), torch.zeros(7))  # beta > 0: ((1-1)/1)^b = 0 and -(0/1)^b = 0
    assert torch.equal(vals(b, beta_pos=0.0, beta_neg=0.0), torch.tensor([1.0, 1, 1, -1, -1, 1, -1]))


def test_flip_positive_entdecrease_app_c():
    # beta = 0.5, G = 4. Flipped positive channel B_pos(p) = (p/(1-p))^0.5:
    #   p = 1/4: B = sqrt(1/3) = 0.57735 (incorrect unchanged: -sqrt(1/3))
    #   p = 1 (all correct): V_end = 2·B(3/4) - B(2/4) = 2·sqrt(3) - 1 = 2.464102
    b = _batch([ONE_OF_FOUR, ("c", [1.0] * 4), ("s", [1.0])])
    out = vals(b, beta_pos=0.5, beta_neg=0.5, flip="pos")
    r3 = math.sqrt(1 / 3)
    # singleton correct (G = 1): only feasible point B_pos(0) = 0
    expected = [r3, -r3, -r3, -r3] + [2 * math.sqrt(3) - 1] * 4 + [0.0]
    assert torch.allclose(out, torch.tensor(expected), atol=1e-6)


def test_flip_negative_entincrease_app_c():
    # B_neg(p) = -((1-p)/p)^0.5;  p = 3/4: -sqrt(1/3); p = 0 (all wrong): V_end = 2·B(1/4) - B(2/4) = -2·sqrt(3) + 1
    b = _batch([("g", [1.0, 1.0, 1.0, 0.0]), ("w", [0.0] * 4), ("t", [0.0])])
    out = vals(b, beta_pos=0.5, beta_neg=0.5, flip="neg")
    r3 = math.sqrt(1 / 3)
    expected = [r3, r3, r3, -r3] + [-2 * math.sqrt(3) + 1] * 4 + [0.0]
    assert torch.allclose(out, torch.tensor(expected), atol=1e-6)


def test_flip_two_response_groups_use_p_zero_point():
    # G = 2 all-correct, flip pos, beta .5: V_end = 2·B(1/2) - B(0) = 2·1 - 0 = 2
    assert torch.allclose(vals(_batch([("c", [1.0, 1.0])]), beta_pos=0.5, beta_neg=0.5, flip="pos"), torch.tensor([2.0, 2.0]))


@pytest.mark.parametrize("flip", ["none", "pos", "neg"])
def test_random_batches_finite(flip):
    for seed in range(5):
        assert torch.isfinite(response_advantages("asymgrpo", flip=flip, **random_batch(seed=seed))).all()
