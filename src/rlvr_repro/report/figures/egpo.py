"""EGPO figures: Fig. 3 entropy of correct vs incorrect rollouts, Fig. 5 ROC of thinking vs answer
entropy, and App. A.4's Figs. 6-9 and (ii)-scatter (thinking against answer entropy).

All come from the per-sample columns of the ``diagnostics.json`` cells of protocol ``egpo``
(rlvr_repro.evaluate.confidence.sample_table: ``correct``, ``mean_nll``, ``nll_think``,
``nll_answer``, ``n_answer_tokens``, one entry per sample, the protocol's n samples of a problem in a row):

* fig3 (§4.4): histogram densities of the entropy proxy (mean NLL of the sampled tokens, Eq. 5) of
  correct and incorrect rollouts, one panel per method (the base model and each trained method at its
  run's last diagnosed step; every problem of the protocol's benchmarks, seeds pooled), one row per
  model; each panel's title carries the gap of the means (incorrect - correct), the CSV the means.
* The base R1-Distill analyses (§4.5 Table 3, App. A.4) read one sample, :func:`think_sample`: 1,000
  problems x n rollouts ("we sample 1,000 problems and generate 8 rollouts per problem"), drawn
  uniformly from the problems of the base model's ``egpo`` cells with a fixed seed (our choice: the
  paper does not say from which pool it sampled). Samples without ``</think>`` have no thinking /
  answer split; they are left out and counted (the figure titles and Table 3 give the count).
* fig5: ROC curves for predicting incorrectness from thinking entropy (inside ``<think>``) and answer
  entropy (after it), (a) R1-Distill-Qwen-1.5B, (b) 7B.
* fig6 / fig8 (our reading of the two model numbers: 6 and 7 for 1.5B, 8 and 9 for 7B): Gaussian KDE
  (Scott's bandwidth) of thinking and answer entropy, correct vs incorrect.
* fig7 / fig9: answer length (tokens after ``</think>``) against answer entropy, correct vs incorrect.
* figA4: A.4 (ii), thinking entropy against answer entropy per rollout, correct vs incorrect, both models.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rlvr_repro.evaluate.confidence import roc_auc, roc_curve
from rlvr_repro.report.collect import ReportInputError

from .common import Drawn, finish, new_figure
from .inputs import FigureInputs

MODELS = ("qwen25_math_1_5b", "qwen25_math_7b", "r1_distill_qwen_1_5b", "r1_distill_qwen_7b")
METHODS = ("base", "grpo", "dapo", "edge_grpo", "egpo")
R1 = ("r1_distill_qwen_1_5b", "r1_distill_qwen_7b")
SOURCE = "diagnostics.json protocol egpo"
SAMPLE_PROBLEMS = 1000   # §4.5: "we sample 1,000 problems and generate 8 rollouts per problem"
SAMPLE_SEED = 0          # our choice
SPLIT_FIELDS = ("nll_think", "nll_answer", "n_answer_tokens")
CORRECT, INCORRECT = ("correct", "tab:green"), ("incorrect", "tab:red")
THINK, ANSWER = ("nll_think", "thinking entropy"), ("nll_answer", "answer entropy")


def _cells(inp: FigureInputs, model: str, method: str):
    """The ``egpo`` diagnostics cells of (model, method) at each run's last diagnosed step, in a fixed order."""
    d = inp.diagnostics
    if not len(d):
        return d
    d = d[(d.protocol == "egpo") & (d.model == model) & (d.method == method)]
    d = d[d.step == d.groupby("subject").step.transform("max")]
    return d.sort_values(["subject", "benchmark"])


def _at(values, i: int):
    return values[i] if values is not None and i < len(values) else None


def pooled(inp: FigureInputs, model: str, method: str, fields) -> dict[str, np.ndarray]:
    """Per-sample columns of (model, method) at each run's last diagnosed step, pooled over benchmarks
    and seeds; only samples where every field in ``fields`` has a value."""
    cols = {k: [] for k in ("correct", *fields)}
    for doc in _cells(inp, model, method).doc if len(inp.diagnostics) else ():
        s = doc.get("samples") or {}
        for i, ok in enumerate(s.get("correct") or []):
            vals = [_at(s.get(f), i) for f in fields]
            if any(v is None for v in vals):
                continue
            cols["correct"].append(bool(ok))
            for f, v in zip(fields, vals):
                cols[f].append(float(v))
    return {k: np.asarray(v) for k, v in cols.items()} if cols["correct"] else {}


@dataclass
class ThinkSample:
    """The base model's Table 3 / App. A.4 sample: per-sample columns with a thinking/answer split."""

    cols: dict[str, np.ndarray] = field(default_factory=dict)
    problems: int = 0
    by_benchmark: dict[str, int] = field(default_factory=dict)
    no_split: int = 0          # samples of the chosen problems without </think> (left out)

    @property
    def n(self) -> int:
        return int(self.cols["correct"].size) if self.cols else 0

    def caption(self) -> str:
        return f"{self.problems} problems, {self.n} rollouts with </think>, {self.no_split} without (left out)"


def think_sample(inp: FigureInputs, model: str) -> ThinkSample:
    """SAMPLE_PROBLEMS problems of the base ``model``'s ``egpo`` cells (all of them when fewer), drawn
    uniformly with SAMPLE_SEED; their samples with both a thinking and an answer entropy."""
    n = int((inp.protocols.get("egpo") or {}).get("n") or 8)
    problems = []
    for row in _cells(inp, model, "base").itertuples() if len(inp.diagnostics) else ():
        s = row.doc.get("samples") or {}
        correct = list(s.get("correct") or [])
        if len(correct) % n:
            raise ReportInputError(f"{row.source}: {len(correct)} samples is not a multiple of the egpo protocol's "
                                   f"n = {n}, so its problems cannot be told apart")
        cols = {f: list(s.get(f) or [None] * len(correct)) for f in SPLIT_FIELDS}
        ids = s.get("problem")  # the diagnostics stage writes each sample's problem id: check the split by n
        if ids is not None and any(len(set(ids[i:i + n])) != 1 for i in range(0, len(ids), n)):
            raise ReportInputError(f"{row.source}: the per-sample problem ids do not come in runs of the egpo "
                                   f"protocol's n = {n}, so its problems cannot be told apart")
        for start in range(0, len(correct), n):
            problems.append((row.benchmark, correct[start:start + n],
                             {f: v[start:start + n] for f, v in cols.items()}))
    if len(problems) > SAMPLE_PROBLEMS:
        keep = np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(problems), SAMPLE_PROBLEMS, replace=False))
        problems = [problems[i] for i in keep]
    out = {k: [] for k in ("correct", *SPLIT_FIELDS)}
    no_split = 0
    for _, correct, cols in problems:
        for i, ok in enumerate(correct):
            if cols["nll_think"][i] is None or cols["nll_answer"][i] is None:
                no_split += 1
                continue
            out["correct"].append(bool(ok))
            for f in SPLIT_FIELDS:
                out[f].append(np.nan if cols[f][i] is None else float(cols[f][i]))
    return ThinkSample(cols={k: np.asarray(v) for k, v in out.items()} if out["correct"] else {},
                       problems=len(problems), by_benchmark=dict(sorted(Counter(b for b, _, _ in problems).items())),
                       no_split=no_split)


def _classes(correct: np.ndarray):
    return ((CORRECT, correct), (INCORRECT, ~correct))


def fig3(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(MODELS), len(METHODS), "EGPO Fig. 3: response entropy of correct vs incorrect rollouts",
                             w=3.2, h=2.5)
    for r, model in enumerate(MODELS):
        for c, method in enumerate(METHODS):
            ax, panel = axes[r, c], f"{model}/{method}"
            ax.set_title(f"{inp.model(model)} · {inp.method(method)}", fontsize=8)
            s = pooled(inp, model, method, ("mean_nll",))
            if not s:
                drawn.missing(ax, panel, [(method, inp.method(method))], model=model, why="no egpo diagnostics")
                continue
            h, ok = s["mean_nll"], s["correct"]
            lo, hi = (h.min(), h.max()) if h.max() > h.min() else (h.min() - 0.5, h.min() + 0.5)
            bins = np.linspace(lo, hi, 31)
            means = {}
            for (label, color), sel in _classes(ok):
                if not sel.any():
                    continue
                dens, edges = np.histogram(h[sel], bins=bins, density=True)
                centers = (edges[:-1] + edges[1:]) / 2
                ax.stairs(dens, edges, fill=True, alpha=0.45, color=color, label=f"{label} (n={sel.sum()})")
                means[label] = float(h[sel].mean())
                ax.axvline(means[label], color=color, linestyle="--", linewidth=1)
                drawn.add(panel, centers, dens, model=model, method=method, series=f"density {label}", source=SOURCE)
                drawn.add(panel, [0.0], [means[label]], model=model, method=method, series=f"mean {label}",
                          n_runs=int(sel.sum()), source=SOURCE)
            if len(means) == 2:
                gap = means["incorrect"] - means["correct"]
                ax.set_title(f"{inp.model(model)} · {inp.method(method)}  gap={gap:.3f}", fontsize=8)
                drawn.add(panel, [0.0], [gap], model=model, method=method, series="mean gap (incorrect - correct)",
                          source=SOURCE)
            ax.set_xlabel("entropy proxy (mean NLL)", fontsize=7)
            finish(ax)
    return drawn


def _no_sample(drawn: Drawn, ax, panel: str, model: str) -> None:
    drawn.missing(ax, panel, [("base", "base model rollouts with </think>")], model=model,
                  why="egpo diagnostics of the base R1-Distill model")


def _r1_panels(title: str, draw):
    """One panel per R1-Distill model on its base sample (:func:`think_sample`); ``draw(drawn, ax, model,
    sample)`` fills a panel that has data, a panel without names what it lacks."""
    def build(inp: FigureInputs) -> Drawn:
        drawn, axes = new_figure(1, len(R1), title)
        for c, model in enumerate(R1):
            ax = axes[0, c]
            sample = think_sample(inp, model)
            ax.set_title(f"({'ab'[c]}) {inp.model(model)}\n{sample.caption()}", fontsize=7)
            if not sample.cols:
                _no_sample(drawn, ax, model, model)
                continue
            draw(drawn, ax, model, sample)
            finish(ax)
        return drawn
    return build


def _roc(drawn: Drawn, ax, model: str, sample: ThinkSample) -> None:
    s = sample.cols
    for key, label in (THINK, ANSWER):
        fpr, tpr = roc_curve(s[key], ~s["correct"])
        if not fpr:
            continue
        auc = roc_auc(s[key], ~s["correct"])
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc:.3f})")
        drawn.add(model, fpr, tpr, model=model, method="base", series=f"roc {key}", n_runs=sample.n, source=SOURCE)
    ax.plot([0, 1], [0, 1], ":", color="gray", linewidth=1)
    ax.set_xlabel("false positive rate", fontsize=8)
    ax.set_ylabel("true positive rate", fontsize=8)


fig5 = _r1_panels("EGPO Fig. 5: ROC for incorrectness, thinking vs answer entropy (base)", _roc)


def kde(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian KDE with Scott's bandwidth (n^(-1/5) * std); a point mass gets a narrow bump."""
    n = values.size
    bw = max(float(values.std(ddof=1)) if n > 1 else 0.0, 1e-3) * n ** (-1 / 5)
    z = (grid[:, None] - values[None, :]) / bw
    return np.exp(-0.5 * z ** 2).sum(axis=1) / (n * bw * np.sqrt(2 * np.pi))


def _kde_figure(inp: FigureInputs, model: str, number: int) -> Drawn:
    sample = think_sample(inp, model)
    drawn, axes = new_figure(1, 2, f"EGPO Fig. {number} (App. A.4): entropy densities, {inp.model(model)} (base); "
                                   f"{sample.caption()}")
    s = sample.cols
    for c, (key, label) in enumerate((THINK, ANSWER)):
        ax = axes[0, c]
        ax.set_title(label, fontsize=9)
        if not s:
            _no_sample(drawn, ax, key, model)
            continue
        lo, hi = s[key].min(), s[key].max()
        grid = np.linspace(lo - 0.1 * (hi - lo + 1e-3), hi + 0.1 * (hi - lo + 1e-3), 200)
        for (name, color), sel in _classes(s["correct"]):
            if sel.sum() < 2:
                continue
            dens = kde(s[key][sel], grid)
            ax.plot(grid, dens, color=color, label=f"{name} (n={sel.sum()})")
            drawn.add(key, grid, dens, model=model, method="base", series=f"kde {name}", n_runs=int(sel.sum()),
                      source=SOURCE)
        ax.set_xlabel("mean NLL", fontsize=8)
        finish(ax)
    return drawn


def _scatter(drawn: Drawn, ax, panel: str, model: str, s: dict, x: str, y: str) -> None:
    for (name, color), sel in _classes(s["correct"]):
        keep = sel & np.isfinite(s[x]) & np.isfinite(s[y])
        ax.scatter(s[x][keep], s[y][keep], s=4, alpha=0.4, color=color, label=f"{name} (n={keep.sum()})")
        drawn.add(panel, s[x][keep], s[y][keep], model=model, method="base", series=name, n_runs=int(keep.sum()),
                  source=SOURCE)


def _length_figure(inp: FigureInputs, model: str, number: int) -> Drawn:
    sample = think_sample(inp, model)
    drawn, axes = new_figure(1, 1, f"EGPO Fig. {number} (App. A.4): answer length vs answer entropy, "
                                   f"{inp.model(model)}\n{sample.caption()}", w=5.2, h=3.8)
    ax = axes[0, 0]
    if not sample.cols:
        _no_sample(drawn, ax, "answer", model)
        return drawn
    _scatter(drawn, ax, "answer", model, sample.cols, "n_answer_tokens", "nll_answer")
    ax.set_xlabel("answer length (tokens after </think>)", fontsize=8)
    ax.set_ylabel("answer entropy (mean NLL)", fontsize=8)
    finish(ax)
    return drawn


def _think_vs_answer(drawn: Drawn, ax, model: str, sample: ThinkSample) -> None:
    _scatter(drawn, ax, model, model, sample.cols, "nll_think", "nll_answer")
    both = np.concatenate([sample.cols["nll_think"], sample.cols["nll_answer"]])
    ax.plot([both.min(), both.max()], [both.min(), both.max()], ":", color="gray", linewidth=1)
    ax.set_xlabel("thinking entropy (mean NLL inside <think>)", fontsize=8)
    ax.set_ylabel("answer entropy (mean NLL after </think>)", fontsize=8)


fig_a4 = _r1_panels("EGPO App. A.4 (ii): thinking vs answer entropy per rollout (base)", _think_vs_answer)


FIGURES = {
    "fig3": fig3, "fig5": fig5,
    "fig6": lambda inp: _kde_figure(inp, R1[0], 6), "fig7": lambda inp: _length_figure(inp, R1[0], 7),
    "fig8": lambda inp: _kde_figure(inp, R1[1], 8), "fig9": lambda inp: _length_figure(inp, R1[1], 9),
    "figA4": fig_a4,
}
