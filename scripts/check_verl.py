"""Snakemake entry point: login-node check of one verl override set (rlvr_repro.integrations.verl.check)."""
from rlvr_repro.config import validate_config
from rlvr_repro.integrations.verl.check import override_sets, run_check
from rlvr_repro.io import write_json
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    # rebuilt from the config rather than passed as params: a params change would re-run the check and,
    # through Snakemake's handling of `ancient` inputs, hold back the runs waiting on it (check.py)
    sets = override_sets(validate_config(dict(snakemake.config)))
    write_json(snakemake.output[0], run_check(**sets[snakemake.wildcards.check]))
