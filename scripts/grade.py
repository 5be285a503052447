"""Snakemake entry point: grade one benchmark's generations (rlvr_repro.evaluate.grading)."""
import json

from rlvr_repro.evaluate.grading import grade_generations
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    counts = grade_generations(snakemake.input.generations, snakemake.output[0],
                               benchmark=snakemake.params.benchmark, grader=snakemake.params.grader,
                               workers=max(1, min(int(snakemake.params.workers), snakemake.threads)),
                               timeout=float(snakemake.params.timeout))
    print(json.dumps(counts))
