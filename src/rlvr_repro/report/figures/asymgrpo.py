"""AsymGRPO figures: Fig. 1 the advantage family, Fig. 2 channel isolation, Fig. 3 the advantage flip
test, Fig. 4 training dynamics on Qwen3-4B with the (beta_pos, beta_neg) grid heatmap.

Test accuracy is the mean avg@n over the five benchmarks (the paper's "average test accuracy", in %),
the base model at step 0. §3's figures (2, 3) read App. G's analysis protocol ``asymgrpo_appg``
(greedy, every 10 steps) and smooth with its ``curve_ema`` (0.7, "to all test accuracy curves":
s_t = 0.7 s_(t-1) + 0.3 x_t); where a panel's runs have no App. G cells they fall back to Table 2's
protocol ``asymgrpo`` (T = 0.4, Avg@5/10), the protocol covering most of the panel's methods winning,
and the methods it lacks are named on the panel. The CSV holds the raw curve (``avg accuracy``) and
the smoothed one (``avg accuracy ema 0.7``).

* fig1 (§2.1, Eq. 5; analytic, no runs): advantage magnitude against group accuracy p for several beta
  (our choice of values: the text names 0.05 and 0.5; beta = 0 is REINFORCE), (a) successful rollouts
  ((1-p)/p)^beta, (b) failed rollouts (p/(1-p))^beta, on p in [0.05, 0.95]; with the flipped curves of
  §3.2 / App. C at beta = 0.5, G = 8 (App. G's group size) on the feasible p = k/G, computed by the
  training estimator itself (``compute_advantages("asymgrpo", flip=...)``): EntDecrease's positive
  channel in (a), EntIncrease's negative channel in (b) (App. C: "as visualized in Fig. 1(a), 1(b)").
* fig2 rows: Qwen2.5-Math-1.5B, Qwen3-4B; columns: (a) policy entropy, (b) test accuracy, (c) all-solved
  and none-solved group fractions (%), (d) the mean log-probability gain of successful rollouts after
  each update (``diag/logprob_gain_correct``). Runs: REINFORCE (0, 0), REINFORCE + entropy
  regularisation (lambda per model), Pos-Only, Neg-Only, and Neg-Only at beta_neg = 0.75 (opt-in).
* fig3: the flip test against GRPO at the closed-form point (beta_pos, beta_neg) = (0.5, 0.5) of Eq. 5
  (§3.2 l. 136-139: "we fix the modulation strength at standard GRPO, (0.5, 0.5)"), i.e. the
  ``asym_p05_n05`` preset (population std, no eps), not the ``grpo`` preset (unbiased std and eps,
  which differs by sqrt(G/(G-1))); EntDecrease, EntIncrease: (a, c) entropy, (b, d) accuracy.
* fig4 (Qwen3-4B, §4): (a) training reward, (b) entropy, (c) accuracy (Table 2's protocol) against step
  for Table 2's methods, (d) the final average accuracy over the (beta_pos, beta_neg) grid (experiment
  asymgrpo_beta_grid; betas read from the method presets), the paper's (0.9, 0.5) = 56.64 in the title.
"""

from __future__ import annotations

import re

import numpy as np

from .common import Drawn, accuracy_curve, ema, finish, log_curve, new_figure, step_axis
from .inputs import FigureInputs

BENCHMARKS = ("math500", "olympiadbench", "aime24", "aime25", "amc23")
S3_MODELS = ("qwen25_math_1_5b", "qwen3_4b")
CHANNEL = {"qwen25_math_1_5b": ("asym_reinforce", "asym_reinforce_entreg", "asym_pos_only", "asym_neg_only",
                                "asym_neg_only_b075"),
           "qwen3_4b": ("asym_reinforce", "asym_reinforce_entreg_qwen3", "asym_pos_only", "asym_neg_only",
                        "asym_neg_only_b075")}
OPT_IN = {"asym_neg_only_b075": " [opt-in experiment asymgrpo_neg075]"}
FLIP_REFERENCE = "asym_p05_n05"  # GRPO's closed form (0.5, 0.5)
FLIP = (FLIP_REFERENCE, "asym_ent_decrease", "asym_ent_increase")
TABLE2 = ("reinforce", "grpo", "grpo_entreg", "grpo_clip_higher", "drgrpo", "asymgrpo")
GRID = re.compile(r"^(asym_p\d{2}_n\d{2}|asymgrpo)$")
DATASET = "math_train"
APPG, TABLE2_PROTOCOL = "asymgrpo_appg", "asymgrpo"
BETAS = (0.0, 0.05, 0.25, 0.5, 0.75)   # Fig. 1's family members (our choice; the text names 0.05 and 0.5)
FLIP_BETA, FLIP_G = 0.5, 8              # §3.2 flips GRPO's (0.5, 0.5); App. G: G = 8 rollouts
P_GRID = np.round(np.linspace(0.05, 0.95, 91), 10)
LOG_SOURCE = "train_log.jsonl"


def family(p: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 5's magnitudes at group accuracy p in (0, 1): (((1-p)/p)^beta, (p/(1-p))^beta)."""
    return ((1.0 - p) / p) ** beta, (p / (1.0 - p)) ** beta


def flipped_points(beta: float = FLIP_BETA, group: int = FLIP_G) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The flipped channels of the training estimator on the feasible accuracies of a group of ``group``:
    (p of EntDecrease's correct rollouts, their advantage, p of EntIncrease's incorrect ones, |advantage|)."""
    import torch

    from rlvr_repro.advantages import compute_advantages

    k = torch.arange(group + 1).repeat_interleave(group)                    # group k has k correct rollouts
    rewards = (torch.arange(group).repeat(group + 1) < k).float()
    mask = torch.ones(rewards.numel(), 1)
    out = {}
    for flip in ("pos", "neg"):
        adv = compute_advantages("asymgrpo", rewards=rewards, index=k.tolist(), response_mask=mask,
                                 beta_pos=beta, beta_neg=beta, flip=flip)[:, 0].reshape(group + 1, group)
        out[flip] = adv
    ks = np.arange(group + 1)
    pos_k, neg_k = ks[ks > 0], ks[ks < group]
    return (pos_k / group, out["pos"][pos_k, 0].numpy().astype(float),
            neg_k / group, -out["neg"][neg_k, group - 1].numpy().astype(float))


def fig1(inp: FigureInputs) -> Drawn:
    import matplotlib

    drawn, axes = new_figure(1, 2, "AsymGRPO Fig. 1: advantage magnitude vs group accuracy p (Eq. 5; analytic)",
                             w=4.6, h=3.4)
    colors = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, len(BETAS)))]
    pos_p, pos_a, neg_p, neg_a = flipped_points()
    panels = (("pos", "(a) successful rollouts: ((1-p)/p)^β", 0, pos_p, pos_a, "asym_ent_decrease"),
              ("neg", "(b) failed rollouts: |A| = (p/(1-p))^β", 1, neg_p, neg_a, "asym_ent_increase"))
    for c, (panel, title, which, fp, fa, flip_method) in enumerate(panels):
        ax = axes[0, c]
        for beta, color in zip(BETAS, colors):
            curve = family(P_GRID, beta)[which]
            name = f"β = {beta:g}" + (" (REINFORCE)" if beta == 0 else " (GRPO)" if beta == 0.5 else "")
            drawn.curve(ax, panel, P_GRID, curve, method=None, label=name, series=f"beta={beta:g}",
                        source="Eq. 5 closed form", color=color, steps=False)
        drawn.curve(ax, panel, fp, fa, method=flip_method,
                    label=f"{inp.method(flip_method)} (flipped, β = {FLIP_BETA:g}, G = {FLIP_G})",
                    series=f"flipped beta={FLIP_BETA:g} G={FLIP_G}", style="--", steps=False,
                    source="compute_advantages('asymgrpo', flip), App. C endpoint extrapolation")
        ax.set_xlabel("group accuracy p", fontsize=8)
        ax.set_ylabel("advantage magnitude", fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.set_ylim(0, 5)
        finish(ax)
    return drawn


def _log_panel(drawn: Drawn, ax, inp: FigureInputs, model: str, methods, quantity: str, ylabel: str,
               *, scale: float = 1.0, style: str = "-", suffix: str = "") -> None:
    absent = []
    for method in methods:
        curve, n = log_curve(inp.logs, quantity, model=model, method=method, dataset=DATASET)
        if curve.empty:
            absent.append((method, inp.method(method) + suffix + OPT_IN.get(method, "")))
            continue
        drawn.curve(ax, f"{model}/{quantity}", curve.index, curve.values * scale, method=method,
                    label=inp.method(method) + suffix, series=quantity, source=LOG_SOURCE, model=model,
                    dataset=DATASET, n_runs=n, style=style)
    step_axis(ax, ylabel, inp.model(model))
    why = "needs train.logprob_gain_diag" if quantity == "logprob_gain_correct" else "no training log"
    drawn.missing(ax, f"{model}/{quantity}", absent, model=model, dataset=DATASET, why=why)


def accuracy_protocol(inp: FigureInputs, model: str, methods) -> str:
    """App. G's protocol unless Table 2's has cells for more of ``methods`` on ``model``."""
    m = inp.metrics
    sel = m[(m.model == model) & m.method.isin(list(methods)) & m.protocol.isin([APPG, TABLE2_PROTOCOL])]
    covered = sel.groupby("protocol").method.nunique()
    return TABLE2_PROTOCOL if covered.get(TABLE2_PROTOCOL, 0) > covered.get(APPG, 0) else APPG


def _accuracy_panel(drawn: Drawn, ax, inp: FigureInputs, model: str, methods, protocol: str | None = None) -> None:
    protocol = protocol or accuracy_protocol(inp, model, methods)
    alpha = inp.curve_ema(protocol)
    panel, src = f"{model}/accuracy", f"metrics.json protocol {protocol}"
    absent = []
    for method in methods:
        curve, n = accuracy_curve(inp.metrics, protocol=protocol, model=model, method=method,
                                  benchmarks=BENCHMARKS, dataset=DATASET)
        if curve.empty:
            absent.append((method, inp.method(method) + OPT_IN.get(method, "")))
            continue
        if alpha is not None:  # the raw curve beside the smoothed one
            drawn.add(panel, curve.index, curve.values, model=model, dataset=DATASET, method=method,
                      series="avg accuracy", n_runs=n, source=src)
        drawn.curve(ax, panel, curve.index, curve.values if alpha is None else ema(curve.values, alpha),
                    method=method, label=inp.method(method), source=src, model=model, dataset=DATASET, n_runs=n,
                    series="avg accuracy" if alpha is None else f"avg accuracy ema {alpha}")
    step_axis(ax, "avg test accuracy (%)" + (f", EMA {alpha}" if alpha is not None else ""),
              f"{inp.model(model)} ({protocol})")
    drawn.missing(ax, panel, absent, model=model, dataset=DATASET, why=f"no {protocol} metrics")


def fig2(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(S3_MODELS), 4, "AsymGRPO Fig. 2: channel isolation")
    for r, model in enumerate(S3_MODELS):
        methods = CHANNEL[model]
        _log_panel(drawn, axes[r, 0], inp, model, methods, "entropy", "(a) policy entropy")
        _accuracy_panel(drawn, axes[r, 1], inp, model, methods)
        _log_panel(drawn, axes[r, 2], inp, model, methods, "frac_all_solved", "(c) groups (%)", scale=100.0,
                   suffix=" all-solved")
        _log_panel(drawn, axes[r, 2], inp, model, methods, "frac_none_solved", "(c) groups (%)", scale=100.0,
                   style="--", suffix=" none-solved")
        _log_panel(drawn, axes[r, 3], inp, model, methods, "logprob_gain_correct", "(d) log-prob gain, correct")
        for ax in axes[r]:
            finish(ax)
    return drawn


def fig3(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(S3_MODELS), 2, "AsymGRPO Fig. 3: advantage flip test (GRPO = closed form (0.5, 0.5))")
    for r, model in enumerate(S3_MODELS):
        _log_panel(drawn, axes[r, 0], inp, model, FLIP, "entropy", "policy entropy")
        _accuracy_panel(drawn, axes[r, 1], inp, model, FLIP)
        for ax in axes[r]:
            finish(ax)
    return drawn


def grid_points(inp: FigureInputs, model: str = "qwen3_4b") -> list[tuple[float, float, str, float]]:
    """(beta_pos, beta_neg, method, final avg accuracy %) of every grid method evaluated under ``asymgrpo``."""
    out = []
    for method, preset in inp.methods.items():
        params = (preset or {}).get("params") or {}
        if not GRID.match(method) or "beta_pos" not in params or "beta_neg" not in params:
            continue
        curve, _ = accuracy_curve(inp.metrics, protocol=TABLE2_PROTOCOL, model=model, method=method,
                                  benchmarks=BENCHMARKS, dataset=DATASET, with_base=False)
        if not curve.empty:
            out.append((float(params["beta_pos"]), float(params["beta_neg"]), method, float(curve.iloc[-1])))
    return sorted(out)


def _grid_panel(drawn: Drawn, ax, inp: FigureInputs, model: str) -> None:
    ax.set_title("(d) avg accuracy over (β_pos, β_neg)", fontsize=9)
    points = grid_points(inp, model)
    if not points:
        drawn.missing(ax, "grid", [(None, "the (β_pos, β_neg) grid")], model=model,
                      why="opt-in experiment asymgrpo_beta_grid")
        return
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


def fig4(inp: FigureInputs) -> Drawn:
    model = "qwen3_4b"
    drawn, axes = new_figure(1, 4, f"AsymGRPO Fig. 4: {inp.model(model)}")
    _log_panel(drawn, axes[0, 0], inp, model, TABLE2, "reward_mean", "(a) training reward")
    _log_panel(drawn, axes[0, 1], inp, model, TABLE2, "entropy", "(b) policy entropy")
    _accuracy_panel(drawn, axes[0, 2], inp, model, TABLE2, protocol=TABLE2_PROTOCOL)  # §4's runs: Table 2's protocol
    _grid_panel(drawn, axes[0, 3], inp, model)
    for ax in axes.flat:
        finish(ax)
    return drawn


FIGURES = {"fig1": fig1, "fig2": fig2, "fig3": fig3, "fig4": fig4}
