"""Snakemake entry point: grades and metrics of every benchmark of one checkpoint, then its score.json
(rlvr_repro.evaluate.scoring.run_scoring)."""
import json

from rlvr_repro.data.benchmark_sets import benchmark_files
from rlvr_repro.evaluate.scoring import run_scoring
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    p, w, i, o = snakemake.params, snakemake.wildcards, snakemake.input, snakemake.output
    files = benchmark_files(i.benchmarks, list(p.benchmarks))
    cells = [dict(benchmark=b, format=fmt, generations=gen, benchmark_file=bench, grades=grades, metrics=metrics)
             for b, fmt, gen, bench, grades, metrics in zip(p.benchmarks, p.formats, i.generations, files,
                                                             o.grades, o.metrics)]
    doc = run_scoring(cells, o.done, protocol_name=p.protocol_name, protocol=dict(p.protocol), subject=w.subject,
                      step=int(w.step), family=p.family, model=p.model, base_score=(list(i.base_score) or [None])[0],
                      base_subject=p.base_subject, grader=p.grader,
                      workers=max(1, min(int(p.workers), snakemake.threads)), timeout=float(p.timeout))
    print(json.dumps(doc["cells"]))
