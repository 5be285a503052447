"""AsymGRPO figures: Fig. 2 channel isolation (four panels), Fig. 3 the advantage flip test,
Fig. 4 training dynamics on Qwen3-4B with the (beta_pos, beta_neg) grid heatmap.

Test accuracy is the mean avg@n over the five benchmarks (the paper's "average test accuracy"),
under App. G's analysis protocol ``asymgrpo_appg`` (greedy, every 10 steps) where those cells exist
and the Table 2 protocol ``asymgrpo`` otherwise; the protocol's ``curve_ema`` (0.7 for App. G,
"to all test accuracy curves") smooths the accuracy curves only. The CSV holds the smoothed values
(series ``... ema``) and the raw ones.

* fig2 rows: Qwen2.5-Math-1.5B, Qwen3-4B; columns: (a) policy entropy, (b) test accuracy, (c) all-solved
  and none-solved group fractions, (d) the mean log-probability gain of successful rollouts after each
  update (``diag/logprob_gain_correct``: E[log pi_new(y) - log pi_old(y)] over correct rollouts, length-
  normalised). Runs: REINFORCE, REINFORCE + entropy regularisation, Pos-Only, Neg-Only, and Neg-Only at
  beta_neg = 0.75 when the opt-in experiment ran.
* fig3: GRPO, EntDecrease and EntIncrease: (a, c) entropy, (b, d) accuracy, per model.
* fig4 (Qwen3-4B): (a) training reward, (b) entropy, (c) accuracy against step for Table 2's methods,
  (d) the final average accuracy over the (beta_pos, beta_neg) grid (experiment asymgrpo_beta_grid;
  betas read from the method presets), the paper's (0.9, 0.5) = 56.64 printed beside ours.
"""

from __future__ import annotations

import re

import numpy as np

from .common import Drawn, accuracy_curve, ema, empty, finish, log_curve, new_figure, step_axis
from .inputs import FigureInputs

BENCHMARKS = ("math500", "olympiadbench", "aime24", "aime25", "amc23")
S3_MODELS = ("qwen25_math_1_5b", "qwen3_4b")
CHANNEL = ("asym_reinforce", "asym_reinforce_entreg", "asym_reinforce_entreg_qwen3", "asym_pos_only",
           "asym_neg_only", "asym_neg_only_b075")
FLIP = ("grpo", "asym_ent_decrease", "asym_ent_increase")
TABLE2 = ("reinforce", "grpo", "grpo_entreg", "grpo_clip_higher", "drgrpo", "asymgrpo")
GRID = re.compile(r"^(asym_p\d{2}_n\d{2}|asymgrpo)$")
DATASET = "math_train"


def _accuracy_protocol(inp: FigureInputs, model: str, methods) -> str:
    """App. G's protocol where any of ``methods`` has cells under it for ``model``, else Table 2's."""
    m = inp.metrics
    appg = (m.protocol == "asymgrpo_appg") & (m.model == model) & m.method.isin(list(methods))
    return "asymgrpo_appg" if appg.any() else "asymgrpo"


def _log_panel(drawn: Drawn, ax, inp: FigureInputs, model: str, methods, quantity: str, ylabel: str,
               *, scale: float = 1.0, style: str = "-", suffix: str = "") -> None:
    for method in methods:
        curve, n = log_curve(inp.logs, quantity, model=model, method=method, dataset=DATASET)
        if curve.empty:
            continue
        ax.plot(curve.index, curve.values * scale, style, label=inp.method(method) + suffix)
        drawn.add(f"{model}/{quantity}", curve.index, curve.values * scale, model=model, dataset=DATASET,
                  method=method, series=quantity, n_runs=n, source="train_log.jsonl")
    step_axis(ax, ylabel, inp.model(model))


def _accuracy_panel(drawn: Drawn, ax, inp: FigureInputs, model: str, methods, protocol: str | None = None) -> None:
    protocol = protocol or _accuracy_protocol(inp, model, methods)
    alpha = inp.curve_ema(protocol)
    for method in methods:
        curve, n = accuracy_curve(inp.metrics, protocol=protocol, model=model, method=method,
                                  benchmarks=BENCHMARKS, dataset=DATASET)
        if curve.empty:
            continue
        smooth = ema(curve.values, alpha)
        ax.plot(curve.index, smooth, marker=".", label=inp.method(method))
        src = f"metrics.json protocol {protocol}"
        drawn.add(f"{model}/accuracy", curve.index, curve.values, model=model, dataset=DATASET, method=method,
                  series="avg accuracy", n_runs=n, source=src)
        if alpha is not None:
            drawn.add(f"{model}/accuracy", curve.index, smooth, model=model, dataset=DATASET, method=method,
                      series=f"avg accuracy ema {alpha}", n_runs=n, source=src)
    step_axis(ax, "avg test accuracy (%)" + (f", EMA {alpha}" if alpha is not None else ""),
              f"{inp.model(model)} ({protocol})")


def _mark_empty(axes, why: str) -> None:
    for ax in axes.flat:
        if not ax.lines and not ax.images:
            empty(ax, why)
        finish(ax)


def fig2(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(S3_MODELS), 4, "AsymGRPO Fig. 2: channel isolation")
    for r, model in enumerate(S3_MODELS):
        _log_panel(drawn, axes[r, 0], inp, model, CHANNEL, "entropy", "(a) policy entropy")
        _accuracy_panel(drawn, axes[r, 1], inp, model, CHANNEL)
        _log_panel(drawn, axes[r, 2], inp, model, CHANNEL, "frac_all_solved", "(c) groups (%)", scale=100.0,
                   suffix=" all-solved")
        _log_panel(drawn, axes[r, 2], inp, model, CHANNEL, "frac_none_solved", "(c) groups (%)", scale=100.0,
                   style="--", suffix=" none-solved")
        _log_panel(drawn, axes[r, 3], inp, model, CHANNEL, "logprob_gain_correct", "(d) log-prob gain, correct")
    _mark_empty(axes, "no run of these methods (the log-prob gain needs train.logprob_gain_diag)")
    return drawn


def fig3(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(S3_MODELS), 2, "AsymGRPO Fig. 3: advantage flip test")
    for r, model in enumerate(S3_MODELS):
        _log_panel(drawn, axes[r, 0], inp, model, FLIP, "entropy", "policy entropy")
        _accuracy_panel(drawn, axes[r, 1], inp, model, FLIP)
    _mark_empty(axes, "no flip-test run")
    return drawn


def grid_points(inp: FigureInputs, model: str = "qwen3_4b") -> list[tuple[float, float, str, float]]:
    """(beta_pos, beta_neg, method, final avg accuracy %) of every grid method evaluated under ``asymgrpo``."""
    out = []
    for method, preset in inp.methods.items():
        params = (preset or {}).get("params") or {}
        if not GRID.match(method) or "beta_pos" not in params or "beta_neg" not in params:
            continue
        curve, _ = accuracy_curve(inp.metrics, protocol="asymgrpo", model=model, method=method,
                                  benchmarks=BENCHMARKS, dataset=DATASET, with_base=False)
        if not curve.empty:
            out.append((float(params["beta_pos"]), float(params["beta_neg"]), method, float(curve.iloc[-1])))
    return sorted(out)


def fig4(inp: FigureInputs) -> Drawn:
    model = "qwen3_4b"
    drawn, axes = new_figure(1, 4, f"AsymGRPO Fig. 4: {inp.model(model)}")
    _log_panel(drawn, axes[0, 0], inp, model, TABLE2, "reward_mean", "(a) training reward")
    _log_panel(drawn, axes[0, 1], inp, model, TABLE2, "entropy", "(b) policy entropy")
    _accuracy_panel(drawn, axes[0, 2], inp, model, TABLE2, protocol="asymgrpo")  # §4's runs: Table 2's protocol
    ax = axes[0, 3]
    ax.set_title("(d) avg accuracy over (β_pos, β_neg)", fontsize=9)
    points = grid_points(inp, model)
    if points:
        pos, neg = sorted({p[0] for p in points}), sorted({p[1] for p in points})
        grid = np.full((len(pos), len(neg)), np.nan)
        for bp, bn, method, value in points:
            grid[pos.index(bp), neg.index(bn)] = value
            drawn.add("grid", [bp], [value], model=model, dataset=DATASET, method=method, series=f"beta_neg={bn}",
                      source="metrics.json protocol asymgrpo, last step (x = beta_pos, y = avg accuracy %)")
        img = ax.imshow(grid, cmap="viridis", origin="lower", aspect="auto")
        ax.set_yticks(range(len(pos)), [str(p) for p in pos])
        ax.set_xticks(range(len(neg)), [str(n) for n in neg])
        ax.set_ylabel("β_pos", fontsize=8)
        ax.set_xlabel("β_neg", fontsize=8)
        for i in range(len(pos)):
            for j in range(len(neg)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=7, color="w")
        drawn.fig.colorbar(img, ax=ax, fraction=0.046)
        ref = [v for v in getattr(inp.references.get("asymgrpo/fig4"), "values", ()) if v.value is not None]
        if ref:
            ax.set_title("(d) avg acc.; paper " + ", ".join(f"{v.paper_row} = {v.value}" for v in ref), fontsize=8)
    _mark_empty(axes, "enable experiment asymgrpo_beta_grid" if not points else "no run")
    return drawn


FIGURES = {"fig2": fig2, "fig3": fig3, "fig4": fig4}
