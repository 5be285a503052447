"""The papers' estimators against values worked out by hand, plus metrics.json assembly."""

import math
from math import comb

import numpy as np
import pytest

from rlvr_repro.evaluate.metrics import (
    bootstrap_ci, mean_and_stderr, mean_pass_at_k, pass_at_k, summarize, trials_summary)


def test_pass_at_k_hand_values():
    # Chen et al. 2021 Eq. 1: 1 - C(n-c,k)/C(n,k).
    # n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7, abs=1e-12)
    # n=4, c=1, k=1: 1 - C(3,1)/C(4,1) = 1 - 3/4 = 0.25 (= c/n)
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25, abs=1e-12)
    # n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252 = 0.916666...
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252, abs=1e-12)
    # n=32, c=1, k=32: the only correct sample is always in the full set -> 1
    assert pass_at_k(32, 1, 32) == 1.0


def test_pass_at_k_edges():
    assert pass_at_k(16, 0, 1) == 0.0 and pass_at_k(16, 0, 16) == 0.0      # all incorrect
    assert pass_at_k(16, 16, 1) == 1.0 and pass_at_k(16, 16, 16) == 1.0    # all correct
    assert pass_at_k(1, 1, 1) == 1.0 and pass_at_k(1, 0, 1) == 0.0         # one response
    assert pass_at_k(8, 5, 4) == 1.0                                       # n - c < k
    for bad in [(0, 0, 1), (4, 5, 1), (4, -1, 1), (4, 1, 0), (4, 1, 5)]:
        with pytest.raises(ValueError):
            pass_at_k(*bad)
    with pytest.raises(TypeError):
        pass_at_k(4.0, 1, 1)


@pytest.mark.parametrize("n", [16, 64, 256, 1024])
def test_pass_at_k_matches_exact_binomials_and_is_stable(n):
    for c in [0, 1, n // 3, n // 2, n - 1, n]:
        for k in [1, 2, 8, n // 2, n]:
            exact = 1 - comb(n - c, k) / comb(n, k)   # Python ints: exact, slow, reference
            got = pass_at_k(n, c, k)
            assert math.isfinite(got) and 0.0 <= got <= 1.0
            assert got == pytest.approx(exact, abs=1e-9)


def test_pass_at_1_equals_mean_accuracy():
    rng = np.random.default_rng(0)
    correct = rng.random((50, 32)) < 0.3
    assert mean_pass_at_k(correct.tolist(), 1) == pytest.approx(correct.mean(), abs=1e-12)


def test_mean_and_stderr_hand_values():
    # values 0.5, 0.7, 0.6: mean 0.6; sample sd sqrt(((0.1)^2+(0.1)^2+0)/2)=0.1; se 0.1/sqrt(3)
    mean, se = mean_and_stderr([0.5, 0.7, 0.6])
    assert mean == pytest.approx(0.6) and se == pytest.approx(0.1 / math.sqrt(3))
    assert mean_and_stderr([0.4]) == (0.4, 0.0)
    with pytest.raises(ValueError):
        mean_and_stderr([])


def test_trials_summary_egpo():
    # 3 problems x 4 trials; trial accuracies: t0 = 2/3, t1 = 1/3, t2 = 1, t3 = 0
    rows = [[True, False, True, False], [True, True, True, False], [False, False, True, False]]
    out = trials_summary(rows, 4)
    accs = [2 / 3, 1 / 3, 1.0, 0.0]
    assert out["n_trials"] == 4
    assert out["mean_pass1"] == pytest.approx(0.5)
    assert out["stderr"] == pytest.approx(np.std(accs, ddof=1) / 2)


def test_bootstrap_ci_deterministic_and_sensible():
    vals = [1.0] * 30 + [0.0] * 70
    lo, hi = bootstrap_ci(vals, seed=0)
    assert (lo, hi) == bootstrap_ci(vals, seed=0)
    assert lo < 0.3 < hi and 0.15 < lo and hi < 0.45
    assert bootstrap_ci([0.5]) == (0.5, 0.5)
    assert bootstrap_ci([1.0, 1.0]) == (1.0, 1.0)


def _grades(correct, ids=None, tokens=5, reason="stop"):
    return [{"id": (ids[i] if ids else str(i)), "correct": row, "timeouts": 0,
             "extracted": ["1" if c else None for c in row], "n_tokens": [tokens] * len(row),
             "finish_reasons": [reason] * len(row)} for i, row in enumerate(correct)]


def test_summarize_contract_fields_and_level_subset():
    correct = [[True, True, False, False], [False, False, False, False],
               [True, True, True, True], [True, False, False, False]]
    bench = [{"id": "0", "level": 5}, {"id": "1", "level": 4}, {"id": "2", "level": 1},
             {"id": "3", "level": "Level 2"}]
    protocol = {"name": "lens", "n": 4, "k_list": [1, 2, 4], "trials": None}
    m = summarize(_grades(correct), bench, protocol, benchmark="math", subject="run-a", step=10)
    assert set(m) == {"benchmark", "protocol", "subject", "step", "n_problems", "n", "k_list",
                      "pass_at_k", "avg_at_n", "avg_at_n_stderr", "avg_at_n_ci95", "trials",
                      "subsets", "timeouts", "no_answer", "mean_response_tokens", "truncated_frac"}
    # pass@1 = mean c/n = (0.5 + 0 + 1 + 0.25)/4 = 0.4375
    assert m["pass_at_k"]["1"] == pytest.approx(0.4375)
    # pass@2: 1-C(2,2)/C(4,2)=5/6 ; 0 ; 1 ; 1-C(3,2)/C(4,2)=1/2 -> (5/6+0+1+1/2)/4
    assert m["pass_at_k"]["2"] == pytest.approx((5 / 6 + 0 + 1 + 0.5) / 4)
    assert m["pass_at_k"]["4"] == pytest.approx(0.75)
    assert m["avg_at_n"] == pytest.approx(0.4375)
    assert m["no_answer"] == 9 and m["timeouts"] == 0
    assert m["trials"] is None and m["mean_response_tokens"] == 5.0 and m["truncated_frac"] == 0.0
    hard = m["subsets"]["level4-5"]   # problems 0 and 1
    assert hard["n_problems"] == 2 and hard["avg_at_n"] == pytest.approx(0.25)
    assert hard["pass_at_k"]["2"] == pytest.approx((5 / 6 + 0) / 2)


def test_summarize_trials_and_non_math_benchmark():
    correct = [[True] * 8, [False] * 8]
    protocol = {"name": "egpo", "n": 8, "k_list": [1], "trials": 8}
    m = summarize(_grades(correct, reason="length"), [{"id": "0"}, {"id": "1"}], protocol,
                  benchmark="gsm8k", subject="base-smol", step=0)
    assert m["trials"] == {"n_trials": 8, "mean_pass1": 0.5, "stderr": 0.0}
    assert m["subsets"] == {} and m["truncated_frac"] == 1.0


def test_summarize_rejects_wrong_sample_counts_and_unknown_ids():
    protocol = {"name": "ace", "n": 4, "k_list": [1, 2, 4], "trials": None}
    with pytest.raises(ValueError, match="row 0 .*3 samples, protocol n=4"):
        summarize(_grades([[True] * 3]), [{"id": "0"}], protocol, benchmark="aime25", subject="s", step=0)
    with pytest.raises(ValueError, match="not in the benchmark rows"):
        summarize(_grades([[True] * 4], ids=["x"]), [{"id": "0"}], protocol, benchmark="aime25",
                  subject="s", step=0)
    with pytest.raises(ValueError, match="k > n"):
        summarize(_grades([[True] * 4]), [{"id": "0"}], dict(protocol, k_list=[8]),
                  benchmark="aime25", subject="s", step=0)
    with pytest.raises(ValueError, match="no graded problems"):
        summarize([], [], protocol, benchmark="aime25", subject="s", step=0)


def test_level_subset_follows_the_rows_not_the_name():
    """Local fixtures in MATH-500's schema (config name local_math500) carry levels too."""
    protocol = {"name": "local", "n": 2, "k_list": [1, 2], "trials": None}
    bench = [{"id": "0", "level": 5}, {"id": "1", "level": 2}]
    m = summarize(_grades([[True, False], [True, True]]), bench, protocol, benchmark="local_math500",
                  subject="s", step=0)
    assert m["subsets"]["level4-5"] == {"n_problems": 1, "pass_at_k": {"1": 0.5, "2": 1.0}, "avg_at_n": 0.5}
    m = summarize(_grades([[True, False]]), [{"id": "0", "level": None}], protocol, benchmark="gsm8k",
                  subject="s", step=0)
    assert m["subsets"] == {}
