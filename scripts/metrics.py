"""Snakemake entry point: metrics.json of one evaluation cell (rlvr_repro.evaluate.metrics)."""
from rlvr_repro.evaluate.metrics import paired_lift, summarize
from rlvr_repro.evaluate.protocols import resolve, validate_protocol
from rlvr_repro.io import read_jsonl, write_json
from rlvr_repro.models import model_dir
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    w = snakemake.wildcards
    grades = read_jsonl(snakemake.input.grades)
    bench = read_jsonl(snakemake.input.benchmark)
    protocol = validate_protocol(w.protocol, dict(snakemake.params.protocol))
    settings = resolve(protocol, w.benchmark, snakemake.params.family, snakemake.params.model)
    metrics = summarize(grades, bench, settings, benchmark=w.benchmark, subject=w.subject, step=int(w.step))
    if "base_grades" in snakemake.input.keys():  # a trained checkpoint: its gain over the base model
        metrics["lift_vs_base"] = paired_lift(grades, read_jsonl(snakemake.input.base_grades),
                                              base_subject=snakemake.params.base_subject)
    write_json(snakemake.output[0], metrics)
