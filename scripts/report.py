"""Snakemake entry point: the self-contained HTML report (rlvr_repro.report.html)."""
import json
from pathlib import Path

from rlvr_repro.report.build import write_html
from rlvr_repro.report.provenance import git_commit, package_versions, protocol_graders
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    plots = json.loads(Path(snakemake.input.plots).read_text())
    # EGPO-style entropy histograms of each evaluated cell (rule diagnostics): folded away below the plots
    histograms = [str(Path(p).with_name("entropy.png")) for p in snakemake.input.diagnostics]
    write_html(Path(snakemake.output[0]),
               table_files=[p for p in [*snakemake.input.tables, *snakemake.input.diag_tables] if p.endswith(".md")],
               plot_files=plots, plots_root=Path(snakemake.input.plots).parent,
               figure_files=[p for p in snakemake.input.figures if p.endswith(".png")],
               detail_plot_files=histograms, papers=dict(snakemake.params.papers),
               git_commit=git_commit(snakemake.params.repo),
               packages={**package_versions(), **protocol_graders(snakemake.config.get("protocols"))},
               config_files=list(snakemake.params.config_files),
               run_specs=[Path(p).parent / "run.json" for p in snakemake.input.trained],
               manifests=dict(zip(snakemake.params.datasets, snakemake.input.manifests)))
