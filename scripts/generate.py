"""Snakemake entry point: sample every benchmark of one protocol for one checkpoint (rlvr_repro.evaluate.generate).

The `__main__` guard: vLLM starts its engine in a spawned process where it must (on CPU always, on
GPUs once CUDA is initialised), and a spawned child re-imports this script; unguarded, it would
start generating again."""
from pathlib import Path

from rlvr_repro.data.benchmark_sets import benchmark_files
from rlvr_repro.evaluate.generate import generate_benchmarks
from rlvr_repro.models import model_dir
from rlvr_repro.snakeio import logged

if __name__ == "__main__":
    with logged(snakemake.log[0]):
        model = snakemake.input.model
        # a base model is referenced through its model.json record, a checkpoint through its DONE marker
        path = model_dir(model) if model.endswith("model.json") else str(Path(model).parent)
        protocol = dict(snakemake.params.protocol, name=snakemake.params.protocol_name)
        files = benchmark_files(snakemake.input.benchmarks, list(snakemake.params.benchmarks))
        jobs = list(zip(files, snakemake.output))
        generate_benchmarks(path, jobs, backend=snakemake.params.backend, family=snakemake.params.family,
                            protocol=protocol, seed=snakemake.params.seed, model=snakemake.params.model,
                            resources=dict(snakemake.params.resources),
                            limit=snakemake.params.limit, batch_size=snakemake.params.batch_size)
