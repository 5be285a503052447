"""Per experiment: runs, checkpoints and evaluation cells, what of it exists on disk, and GPU-hours.

Plain Python over the :class:`rlvr_repro.plan.Plan` (the same merged config Snakemake reads), so it
takes a second; the Slurm submissions come from Snakemake's dry run (``submissions.py``).
A run shared by two experiments (e.g. a GRPO baseline) is listed under both; the total counts it once.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from rlvr_repro.advantages import needs_reference
from rlvr_repro.evaluate.protocols import resolve as resolve_protocol
from rlvr_repro.models import params_billions
from rlvr_repro.plan import BASE_PREFIX, GENERATE_TIMING, Plan

from . import disk
from .estimate import Assumptions, eval_cell_gpu_hours, logged_step_times, train_cost


def _has_ref(plan: Plan, run) -> bool:
    """Whether the run keeps a reference policy (advantages.needs_reference, the trainers' rule)."""
    return needs_reference(plan.config["methods"][run.method]["estimator"],
                           use_kl_loss=bool(run.train.get("use_kl_loss")), need_ref=bool(run.train.get("need_ref")))


def run_rows(plan: Plan, workdir: Path, a: Assumptions) -> dict[str, dict]:
    """One row per run: status on disk and GPU-hours (measured when its log has steps)."""
    backend = plan.config["train"].get("backend", "local")
    rows = {}
    for rid, run in plan.runs.items():
        params_b = params_billions(run.model, plan.config["models"][run.model])
        n_gpus = int(run.train.get("nnodes", 1)) * int(run.train.get("gpus_per_node", 1)) if backend == "verl" else 0
        run_dir = Path(workdir) / "results/runs" / rid
        times = logged_step_times(run_dir)
        done = disk.run_finished(workdir, rid)
        cost = train_cost(run.train, params_b, n_gpus=n_gpus, has_ref=_has_ref(plan, run), done=done,
                          step_times=times, a=a)
        ckpts = [s for s in run.steps if disk.checkpoint_complete(workdir, rid, s)]
        rows[rid] = {"experiments": list(run.experiments), "model": run.model, "params_b": params_b,
                     "gpus": n_gpus, "total_steps": int(run.train["total_steps"]), "logged_steps": len(times),
                     "status": "done" if done else ("running" if times else "new"),
                     "checkpoints": len(run.steps), "checkpoints_on_disk": len(ckpts),
                     "train_gpu_hours": cost.gpu_hours_total, "train_gpu_hours_to_go": cost.gpu_hours_to_go,
                     "source": cost.source}
    return rows


def eval_cells(plan: Plan, experiment: str | None = None) -> list[tuple]:
    """The evaluation cells of one experiment (its protocol x its base models and runs), or all."""
    if experiment is None:
        return list(plan.eval_cells())
    exp = plan.experiments[experiment]
    subjects = {BASE_PREFIX + m for m in exp["models"]} | {r for r, run in plan.runs.items() if experiment in run.experiments}
    return [c for c in plan.eval_cells(exp["protocol"]) if c[1] in subjects]


def eval_summary(plan: Plan, workdir: Path, cells: list[tuple], a: Assumptions) -> dict:
    """Evaluation cells on disk and GPU-hours to go. A checkpoint to go is priced at the median
    Snakemake timing of the generate jobs already run for the same protocol and model (their
    ``benchmark:`` files, GENERATE_TIMING) times the allocation's GPUs; without timings, from tokens
    (:func:`eval_cell_gpu_hours`, per missing cell). Grading and metrics run on CPUs and are not counted."""
    ev = plan.config.get("eval") or {}
    on_gpu, limit = ev.get("backend", "vllm") == "vllm", ev.get("limit")
    gpus = int(((plan.config.get("resources") or {}).get("generate") or {}).get("gpu") or 1)
    missing: dict[tuple, list[str]] = {}
    timed: dict[tuple, list[float]] = {}
    present = 0
    for protocol, subject, step, bench in cells:
        if disk.metrics_present(workdir, plan.eval_dir(protocol, subject, step, bench)):
            present += 1
        else:
            missing.setdefault((protocol, subject, step), []).append(bench)
    for protocol, subject, step in dict.fromkeys(c[:3] for c in cells):
        seconds = disk.benchmark_seconds(workdir, GENERATE_TIMING.format(protocol=protocol, subject=subject, step=step))
        if seconds is not None:
            timed.setdefault((protocol, plan.subject_model(subject)), []).append(seconds)
    to_go, unknown, measured = 0.0, set(), 0
    for (protocol, subject, step), benches in missing.items() if on_gpu else ():
        model = plan.subject_model(subject)
        if (protocol, model) in timed:
            to_go += statistics.median(timed[(protocol, model)]) * gpus / 3600
            measured += 1
            continue
        params_b = params_billions(model, plan.config["models"][model])
        for bench in benches:
            size = disk.benchmark_size(workdir, bench)
            if size is None:
                unknown.add(bench)
                continue
            spec = resolve_protocol(plan.protocol(protocol), bench, plan.family(model))
            to_go += eval_cell_gpu_hours(min(size, limit) if limit else size, int(spec["n"]), int(spec["max_tokens"]),
                                         params_b, a)
    return {"cells": len(cells), "cells_on_disk": present, "eval_gpu_hours_to_go": to_go,
            "eval_checkpoints_to_go": len(missing), "eval_checkpoints_measured": measured,
            "benchmarks_not_built": sorted(unknown)}


def summarize(plan: Plan, workdir: Path, a: Assumptions) -> dict:
    """{"experiments": {name: row}, "total": row, "runs": {run id: row}}."""
    runs = run_rows(plan, workdir, a)

    def row(run_ids, cells):
        rs = [runs[r] for r in run_ids]
        return {"runs": len(rs), **{s: sum(r["status"] == s for r in rs) for s in ("done", "running", "new")},
                "checkpoints": sum(r["checkpoints"] for r in rs),
                "checkpoints_on_disk": sum(r["checkpoints_on_disk"] for r in rs),
                "train_gpu_hours": sum(r["train_gpu_hours"] for r in rs),
                "train_gpu_hours_to_go": sum(r["train_gpu_hours_to_go"] for r in rs),
                "measured_runs": sum(r["source"].startswith("measured") for r in rs),
                **eval_summary(plan, workdir, cells, a)}

    exps = {e: row([r for r, v in runs.items() if e in v["experiments"]], eval_cells(plan, e)) for e in plan.experiments}
    return {"experiments": exps, "total": row(list(runs), eval_cells(plan)), "runs": runs}
