"""LENS figures ("Don't waste mistakes"): Fig. 2 negative-group ratio,
Fig. 5 / Fig. 6 accuracy against step.

* fig2: the fraction of all-negative (none-solved) groups per step of every GRPO run on a LENS
  training set (the canonical ``frac_none_solved``: verl's ``diag/frac_none_solved`` or the local
  ``frac_all_incorrect``). The paper's panel is Llama-3.1-8B-Instruct on MATH + Numina; we draw each
  (model, dataset) GRPO curve, seeds averaged.
* fig5 / fig6: avg@16 (the accuracy "averaged across all 16 generations") on full MATH and on its
  Levels 4-5 subset against step, GRPO vs LENS, one row per model, averaged over runs (two seeds on
  MATH + DAPO for fig5, one on MATH + Numina for fig6).
"""

from __future__ import annotations

from .common import Drawn, accuracy_curve, empty, finish, log_curve, new_figure, step_axis
from .inputs import FigureInputs

MODELS = ("llama31_8b_instruct", "qwen25_3b")
DATASETS = ("lens_math_dapo", "lens_math_numina")
SUBSETS = (("all", "MATH"), ("level4-5", "MATH Levels 4-5"))


def fig2(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(1, 1, "LENS Fig. 2: negative-group ratio during GRPO training", w=5.2, h=3.6)
    ax = axes[0, 0]
    step_axis(ax, "all-negative groups (%)", "GRPO")
    for model in MODELS:
        for dataset in DATASETS:
            curve, n = log_curve(inp.logs, "frac_none_solved", model=model, method="grpo", dataset=dataset)
            if curve.empty:
                continue
            ax.plot(curve.index, curve.values * 100.0, label=f"{inp.model(model)} · {dataset}")
            drawn.add("grpo", curve.index, curve.values * 100.0, model=model, dataset=dataset, method="grpo",
                      series="frac_none_solved", n_runs=n, source="train_log.jsonl")
    if not ax.lines:
        empty(ax, "no GRPO training log on a LENS training set")
    finish(ax)
    return drawn


def _accuracy(inp: FigureInputs, dataset: str, title: str) -> Drawn:
    drawn, axes = new_figure(len(MODELS), len(SUBSETS), title)
    for r, model in enumerate(MODELS):
        for c, (subset, name) in enumerate(SUBSETS):
            ax = axes[r, c]
            step_axis(ax, "avg@16 (%)", f"{inp.model(model)} · {name}")
            for method in ("grpo", "lens"):
                curve, n = accuracy_curve(inp.metrics, protocol="lens", model=model, method=method,
                                          benchmarks=["math"], dataset=dataset, subset=subset)
                if curve.empty:
                    continue
                ax.plot(curve.index, curve.values, marker=".", label=f"{inp.method(method)} ({n} run{'s' * (n > 1)})")
                drawn.add(f"{model}/{subset}", curve.index, curve.values, model=model, dataset=dataset,
                          method=method, series=f"avg@n {subset}", n_runs=n, source="metrics.json protocol lens")
            if not ax.lines:
                empty(ax, f"no lens metrics of {model} on {dataset}")
            finish(ax)
    return drawn


def fig5(inp: FigureInputs) -> Drawn:
    return _accuracy(inp, "lens_math_dapo", "LENS Fig. 5: accuracy vs step, MATH + DAPO (mean over runs)")


def fig6(inp: FigureInputs) -> Drawn:
    return _accuracy(inp, "lens_math_numina", "LENS Fig. 6: accuracy vs step, MATH + Numina 1.5")


FIGURES = {"fig2": fig2, "fig5": fig5, "fig6": fig6}
