"""Snakemake entry point: the generated local sources the config names (rlvr_repro.data.fixtures)."""
from pathlib import Path

from rlvr_repro.data.fixtures import write_local_fixtures
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    written = write_local_fixtures(Path(snakemake.output[0]).parent, int(snakemake.params.seed),
                                   names=snakemake.params.names, **dict(snakemake.params.sizes))
    missing = sorted(set(map(str, snakemake.output)) - {str(p) for p in written.values()})
    if missing:
        raise RuntimeError(f"fixture writer did not produce {missing}")
