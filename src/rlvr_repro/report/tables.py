"""Turn the tidy metrics frame into one paper table: pick checkpoints, aggregate seeds, add Avg.

``build_table(metrics, spec)`` returns a ``ResultTable``: rows grouped in model blocks (the papers'
layout: the base model first, then the methods in the order the spec lists them), one ``Cell`` per
(row, column) holding the per-seed values. Rendering (percentages, ± std, bold, "–") lives in
``rlvr_repro.report.writers``; this module only decides *which numbers* go in the table.

Checkpoint choice per run (``spec.step``):
  - ``last``: the highest evaluated step of that run among the table's benchmarks;
  - ``best``: the step with the highest mean over the table's columns, preferring steps where more
    columns exist (selection on the evaluation set itself: optimistic, say so in the caption);
  - an integer: that step; ``all``: one row per evaluated step.
The base model (subject ``base-{model}``) is always step 0 and shown as the row "base".

Rows: runs that differ only in seed form one row; a method trained on several datasets (and not
narrowed by the spec's ``datasets``) gets one row per dataset, labelled "method (dataset)".
Seeds: a cell's mean is the mean over seeds and its std the sample standard deviation (ddof=1) when
there is more than one seed. An Avg cell averages each
seed's values over the table's benchmarks first (only seeds with every benchmark) and then
aggregates over seeds like any other cell, so it equals the mean of the row's displayed means.
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass, field

import pandas as pd

from rlvr_repro.report.collect import BASE_METHOD, FULL_SET, LIFT
from rlvr_repro.report.specs import ALL, Column, Labels, PaperTable, TableSpec, avg_column_id


class MissingCellsWarning(UserWarning):
    """Some cells of a table have no evaluation result (shown as "–")."""


@dataclass(frozen=True)
class Cell:
    """The per-seed values (fractions) behind one table cell and the samples per problem ``n``."""

    values: tuple[float, ...]
    ns: tuple[int, ...] = ()
    ci: tuple[float, float] | None = None  # lift@n of one run: its paired-bootstrap 95 % CI

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    @property
    def std(self) -> float | None:
        return statistics.stdev(self.values) if len(self.values) > 1 else None


@dataclass
class Row:
    """One table row: a method (or the base model) of one model block, optionally at one step."""

    model: str
    method: str
    dataset: str | None
    step: int | None                     # set only when the spec shows all steps
    subjects: tuple[str, ...] = ()       # the runs (seeds) aggregated in this row
    steps: tuple[int, ...] = ()          # checkpoint chosen for each subject
    cells: dict[str, Cell] = field(default_factory=dict)
    paper: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    show_dataset: bool = False           # the same method was trained on several datasets

    @property
    def is_base(self) -> bool:
        return self.method == BASE_METHOD

    def label(self, labels: Labels) -> str:
        text = labels.method(self.method)
        return f"{text} ({self.dataset})" if self.show_dataset else text


@dataclass
class ResultTable:
    """A built table, ready for the writers."""

    spec: TableSpec
    columns: list[Column]
    avg_columns: list[str]
    rows: list[Row]
    labels: Labels
    missing: list[str]
    has_paper: bool
    paper_decimals: int = 2               # how the paper prints its numbers (its "paper" columns)
    paper_notes: list[str] = field(default_factory=list)   # notes of the paper rows this table shows

    @property
    def column_ids(self) -> list[str]:
        return [c.id for c in self.columns] + self.avg_columns


def _ordered_unique(values) -> list:
    out = []
    for v in values:
        if v not in out and v is not None and not (isinstance(v, float) and math.isnan(v)):
            out.append(v)
    return out


def _columns(spec: TableSpec, df: pd.DataFrame) -> list[Column]:
    if spec.benchmarks == ALL:
        full = df[df.subset == FULL_SET]
        benches = [(b, FULL_SET) for b in _ordered_unique(full.benchmark)]
    else:
        benches = [tuple(b.split(":", 1)) if ":" in b else (b, FULL_SET) for b in spec.benchmarks]
    return [Column(b, s, m) for b, s in benches for m in spec.metrics]


def _methods_for(spec: TableSpec, model: str, df: pd.DataFrame) -> list[str]:
    methods = spec.methods_by_model.get(model, spec.methods)
    if methods != ALL:
        return list(methods)
    found = _ordered_unique(df[df.model == model].method)
    return ([BASE_METHOD] if BASE_METHOD in found else []) + [m for m in found if m != BASE_METHOD]


def _lookup(sub: pd.DataFrame) -> dict[tuple, tuple[float, int]]:
    """(subject, step, column id) -> (value, n) for quick cell filling."""
    out = {}
    for r in sub.itertuples(index=False):
        col = Column(r.benchmark, r.subset, r.metric).id
        out[(r.subject, int(r.step), col)] = (float(r.value), int(r.n))
    return out


def _choose_step(spec: TableSpec, subject: str, steps: list[int], values, col_ids: list[str]) -> int | None:
    if not steps:
        return None
    if isinstance(spec.step, int):
        return spec.step if spec.step in steps else None
    if spec.step == "best":
        def score(step):
            present = [values[(subject, step, c)][0] for c in col_ids if (subject, step, c) in values]
            return (len(present), math.fsum(present) / len(present) if present else 0.0, -step)
        return max(steps, key=score)
    return max(steps)  # "last"


def _fill(row: Row, picks: list[tuple[str, int]], values, columns: list[Column], spec: TableSpec) -> None:
    row.subjects = tuple(s for s, _ in picks)
    row.steps = tuple(st for _, st in picks)
    for col in columns:
        found = [values[(s, st, col.id)] for s, st in picks if (s, st, col.id) in values]
        if found:
            ci = None
            if col.metric == LIFT and len(picks) == 1:
                s, st = picks[0]
                bounds = [values.get((s, st, f"{col.id}_{side}")) for side in ("lo", "hi")]
                ci = None if None in bounds else (bounds[0][0], bounds[1][0])
            row.cells[col.id] = Cell(tuple(v for v, _ in found), tuple(n for _, n in found), ci)
    if not spec.avg:
        return
    for metric in spec.metrics:
        metric_cols = [c.id for c in columns if c.metric == metric]
        if not metric_cols:
            continue
        per_seed = []
        for s, st in picks:
            vals = [values.get((s, st, c)) for c in metric_cols]
            if any(v is None for v in vals):
                per_seed = []
                break
            per_seed.append(math.fsum(v for v, _ in vals) / len(vals))
        if per_seed:
            row.cells[avg_column_id(metric)] = Cell(tuple(per_seed))


def _rows_for(spec: TableSpec, model: str, method: str, sub: pd.DataFrame, values,
              columns: list[Column]) -> list[Row]:
    """Rows of one (model, method): one per training set (normally one), or per step for ``all``."""
    datasets = _ordered_unique(sub.dataset) if method != BASE_METHOD else []
    if len(datasets) <= 1:
        return _rows_for_dataset(spec, model, method, datasets[0] if datasets else None, sub,
                                 values, columns, show_dataset=False)
    rows = []
    for dataset in datasets:
        rows += _rows_for_dataset(spec, model, method, dataset, sub[sub.dataset == dataset],
                                  values, columns, show_dataset=True)
    return rows


def _rows_for_dataset(spec: TableSpec, model: str, method: str, dataset: str | None, sub: pd.DataFrame,
                      values, columns: list[Column], *, show_dataset: bool) -> list[Row]:
    col_ids = [c.id for c in columns]
    subjects = _ordered_unique(sub.subject)
    steps_of = {s: sorted(set(sub[sub.subject == s].step.astype(int))) for s in subjects}
    if spec.step == "all" and method != BASE_METHOD:
        rows = []
        for st in sorted({st for steps in steps_of.values() for st in steps}):
            row = Row(model, method, dataset, st, show_dataset=show_dataset)
            _fill(row, [(s, st) for s in subjects if st in steps_of[s]], values, columns, spec)
            rows.append(row)
        return rows or [Row(model, method, dataset, None, show_dataset=show_dataset)]
    row = Row(model, method, dataset, 0 if spec.step == "all" else None, show_dataset=show_dataset)
    picks = []
    for s in subjects:
        chosen = 0 if method == BASE_METHOD else _choose_step(spec, s, steps_of[s], values, col_ids)
        if chosen is not None:
            picks.append((s, chosen))
    _fill(row, picks, values, columns, spec)
    return [row]


def _missing(rows: list[Row], col_ids: list[str], labels: Labels) -> list[str]:
    out = []
    for row in rows:
        name = f"{labels.model(row.model)} / {row.label(labels)}"
        if row.step is not None:
            name += f" @ step {row.step}"
        if not row.subjects:
            out.append(f"{name}: no evaluated run")
            continue
        for col in col_ids:
            if row.is_base and col.endswith("/" + LIFT):
                continue  # the base model has no lift over itself
            cell = row.cells.get(col)
            if cell is None:
                out.append(f"{name}: {col}")
            elif len(cell.values) < len(row.subjects) and not col.startswith("avg/"):
                out.append(f"{name}: {col} has {len(cell.values)} of {len(row.subjects)} seeds")
    return out


def build_table(metrics: pd.DataFrame, spec: TableSpec, *, labels: Labels | None = None,
                paper: PaperTable | None = None, warn: bool = True) -> ResultTable:
    """Select, aggregate and decorate the numbers of one table (see the module docstring).

    Missing cells never raise: they are left out of ``Row.cells`` (rendered "–"), listed in
    ``ResultTable.missing`` and reported in one ``MissingCellsWarning``.
    """
    labels = (labels or Labels()).merged(spec.labels)
    df = metrics[metrics.protocol == spec.protocol]
    if spec.datasets is not None:
        df = df[(df.method == BASE_METHOD) | df.dataset.isin(spec.datasets)]
    columns = _columns(spec, df)
    bench_keys = {(c.benchmark, c.subset) for c in columns}
    in_table = df[pd.Series([(b, s) in bench_keys for b, s in zip(df.benchmark, df.subset)],
                            index=df.index, dtype=bool)]
    values = _lookup(in_table)
    models = _ordered_unique(df.model) if spec.models == ALL else list(spec.models)
    rows: list[Row] = []
    for model in models:
        for method in _methods_for(spec, model, df):
            sub = in_table[(in_table.model == model) & (in_table.method == method)]
            for row in _rows_for(spec, model, method, sub, values, columns):
                if paper is not None:
                    row.paper = paper.lookup(model, method)
                rows.append(row)
    avg_columns = [avg_column_id(m) for m in spec.metrics] if spec.avg and columns else []
    table = ResultTable(spec, columns, avg_columns, rows, labels, [], paper is not None,
                        paper.decimals if paper is not None else 2)
    table.missing = _missing(rows, table.column_ids, labels)
    if paper is not None:
        shown = {(r.model, r.method) for r in rows}
        table.paper_notes = [f"{labels.model(p.model)} / {labels.method(p.method)}: {p.note}"
                             for p in paper.rows if p.note and (p.model, p.method) in shown]
    if warn and table.missing:
        shown = "\n  ".join(table.missing[:50])
        more = f"\n  ... and {len(table.missing) - 50} more" if len(table.missing) > 50 else ""
        warnings.warn(MissingCellsWarning(
            f"table {spec.id}: {len(table.missing)} missing cell(s) shown as '–':\n  {shown}{more}"
        ), stacklevel=2)
    return table


def table_subjects(spec: TableSpec, run_info: dict[str, dict]) -> list[str]:
    """Evaluation subjects (run ids and ``base-{model}``) a table reads, for Snakemake input functions.

    ``run_info`` maps run ids to {model, dataset, method, seed}. Specs with ``all`` for models or
    methods take every run that matches the other filters.
    """
    out: list[str] = []
    for run_id, info in run_info.items():
        if spec.models != ALL and info["model"] not in spec.models:
            continue
        methods = spec.methods_by_model.get(info["model"], spec.methods)
        if methods != ALL and info["method"] not in methods:
            continue
        if spec.datasets is not None and info["dataset"] not in spec.datasets:
            continue
        out.append(run_id)
    models = spec.models if spec.models != ALL else _ordered_unique(i["model"] for i in run_info.values())
    for model in models:
        methods = spec.methods_by_model.get(model, spec.methods)
        if methods == ALL or BASE_METHOD in methods:
            out.append(f"base-{model}")
    return out
