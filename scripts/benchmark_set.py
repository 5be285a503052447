"""Snakemake entry point: a protocol's benchmark files listed in one file (rlvr_repro.data.benchmark_sets)."""
from rlvr_repro.data.benchmark_sets import write_benchmark_set
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    doc = write_benchmark_set(dict(zip(snakemake.params.names, snakemake.input)), snakemake.output[0])
    for entry in doc["benchmarks"]:
        print(f"{entry['name']}: {entry['rows']} rows, sha256 {entry['sha256']}")
