"""ACE figures: Fig. 2 Pass@k curves, Fig. 3 overconfidence over training,
Fig. 4 early-training entropy.

* fig2: Pass@k against k per model on MATH-500 and AIME 2025 (protocol ``ace``), every method at its
  run's last evaluated step, seeds averaged; the base model dashed.
* fig3: §5.3's overconfident-error fraction and mean overconfidence magnitude of the incorrect
  rollouts against step, GRPO vs ACE-GRPO on the two Qwen models, from the ``diagnostics.json`` cells
  of protocol ``ace_analysis`` (held-out prompts, 32 rollouts, every 25 steps; confidence shift
  against the initial policy, rlvr_repro.evaluate.confidence.confidence_shift). Not the 8 training
  rollouts (those are ``diag/ace_overconfident_error_frac`` in the training log).
* fig4: token-level policy entropy over the first 20 steps, GRPO vs ACE-GRPO (the training log's
  canonical ``entropy``: verl's actor entropy, or the local NLL proxy), per model. ACE measures it on
  held-out DAPO prompts; ours is the training batch of each step (the rollouts of the same prompts
  distribution, before the update).
"""

from __future__ import annotations

import numpy as np

from .common import Drawn, empty, finish, log_curve, new_figure, step_axis
from .inputs import FigureInputs

MODELS = ("qwen25_math_7b", "qwen3_8b_base", "llama31_8b_instruct")
ANALYSIS_MODELS = ("qwen25_math_7b", "qwen3_8b_base")  # footnote 1: Llama omitted from §5.3
METHODS = ("base", "grpo", "dapo", "ace_grpo", "ace_dapo")
PAIR = ("grpo", "ace_grpo")
BENCHMARKS = ("math500", "aime25")


def fig2(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(MODELS), len(BENCHMARKS), "ACE Fig. 2: Pass@k (protocol ace, last checkpoint)")
    m = inp.metrics
    m = m[(m.protocol == "ace") & m.metric.str.fullmatch(r"pass@\d+") & (m.subset == "all")]
    m = m.assign(k=m.metric.str.slice(5).astype(int))
    m = m[m.step == m.groupby("subject").step.transform("max")]
    for r, model in enumerate(MODELS):
        for c, bench in enumerate(BENCHMARKS):
            ax, panel = axes[r, c], f"{model}/{bench}"
            ax.set_title(f"{inp.model(model)} · {inp.labels.benchmarks.get(bench, bench)}", fontsize=9)
            cell = m[(m.model == model) & (m.benchmark == bench)]
            for method in METHODS:
                lines = cell[cell.method == method]
                if lines.empty:
                    continue
                curve = lines.groupby("k").value.mean() * 100.0
                n = max(1, lines.run_id.nunique())
                ax.plot(curve.index, curve.values, "--" if method == "base" else "-", marker="o", markersize=3,
                        label=inp.method(method))
                drawn.add(panel, curve.index, curve.values, model=model, method=method, series="pass@k", n_runs=n,
                          source="metrics.json protocol ace")
            if cell.empty:
                empty(ax, f"no ace metrics for {model} on {bench}")
            else:
                ax.set_xscale("log", base=2)
                ks = sorted(cell.k.unique())
                ax.set_xticks(ks, [str(k) for k in ks])
            ax.set_xlabel("k", fontsize=8)
            ax.set_ylabel("pass@k (%)", fontsize=8)
            finish(ax)
    return drawn


def fig3(inp: FigureInputs) -> Drawn:
    panels = (("oef", "overconfident error fraction (%)", 100.0),
              ("mean_overconfidence", "mean overconfidence magnitude", 1.0))
    drawn, axes = new_figure(len(ANALYSIS_MODELS), len(panels),
                             "ACE Fig. 3: overconfidence of incorrect rollouts (held-out MATH-500, 32 rollouts)")
    d = inp.diagnostics[inp.diagnostics.protocol == "ace_analysis"]
    for r, model in enumerate(ANALYSIS_MODELS):
        for c, (key, ylabel, scale) in enumerate(panels):
            ax = axes[r, c]
            step_axis(ax, ylabel, inp.model(model))
            any_line = False
            for method in PAIR:
                cells = d[(d.model == model) & (d.method == method)]
                pts = [(row.step, row.seed, (row.doc.get("confidence_shift") or {}).get(key))
                       for row in cells.itertuples()]
                pts = [(s, seed, v) for s, seed, v in pts if v is not None]
                if not pts:
                    continue
                steps = sorted({s for s, _, _ in pts})
                ys = [np.mean([v for s2, _, v in pts if s2 == s]) * scale for s in steps]
                ax.plot(steps, ys, marker="o", markersize=3, label=inp.method(method))
                drawn.add(f"{model}/{key}", steps, ys, model=model, method=method, series=key,
                          n_runs=len({seed for _, seed, _ in pts}), source="diagnostics.json protocol ace_analysis")
                any_line = True
            if not any_line:
                empty(ax, "enable experiment ace_analysis")
            finish(ax)
    return drawn


def fig4(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(1, len(MODELS), "ACE Fig. 4: token-level policy entropy, first 20 steps")
    for c, model in enumerate(MODELS):
        ax = axes[0, c]
        step_axis(ax, "entropy", inp.model(model))
        for method in PAIR:
            curve, n = log_curve(inp.logs, "entropy", model=model, method=method, dataset="dapo17k", max_step=20)
            if curve.empty:
                continue
            ax.plot(curve.index, curve.values, label=inp.method(method))
            drawn.add(model, curve.index, curve.values, model=model, dataset="dapo17k", method=method,
                      series="entropy", n_runs=n, source="train_log.jsonl")
        if not ax.lines:
            empty(ax, f"no training log of {model} GRPO / ACE-GRPO")
        finish(ax)
    return drawn


FIGURES = {"fig2": fig2, "fig3": fig3, "fig4": fig4}
