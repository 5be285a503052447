"""Snakemake entry point: the papers' figures and diagnostic tables (rlvr_repro.report.figures, .diag_tables)."""
from pathlib import Path

import yaml

from rlvr_repro.evaluate.scoring import metrics_files
from rlvr_repro.report.diag_tables import write_diag_tables
from rlvr_repro.report.figures import FigureInputs, write_figures
from rlvr_repro.report.specs import parse_report_config
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    metrics = metrics_files(snakemake.input.scores)
    numbers = yaml.safe_load(Path(snakemake.input.paper_numbers).read_text()) or {}
    report = parse_report_config([], numbers.get("labels"), None, numbers.get("reference_values"))
    logs = {Path(p).parent.name: Path(p).parent / "train_log.jsonl" for p in snakemake.input.trained}
    inp = FigureInputs.read(metrics, logs, snakemake.input.diagnostics,
                            dict(snakemake.params.run_info), protocols=dict(snakemake.params.protocols),
                            methods=dict(snakemake.params.methods), labels=report.labels,
                            references=report.reference_values)
    papers = list(snakemake.params.papers)
    write_figures(inp, papers, Path("results/plots"))
    write_diag_tables(inp, papers, Path("results/tables"))
