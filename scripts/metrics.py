"""Snakemake entry point: metrics.json of one evaluation cell (rlvr_repro.evaluate.metrics)."""
from rlvr_repro.evaluate.metrics import summarize
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
    write_json(snakemake.output[0], metrics)
