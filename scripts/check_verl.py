"""Snakemake entry point: login-node check of one verl override set (rlvr_repro.integrations.verl.check)."""
from rlvr_repro.integrations.verl.check import run_check
from rlvr_repro.io import write_json
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    write_json(snakemake.output[0], run_check(**snakemake.params.check))
