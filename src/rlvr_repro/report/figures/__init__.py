"""The papers' figures, built from our results: ``results/plots/{paper}/fig{N}.png`` + ``fig{N}.csv``.

One module per paper (``ace``, ``lens``, ``egpo``, ``asymgrpo``), each a ``FIGURES`` mapping of figure
number -> function(FigureInputs) -> Drawn. ``write_figures`` draws the figures of the given papers
and writes each PNG with the numbers it plots beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from . import ace, asymgrpo, egpo, lens
from .common import CSV_COLUMNS, Drawn, write_figure
from .inputs import FigureInputs, collect_diagnostics
from ..targets import figure_targets  # noqa: F401 - the names, light (report.smk plans with them)

PAPER_FIGURES = {"ace": ace.FIGURES, "lens": lens.FIGURES, "egpo": egpo.FIGURES, "asymgrpo": asymgrpo.FIGURES}

__all__ = ["CSV_COLUMNS", "Drawn", "FigureInputs", "PAPER_FIGURES", "collect_diagnostics", "figure_targets",
           "write_figures"]


def write_figures(inp: FigureInputs, papers: Iterable[str], out_dir: Path) -> list[Path]:
    written = []
    for paper in papers:
        for number, build in PAPER_FIGURES.get(paper, {}).items():
            written += write_figure(build(inp), Path(out_dir) / paper / number)
    return written
