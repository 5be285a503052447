"""LENS figures ("Don't waste mistakes"): Fig. 2 negative-group ratio, Fig. 5 / Fig. 6 accuracy against step.

* fig2 (§3): the fraction (%) of all-negative (none-solved) groups per step of GRPO training (the
  canonical ``frac_none_solved``: verl's ``diag/frac_none_solved`` or the local ``frac_all_incorrect``),
  seeds averaged. (a) the paper's panel: Llama-3.1-8B-Instruct on MATH + Numina 1.5, with the levels
  the text states ("nearly 45 % ... early in training, and about 35 % remain even by the end",
  config/paper_numbers.yaml ``reference_values[lens/fig2]``) as dotted lines; (b) our other GRPO runs
  on a LENS training set (not in the paper), one line style per (model, dataset).
* fig5 / fig6 (§6, App. E): avg@16 (the accuracy "averaged across all 16 generations") in % on full
  MATH and on its Levels 4-5 subset against step, GRPO vs LENS, one row per model, the base model at
  step 0; averaged over runs (two seeds on MATH + DAPO for fig5, one run on MATH + Numina for fig6).
"""

from __future__ import annotations

from .common import Drawn, accuracy_curve, finish, log_curve, new_figure, step_axis
from .inputs import FigureInputs

MODELS = ("llama31_8b_instruct", "qwen25_3b")
DATASETS = ("lens_math_dapo", "lens_math_numina")
PAPER_RUN = ("llama31_8b_instruct", "lens_math_numina")  # Fig. 2's caption
SUBSETS = (("all", "MATH"), ("level4-5", "MATH Levels 4-5"))
DATASET_NAMES = {"lens_math_dapo": "MATH + DAPO", "lens_math_numina": "MATH + Numina 1.5"}
LOG_SOURCE = "train_log.jsonl"


def _none_solved(drawn: Drawn, ax, inp: FigureInputs, panel: str, model: str, dataset: str, style: str) -> bool:
    curve, n = log_curve(inp.logs, "frac_none_solved", model=model, method="grpo", dataset=dataset)
    if curve.empty:
        return False
    drawn.curve(ax, panel, curve.index, curve.values * 100.0, method="grpo", style=style,
                label=f"{inp.method('grpo')} · {inp.model(model)} · {DATASET_NAMES.get(dataset, dataset)}",
                series="frac_none_solved", source=LOG_SOURCE, model=model, dataset=dataset, n_runs=n)
    return True


def fig2(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(1, 2, "LENS Fig. 2: negative-group ratio during GRPO training (G = 16)", w=5.0, h=3.6)
    model, dataset = PAPER_RUN
    ax = axes[0, 0]
    step_axis(ax, "all-negative groups (%)", f"(a) {inp.model(model)} · {DATASET_NAMES[dataset]}")
    if not _none_solved(drawn, ax, inp, "paper", model, dataset, "-"):
        drawn.missing(ax, "paper", [("grpo", inp.method("grpo"))], model=model, dataset=dataset,
                      why="experiment lens_numina")
    for ref in getattr(inp.references.get("lens/fig2"), "values", ()):
        if ref.value is None:
            continue
        ax.axhline(ref.value, linestyle=":", color="gray", linewidth=1)
        ax.text(0.99, ref.value, f"paper: {ref.quantity} ≈ {ref.value:g} %", transform=ax.get_yaxis_transform(),
                ha="right", va="bottom", fontsize=6, color="gray")
        drawn.add("paper", [float("nan")], [ref.value], model=model, dataset=dataset, method="grpo",
                  series=f"paper: {ref.quantity}", source=f"paper line {ref.line}")
    finish(ax)
    ax = axes[0, 1]
    step_axis(ax, "all-negative groups (%)", "(b) our other GRPO runs (not in the paper)")
    styles = iter(("-", "--", "-.", ":"))
    for other in MODELS:
        for data in DATASETS:
            if (other, data) != PAPER_RUN:
                _none_solved(drawn, ax, inp, "other", other, data, next(styles))
    if not ax.lines:
        drawn.missing(ax, "other", [("grpo", inp.method("grpo"))], why="no other GRPO run on a LENS training set")
    finish(ax)
    return drawn


def _accuracy(inp: FigureInputs, dataset: str, title: str) -> Drawn:
    drawn, axes = new_figure(len(MODELS), len(SUBSETS), title)
    for r, model in enumerate(MODELS):
        for c, (subset, name) in enumerate(SUBSETS):
            ax, panel = axes[r, c], f"{model}/{subset}"
            step_axis(ax, "avg@16 (%)", f"{inp.model(model)} · {name}")
            absent = []
            for method in ("grpo", "lens"):
                curve, n = accuracy_curve(inp.metrics, protocol="lens", model=model, method=method,
                                          benchmarks=["math"], dataset=dataset, subset=subset)
                if curve.empty:
                    absent.append((method, inp.method(method)))
                    continue
                drawn.curve(ax, panel, curve.index, curve.values, method=method,
                            label=f"{inp.method(method)} ({n} run{'s' * (n > 1)})", series=f"avg@n {subset}",
                            source="metrics.json protocol lens", model=model, dataset=dataset, n_runs=n)
            drawn.missing(ax, panel, absent, model=model, dataset=dataset,
                          why=f"no lens metrics on {DATASET_NAMES[dataset]}")
            finish(ax)
    return drawn


def fig5(inp: FigureInputs) -> Drawn:
    return _accuracy(inp, "lens_math_dapo", "LENS Fig. 5: accuracy vs step, MATH + DAPO (mean over runs)")


def fig6(inp: FigureInputs) -> Drawn:
    return _accuracy(inp, "lens_math_numina", "LENS Fig. 6: accuracy vs step, MATH + Numina 1.5")


FIGURES = {"fig2": fig2, "fig5": fig5, "fig6": fig6}
