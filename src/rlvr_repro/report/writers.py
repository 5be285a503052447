"""Render a ResultTable as Markdown, LaTeX (booktabs) and CSV, and write all three atomically.

Display rules (the papers' style): percentages with 2 decimals; "mean ± std" when a row aggregates
more than one seed; the best value of each column within a model block in bold (ties all bold,
compared at the printed precision, base rows excluded, only when at least two rows compete);
"(+x.xx)" deltas against the block's base row when the spec asks for them; "–" for a missing cell.
The CSV keeps full-precision fractions (mean, std, and the paper's number divided by 100) so other
tools can recompute anything.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rlvr_repro.io import write_text as atomic_write_text
from rlvr_repro.report.collect import LIFT
from rlvr_repro.report.tables import Cell, ResultTable, Row

MISSING = "–"
_METRIC_LABELS = {"mean_pass1": "Pass@1", LIFT: "Lift [95% CI]"}


def pct(value: float) -> str:
    """A fraction printed as a percentage with 2 decimals (73.40 for 0.734)."""
    return f"{100.0 * value:.2f}"


def _metric_label(table: ResultTable, metric: str, col_ids: list[str]) -> str:
    if metric in ("avg@n", "pass@n"):
        ns = {n for row in table.rows for c in col_ids if c in row.cells for n in row.cells[c].ns}
        stem = "Avg" if metric == "avg@n" else "Pass"
        return f"{stem}@{ns.pop()}" if len(ns) == 1 else f"{stem}@n"
    if metric.startswith("pass@"):
        return "Pass@" + metric.split("@", 1)[1]
    return _METRIC_LABELS.get(metric, metric)


def column_headers(table: ResultTable) -> list[str]:
    """Header text of every result column (our columns, then Avg columns)."""
    benches = list(dict.fromkeys(c.bench_id for c in table.columns))
    metrics = list(table.spec.metrics)
    out = []
    for col in table.columns:
        metric = _metric_label(table, col.metric, [col.id])
        bench = table.labels.benchmark(col.bench_id)
        out.append(metric if len(benches) == 1 else bench if len(metrics) == 1 else f"{bench} {metric}")
    for metric in metrics if table.avg_columns else []:
        ids = [c.id for c in table.columns if c.metric == metric]
        out.append("Avg." if len(metrics) == 1 else f"Avg. {_metric_label(table, metric, ids)}")
    return out


def _blocks(table: ResultTable) -> list[list[Row]]:
    blocks: list[list[Row]] = []
    for row in table.rows:
        if blocks and blocks[-1][0].model == row.model:
            blocks[-1].append(row)
        else:
            blocks.append([row])
    return blocks


def best_cells(table: ResultTable) -> set[tuple[int, str]]:
    """(row index, column id) pairs to print in bold."""
    if not table.spec.bold:
        return set()
    index = {id(row): i for i, row in enumerate(table.rows)}
    out = set()
    for block in _blocks(table):
        for col in table.column_ids:
            shown = [(index[id(r)], pct(r.cells[col].mean)) for r in block if not r.is_base and col in r.cells]
            if len(shown) < 2:
                continue
            top = max(float(v) for _, v in shown)
            out |= {(i, col) for i, v in shown if float(v) == top}
    return out


def _base_of(table: ResultTable, row: Row) -> Row | None:
    for r in table.rows:
        if r.model == row.model and r.is_base:
            return r
    return None


def _paper_text(value: float | None, std: float | None, decimals: int) -> str:
    if value is None:
        return MISSING
    return f"{value:.{decimals}f}" + ("" if std is None else f" ± {std:.{decimals}f}")


def cell_parts(table: ResultTable, row: Row, col: str) -> tuple[str, str, str] | None:
    """(mean, std, delta) strings of a cell; None when missing. std/delta may be empty."""
    if row.is_base and col.endswith("/" + LIFT):
        return "", "", ""  # the base model is what the lift is measured from
    cell: Cell | None = row.cells.get(col)
    if cell is None:
        return None
    if col.endswith("/" + LIFT):  # signed points, then the paired-bootstrap 95 % CI of one run
        ci = f" [{100.0 * cell.ci[0]:+.2f}, {100.0 * cell.ci[1]:+.2f}]" if cell.ci else ""
        return f"{100.0 * cell.mean:+.2f}" + ci, "", ""
    std = pct(cell.std) if table.spec.std and cell.std is not None else ""
    delta = ""
    if table.spec.delta_vs_base and not row.is_base:
        base = _base_of(table, row)
        if base is not None and col in base.cells:
            delta = f"{100.0 * (cell.mean - base.cells[col].mean):+.2f}"
    return pct(cell.mean), std, delta


def _column_kinds(table: ResultTable) -> tuple[list[str], list[str]]:
    """Result-column headers and kinds: "ours:<col id>" for our cells, "paper:<col id>" for the
    paper's number, which follows our column when config/paper_numbers.yaml has it."""
    paper_cols = {c for row in table.rows for c in row.paper} if table.has_paper else set()
    headers, kinds = [], []
    for col, header in zip(table.column_ids, column_headers(table)):
        headers.append(header)
        kinds.append(f"ours:{col}")
        if col in paper_cols:
            headers += ["paper", "Δ"]
            kinds += [f"paper:{col}", f"diff:{col}"]
    return headers, kinds


def paper_diff(row: Row, col: str) -> float | None:
    """Ours minus the paper's number, in points (our cell's mean in % minus the printed value)."""
    cell, (value, _) = row.cells.get(col), row.paper.get(col, (None, None))
    return None if cell is None or value is None else 100.0 * cell.mean - value


@dataclass(frozen=True)
class _Style:
    """How one output format escapes text, marks bold and writes ± and a missing cell."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    plus_minus: str
    missing: str


def _render(table: ResultTable, style: _Style) -> tuple[list[str], list[list[str]]]:
    """Header cells and body cells (already escaped and formatted) for a text table format."""
    show_step = table.spec.step == "all"
    result_headers, kinds = _column_kinds(table)
    headers = ["Model", "Method"] + (["Step"] if show_step else []) + result_headers
    bold = best_cells(table)
    body = []
    for i, row in enumerate(table.rows):
        first_of_block = i == 0 or table.rows[i - 1].model != row.model
        out = [table.labels.model(row.model) if first_of_block else "", row.label(table.labels)]
        if show_step:
            out.append("" if row.step is None else str(row.step))
        out = [style.escape(t) for t in out]
        for kind in kinds:
            side, col = kind.split(":", 1)
            if side == "paper":
                out.append(style.escape(_paper_text(*row.paper.get(col, (None, None)), table.paper_decimals)))
                continue
            if side == "diff":
                d = paper_diff(row, col)
                out.append(style.missing if d is None else style.escape(f"{d:+.2f}"))
                continue
            parts = cell_parts(table, row, col)
            if parts is None:
                out.append(style.missing)
                continue
            mean, std, delta = parts
            mean = style.bold(mean) if (i, col) in bold else mean
            out.append(mean + (style.plus_minus + std if std else "") + (f" ({delta})" if delta else ""))
        body.append(out)
    return [style.escape(h) for h in headers], body


def _notes(table: ResultTable) -> str:
    spec = table.spec
    checkpoint = {"last": "last evaluated step of each run", "best": "best step of each run on these columns",
                  "all": "every evaluated step"}.get(spec.step) if isinstance(spec.step, str) \
        else f"step {spec.step}"
    parts = [f"Protocol `{spec.protocol}`; checkpoint: {checkpoint}; values in %"]
    if spec.std:
        parts.append("mean ± std over seeds where a row has several")
    if spec.bold:
        parts.append("bold: best in its column within a model block")
    if spec.delta_vs_base:
        parts.append("(±x) = difference to the base model in points")
    if LIFT in spec.metrics:
        parts.append("Lift = Avg@n minus the base model's on the same problems, in points, with its 95 % "
                     "paired-bootstrap interval over problems (2,000 resamples)")
    if table.has_paper:
        parts.append("'paper' columns: the number the paper reports (config/paper_numbers.yaml); "
                     "Δ: ours minus the paper's, in points")
    parts.append(f"{MISSING}: not evaluated" + (f" ({len(table.missing)} cell(s))" if table.missing else ""))
    text = "; ".join(parts) + "."
    extra = ([spec.note.strip()] if spec.note else []) + [f"Paper: {n}" for n in table.paper_notes]
    return " ".join([text, *(e if e.endswith(".") else e + "." for e in extra)])


def _escape_md(text: str) -> str:
    return text.replace("|", "\\|")


_MARKDOWN = _Style(escape=_escape_md, bold=lambda s: f"**{s}**", plus_minus=" ± ", missing=MISSING)


def to_markdown(table: ResultTable) -> str:
    """GitHub-flavoured Markdown table with a bold title line and a notes line."""
    headers, body = _render(table, _MARKDOWN)
    n_labels = 3 if table.spec.step == "all" else 2
    lines = [f"**{table.spec.paper} / {table.spec.name}**: {_escape_md(table.spec.caption)}", "",
             "| " + " | ".join(headers) + " |",
             "|" + "|".join(["---"] * n_labels + ["---:"] * (len(headers) - n_labels)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body]
    lines += ["", _notes(table), ""]
    return "\n".join(lines)


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "±": r"$\pm$", "α": r"$\alpha$", "β": r"$\beta$", "×": r"$\times$", "≤": r"$\leq$",
    "≥": r"$\geq$", "→": r"$\rightarrow$", "–": "--", "—": "---",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX specials and map the few non-ASCII symbols our labels use to math macros."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


_LATEX = _Style(escape=latex_escape, bold=lambda s: r"\textbf{" + s + "}", plus_minus=r" $\pm$ ",
                missing="--")


def to_latex(table: ResultTable) -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``); \\midrule between blocks."""
    headers, body = _render(table, _LATEX)
    n_labels = 3 if table.spec.step == "all" else 2
    label = f"tab:{table.spec.paper}-{table.spec.name}".replace("_", "-")
    lines = [
        f"% generated by rlvr_repro.report from the table spec {table.spec.id}; do not edit",
        r"\begin{table}[t]", r"\centering",
        r"\caption{" + latex_escape(table.spec.caption) + "}", r"\label{" + label + "}",
        r"\begin{tabular}{" + "l" * n_labels + "r" * (len(headers) - n_labels) + "}",
        r"\toprule", " & ".join(headers) + r" \\", r"\midrule",
    ]
    for i, cells in enumerate(body):
        if i > 0 and table.rows[i].model != table.rows[i - 1].model:
            lines.append(r"\midrule")
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def to_frame(table: ResultTable) -> pd.DataFrame:
    """Wide frame behind the CSV: one row per table row, full-precision fractions per column."""
    records = []
    for row in table.rows:
        rec = {"model": row.model, "method": row.method, "dataset": row.dataset, "step": row.step,
               "subjects": ";".join(row.subjects), "steps": ";".join(map(str, row.steps)),
               "n_seeds": len(row.subjects)}
        for col in table.column_ids:
            cell = row.cells.get(col)
            rec[col] = cell.mean if cell else None
            rec[f"{col}:std"] = cell.std if cell else None
            rec[f"{col}:n_seeds"] = len(cell.values) if cell else 0
            if col.endswith("/" + LIFT):
                rec[f"{col}:ci_lo"], rec[f"{col}:ci_hi"] = cell.ci if cell and cell.ci else (None, None)
            if table.has_paper:
                value, std = row.paper.get(col, (None, None))
                rec[f"{col}:paper"] = None if value is None else value / 100.0
                rec[f"{col}:paper_std"] = None if std is None else std / 100.0
                d = paper_diff(row, col)
                rec[f"{col}:diff"] = None if d is None else d / 100.0
        records.append(rec)
    return pd.DataFrame(records)


def to_csv(table: ResultTable) -> str:
    """CSV text of ``to_frame`` (empty fields for missing values)."""
    buf = io.StringIO()
    to_frame(table).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def write_table(table: ResultTable, out_prefix: Path) -> list[Path]:
    """Write ``{out_prefix}.md``, ``.tex`` and ``.csv``, each atomically; return the three paths."""
    out_prefix = Path(out_prefix)
    return [
        atomic_write_text(out_prefix.with_name(out_prefix.name + ".md"), to_markdown(table)),
        atomic_write_text(out_prefix.with_name(out_prefix.name + ".tex"), to_latex(table)),
        atomic_write_text(out_prefix.with_name(out_prefix.name + ".csv"), to_csv(table)),
    ]
