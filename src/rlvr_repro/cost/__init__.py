"""A cost estimate before anything is queued: ``python -m rlvr_repro.cost``.

Per experiment of the merged config (config/*.yaml + ``--configfile``, the files Snakemake reads): runs,
jobs and GPU-hours; what already exists on disk; the Slurm submissions it implies.

    estimate.py      GPU-hours from tokens x model size at a stated throughput, or measured step times
    disk.py          finished runs, complete checkpoints, metrics cells (judged by content)
    submissions.py   jobs / submissions per rule from Snakemake's own dry run
    summary.py       the per-experiment rows
    __main__.py      the command line
"""
