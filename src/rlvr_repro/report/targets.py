"""The report's file names, without the code that draws them: what Snakemake plans with.

``workflow/rules/report.smk`` needs the names of every figure and diagnostic table to declare them as
outputs; importing the builders for that would load pandas and matplotlib (~0.8 s) into every
``snakemake -n``. The builders' own registries (``figures.PAPER_FIGURES``, ``diag_tables.DIAG_TABLES``)
must name exactly these (tests/report/test_figures.py checks it).
"""

from __future__ import annotations

from collections.abc import Iterable

FIGURE_NAMES = {"ace": ("fig2", "fig3", "fig4"), "lens": ("fig2", "fig5", "fig6"),
                "egpo": ("fig3", "fig5", "fig6", "fig7", "fig8", "fig9", "figA4"),
                "asymgrpo": ("fig1", "fig2", "fig3", "fig4")}
DIAG_TABLE_NAMES = {"asymgrpo": ("table1",), "egpo": ("table3",)}


class ReportInputError(ValueError):
    """A metrics.json, train_log.jsonl, run spec or report config that cannot be used as is."""


def figure_targets(papers: Iterable[str], root: str = "results/plots") -> list[str]:
    """The PNG and CSV paths of every figure of ``papers`` (papers without figures are skipped)."""
    return [f"{root}/{p}/{n}.{ext}" for p in papers for n in FIGURE_NAMES.get(p, ()) for ext in ("png", "csv")]


def diag_table_targets(papers: Iterable[str], root: str = "results/tables") -> list[str]:
    """The Markdown, LaTeX and CSV paths of every diagnostic table of ``papers``."""
    return [f"{root}/{p}/{n}.{ext}" for p in papers for n in DIAG_TABLE_NAMES.get(p, ()) for ext in ("md", "tex", "csv")]
