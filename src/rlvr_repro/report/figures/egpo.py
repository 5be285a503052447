"""EGPO figures: Fig. 3 entropy of correct vs incorrect rollouts, Fig. 5 ROC of thinking vs answer
entropy, and App. A.4's Figs. 6-9 (KDE densities; answer length vs answer entropy).

All come from the per-sample columns of the ``diagnostics.json`` cells of protocol ``egpo``
(rlvr_repro.evaluate.confidence.sample_table), pooled over the protocol's benchmarks:

* fig3: histogram densities of the entropy proxy (mean NLL of the sampled tokens, Eq. 5) for
  correct and incorrect rollouts, one panel per method (the base model and each trained method at
  its last checkpoint), one row per model; each panel's title carries the gap of the means.
* fig5: ROC curves for predicting incorrectness from thinking entropy (inside ``<think>``) and
  answer entropy (after it), (a) R1-Distill-Qwen-1.5B, (b) 7B, the base models (Table 3's protocol).
* fig6 / fig8 (App. A.4, our reading of the two model numbers: 6 and 7 for 1.5B, 8 and 9 for 7B):
  Gaussian KDE (Scott's bandwidth) of thinking and answer entropy, correct vs incorrect.
* fig7 / fig9: answer length (tokens after ``</think>``) against answer entropy, correct vs incorrect.
"""

from __future__ import annotations

import numpy as np

from rlvr_repro.evaluate.confidence import roc_auc, roc_curve

from .common import Drawn, empty, finish, new_figure
from .inputs import FigureInputs

MODELS = ("qwen25_math_1_5b", "qwen25_math_7b", "r1_distill_qwen_1_5b", "r1_distill_qwen_7b")
METHODS = ("base", "grpo", "dapo", "edge_grpo", "egpo")
R1 = ("r1_distill_qwen_1_5b", "r1_distill_qwen_7b")
SOURCE = "diagnostics.json protocol egpo"


def pooled(inp: FigureInputs, model: str, method: str, fields) -> dict[str, np.ndarray]:
    """Per-sample columns of (model, method) at each run's last diagnosed step, pooled over benchmarks
    and seeds; only samples where every field in ``fields`` has a value."""
    d = inp.diagnostics
    d = d[(d.protocol == "egpo") & (d.model == model) & (d.method == method)]
    if d.empty:
        return {}
    d = d[d.step == d.groupby("subject").step.transform("max")]
    cols = {k: [] for k in ("correct", *fields)}
    for doc in d.doc:
        s = doc.get("samples") or {}
        for i, ok in enumerate(s.get("correct") or []):
            vals = [s.get(f, [None] * (i + 1))[i] for f in fields]
            if any(v is None for v in vals):
                continue
            cols["correct"].append(bool(ok))
            for f, v in zip(fields, vals):
                cols[f].append(float(v))
    return {k: np.asarray(v) for k, v in cols.items()} if cols["correct"] else {}


def fig3(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(MODELS), len(METHODS), "EGPO Fig. 3: response entropy of correct vs incorrect rollouts",
                             w=3.2, h=2.5)
    for r, model in enumerate(MODELS):
        for c, method in enumerate(METHODS):
            ax = axes[r, c]
            ax.set_title(f"{inp.model(model)} · {inp.method(method)}", fontsize=8)
            s = pooled(inp, model, method, ("mean_nll",))
            if not s:
                empty(ax, "no egpo diagnostics")
                continue
            h, ok = s["mean_nll"], s["correct"]
            bins = np.linspace(h.min(), h.max(), 31) if h.max() > h.min() else np.linspace(h.min() - .5, h.min() + .5, 31)
            means = {}
            for label, sel, color in (("correct", ok, "tab:green"), ("incorrect", ~ok, "tab:red")):
                if not sel.any():
                    continue
                dens, edges = np.histogram(h[sel], bins=bins, density=True)
                centers = (edges[:-1] + edges[1:]) / 2
                ax.bar(centers, dens, width=edges[1] - edges[0], alpha=0.45, color=color, label=f"{label} (n={sel.sum()})")
                means[label] = float(h[sel].mean())
                ax.axvline(means[label], color=color, linestyle="--", linewidth=1)
                drawn.add(f"{model}/{method}", centers, dens, model=model, method=method, series=f"density {label}",
                          n_runs=None, source=SOURCE)
                drawn.add(f"{model}/{method}", [0.0], [means[label]], model=model, method=method,
                          series=f"mean {label}", source=SOURCE)
            if len(means) == 2:
                ax.set_title(f"{inp.model(model)} · {inp.method(method)}  gap={means['incorrect'] - means['correct']:.3f}",
                             fontsize=8)
            ax.set_xlabel("entropy proxy (mean NLL)", fontsize=7)
            finish(ax)
    return drawn


def fig5(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(1, len(R1), "EGPO Fig. 5: ROC for incorrectness, thinking vs answer entropy (base)")
    for c, model in enumerate(R1):
        ax = axes[0, c]
        ax.set_title(f"({'ab'[c]}) {inp.model(model)}", fontsize=9)
        s = pooled(inp, model, "base", ("nll_think", "nll_answer"))
        if not s:
            empty(ax, "no <think> samples in egpo diagnostics")
            continue
        for key, label in (("nll_think", "thinking entropy"), ("nll_answer", "answer entropy")):
            fpr, tpr = roc_curve(s[key], ~s["correct"])
            if not fpr:
                continue
            auc = roc_auc(s[key], ~s["correct"])
            ax.plot(fpr, tpr, label=f"{label} (AUC {auc:.3f})")
            drawn.add(model, fpr, tpr, model=model, method="base", series=f"roc {key}", source=SOURCE)
        ax.plot([0, 1], [0, 1], ":", color="gray", linewidth=1)
        ax.set_xlabel("false positive rate", fontsize=8)
        ax.set_ylabel("true positive rate", fontsize=8)
        finish(ax)
    return drawn


def kde(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian KDE with Scott's bandwidth (n^(-1/5) * std); a point mass gets a narrow bump."""
    n = values.size
    bw = max(float(values.std(ddof=1)) if n > 1 else 0.0, 1e-3) * n ** (-1 / 5)
    z = (grid[:, None] - values[None, :]) / bw
    return np.exp(-0.5 * z ** 2).sum(axis=1) / (n * bw * np.sqrt(2 * np.pi))


def _kde_figure(inp: FigureInputs, model: str, number: int) -> Drawn:
    drawn, axes = new_figure(1, 2, f"EGPO Fig. {number} (App. A.4): entropy densities, {inp.model(model)} (base)")
    s = pooled(inp, model, "base", ("nll_think", "nll_answer"))
    for c, (key, label) in enumerate((("nll_think", "thinking entropy"), ("nll_answer", "answer entropy"))):
        ax = axes[0, c]
        ax.set_title(label, fontsize=9)
        if not s:
            empty(ax, "no <think> samples in egpo diagnostics")
            continue
        lo, hi = s[key].min(), s[key].max()
        grid = np.linspace(lo - 0.1 * (hi - lo + 1e-3), hi + 0.1 * (hi - lo + 1e-3), 200)
        for name, sel, color in (("correct", s["correct"], "tab:green"), ("incorrect", ~s["correct"], "tab:red")):
            if sel.sum() < 2:
                continue
            dens = kde(s[key][sel], grid)
            ax.plot(grid, dens, color=color, label=f"{name} (n={sel.sum()})")
            drawn.add(key, grid, dens, model=model, method="base", series=f"kde {name}", source=SOURCE)
        ax.set_xlabel("mean NLL", fontsize=8)
        finish(ax)
    return drawn


def _length_figure(inp: FigureInputs, model: str, number: int) -> Drawn:
    drawn, axes = new_figure(1, 1, f"EGPO Fig. {number} (App. A.4): answer length vs answer entropy, {inp.model(model)}",
                             w=5.2, h=3.6)
    ax = axes[0, 0]
    s = pooled(inp, model, "base", ("n_answer_tokens", "nll_answer"))
    if not s:
        empty(ax, "no <think> samples in egpo diagnostics")
        return drawn
    for name, sel, color in (("correct", s["correct"], "tab:green"), ("incorrect", ~s["correct"], "tab:red")):
        ax.scatter(s["n_answer_tokens"][sel], s["nll_answer"][sel], s=4, alpha=0.4, color=color, label=name)
        drawn.add("answer", s["n_answer_tokens"][sel], s["nll_answer"][sel], model=model, method="base",
                  series=name, source=SOURCE)
    ax.set_xlabel("answer length (tokens after </think>)", fontsize=8)
    ax.set_ylabel("answer entropy (mean NLL)", fontsize=8)
    finish(ax)
    return drawn


FIGURES = {
    "fig3": fig3, "fig5": fig5,
    "fig6": lambda inp: _kde_figure(inp, R1[0], 6), "fig7": lambda inp: _length_figure(inp, R1[0], 7),
    "fig8": lambda inp: _kde_figure(inp, R1[1], 8), "fig9": lambda inp: _length_figure(inp, R1[1], 9),
}
