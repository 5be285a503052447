"""The papers' evaluation estimators and the ``metrics.json`` summary of one benchmark cell.

* pass@k — unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on
  Code", Eq. 1), used by ACE (§5.1 Eq. 15) and LENS (§6): from n samples with c correct,
  ``pass@k = 1 - C(n-c, k) / C(n, k)``, averaged over problems.
* avg@k — mean accuracy of k samples per problem (AsymGRPO §4.2: avg@5 / avg@10).
* mean pass@1 over trials with its standard error (EGPO §4.1: 8 independent trials).
* percentile bootstrap confidence interval over problems, with a fixed seed.

All values are fractions in [0, 1]; tables print percentages. Nothing here returns NaN or inf:
a statistic of fewer than two values has standard error 0.0 by definition here.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

MATH_BENCHMARKS = ("math", "math500")
HARD_LEVELS = (4, 5)  # LENS reports the MATH Levels 4-5 subset


def _check_counts(n: int, c: int, k: int) -> None:
    for name, v in (("n", n), ("c", c), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"pass_at_k: {name} must be an int, got {type(v).__name__}")
    if n < 1:
        raise ValueError(f"pass_at_k: n must be >= 1, got {n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass_at_k: need 0 <= c <= n, got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"pass_at_k: need 1 <= k <= n (k={k}, n={n}); draw at least k samples")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem (Chen et al. 2021, Eq. 1) from n samples, c correct.

    ``1 - C(n-c, k)/C(n, k)`` written as the product ``1 - prod_{i=n-c+1}^{n} (1 - k/i)``
    (the numerically stable form of the Codex paper's reference code), so n = 1024 never forms
    a binomial coefficient. When fewer than k samples are wrong (n - c < k) every k-subset
    contains a correct sample and pass@k is exactly 1.
    """
    _check_counts(n, c, k)
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def mean_pass_at_k(correct: Sequence[Sequence[bool]], k: int) -> float:
    """pass@k averaged over problems; every problem must have the same number of samples."""
    n = _common_n(correct)
    return float(np.mean([pass_at_k(n, int(sum(row)), k) for row in correct]))


def _common_n(correct: Sequence[Sequence[bool]]) -> int:
    if len(correct) == 0:
        raise ValueError("no problems to summarise")
    lengths = {len(row) for row in correct}
    if len(lengths) != 1:
        raise ValueError(f"problems have different sample counts {sorted(lengths)}; "
                         "pass@k needs the same n for every problem")
    return lengths.pop()


def mean_and_stderr(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the mean (sample std with ddof=1, over sqrt(m)).

    With a single value the standard error is reported as 0.0 (undefined; never NaN)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("mean_and_stderr: no values")
    if arr.size == 1:
        return float(arr[0]), 0.0
    return float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(arr.size))


def bootstrap_ci(values: Sequence[float], *, n_boot: int = 1000, alpha: float = 0.05,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean: resample the values (problems) with replacement
    ``n_boot`` times with ``numpy.random.default_rng(seed)`` and take the alpha/2 and
    1-alpha/2 percentiles of the resampled means. Same inputs and seed, same interval."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("bootstrap_ci: no values")
    if not 0 < alpha < 1 or n_boot < 1:
        raise ValueError(f"bootstrap_ci: need 0 < alpha < 1 and n_boot >= 1 (alpha={alpha}, n_boot={n_boot})")
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(n_boot, arr.size))].mean(axis=1)
    lo, hi = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def paired_lift(run_grades: Sequence[dict], base_grades: Sequence[dict], *, base_subject: str,
                n_boot: int = 2000, seed: int = 0) -> dict:
    """Accuracy gain of a checkpoint over the base model on the same problems, with a paired
    bootstrap CI: d_i = avg@n_i(run) - avg@n_i(base) per problem i, lift = mean(d), and the 95 %
    interval of the mean of d over ``n_boot`` resamples of problems (:func:`bootstrap_ci`).
    Pairing removes the between-problem variance both models share, so the interval is about the
    *change*, not about how hard the benchmark is. Every problem must be graded on both sides."""
    def by_id(rows, side):
        out = {}
        for r, row in enumerate(rows):
            c = row.get("correct")
            if not isinstance(c, list) or not c:
                raise ValueError(f"{side} grades row {r} (id {row.get('id')!r}) has no samples")
            out[str(row.get("id"))] = float(np.mean([bool(x) for x in c]))
        return out

    run, base = by_id(run_grades, "run"), by_id(base_grades, "base")
    if set(run) != set(base):
        only_run, only_base = sorted(set(run) - set(base)), sorted(set(base) - set(run))
        raise ValueError(f"paired lift: problems differ (only in the run: {only_run[:5]}, "
                         f"only in the base {base_subject}: {only_base[:5]})")
    ids = sorted(run)
    diffs = [run[i] - base[i] for i in ids]
    lo, hi = bootstrap_ci(diffs, n_boot=n_boot, seed=seed)
    return {"base_subject": base_subject, "lift": float(np.mean(diffs)), "ci95": [lo, hi],
            "n_problems": len(ids), "n_boot": n_boot}


def trials_summary(correct: Sequence[Sequence[bool]], n_trials: int) -> dict:
    """EGPO's protocol: trial t is sample t of every problem (independent samples, seeded
    per problem); report the mean over trials of the trial accuracy and its standard error."""
    n = _common_n(correct)
    if not 1 <= n_trials <= n:
        raise ValueError(f"trials: need 1 <= n_trials <= n (n_trials={n_trials}, n={n})")
    per_trial = [float(np.mean([row[t] for row in correct])) for t in range(n_trials)]
    mean, stderr = mean_and_stderr(per_trial)
    return {"n_trials": n_trials, "mean_pass1": mean, "stderr": stderr}


def _cell(correct: list[list[bool]], k_list: list[int]) -> dict:
    per_problem = [float(np.mean(row)) for row in correct]
    return {"n_problems": len(correct),
            "pass_at_k": {str(k): mean_pass_at_k(correct, k) for k in k_list},
            "avg_at_n": float(np.mean(per_problem))}


def _level(value) -> int | None:
    """MATH level as an int: 4, "4" and "Level 4" all give 4; "Level ?" and None give None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    digits = str(value).replace("Level", "").strip()
    return int(digits) if digits.isdigit() else None


def summarize(grades_rows: Sequence[dict], bench_rows: Sequence[dict], protocol: dict, *,
              benchmark: str, subject: str, step: int, n_boot: int = 1000, seed: int = 0) -> dict:
    """``metrics.json`` for one (protocol, subject, step, benchmark) cell, per CONTRACTS.md.

    ``protocol`` is the resolved protocol of this benchmark
    (:func:`rlvr_repro.evaluate.protocols.resolve`: ``name, n, k_list, trials``). Every grades
    row must have exactly n samples and an id present in ``bench_rows``. The Levels 4-5 subset
    is added when the benchmark rows carry MATH levels (MATH, MATH-500 and their local fixtures). ``mean_response_tokens`` and
    ``truncated_frac`` come from the ``n_tokens``/``finish_reasons`` the grader copies.
    """
    if not grades_rows:
        raise ValueError(f"{benchmark}: no graded problems")
    n = int(protocol["n"])
    k_list = [int(k) for k in protocol["k_list"]]
    if any(k > n for k in k_list):
        raise ValueError(f"{benchmark}: k_list {k_list} has k > n={n}")
    levels = {str(r["id"]): _level(r.get("level")) for r in bench_rows}
    correct, tokens, reasons = [], [], []
    timeouts = no_answer = 0
    for r, row in enumerate(grades_rows):
        rid = str(row.get("id"))
        if rid not in levels:
            raise ValueError(f"{benchmark}: grades row {r} has id {rid!r}, not in the benchmark rows")
        c = row.get("correct")
        if not isinstance(c, list) or len(c) != n:
            raise ValueError(f"{benchmark}: grades row {r} (id {rid}) has "
                             f"{len(c) if isinstance(c, list) else 'no'} samples, protocol n={n}")
        correct.append([bool(x) for x in c])
        timeouts += int(row.get("timeouts", 0))
        no_answer += sum(e is None for e in row.get("extracted", []))
        tokens.extend(row.get("n_tokens") or [])
        reasons.extend(row.get("finish_reasons") or [])
    if len(tokens) != n * len(correct) or any(t is None for t in tokens):
        raise ValueError(f"{benchmark}: grades rows lack n_tokens for some samples")

    per_problem = [float(np.mean(row)) for row in correct]
    cell = _cell(correct, k_list)
    avg, stderr = mean_and_stderr(per_problem)
    out = {
        "benchmark": benchmark, "protocol": protocol["name"], "subject": subject, "step": int(step),
        "n_problems": len(correct), "n": n, "k_list": k_list,
        "pass_at_k": cell["pass_at_k"],
        "avg_at_n": avg, "avg_at_n_stderr": stderr,
        "avg_at_n_ci95": list(bootstrap_ci(per_problem, n_boot=n_boot, seed=seed)),
        "trials": trials_summary(correct, int(protocol["trials"])) if protocol.get("trials") else None,
        "subsets": {},
        "timeouts": timeouts, "no_answer": no_answer,
        "mean_response_tokens": float(np.mean(tokens)),
        "truncated_frac": float(np.mean([r == "length" for r in reasons])) if reasons else 0.0,
    }
    if benchmark in MATH_BENCHMARKS or any(v is not None for v in levels.values()):
        hard = [c for row, c in zip(grades_rows, correct) if levels[str(row["id"])] in HARD_LEVELS]
        if hard:
            out["subsets"]["level4-5"] = _cell(hard, k_list)
    return out
