"""Shared pieces of the paper figures: the figure writer (PNG + the plotted numbers as CSV), curves
averaged over seeds, EMA smoothing, and an honest empty panel.

Every figure function returns a :class:`Drawn`: the matplotlib Figure and the rows it plotted, in one
long format (``CSV_COLUMNS``), so ``fig{N}.csv`` holds exactly the numbers on the image. A panel
without results says so on the image ("no results yet: ...") and contributes no rows; the figure is
still written, so the workflow's declared outputs exist and their content says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rlvr_repro.io import write_text
from rlvr_repro.report.collect import BASE_METHOD, FULL_SET
from rlvr_repro.report.plots import _save

CSV_COLUMNS = ["panel", "model", "dataset", "method", "series", "x", "y", "n_runs", "source"]


@dataclass
class Drawn:
    fig: Figure
    rows: list[dict] = field(default_factory=list)

    def add(self, panel: str, xs, ys, *, model=None, dataset=None, method=None, series="", n_runs=None,
            source="") -> None:
        for x, y in zip(xs, ys):
            self.rows.append({"panel": panel, "model": model, "dataset": dataset, "method": method,
                              "series": series, "x": float(x), "y": float(y), "n_runs": n_runs, "source": source})


def new_figure(nrows: int, ncols: int, title: str, *, w: float = 3.8, h: float = 2.9) -> tuple[Drawn, np.ndarray]:
    fig = Figure(figsize=(w * ncols, h * nrows))
    axes = np.array([[fig.add_subplot(nrows, ncols, r * ncols + c + 1) for c in range(ncols)] for r in range(nrows)])
    fig.suptitle(title, fontsize=10)
    for ax in axes.flat:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    return Drawn(fig), axes


def step_axis(ax, ylabel: str, title: str) -> None:
    ax.set_xlabel("training step", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def empty(ax, why: str) -> None:
    ax.text(0.5, 0.5, f"no results yet:\n{why}", ha="center", va="center", fontsize=8, color="gray",
            transform=ax.transAxes, wrap=True)


def finish(ax) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6)


def ema(values, alpha: float | None) -> np.ndarray:
    """s_0 = x_0, s_t = alpha * s_(t-1) + (1 - alpha) * x_t (AsymGRPO App. G's 0.7); None = unsmoothed."""
    x = np.asarray(values, dtype=float)
    if alpha is None or x.size == 0:
        return x
    out = np.empty_like(x)
    out[0] = x[0]
    for i in range(1, x.size):
        out[i] = alpha * out[i - 1] + (1 - alpha) * x[i]
    return out


def log_curve(logs: pd.DataFrame, quantity: str, *, model: str, method: str, dataset: str | None = None,
              max_step: int | None = None) -> tuple[pd.Series, int]:
    """Mean over seeds per step of canonical ``quantity`` for (model, method[, dataset]); (curve, n_runs)."""
    sel = logs[(logs.model == model) & (logs.method == method)] if len(logs) else logs
    if dataset is not None and len(sel):
        sel = sel[sel.dataset == dataset]
    if max_step is not None and len(sel):
        sel = sel[sel.step <= max_step]
    if not len(sel) or quantity not in sel.columns:
        return pd.Series(dtype=float), 0
    sel = sel[sel[quantity].notna()]
    return sel.groupby("step")[quantity].mean(), int(sel.run_id.nunique())


def accuracy_curve(metrics: pd.DataFrame, *, protocol: str, model: str, method: str, benchmarks,
                   dataset: str | None = None, subset: str = FULL_SET, metric: str = "avg@n",
                   with_base: bool = True) -> tuple[pd.Series, int]:
    """Accuracy (%) against step: per run and step the mean of ``metric`` over ``benchmarks`` (steps with
    every benchmark only: the papers' "average test accuracy"), then the mean over seeds; the base model
    is step 0. Returns (curve, n_runs)."""
    m = metrics[(metrics.protocol == protocol) & (metrics.model == model) & (metrics.metric == metric)
                & (metrics.subset == subset) & metrics.benchmark.isin(list(benchmarks))]
    runs = m[m.method == method]
    if dataset is not None:
        runs = runs[runs.dataset == dataset]
    if runs.empty:
        return pd.Series(dtype=float), 0
    need = len(set(benchmarks))
    per = runs.groupby(["run_id", "step"]).value.agg(["mean", "count"])
    per = per[per["count"] == need]["mean"]
    curve = per.groupby(level="step").mean() * 100.0
    base = m[m.method == BASE_METHOD]
    if with_base and base.benchmark.nunique() == need and 0 not in curve.index:
        curve = pd.concat([pd.Series({0: base.groupby("benchmark").value.mean().mean() * 100.0}), curve])
    return curve.sort_index(), int(runs.run_id.nunique())


def write_figure(drawn: Drawn, stem: Path) -> list[Path]:
    """``{stem}.png`` and ``{stem}.csv`` (the plotted numbers), both written atomically."""
    stem = Path(stem)
    png = _save(drawn.fig, stem.with_suffix(".png"))
    frame = pd.DataFrame(drawn.rows, columns=CSV_COLUMNS)
    csv = write_text(stem.with_suffix(".csv"), frame.to_csv(index=False, lineterminator="\n"))
    return [png, csv]
