"""PNG plots for the report: training curves, pass@k curves, accuracy against training step.

Uses matplotlib's object API with the Agg canvas (no pyplot, no global backend switch), so it works
on headless cluster nodes and does not disturb other code in the process. Every PNG is written
atomically and without a software/version stamp, so re-running on the same inputs gives the same
bytes for the same matplotlib version.

Seeds are averaged (mean per step, or per k) before plotting; the base model is the dashed line and,
in accuracy-vs-step plots, step 0 of every method's curve (docs/CONTRACTS.md). Every method has one
colour and one display name in all plots and figures (``rlvr_repro.report.style``), and a curve
against step with only two points (base and last checkpoint) is drawn as points (:func:`draw_series`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from tqdm import tqdm

from rlvr_repro.io import atomic_write
from rlvr_repro.report.collect import BASE_METHOD, FULL_SET
from rlvr_repro.report.style import method_color, method_label
from rlvr_repro.report.trainkeys import CANONICAL, with_canonical

# Training quantities in the order they are drawn; ``entropy``, ``frac_*_solved`` and ``truncated_frac`` are
# canonical names read from either backend's log keys (rlvr_repro.report.trainkeys); ``diag/*`` follow.
# ``entropy_proxy`` (the local trainer's mean NLL of the sampled tokens) is drawn under its own name:
# it is not the policy entropy.
TRAIN_KEYS = (
    "reward_mean", "response_length_mean", "entropy", "entropy_proxy", "frac_all_solved", "frac_none_solved",
    "truncated_frac", "clip_frac", "kl", "grad_norm", "loss", "lr", "n_groups_kept",
)
# Keys overlaid across methods in the per-(model, dataset) comparison figure (the local leaderboard's
# learning curves), with their panel titles.
COMPARE_KEYS = {
    "reward_mean": "train reward (verifier)",
    "truncated_frac": "truncated responses",
    "entropy": "token entropy (nats)",
    "frac_none_solved_generated": "all-negative groups (generated)",
    "frac_nonzero_adv": "responses with advantage != 0",
    "response_length_mean": "response length (tokens)",
}
# raw keys already drawn under a canonical name
_SHOWN_AS_CANONICAL = {k for name in TRAIN_KEYS for k in CANONICAL.get(name, ())}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None}))


POINTS_ONLY = 2  # a curve against step with at most this many points is drawn as points, not a line


def draw_series(ax, xs, ys, *, color: str, label: str | None, style: str = "-", steps: bool = True) -> None:
    """One curve. ``steps``: x is a training step, and a curve of at most POINTS_ONLY points (the base
    model and the last checkpoint) is drawn as points: a line would suggest a trajectory never measured."""
    xs, ys = list(xs), list(ys)
    if steps and len(xs) <= POINTS_ONLY:
        ax.plot(xs, ys, linestyle="none", marker="o" if style == "-" else "s", markersize=5, color=color,
                label=label)
    else:
        ax.plot(xs, ys, style, marker="o" if len(xs) <= 12 else None, markersize=3, color=color, label=label)


def _has_values(series: pd.Series) -> bool:
    return pd.to_numeric(series, errors="coerce").notna().any()


def plot_training_curves(logs: pd.DataFrame, out_dir: Path) -> list[Path]:
    """One figure per run: a panel per training-log key that has values, ``diag/*`` keys included.

    ``logs`` is ``collect_train_logs``'s frame. Writes ``{out_dir}/{run_id}.png``.
    """
    paths = []
    logs = with_canonical(logs)
    for run_id, run in tqdm(logs.groupby("run_id", sort=False), desc="training curves", unit="run", disable=None):
        diag = sorted(c for c in run.columns if c.startswith("diag/") and c not in _SHOWN_AS_CANONICAL)
        keys = [k for k in (*TRAIN_KEYS, *diag) if k in run.columns and _has_values(run[k])]
        if not keys:
            continue
        ncols = min(4, len(keys))
        nrows = math.ceil(len(keys) / ncols)
        fig = Figure(figsize=(3.6 * ncols, 2.6 * nrows))
        color = method_color(str(run["method"].iloc[0]))
        for i, key in enumerate(keys):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            values = run[["step", key]].dropna()
            draw_series(ax, values["step"], values[key], color=color, label=None)
            ax.set_title(key, fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        fig.suptitle(str(run_id), fontsize=10)
        paths.append(_save(fig, Path(out_dir) / f"{_safe(run_id)}.png"))
    return paths


def plot_training_comparison(logs: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Per (model, dataset): COMPARE_KEYS overlaid, one line per method (mean over seeds per step), the
    legend in a panel of its own (the local leaderboard overlays eleven methods; beyond ten colours the
    line style changes too).

    Writes ``{out_dir}/compare__{model}__{dataset}.png``.
    """
    paths = []
    logs = with_canonical(logs)
    for (model, dataset), group in logs.groupby(["model", "dataset"], sort=False, dropna=False):
        keys = [k for k in COMPARE_KEYS if k in group.columns and _has_values(group[k])]
        if not keys:
            continue
        ncols = min(3, len(keys) + 1)
        nrows = math.ceil((len(keys) + 1) / ncols)
        fig = Figure(figsize=(4.0 * ncols, 2.9 * nrows))
        for i, key in enumerate(keys):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            for method, runs in group.groupby("method", sort=False):
                curve = runs.groupby("step")[key].mean().dropna()
                n_seeds = runs["run_id"].nunique()
                draw_series(ax, curve.index, curve.values, color=method_color(method),
                            label=f"{method_label(method)} ({n_seeds} seed{'s' * (n_seeds > 1)})")
            ax.set_title(COMPARE_KEYS[key], fontsize=9)
            ax.set_xlabel("step", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        legend = fig.add_subplot(nrows, ncols, len(keys) + 1)
        legend.axis("off")
        legend.legend(*fig.axes[0].get_legend_handles_labels(), loc="center", fontsize=7, frameon=False)
        fig.suptitle(f"{model} on {dataset}", fontsize=10)
        paths.append(_save(fig, Path(out_dir) / f"compare__{_safe(model)}__{_safe(dataset)}.png"))
    return paths


def _bench_id(benchmark: str, subset: str) -> str:
    return benchmark if subset == FULL_SET else f"{benchmark}:{subset}"


def _method_label(method: str, dataset, datasets: int) -> str:
    label = method_label(method)
    return f"{label} ({dataset})" if datasets > 1 and method != BASE_METHOD else label


def plot_pass_at_k(metrics: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Pass@k against k (log2 axis) per (protocol, model, benchmark), one line per method at each
    run's last evaluated step, averaged over seeds. Writes
    ``{out_dir}/{protocol}/{model}__{benchmark}.png``; skipped where fewer than two k exist."""
    df = metrics[metrics.metric.str.fullmatch(r"pass@\d+")].copy()
    df["k"] = df.metric.str.slice(5).astype(int)
    df = df[df.step == df.groupby("subject").step.transform("max")]
    paths = []
    for (protocol, model, bench, subset), group in df.groupby(
            ["protocol", "model", "benchmark", "subset"], sort=False):
        if group.k.nunique() < 2:
            continue
        n_datasets = group[group.method != BASE_METHOD].dataset.nunique()
        fig = Figure(figsize=(5.2, 3.6))
        ax = fig.add_subplot(1, 1, 1)
        for (method, dataset), lines in group.groupby(["method", "dataset"], sort=False, dropna=False):
            curve = lines.groupby("k").value.mean() * 100.0
            draw_series(ax, curve.index, curve.values, color=method_color(method), steps=False,
                        style="--" if method == BASE_METHOD else "-", label=_method_label(method, dataset, n_datasets))
        ks = sorted(group.k.unique())
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k")
        ax.set_ylabel("pass@k (%)")
        ax.set_title(f"{model} — {_bench_id(bench, subset)} ({protocol})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        name = f"{_safe(model)}__{_safe(_bench_id(bench, subset))}.png"
        paths.append(_save(fig, Path(out_dir) / _safe(protocol) / name))
    return paths


def plot_accuracy_vs_step(metrics: pd.DataFrame, out_dir: Path, metric: str = "avg@n") -> list[Path]:
    """``metric`` (default avg@n, the mean accuracy over all samples) against training step per
    (protocol, model, benchmark), one line per method (mean over seeds), the base model as step 0 of
    every line and as a dashed horizontal reference. Writes ``{out_dir}/{protocol}/{model}__{benchmark}.png``."""
    df = metrics[(metrics.metric == metric) & (metrics.subset == FULL_SET)]
    paths = []
    for (protocol, model, bench), group in df.groupby(["protocol", "model", "benchmark"], sort=False):
        base = group[group.method == BASE_METHOD]
        base_value = base.value.mean() * 100.0 if len(base) else None
        trained = group[group.method != BASE_METHOD]
        if trained.empty:
            continue
        n_datasets = trained.dataset.nunique()
        fig = Figure(figsize=(5.2, 3.6))
        ax = fig.add_subplot(1, 1, 1)
        for (method, dataset), runs in trained.groupby(["method", "dataset"], sort=False, dropna=False):
            curve = runs.groupby("step").value.mean() * 100.0
            if base_value is not None and 0 not in curve.index:
                curve = pd.concat([pd.Series({0: base_value}), curve])
            draw_series(ax, curve.index, curve.values, color=method_color(method),
                        label=_method_label(method, dataset, n_datasets))
        if base_value is not None:
            ax.axhline(base_value, linestyle="--", color=method_color(BASE_METHOD), linewidth=1,
                       label=method_label(BASE_METHOD))
        ax.set_xlabel("training step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{metric} (%)")
        ax.set_title(f"{model} — {bench} ({protocol})", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        paths.append(_save(fig, Path(out_dir) / _safe(protocol) / f"{_safe(model)}__{_safe(bench)}.png"))
    return paths
