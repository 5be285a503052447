"""EGPO (§3, eqs. 5-9, 13; Table 2 C1-C6) and EDGE-GRPO's entropy-driven advantage: hand-worked values."""

from __future__ import annotations

import math

import pytest
import torch

from advantages.helpers import constant_logprob_rows, random_batch, row_values, response_advantages
from rlvr_repro.advantages import compute_advantages


def _batch(groups, width=3):
    """groups: list of (uid, rewards, entropies). Token log-probs are -H, so the NLL proxy is exactly H."""
    rewards, index, ent = [], [], []
    for uid, rs, hs in groups:
        rewards += rs
        index += [uid] * len(rs)
        ent += hs
    old, mask = constant_logprob_rows([-h for h in ent], [width] * len(rewards), width)
    return dict(rewards=rewards, index=index, response_mask=mask, old_log_probs=old)


def vals(name, b, **kw):
    return row_values(compute_advantages(name, **b, **kw), b["response_mask"])


# Mixed group rewards [1, 1, 0, 0], H = [0.5, 2.0, 0.25, 1.25]:  Hbar = 4/4 = 1.0
#   w = Hbar/H = [2.0, 0.5, 4.0, 0.8]  (entropy_eps = 0 for exact arithmetic)
#   GRPO base: mean .5, unbiased std sqrt(1/3)  ->  ±a, a = 0.5/(sqrt(1/3)+1e-6) = 0.866024
MIXED = ("m", [1.0, 1.0, 0.0, 0.0], [0.5, 2.0, 0.25, 1.25])
a = 0.5 / (math.sqrt(1 / 3) + 1e-6)
SIGN = torch.tensor([a, a, -a, -a])
EXACT = dict(entropy_eps=0.0, w_min=0.5, w_max=2.0)


@pytest.mark.parametrize("clamp,weights", [
    # EGPO: correct clip(w,1,2) = [2, 1]; incorrect clip(w,.5,1) = [1, .8]
    ("asymmetric", [2.0, 1.0, 1.0, 0.8]),
    # C1 symmetric clip(w,.5,2): [2, .5, 2, .8]
    ("symmetric", [2.0, 0.5, 2.0, 0.8]),
    # C2 neg only: incorrect clip(w,.5,1) = [1, .8]; correct symmetric = [2, .5]
    ("neg_only", [2.0, 0.5, 1.0, 0.8]),
    # C3 pos only: correct clip(w,1,2) = [2, 1]; incorrect symmetric = [2, .8]
    ("pos_only", [2.0, 1.0, 2.0, 0.8]),
])
def test_clamp_variants_hand_worked(clamp, weights):
    b = _batch([MIXED])
    assert torch.allclose(vals("egpo", b, clamp=clamp, **EXACT), torch.tensor(weights) * SIGN, atol=1e-5)


def test_renorm_after_and_before_clamp():
    b = _batch([MIXED])
    # C5: clamp first -> [2, 1, 1, .8], mean 4.8/4 = 1.2  ->  [2/1.2, 1/1.2, 1/1.2, .8/1.2]
    c5 = torch.tensor([2.0, 1.0, 1.0, 0.8]) / 1.2
    assert torch.allclose(vals("egpo", b, renorm="after_clamp", **EXACT), c5 * SIGN, atol=1e-5)
    # C6: renorm first: w / mean(w) = [2, .5, 4, .8] / 1.825 = [1.09589, .27397, 2.19178, .43836]
    #     then clamp: correct clip(.,1,2) = [1.09589, 1]; incorrect clip(.,.5,1) = [1, .5]
    c6 = torch.tensor([2.0 / 1.825, 1.0, 1.0, 0.5])
    assert torch.allclose(vals("egpo", b, renorm="before_clamp", **EXACT), c6 * SIGN, atol=1e-5)


def test_nsr_on_all_incorrect_groups_and_all_correct_groups():
    # all-incorrect H = [1, 3]: Hbar = 2, w = [2, 2/3] -> incorrect clip(.,.5,1) = [1, 2/3]; base -1 (NSR)
    # all-correct  H = [1, 3]: base GRPO = 0 whatever the weight
    b = _batch([("w", [0.0, 0.0], [1.0, 3.0]), ("c", [1.0, 1.0], [1.0, 3.0])])
    assert torch.allclose(vals("egpo", b, **EXACT), torch.tensor([-1.0, -2 / 3, 0.0, 0.0]), atol=1e-6)
    # C4: uniform NSR (weight 1) -> [-1, -1];  nsr off -> GRPO's 0
    assert torch.allclose(vals("egpo", b, nsr_uniform=True, **EXACT), torch.tensor([-1.0, -1.0, 0.0, 0.0]))
    assert torch.equal(vals("egpo", b, nsr=False, **EXACT), torch.zeros(4))


def test_default_eps_is_close_to_exact_and_bounds_hold():
    b = _batch([MIXED])
    assert torch.allclose(vals("egpo", b), vals("egpo", b, entropy_eps=0.0), atol=1e-5)
    for seed in range(5):
        rb = random_batch(seed=seed)
        w = response_advantages("egpo", nsr=False, **rb) / response_advantages("grpo", **rb)
        w = w[torch.isfinite(w)]
        # the default bounds are EGPO's authors' [0.8, 2.0]
        assert ((w >= 0.8 - 1e-9) & (w <= 2.0 + 1e-9)).all()


def test_default_floor_is_the_authors_0_8():
    # rewards [1, 0, 0], H = [1, 1, 4]: Hbar = 2, w = [2, 2, 0.5]
    #   correct clip(2, 1, 2) = 2; incorrect clip(2, .8, 1) = 1 and clip(.5, .8, 1) = 0.8 (0.5 with a 0.5 floor)
    #   GRPO: mean 1/3, unbiased std sqrt(1/3) -> [ (2/3)/sqrt(1/3), -(1/3)/sqrt(1/3) x 2 ] = [1.154700, -.577350]
    b = _batch([("f", [1.0, 0.0, 0.0], [1.0, 1.0, 4.0])])
    assert torch.allclose(vals("egpo", b), torch.tensor([2 * 1.154700, -0.577350, -0.8 * 0.577350]), atol=1e-5)


def test_singleton_equal_and_zero_entropy():
    # a singleton has w = 1; equal entropies (incl. all zero) give w = 1 exactly -> GRPO
    b = _batch([("s", [1.0], [0.7]), ("z", [1.0, 0.0], [0.0, 0.0])])
    grpo = vals("grpo", b)
    assert torch.allclose(vals("egpo", b), grpo)
    with pytest.raises(ValueError, match=r"egpo.params.w_max: .* is less than the minimum of 1.0"):
        compute_advantages("egpo", **b, w_max=0.8)


def _edge_batch(groups, width=3):
    """groups: list of (uid, rewards, per-token entropy lists). Old log-probs are a constant -0.1 (an NLL
    proxy of 0.1 everywhere), so a result that used the proxy instead of the entropy would differ."""
    rewards, index, rows = [], [], []
    for uid, rs, ents in groups:
        rewards += rs
        index += [uid] * len(rs)
        rows += ents
    n = len(rows)
    mask = torch.zeros(n, width)
    ent = torch.full((n, width), float("inf"))  # padding never enters a mean
    for i, r in enumerate(rows):
        mask[i, :len(r)] = 1.0
        ent[i, :len(r)] = torch.tensor(r)
    return dict(rewards=rewards, index=index, response_mask=mask, old_log_probs=torch.full((n, width), -0.1),
                token_entropy=ent)


# group a: rewards [1, 0], token entropies [.2, .8] -> P = 0.5 and [1, 2, 1.5] -> P = 1.5
# group b: rewards [0, 1], token entropies [2] -> P = 2 and [1, 3] -> P = 2
# GRPO of two responses: ±0.5 / (sqrt(0.5) + 1e-6)
EDGE = [("a", [1.0, 0.0], [[0.2, 0.8], [1.0, 2.0, 1.5]]), ("b", [0.0, 1.0], [[2.0], [1.0, 3.0]])]
G2 = 0.5 / (math.sqrt(0.5) + 1e-6)


def test_edge_grpo_group_ratio_of_mean_shannon_entropy():
    # EGPO §5 "group-relative entropy ratio": group means 1.0 and 2.0 -> w = [2, 2/3, 1, 1]
    b = _edge_batch(EDGE)
    assert torch.allclose(vals("edge_grpo", b, entropy_eps=0.0),
                          torch.tensor([2 * G2, -G2 * 2 / 3, -G2, G2]), atol=1e-5)
    # the default is the group ratio (and eps_H = 1e-6 moves it by < 1e-5)
    assert torch.allclose(vals("edge_grpo", b), vals("edge_grpo", b, entropy_eps=0.0), atol=1e-5)


def test_edge_grpo_batch_ratio_and_authors_clip():
    b = _edge_batch(EDGE)
    # batch mean P = (0.5 + 1.5 + 2 + 2) / 4 = 1.5 -> w = [3, 1, .75, .75]
    assert torch.allclose(vals("edge_grpo", b, entropy_norm="batch", entropy_eps=0.0),
                          torch.tensor([3 * G2, -G2, -0.75 * G2, 0.75 * G2]), atol=1e-5)
    # EGPO's authors' clamp [0.5, 2]: 3 -> 2 (the others are inside)
    assert torch.allclose(vals("edge_grpo", b, entropy_norm="batch", clip_weight=True, entropy_eps=0.0),
                          torch.tensor([2 * G2, -G2, -0.75 * G2, 0.75 * G2]), atol=1e-5)
    # [0.8, 1.2]: w = [2, 2/3, 1, 1] (group) -> [1.2, 0.8, 1, 1]
    assert torch.allclose(vals("edge_grpo", b, clip_weight=True, w_min=0.8, w_max=1.2, entropy_eps=0.0),
                          torch.tensor([1.2 * G2, -0.8 * G2, -G2, G2]), atol=1e-5)


def test_edge_grpo_uniform_groups_singletons_and_empty_responses():
    # all-correct / all-incorrect groups and a singleton: GRPO's 0, whatever the weight
    b = _edge_batch([("c", [1.0, 1.0], [[0.5], [2.0]]), ("w", [0.0, 0.0], [[0.5], [2.0]]), ("s", [1.0], [[0.3]])])
    assert torch.equal(vals("edge_grpo", b), torch.zeros(5))
    # an empty response (P = 0) has no token to carry its advantage; its 0 still enters the group mean:
    # group [1 (empty), 0 (P = 1)]: mean 0.5 -> the incorrect response's w = 0.5
    b = _edge_batch([("e", [1.0, 0.0], [[], [1.0, 1.0]])])
    adv = compute_advantages("edge_grpo", **b, entropy_eps=0.0 + 1e-12)
    assert torch.equal(adv[0], torch.zeros(3))
    assert torch.allclose(adv[1], torch.tensor([-G2 * 0.5, -G2 * 0.5, 0.0]), atol=1e-5)


def test_edge_grpo_needs_the_token_entropy():
    b = _edge_batch(EDGE)
    b.pop("token_entropy")
    with pytest.raises(ValueError, match="edge_grpo.*token_entropy.*Shannon entropy"):
        compute_advantages("edge_grpo", **b)
