"""Snakemake entry point: the papers' tables + the tidy metrics CSV (rlvr_repro.report)."""
import warnings
from pathlib import Path

import yaml

from rlvr_repro.evaluate.scoring import metrics_files
from rlvr_repro.report.build import write_metrics_csv, write_paper_tables
from rlvr_repro.report.specs import parse_report_config
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    metrics = metrics_files(snakemake.input.scores)
    warnings.simplefilter("always")  # missing cells are warnings: keep every one in the log
    numbers = yaml.safe_load(Path(snakemake.input.paper_numbers).read_text()) or {}
    report_config = parse_report_config(list(snakemake.params.tables), numbers.get("labels"),
                                        numbers.get("paper_numbers"), numbers.get("reference_values"))
    run_info = dict(snakemake.params.run_info)
    write_paper_tables(metrics, run_info, report_config, "results/tables",
                       only=list(snakemake.params.only))
    write_metrics_csv(metrics, run_info, snakemake.output.tidy)
