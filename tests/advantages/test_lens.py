"""LENS (§4.2 eq. 10, §5.1, App. D.2): hand-worked calibrated rewards and advantages, ablations, edges."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from advantages.helpers import constant_logprob_rows, random_batch, row_values, response_advantages
from rlvr_repro.advantages import compute_advantages

EPS = 1e-6


def _batch(groups):
    """groups: list of (uid, rewards, pibar list). Each response has 4 tokens of log-prob log(pibar)."""
    rewards, index, means = [], [], []
    for uid, rs, pis in groups:
        rewards += rs
        index += [uid] * len(rs)
        means += [math.log(p) for p in pis]
    old, mask = constant_logprob_rows(means, [4] * len(rewards), width=4)
    return dict(rewards=rewards, index=index, response_mask=mask, old_log_probs=old)


def grpo_norm(xs):
    m, s = statistics.mean(xs), statistics.stdev(xs)  # stdev = unbiased, as verl
    return [(x - m) / (s + EPS) for x in xs]


# Mixed group, G = 4, rewards [1,0,0,0], pibar [0.5, 0.4, 0.2, 0.1]:
#   D_imp = {(1/4)·(1/0.5)}^-1 = 2.0;  2·max pibar = 1.0  ->  D = 2.0
#   r~ = [1, -(1/4)·0.4/1.6, -(1/4)·0.2/1.8, -(1/4)·0.1/1.9] = [1, -0.0625, -0.027778, -0.013158]
MIXED = ("m", [1.0, 0.0, 0.0, 0.0], [0.5, 0.4, 0.2, 0.1])
R_MIXED = [1.0, -0.25 * 0.4 / 1.6, -0.25 * 0.2 / 1.8, -0.25 * 0.1 / 1.9]
# All-negative group, G = 4, pibar [0.5, 0.25, 0.25, 0.125]:  D = 2·0.5 = 1.0
#   r~ = -(1/4)·[0.5/0.5, 0.25/0.75, 0.25/0.75, 0.125/0.875] = -(1/4)·[1, 1/3, 1/3, 1/7]
NEG = ("n", [0.0] * 4, [0.5, 0.25, 0.25, 0.125])
R_NEG = [-0.25 * 1.0, -0.25 / 3, -0.25 / 3, -0.25 / 7]
# Mixed group where 2·max pibar dominates: rewards [1,1,0,0], pibar [0.9, 0.9, 0.95, 0.3]
#   D_imp = {(1/4)(1/0.9 + 1/0.9)}^-1 = 1.8 < 2·0.95 = 1.9  ->  D = 1.9
MAXD = ("x", [1.0, 1.0, 0.0, 0.0], [0.9, 0.9, 0.95, 0.3])
R_MAXD = [1.0, 1.0, -0.25 * 0.95 / (1.9 - 0.95), -0.25 * 0.3 / (1.9 - 0.3)]


def test_full_lens_hand_worked():
    b = _batch([MIXED, NEG, MAXD, ("c", [1.0, 1.0], [0.7, 0.2])])
    adv = row_values(compute_advantages("lens", **b), b["response_mask"])
    neg_mean = statistics.mean(R_NEG)
    expected = grpo_norm(R_MIXED) + [0.25 * (r - neg_mean) for r in R_NEG] + grpo_norm(R_MAXD) + [0.0, 0.0]
    assert torch.allclose(adv, torch.tensor(expected), atol=1e-5)
    # negative group: the most confident mistake (pibar 0.5) is pushed down hardest
    assert adv[4] < adv[5] == adv[6] < adv[7]


def test_ablations_mixed_only_and_negative_only():
    b = _batch([MIXED, NEG])
    mixed_only = row_values(compute_advantages("lens", mode="mixed_only", **b), b["response_mask"])
    assert torch.allclose(mixed_only, torch.tensor(grpo_norm(R_MIXED) + [0.0] * 4), atol=1e-5)
    neg_only = row_values(compute_advantages("lens", mode="negative_only", neg_weight=1.0, **b), b["response_mask"])
    neg_mean = statistics.mean(R_NEG)
    expected = grpo_norm([1.0, 0.0, 0.0, 0.0]) + [r - neg_mean for r in R_NEG]
    assert torch.allclose(neg_only, torch.tensor(expected), atol=1e-5)


def test_calibrated_rewards_in_range_and_sign_invariance():
    for seed in range(5):
        b = random_batch(seed=seed, group_size=16)
        adv = response_advantages("lens", **b)
        grpo = response_advantages("grpo", **b)
        assert torch.isfinite(adv).all()
        mixed = grpo != 0  # mixed (or singleton-correct) groups: LENS keeps GRPO's sign (§5.1 "Handling Invariance")
        assert torch.equal(torch.sign(adv[mixed]), torch.sign(grpo[mixed]))


def test_singletons_zero_length_and_weight_zero():
    # singleton negative: r~ = -(1/1)·pibar/(2pibar - pibar) = -1, de-meaned -> 0; zero-length row: finite, masked
    old, mask = constant_logprob_rows([-0.5, -0.2, -0.3], [4, 0, 4], width=4)
    b = dict(rewards=[0.0, 0.0, 1.0], index=["s", "z", "z"], response_mask=mask, old_log_probs=old)
    adv = compute_advantages("lens", **b)
    assert torch.isfinite(adv).all() and adv[0].abs().sum() == 0 and adv[1].abs().sum() == 0
    b = _batch([NEG])
    assert compute_advantages("lens", neg_weight=0.0, **b).abs().sum() == 0


def test_needs_old_log_probs():
    b = _batch([MIXED])
    b.pop("old_log_probs")
    with pytest.raises(ValueError, match="'lens' needs old_log_probs"):
        compute_advantages("lens", **b)


# ---------------------------------------------------------------- eq. 14's D_imp: the two readings
# Each response of _lens_rows has `length` tokens of log-prob log(pibar), so pibar is exact and the raw
# sequence probability is pi = pibar ** length.


def _lens_rows(groups):
    """groups: list of (uid, rewards, pibars, lengths)."""
    rewards, index, means, lengths = [], [], [], []
    for uid, rs, pis, ls in groups:
        rewards += rs
        index += [uid] * len(rs)
        means += [math.log(p) for p in pis]
        lengths += ls
    old, mask = constant_logprob_rows(means, lengths, width=max(max(lengths), 1))
    return dict(rewards=rewards, index=index, response_mask=mask, old_log_probs=old)


def _r_tilde(b, d_imp):
    from rlvr_repro.advantages.lens import lens_calibrated_rewards
    from rlvr_repro.advantages.batch import Rollouts

    return lens_calibrated_rewards(Rollouts.build(**b), d_imp).tolist()


# Mixed group G = 4, rewards [1,0,0,0], pibar [0.5, 0.4, 0.2, 0.1], 4 tokens each:
#   pibar reading: D_imp = {(1/4)(1/0.5)}^-1 = 2.0 > 2·0.5 -> D = 2.0           (R_MIXED above)
#   raw reading:   pi_1 = 0.5^4 = 0.0625, D_imp = {(1/4)(1/0.0625)}^-1 = 0.25 < 1.0 -> D = 1.0
#   r~ = [1, -(1/4)·0.4/0.6, -(1/4)·0.2/0.8, -(1/4)·0.1/0.9]
R_MIXED_RAW = [1.0, -0.25 * 0.4 / 0.6, -0.25 * 0.2 / 0.8, -0.25 * 0.1 / 0.9]
# Mixed group where D_imp wins in both readings but differs: G = 4, rewards [1,0,0,0],
# pibar [0.9, 0.6, 0.3, 0.3], lengths [2, 4, 4, 4]:
#   pibar: D_imp = 4·0.9 = 3.6;  raw: pi_1 = 0.81, D_imp = 4·0.81 = 3.24;  2·max pibar = 1.8
LONGER = ("l", [1.0, 0.0, 0.0, 0.0], [0.9, 0.6, 0.3, 0.3], [2, 4, 4, 4])
R_LONGER = {"pibar": [1.0, -0.25 * 0.6 / 3.0, -0.25 * 0.3 / 3.3, -0.25 * 0.3 / 3.3],
            "raw": [1.0, -0.25 * 0.6 / 2.64, -0.25 * 0.3 / 2.94, -0.25 * 0.3 / 2.94]}


def test_d_imp_readings_hand_computed():
    b = _lens_rows([("m", *MIXED[1:], [4] * 4), LONGER])
    assert _r_tilde(b, "pibar") == pytest.approx(R_MIXED + R_LONGER["pibar"], abs=1e-6)
    assert _r_tilde(b, "raw") == pytest.approx(R_MIXED_RAW + R_LONGER["raw"], abs=1e-6)
    # through the public entry point and the preset parameter: GRPO normalisation of r~
    adv = response_advantages("lens", d_imp="raw", **b)
    assert adv.tolist() == pytest.approx(grpo_norm(R_MIXED_RAW) + grpo_norm(R_LONGER["raw"]), abs=1e-5)
    assert response_advantages("lens", **b).tolist() == pytest.approx(
        grpo_norm(R_MIXED) + grpo_norm(R_LONGER["pibar"]), abs=1e-5)  # default = pibar


@pytest.mark.parametrize("d_imp", ["pibar", "raw"])
def test_d_imp_edge_cases(d_imp):
    # all-correct: r~ = 1 and advantage 0; all-incorrect: D = 2·max pibar in both readings (D_imp undefined)
    b = _lens_rows([("c", [1.0, 1.0, 1.0], [0.7, 0.2, 0.9], [3, 1, 5]),
                    ("n", [0.0] * 4, [0.5, 0.25, 0.25, 0.125], [4] * 4)])
    assert _r_tilde(b, d_imp) == pytest.approx([1.0, 1.0, 1.0] + R_NEG, abs=1e-6)
    adv = response_advantages("lens", d_imp=d_imp, **b)
    neg_mean = statistics.mean(R_NEG)
    assert adv.tolist() == pytest.approx([0.0] * 3 + [0.25 * (r - neg_mean) for r in R_NEG], abs=1e-6)
    # one response per group: correct -> r~ 1, incorrect -> r~ = -(1/1)·p/(2p - p) = -1; both advantages 0
    b = _lens_rows([("a", [1.0], [0.6], [3]), ("z", [0.0], [0.3], [2])])
    assert _r_tilde(b, d_imp) == pytest.approx([1.0, -1.0])
    assert response_advantages("lens", d_imp=d_imp, **b).tolist() == [0.0, 0.0]
    # zero-length responses (pibar = pi = exp(0) = 1) inside a mixed group: finite, and masked to 0
    b = _lens_rows([("e", [1.0, 0.0, 0.0], [0.5, 0.5, 0.4], [0, 0, 3])])
    # pibar = [1, 1, 0.4]; D_imp = {(1/3)(1/1)}^-1 = 3 in both readings (the correct one is empty) > 2
    assert _r_tilde(b, d_imp) == pytest.approx([1.0, -(1 / 3) * 1 / 2, -(1 / 3) * 0.4 / 2.6], abs=1e-6)
    adv = compute_advantages("lens", d_imp=d_imp, **b)
    assert torch.isfinite(adv).all() and adv[0].abs().sum() == 0 and adv[1].abs().sum() == 0
    # an empty batch: no responses, no advantages
    empty = dict(rewards=torch.zeros(0), index=[], response_mask=torch.zeros(0, 4), old_log_probs=torch.zeros(0, 4))
    assert compute_advantages("lens", d_imp=d_imp, **empty).shape == (0, 4)


def test_raw_d_imp_with_long_responses_stays_finite():
    # a 3,000-token correct response at log-prob -0.5 per token: pi = exp(-1500) underflows, 1/pi would
    # overflow; D_imp -> 0 and the 2·max pibar floor holds: D = 2·exp(-0.2)
    lp = [-0.5, -0.2, -1.0]
    old, mask = constant_logprob_rows(lp, [3000, 3000, 3000], width=3000)
    b = dict(rewards=[1.0, 0.0, 0.0], index=["g"] * 3, response_mask=mask, old_log_probs=old)
    pibar = [math.exp(v) for v in lp]
    d = 2 * max(pibar)
    expected = [1.0] + [-(1 / 3) * p / (d - p) for p in pibar[1:]]
    assert _r_tilde(b, "raw") == pytest.approx(expected, rel=1e-6)
    assert torch.isfinite(compute_advantages("lens", d_imp="raw", **b)).all()


def test_d_imp_reading_is_validated():
    from rlvr_repro.advantages import validate_params

    assert validate_params("lens", {})["d_imp"] == "pibar"
    with pytest.raises(ValueError, match="d_imp"):
        validate_params("lens", {"d_imp": "pi_old"})
