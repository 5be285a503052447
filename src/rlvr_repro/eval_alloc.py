"""Several evaluation jobs in one Slurm allocation: how their resources are declared so the group asks
for one allocation's worth, not the sum.

Snakemake requests for a group job the *sum* of the resources of the jobs in one topological layer
(and the max over layers; runtime adds up over layers). Several checkpoints' ``generate`` jobs sit in
one layer, so a group of K checkpoints would ask Slurm for K GPUs. A resource *constraint* makes
Snakemake stack a layer's jobs in series instead, but a constraint on ``gpu`` itself (``--resources
gpu=1``) also caps every other job's request (a training job's 8 GPUs become 1), and ``--group-components``
alone packs without serialising. Measured on the single-node Slurm with two fake GPUs
(tests/slurm/start_slurm.sh; tests/workflow/test_slurm_profile.py::test_packed_checkpoints_share_one_gpu):
three 1-GPU jobs grouped without a constraint were submitted as one job asking ``gres:gpu:3`` (pending
forever on the 2-GPU node); with the constraint below, one job asking ``gres:gpu:1`` that ran them one
after another, while an ungrouped 2-GPU job kept its 2 GPUs.

So every evaluation job declares two resources of its own: ``eval_gpus`` (its GPUs) and
``eval_share``, the part, in thousandths, of one evaluation allocation's CPUs and memory
(``resources.generate``) it occupies, the larger of the two fractions (:func:`resources`). The workflow
registers them as *local*-scope resources with a pool of one allocation (:func:`declare`: the
allocation's GPUs, 1000): the global scheduler does not count them across jobs, every group job gets
its own pool, and within a group the jobs that would exceed it together run in turn. Jobs without
these resources (training) are untouched.
"""

from __future__ import annotations

import math

SHARE = "eval_share"
GPUS = "eval_gpus"
FULL = 1000


def share(member: dict, allocation: dict) -> int:
    """Thousandths of ``allocation``'s CPUs and memory (cpus_per_task, mem_mb) that a job with resources
    ``member`` occupies: the larger fraction, at least 1, at most ``FULL``."""
    fractions = [0.0]
    for key in ("cpus_per_task", "mem_mb"):
        have, need = allocation.get(key), member.get(key)
        if need and have:
            fractions.append(int(need) / int(have))
        elif need and not have:
            raise ValueError(f"an evaluation job asks for {key}={need}, which the evaluation allocation "
                             f"(resources.generate) does not have")
    return max(1, min(FULL, math.ceil(FULL * max(fractions) - 1e-9)))


def resources(member: dict, allocation: dict) -> dict:
    """``member`` with ``eval_gpus`` (its GPUs) and ``eval_share`` (:func:`share`) added."""
    gpus = int(member.get("gpu") or 0)
    if gpus > int(allocation.get("gpu") or 0):
        raise ValueError(f"an evaluation job asks for gpu={gpus}, more than the evaluation allocation "
                         f"(resources.generate) has")
    return {**member, GPUS: gpus, SHARE: share(member, allocation)}


def declare(workflow, allocation: dict) -> None:
    """Make ``eval_gpus`` and ``eval_share`` local-scope resources with a pool of one ``allocation`` per
    group job, in every Snakemake process of a cluster run (the login node's, and the ones Slurm starts
    for a group job, which re-read the Snakefile and must stack the same jobs the same way), unless
    ``--resources`` already sets them. A plain local run (main process, no ``--jobs`` for remote nodes)
    ignores groups; it gets no pool, so its jobs run side by side as ``--cores`` allows, as before."""
    workflow.resourcescope(**{SHARE: "local", GPUS: "local"})
    if workflow.is_main_process and workflow.nodes is None:
        return
    for name, pool in ((SHARE, FULL), (GPUS, max(1, int(allocation.get("gpu") or 0)))):
        if name not in workflow.global_resources or workflow.global_resources[name].value is None:
            workflow.register_resource(name, pool)
