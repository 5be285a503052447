"""Evaluation diagnostics the papers plot besides accuracy.

* :func:`entropy_by_correctness` — EGPO §4.4 (Fig. 3): the distribution of the entropy proxy
  (mean NLL of the sampled tokens, EGPO Eq. 5) for correct vs incorrect responses and the gap
  between their means (mean incorrect - mean correct; positive = "knows what it knows").
* :func:`think_answer_auc` — EGPO §4.5 Table 3 / App. A.4: ROC-AUC of thinking-side and
  answer-side entropy (NLL inside / after ``<think>...</think>``) for predicting incorrectness.
* :func:`confidence_shift` — ACE §5.3: the confidence shift of an incorrect response,
  ``c = (1/|o|) sum_t [log pi_theta(o_t) - log pi_ref(o_t)]`` (the length-normalised log-ratio
  ACE's advantage uses, §4), its overconfident error fraction ``OEF = P(c > 0 | incorrect)`` and
  mean overconfidence magnitude ``E[c | c > 0, incorrect]``. The reference model's log-probs of the
  samples come from :func:`rlvr_repro.evaluate.rescoring.score_logprobs` (teacher forcing).
* :func:`token_entropy` — ACE §5.4 (Fig. 4, eq. 16): the evaluated policy's average per-token entropy
  ``-(1/sum|y|) sum_y sum_t sum_v pi(v | x, y_<t) log pi(v | x, y_<t)`` over its own samples, from the
  per-sample sums of :func:`rlvr_repro.evaluate.rescoring.score_token_entropy` (teacher forcing).

Plain statistics over generations and grades (numpy): the report imports them while the workflow
plans, so the model scoring that needs torch lives in ``rescoring.py``.

Samples without a value (an empty response has no mean NLL; a response without ``</think>``
has no split) are left out of a statistic and counted in its ``n_missing``, never dropped
silently. A statistic of an empty set is None, never NaN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def _paired(gen_rows: Sequence[dict], grade_rows: Sequence[dict]):
    """Yield (generations row, its correctness list), matching rows by id."""
    grades = {str(g["id"]): g["correct"] for g in grade_rows}
    for row in gen_rows:
        rid = str(row["id"])
        if rid not in grades:
            raise ValueError(f"diagnostics: generations row {rid!r} has no grades row")
        if len(grades[rid]) != len(row["samples"]):
            raise ValueError(f"diagnostics: row {rid!r} has {len(row['samples'])} samples but "
                             f"{len(grades[rid])} grades")
        yield row, grades[rid]


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def entropy_by_correctness(gen_rows: Sequence[dict], grade_rows: Sequence[dict],
                           key: str = "mean_nll") -> dict:
    """Entropy-proxy values of correct and incorrect samples, their means and the mean gap."""
    correct, incorrect, missing = [], [], 0
    for row, grades in _paired(gen_rows, grade_rows):
        for sample, ok in zip(row["samples"], grades):
            value = sample.get(key)
            if value is None:
                missing += 1
            else:
                (correct if ok else incorrect).append(float(value))
    mean_c, mean_i = _mean(correct), _mean(incorrect)
    return {"key": key, "correct": correct, "incorrect": incorrect,
            "mean_correct": mean_c, "mean_incorrect": mean_i,
            "gap": None if mean_c is None or mean_i is None else mean_i - mean_c,
            "n_missing": missing}


SAMPLE_FIELDS = ("mean_nll", "nll_think", "nll_answer", "n_tokens", "n_answer_tokens")


def sample_table(gen_rows: Sequence[dict], grade_rows: Sequence[dict]) -> dict:
    """Per-sample columns for the report's figures (EGPO Fig. 3, Fig. 5 ROC, App. A.4 KDEs and
    length-vs-entropy): ``problem`` (the generations row's id, so a table can sample problems as EGPO
    Table 3 does), ``correct`` and each of ``SAMPLE_FIELDS`` (None where a sample has none), one entry
    per sample in row order."""
    out: dict[str, list] = {"problem": [], "correct": [], **{k: [] for k in SAMPLE_FIELDS}}
    for row, grades in _paired(gen_rows, grade_rows):
        for sample, ok in zip(row["samples"], grades):
            out["problem"].append(str(row["id"]))
            out["correct"].append(bool(ok))
            for key in SAMPLE_FIELDS:
                out[key].append(sample.get(key))
    return out


def roc_curve(scores: Sequence[float], positive: Sequence[bool]) -> tuple[list[float], list[float]]:
    """ROC points (FPR, TPR) of ``scores`` predicting ``positive``, from (0, 0) to (1, 1), one point per
    distinct threshold (ties move together, so the curve's area equals :func:`roc_auc`)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return [], []
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # the last index of each threshold
    tps, fps = np.cumsum(y)[last], np.cumsum(~y)[last]
    return [0.0, *(fps / n_neg).tolist()], [0.0, *(tps / n_pos).tolist()]


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """ROC-AUC of ``scores`` for predicting ``positive`` (Mann-Whitney U / (n_pos * n_neg),
    ties counted one half via average ranks). None when either class is empty."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(positive, dtype=bool)
    if s.shape != y.shape:
        raise ValueError(f"roc_auc: {s.size} scores for {y.size} labels")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < s.size:  # average ranks over ties
        j = i
        while j + 1 < s.size and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def think_answer_auc(gen_rows: Sequence[dict], grade_rows: Sequence[dict]) -> dict:
    """EGPO Table 3: AUC of thinking entropy (``nll_think``) and answer entropy
    (``nll_answer``) for predicting that a response is incorrect, over the samples that have
    both (responses that closed ``</think>`` and said something after it)."""
    think, answer, wrong, missing = [], [], [], 0
    for row, grades in _paired(gen_rows, grade_rows):
        for sample, ok in zip(row["samples"], grades):
            if sample.get("nll_think") is None or sample.get("nll_answer") is None:
                missing += 1
                continue
            think.append(sample["nll_think"])
            answer.append(sample["nll_answer"])
            wrong.append(not ok)
    return {"auc_think": roc_auc(think, wrong), "auc_answer": roc_auc(answer, wrong),
            "n": len(wrong), "n_incorrect": int(sum(wrong)), "n_missing": missing}


def token_entropy(scored: Sequence[Sequence[tuple[float, int]]]) -> dict:
    """ACE eq. 16: H = -(1/|y|avg) sum over samples and tokens of sum_v pi log pi, i.e. the token-weighted mean
    entropy ``mean = sum H_t / sum |y|`` (nats per token), plus ``sample_mean`` (the mean of the per-sample
    means) for reference. ``scored``: per row, per sample (sum of H_t over its tokens, its number of tokens).
    Samples without tokens are counted in ``n_missing``."""
    total, tokens, per_sample, missing = 0.0, 0, [], 0
    for row in scored:
        for h_sum, n in row:
            if n == 0:
                missing += 1
                continue
            total += h_sum
            tokens += n
            per_sample.append(h_sum / n)
    return {"mean": total / tokens if tokens else None, "sample_mean": _mean(per_sample),
            "n_tokens": tokens, "n_samples": len(per_sample), "n_missing": missing}


def confidence_shift(gen_rows: Sequence[dict], grade_rows: Sequence[dict],
                     ref_logprobs: Sequence[Sequence[float | None]],
                     policy_logprobs: Sequence[Sequence[float | None]] | None = None) -> dict:
    """ACE §5.3 on incorrect responses: ``c = mean log pi_theta - mean log pi_ref`` per sample.

    ``policy_logprobs`` default to the generation's own ``-mean_nll``; pass
    ``rescoring.score_logprobs`` of the evaluated checkpoint to compare identically tokenized sequences.
    Returns ``{oef, mean_overconfidence, mean_shift, n_incorrect, n_missing, shifts}``.
    """
    shifts, missing = [], 0
    pairs = list(_paired(gen_rows, grade_rows))
    if len(ref_logprobs) != len(pairs) or (policy_logprobs is not None and len(policy_logprobs) != len(pairs)):
        raise ValueError("confidence_shift: log-prob lists must have one entry per generations row")
    for k, (row, grades) in enumerate(pairs):
        for j, (sample, ok) in enumerate(zip(row["samples"], grades)):
            if ok:
                continue
            ref = ref_logprobs[k][j]
            pol = (policy_logprobs[k][j] if policy_logprobs is not None
                   else (None if sample.get("mean_nll") is None else -sample["mean_nll"]))
            if ref is None or pol is None:
                missing += 1
                continue
            shifts.append(float(pol) - float(ref))
    over = [c for c in shifts if c > 0]
    return {"oef": (len(over) / len(shifts)) if shifts else None,
            "mean_overconfidence": _mean(over), "mean_shift": _mean(shifts),
            "n_incorrect": len(shifts), "n_missing": missing, "shifts": shifts}


def plot_entropy_distributions(dist: dict, out_png: str | Path, *, title: str = "") -> Path:
    """EGPO Fig. 3-style histogram of the entropy proxy for correct vs incorrect samples,
    with each group's mean marked. Written atomically (temp file, rename)."""
    import os
    import tempfile

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    values = dist["correct"] + dist["incorrect"]
    bins = np.linspace(min(values), max(values), 31) if values and min(values) < max(values) else 10
    for label, color in (("correct", "tab:green"), ("incorrect", "tab:red")):
        data = dist[label]
        if data:
            ax.hist(data, bins=bins, density=True, alpha=0.45, color=color, label=f"{label} (n={len(data)})")
            ax.axvline(float(np.mean(data)), color=color, linestyle="--", linewidth=1)
    gap = dist.get("gap")
    ax.set_title(title + (f"  gap={gap:.3f}" if gap is not None else ""), fontsize=9)
    ax.set_xlabel("entropy proxy (mean NLL of sampled tokens)")
    ax.set_ylabel("density")
    if values:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(prefix=f".{out_png.name}.", suffix=".png", dir=out_png.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=120)
        os.replace(tmp, out_png)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out_png
