"""Snakemake entry point: evaluation diagnostics of every benchmark of one checkpoint
(rlvr_repro.evaluate.stages.run_checkpoint_diagnostics: one load of policy and reference)."""
from pathlib import Path

from rlvr_repro.evaluate.stages import run_checkpoint_diagnostics
from rlvr_repro.models import model_dir
from rlvr_repro.plan import BASE_PREFIX
from rlvr_repro.snakeio import logged

with logged(snakemake.log[0]):
    w = snakemake.wildcards
    trained = not w.subject.startswith(BASE_PREFIX)
    policy = str(Path(snakemake.input.policy).parent) if trained else None
    cells = [(gen, grades, out, png, f"{w.subject} step {w.step} · {bench}")
             for bench, gen, grades, out, png in zip(snakemake.params.benchmarks, snakemake.input.generations,
                                                     snakemake.input.grades, snakemake.output.json,
                                                     snakemake.output.png)]
    # ACE eq. 16 (protocols with token_entropy): the entropy of the evaluated model itself, base or checkpoint
    entropy_model = (policy if trained else model_dir(snakemake.input.reference)) \
        if snakemake.params.token_entropy else None
    run_checkpoint_diagnostics(cells, reference_model=model_dir(snakemake.input.reference) if trained else None,
                               policy_model=policy, entropy_model=entropy_model)
