"""Snakemake entry point: training curves, pass@k curves, accuracy vs step (rlvr_repro.report)."""
from pathlib import Path

from rlvr_repro.evaluate.scoring import metrics_files
from rlvr_repro.io import write_json
from rlvr_repro.report.build import write_plots
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    metrics = metrics_files(snakemake.input.scores)
    logs = {Path(p).parent.name: Path(p).parent / "train_log.jsonl" for p in snakemake.input.trained}
    out_dir = Path(snakemake.output[0]).parent
    written = write_plots(metrics, logs, dict(snakemake.params.run_info), out_dir)
    write_json(snakemake.output[0], sorted(str(p) for p in written))
