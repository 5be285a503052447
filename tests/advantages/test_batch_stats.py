"""training_diagnostics: hand-worked ACE OEF, EGPO entropy gap, AsymGRPO kappa_B (App. E), group fractions."""

from __future__ import annotations

import math

import torch

from advantages.helpers import constant_logprob_rows, random_batch
from rlvr_repro.advantages.batch_stats import training_diagnostics


def _batch():
    # group a: rewards [1, 0, 0, 0], old mean log-probs L = [-0.2, -1.0, -0.4, -0.6], ref = old - c
    #          with confidence shifts c = [0.1, 0.5, -0.3, 0.2]
    # group b: rewards [1, 1, 1] (all solved);  group c: rewards [0, 0] (none solved)
    L = [-0.2, -1.0, -0.4, -0.6, -0.1, -0.1, -0.1, -2.0, -2.0]
    c = [0.1, 0.5, -0.3, 0.2, 0.0, 0.0, 0.0, -1.0, 1.0]
    old, mask = constant_logprob_rows(L, [3] * 9, width=3)
    ref, _ = constant_logprob_rows([l - s for l, s in zip(L, c)], [3] * 9, width=3)
    return dict(rewards=[1.0, 0, 0, 0, 1, 1, 1, 0, 0], index=list("aaaabbbcc"), response_mask=mask,
                old_log_probs=old, ref_log_probs=ref)


def test_hand_worked_values():
    d = training_diagnostics(**_batch())
    # 3 groups: one all-solved (b), one none-solved (c), one mixed (a)
    assert d["n_groups"] == 3 and math.isclose(d["frac_all_solved"], 1 / 3) and math.isclose(d["frac_none_solved"], 1 / 3)
    # incorrect responses: c = [0.5, -0.3, 0.2, -1.0, 1.0] -> overconfident (c>0): 0.5, 0.2, 1.0 -> OEF 3/5
    assert d["n_incorrect"] == 5 and math.isclose(d["ace_overconfident_error_frac"], 3 / 5)
    assert math.isclose(d["ace_overconfidence_mean"], (0.5 + 0.2 + 1.0) / 3, rel_tol=1e-6)
    assert math.isclose(d["ace_conf_shift_incorrect_mean"], (0.5 - 0.3 + 0.2 - 1.0 + 1.0) / 5, rel_tol=1e-6)
    # entropy proxy H = -L: correct [0.2, 0.1, 0.1, 0.1] mean .125; incorrect [1, .4, .6, 2, 2] mean 1.2
    assert math.isclose(d["egpo_entropy_correct"], 0.125, rel_tol=1e-6)
    assert math.isclose(d["egpo_entropy_gap"], 1.2 - 0.125, rel_tol=1e-6)
    # kappa over the one mixed group a: p = 1/4, w = 3/16, delta = -0.2 - mean(-1, -.4, -.6) = 0.4667,
    # l = log(1/3)  ->  kappa = 3/16 · (0.4/... ) computed below
    delta = -0.2 - (-1.0 - 0.4 - 0.6) / 3
    assert d["asym_n_mixed_groups"] == 1
    assert math.isclose(d["asym_kappa"], 0.25 * 0.75 * delta * math.log(1 / 3), rel_tol=1e-6)


def test_keys_depend_on_available_tensors_and_no_nan():
    b = _batch()
    only_rewards = training_diagnostics(rewards=b["rewards"], index=b["index"], response_mask=b["response_mask"])
    assert set(only_rewards) == {"n_responses", "n_groups", "frac_all_solved", "frac_none_solved", "frac_mixed"}
    no_ref = training_diagnostics(**{k: v for k, v in b.items() if k != "ref_log_probs"})
    assert "asym_kappa" in no_ref and not any(k.startswith("ace_") for k in no_ref)
    for seed in range(5):
        rb = random_batch(seed=seed)
        rb.pop("token_entropy")
        d = training_diagnostics(**rb)
        assert all(isinstance(v, float) and math.isfinite(v) for v in d.values())


def test_undefined_statistics_are_left_out():
    # every response correct: no incorrect set, no mixed group -> those keys are absent, not 0/NaN
    old, mask = constant_logprob_rows([-0.5] * 4, [2, 2, 0, 2], width=2)
    d = training_diagnostics(rewards=[1.0] * 4, index=list("aabb"), response_mask=mask, old_log_probs=old,
                             ref_log_probs=old - 0.1)
    assert d["n_incorrect"] == 0 and d["asym_n_mixed_groups"] == 0 and d["frac_all_solved"] == 1.0
    for k in ("ace_overconfident_error_frac", "ace_overconfidence_mean", "asym_kappa", "egpo_entropy_gap"):
        assert k not in d
    # zero-length responses do not count as entropy 0: mean over the three non-empty rows only
    assert math.isclose(d["egpo_entropy_correct"], 0.5, rel_tol=1e-6)
    assert torch.isfinite(torch.tensor(list(d.values()))).all()
