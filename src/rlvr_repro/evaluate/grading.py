"""Grading: is a model response's final answer equivalent to the gold answer?

Public contract (docs/CONTRACTS.md): :func:`grade` ``(response, gold, benchmark) -> bool`` never hangs.
The batch form :func:`grade_many` is what evaluation and the training reward use:

1. extract each response's answer and normalise each gold in the parent (pure string work,
   :mod:`rlvr_repro.evaluate.extract`);
2. de-duplicate identical (answer, gold) pairs — the 32 samples of one problem mostly repeat a
   handful of answers, so 16,000 responses become a few thousand comparisons;
3. settle what exact checks can settle in the parent (:func:`rlvr_repro.evaluate.judge.quick_judge`);
4. send the rest to a :class:`~rlvr_repro.evaluate.pool.GraderPool` where math-verify runs with a
   hard per-comparison deadline. A comparison that runs past it is a *timeout*: it counts as
   incorrect and is reported separately, never silently.

:func:`grade_generations` grades a generations JSONL file (CONTRACTS.md) into a grades JSONL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from rlvr_repro.evaluate.extract import MODES, extract_answer, grading_mode, normalize_gold
from rlvr_repro.evaluate.judge import quick_judge
from rlvr_repro.evaluate.pool import GraderPool, shared_pool
from rlvr_repro.io import read_jsonl, write_jsonl

DEFAULT_TIMEOUT_S = 5.0
STATUSES = ("correct", "incorrect", "no_answer", "timeout", "error")


@dataclass(frozen=True)
class GradeResult:
    """One graded response. ``status`` is one of :data:`STATUSES`; ``extracted`` is the answer
    string read from the response (None when the response states no answer)."""
    correct: bool
    extracted: str | None
    status: str

    @property
    def timed_out(self) -> bool:
        return self.status == "timeout"


def soft_timeout_for(timeout: float) -> int:
    """math-verify's own per-operation timeout inside the worker (whole seconds, SIGALRM):
    about 60% of the hard deadline so a slow comparison usually ends itself before the kill."""
    return max(1, int(timeout * 0.6))


def grade_many(items: Iterable[tuple[str, object]], benchmark: str | None, *, workers: int = 2,
               timeout: float = DEFAULT_TIMEOUT_S, soft_timeout: int | None | str = "auto",
               choices: Sequence[Sequence[str] | None] | None = None, progress: bool = False,
               pool: GraderPool | None = None, mode: str | None = None) -> list[GradeResult]:
    """Grade ``(response, gold)`` pairs of one benchmark (or of one grading ``mode`` given
    directly, as the training reward does for data sources that are not benchmarks).

    ``timeout`` is the hard wall-clock bound per distinct comparison; ``soft_timeout`` is
    math-verify's internal timeout ("auto": :func:`soft_timeout_for`; None disables it, leaving
    only the hard kill). ``choices`` (per item, optional) lets a multiple-choice response that
    boxes an option's text be read as that option's letter. ``pool`` defaults to a process-wide
    pool of ``workers`` processes, started only if some pair needs math-verify.
    """
    if mode is None:
        mode = grading_mode(benchmark)
    elif mode not in MODES:
        raise ValueError(f"unknown grading mode {mode!r}; expected one of {MODES}")
    benchmark = benchmark or mode
    items = list(items)
    if choices is not None and len(choices) != len(items):
        raise ValueError(f"choices has {len(choices)} entries for {len(items)} items")
    soft = soft_timeout_for(timeout) if soft_timeout == "auto" else soft_timeout

    gold_cache: dict[object, str] = {}
    extracted: list[str | None] = []
    golds: list[str] = []
    for k, (response, gold) in enumerate(items):
        key = (type(gold).__name__, str(gold))
        if key not in gold_cache:
            try:
                gold_cache[key] = normalize_gold(gold, mode)
            except ValueError as exc:
                raise ValueError(f"item {k} ({benchmark}): {exc}") from None
        golds.append(gold_cache[key])
        extracted.append(extract_answer(response, mode,
                                        choices=list(choices[k]) if choices and choices[k] else None))

    verdicts: dict[tuple[str, str], tuple[bool, str]] = {}
    need_worker: list[tuple[str, str]] = []
    for pred, gold in zip(extracted, golds):
        if pred is None or (pred, gold) in verdicts:
            continue
        decided = quick_judge(pred, gold, mode)
        if decided is None:
            verdicts[(pred, gold)] = (False, "pending")
            need_worker.append((pred, gold))
        else:
            verdicts[(pred, gold)] = (decided, "ok")
    if need_worker:
        runner = pool if pool is not None else shared_pool(workers)
        outcomes = runner.run([(p, g, mode) for p, g in need_worker], timeout=timeout,
                              soft_timeout=soft, progress=progress)
        for pair, outcome in zip(need_worker, outcomes):
            verdicts[pair] = (outcome.correct, outcome.status)

    results = []
    for pred, gold in zip(extracted, golds):
        if pred is None:
            results.append(GradeResult(False, None, "no_answer"))
            continue
        correct, status = verdicts[(pred, gold)]
        if status in ("timeout", "error"):
            results.append(GradeResult(False, pred, status))
        else:
            results.append(GradeResult(correct, pred, "correct" if correct else "incorrect"))
    return results


def grade(response: str, gold, benchmark: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> bool:
    """True when the response's final answer is equivalent to ``gold`` (docs/CONTRACTS.md contract).

    Returns within about ``timeout`` seconds whatever the input: slow comparisons run in a
    worker process that is killed at the deadline (a timeout counts as incorrect).
    """
    return grade_many([(response, gold)], benchmark, workers=1, timeout=timeout)[0].correct


def grade_rows(generation_rows: Sequence[dict], *, benchmark: str | None = None, workers: int = 2,
               timeout: float = DEFAULT_TIMEOUT_S, progress: bool = True,
               source: str = "generations") -> list[dict]:
    """Grades rows (CONTRACTS.md) for generations rows; all rows must be of one benchmark.

    Each grades row: ``id, correct, timeouts, extracted`` plus ``errors`` (worker failures),
    ``n_tokens`` and ``finish_reasons`` copied from the samples so metrics need only this file.
    """
    if not generation_rows:
        return []
    names = {row.get("benchmark") for row in generation_rows}
    bench = benchmark or (names.pop() if len(names) == 1 else None)
    if bench is None:
        raise ValueError(f"{source}: rows mix benchmarks {sorted(map(str, names))}; pass benchmark=")
    items, choices, spans = [], [], []
    for r, row in enumerate(generation_rows):
        for field in ("id", "answer", "samples"):
            if field not in row:
                raise ValueError(f"{source}: row {r} has no field {field!r}")
        samples = row["samples"]
        if not isinstance(samples, list) or (row.get("n") is not None and len(samples) != row["n"]):
            raise ValueError(f"{source}: row {r} (id {row['id']}): samples must be a list of "
                             f"n={row.get('n')} entries, got {type(samples).__name__} "
                             f"of length {len(samples) if isinstance(samples, list) else '?'}")
        start = len(items)
        for s, sample in enumerate(samples):
            if not isinstance(sample, dict) or not isinstance(sample.get("text"), str):
                raise ValueError(f"{source}: row {r} (id {row['id']}) sample {s}: no text")
            items.append((sample["text"], row["answer"]))
            choices.append(row.get("choices"))
        spans.append((start, len(items)))
    try:
        results = grade_many(items, bench, workers=workers, timeout=timeout, choices=choices,
                             progress=progress)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    out = []
    for row, (a, b) in zip(generation_rows, spans):
        res = results[a:b]
        out.append({
            "id": row["id"],
            "correct": [g.correct for g in res],
            "timeouts": sum(g.status == "timeout" for g in res),
            "errors": sum(g.status == "error" for g in res),
            "extracted": [g.extracted for g in res],
            "n_tokens": [s.get("n_tokens") for s in row["samples"]],
            "finish_reasons": [s.get("finish_reason") for s in row["samples"]],
        })
    return out


def grade_generations(generations_path: str | Path, out_path: str | Path, *,
                      benchmark: str | None = None, workers: int = 2,
                      timeout: float = DEFAULT_TIMEOUT_S, progress: bool = True) -> dict:
    """Grade a generations JSONL into a grades JSONL (written atomically). Returns counts."""
    rows = read_jsonl(generations_path)
    graded = grade_rows(rows, benchmark=benchmark,
                        workers=workers, timeout=timeout, progress=progress,
                        source=str(generations_path))
    write_jsonl(out_path, graded)
    n = sum(len(r["correct"]) for r in graded)
    return {"problems": len(graded), "responses": n,
            "correct": sum(sum(r["correct"]) for r in graded),
            "timeouts": sum(r["timeouts"] for r in graded),
            "errors": sum(r["errors"] for r in graded)}
