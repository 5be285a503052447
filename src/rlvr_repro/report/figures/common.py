"""Shared pieces of the paper figures: the figure writer (PNG + the plotted numbers as CSV), curves
averaged over seeds, EMA smoothing, and honest panels.

Every figure function returns a :class:`Drawn`: the matplotlib Figure and the rows it plotted, in one
long format (``CSV_COLUMNS``), so ``fig{N}.csv`` holds exactly the numbers on the image. A series the
figure expects but has no data for is named on its panel ("missing: GRPO, ...") and gets one CSV row
with ``series`` = ``missing`` and empty x / y, so neither the image nor the CSV blanks silently. The
figure is always written, so the workflow's declared outputs exist and say what is missing.

Curves take their colour from ``rlvr_repro.report.style`` (one colour per method preset in every
figure). A curve against training step with only two evaluated points (typically the base model and
the last checkpoint) is drawn as points: a line between them would suggest a trajectory never measured.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from rlvr_repro.io import write_text
from rlvr_repro.report.collect import BASE_METHOD, FULL_SET
from rlvr_repro.report.plots import _save, draw_series
from rlvr_repro.report.style import method_color

CSV_COLUMNS = ["panel", "model", "dataset", "method", "series", "x", "y", "n_runs", "source"]
MISSING = "missing"


@dataclass
class Drawn:
    fig: Figure
    rows: list[dict] = field(default_factory=list)

    def add(self, panel: str, xs, ys, *, model=None, dataset=None, method=None, series="", n_runs=None,
            source="") -> None:
        for x, y in zip(xs, ys):
            self.rows.append({"panel": panel, "model": model, "dataset": dataset, "method": method,
                              "series": series, "x": float(x), "y": float(y), "n_runs": n_runs, "source": source})

    def curve(self, ax, panel: str, xs, ys, *, method: str, label: str, series: str, source: str, model=None,
              dataset=None, n_runs=None, style: str = "-", color: str | None = None, steps: bool = True) -> None:
        """Draw one series in ``method``'s colour and record its numbers (``plots.draw_series``: a step
        curve of two points is drawn as points)."""
        draw_series(ax, xs, ys, color=color if color is not None else method_color(method), label=label, style=style, steps=steps)
        self.add(panel, xs, ys, model=model, dataset=dataset, method=method, series=series, n_runs=n_runs,
                 source=source)

    def missing(self, ax, panel: str, absent: list[tuple[str | None, str]], *, why: str = "", model=None,
                dataset=None) -> None:
        """Name the expected series ``absent`` ((method, display name) pairs) on the panel and in the CSV."""
        if not absent:
            return
        text = "missing: " + ", ".join(label for _, label in absent) + (f"\n({why})" if why else "")
        if ax.lines or ax.images or ax.patches or ax.collections:
            ax.text(0.02, 0.02, _wrapped(text, 60), ha="left", va="bottom", fontsize=6, color="dimgray",
                    transform=ax.transAxes, zorder=5, bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
        else:
            empty(ax, text)
        for method, label in absent:
            self.rows.append({"panel": panel, "model": model, "dataset": dataset, "method": method,
                              "series": MISSING, "x": float("nan"), "y": float("nan"), "n_runs": 0,
                              "source": f"missing: {label}" + (f" ({why})" if why else "")})


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


def _wrapped(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width) for line in text.split("\n"))


def empty(ax, why: str) -> None:
    ax.text(0.5, 0.5, _wrapped(f"no results yet:\n{why}", 48), ha="center", va="center", fontsize=7, color="gray",
            transform=ax.transAxes)


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


def diagnostic_curve(diags: pd.DataFrame, value, *, protocol: str, model: str, method: str,
                     max_step: int | None = None, with_base: bool = False,
                     benchmark: str | None = None) -> tuple[pd.Series, int]:
    """``value(doc)`` (None: the cell has no value) of the diagnostics cells of (protocol, model, method)
    against step: per run and step the mean over the cell's benchmarks (only ``benchmark``'s when given),
    then the mean over seeds; ``with_base`` puts the base model's cells at step 0. Returns (curve, n_runs)."""
    d = diags[(diags.protocol == protocol) & (diags.model == model)] if len(diags) else diags
    if benchmark is not None and len(d):
        d = d[d.benchmark == benchmark]
    if not len(d):
        return pd.Series(dtype=float), 0
    frame = pd.DataFrame({"subject": d.subject.to_numpy(), "method": d.method.to_numpy(), "step": d.step.to_numpy(),
                          "v": pd.to_numeric(pd.Series([value(doc) for doc in d.doc]), errors="coerce").to_numpy()})
    frame = frame[frame.v.notna()]
    if max_step is not None:
        frame = frame[frame.step <= max_step]
    runs = frame[frame.method == method]
    if runs.empty:
        return pd.Series(dtype=float), 0
    curve = runs.groupby(["subject", "step"]).v.mean().groupby(level="step").mean()
    base = frame[frame.method == BASE_METHOD]
    if with_base and len(base) and 0 not in curve.index:
        curve = pd.concat([pd.Series({0: base.v.mean()}), curve])
    return curve.sort_index(), int(runs.subject.nunique())


def write_figure(drawn: Drawn, stem: Path) -> list[Path]:
    """``{stem}.png`` and ``{stem}.csv`` (the plotted numbers), both written atomically."""
    stem = Path(stem)
    png = _save(drawn.fig, stem.with_suffix(".png"))
    frame = pd.DataFrame(drawn.rows, columns=CSV_COLUMNS)
    csv = write_text(stem.with_suffix(".csv"), frame.to_csv(index=False, lineterminator="\n"))
    return [png, csv]
