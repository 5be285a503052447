"""Grades and metrics of evaluation cells: the CPU stages, without torch or transformers.

The rule ``score_{protocol}`` calls :func:`run_scoring` once per checkpoint (scripts/score.py); the
command line (``python -m rlvr_repro.evaluate.cli grade|metrics``) reaches the same functions through
``evaluate.stages``. Kept apart from ``stages`` so a score job starts without loading torch (~2.4 s).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from rlvr_repro.evaluate.grading import DEFAULT_GRADER, DEFAULT_TIMEOUT_S, grade_generations
from rlvr_repro.evaluate.metrics import paired_lift, summarize
from rlvr_repro.evaluate.protocols import resolve, validate_protocol
from rlvr_repro.io import read_jsonl, write_json


def run_metrics(grades: str | Path, benchmark_file: str | Path, out: str | Path, *,
                protocol_name: str, protocol: dict, subject: str, step: int | str,
                benchmark: str | None = None, family: str = "generic", model: str | None = None,
                base_grades: str | Path | None = None, base_subject: str | None = None) -> dict:
    """metrics.json of one (protocol, subject, step, benchmark) cell. With ``base_grades`` (a trained
    checkpoint's cell) also ``lift_vs_base``: its paired gain over the base model on the same problems."""
    bench_rows = read_jsonl(benchmark_file)
    if not bench_rows:
        raise ValueError(f"{benchmark_file}: no benchmark rows")
    benchmark = benchmark or bench_rows[0].get("benchmark")
    spec = validate_protocol(protocol_name, protocol)
    resolved = resolve(spec, benchmark, family, model)  # n / k_list / trials
    step = int(str(step).removeprefix("step_"))
    grade_rows = read_jsonl(grades)
    metrics = summarize(grade_rows, bench_rows, resolved, benchmark=benchmark, subject=subject, step=step)
    if base_grades is not None:
        if not base_subject:
            raise ValueError(f"{out}: base_grades given without base_subject")
        metrics["lift_vs_base"] = paired_lift(grade_rows, read_jsonl(base_grades), base_subject=base_subject)
    write_json(out, metrics)
    return metrics


def read_score(path: str | Path) -> list[dict]:
    """The cells a checkpoint's score.json (:meth:`rlvr_repro.plan.Plan.score_marker`) lists:
    ``benchmark``, ``grades``, ``metrics`` paths and grading counts."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a score file of rlvr_repro.evaluate.scoring ({exc!r})") from None
    if not isinstance(cells, list):
        raise ValueError(f"{path}: cells is a {type(cells).__name__}, not a list")
    bad = [i for i, c in enumerate(cells) if not isinstance(c, dict) or not {"benchmark", "grades", "metrics"} <= set(c)]
    if bad:
        raise ValueError(f"{path}: cells {bad} lack benchmark/grades/metrics")
    return cells


def run_scoring(cells: Sequence[dict], done: str | Path, *, protocol_name: str, protocol: dict, subject: str,
                step: int | str, family: str = "generic", model: str | None = None,
                base_score: str | Path | None = None, base_subject: str | None = None,
                grader: str = DEFAULT_GRADER, workers: int = 2, timeout: float = DEFAULT_TIMEOUT_S,
                progress: bool = True) -> dict:
    """Grades and metrics of every benchmark of one checkpoint, in one process; ``done`` (its score.json)
    last, listing each cell's files and grading counts.

    One Snakemake job per checkpoint instead of two per cell: a paper config has ~4,200 cells, and
    Snakemake's planning time grows with the number of jobs (benchmarks/bench_dryrun.py), while the
    cells of a checkpoint share one grading worker pool (grading.shared_pool). Each cell:
    ``{benchmark, format, generations, benchmark_file, grades, metrics}``; ``format`` is the grading
    mode (the loader's name). ``base_score``: the base model's score.json under the same protocol, for a
    trained checkpoint's paired lift over it (its grades of the same benchmarks). Every cell is graded
    before any metrics are written, so a grading error leaves no metrics behind."""
    step = int(str(step).removeprefix("step_"))
    base_grades = {}
    if base_score is not None:
        base_grades = {c["benchmark"]: c["grades"] for c in read_score(base_score)}
        missing = [c["benchmark"] for c in cells if c["benchmark"] not in base_grades]
        if missing:
            raise ValueError(f"{base_score}: no base-model grades of {missing}")
    counts = [grade_generations(c["generations"], c["grades"], benchmark=c["format"], grader=grader,
                                workers=workers, timeout=timeout, progress=progress) for c in cells]
    for cell, count in zip(cells, counts):
        run_metrics(cell["grades"], cell["benchmark_file"], cell["metrics"], protocol_name=protocol_name,
                    protocol=protocol, subject=subject, step=step, benchmark=cell["benchmark"], family=family,
                    model=model, base_grades=base_grades.get(cell["benchmark"]), base_subject=base_subject)
    doc = {"protocol": protocol_name, "subject": subject, "step": step, "grader": grader,
           "cells": [{"benchmark": c["benchmark"], "grades": str(c["grades"]), "metrics": str(c["metrics"]),
                      **{k: v for k, v in n.items() if k != "grader"}} for c, n in zip(cells, counts)]}
    write_json(done, doc)
    return doc


def metrics_files(score_files: Sequence[str | Path]) -> list[str]:
    """The metrics.json of every cell that the given score.json files list (what the report rules read: one
    input per checkpoint instead of one per cell keeps Snakemake's planning short)."""
    return [cell["metrics"] for path in score_files for cell in read_score(path)]
