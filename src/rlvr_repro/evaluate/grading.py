"""Grading: is a model response's final answer equivalent to the gold answer?

Public contract (docs/CONTRACTS.md): :func:`grade` ``(response, gold, benchmark) -> bool`` never hangs: every
call returns within a bounded time. The batch form :func:`grade_many` is what evaluation and the
training reward use.

Graders (:data:`GRADERS`; a protocol names one in ``config/protocols.yaml``):

  math_verify  the strict default: math-verify 0.9.0 reads the response and the gold and decides
               (:mod:`rlvr_repro.evaluate.extract` says exactly what it is given). Used where a paper
               names math-verify (LENS), "a rule-based math verifier" (ACE) or nothing.
  evalscope    EGPO's harness: evalscope v1.4.2's extraction and ``math_equal``
               (:mod:`rlvr_repro.evaluate.evalscope_rules`), lenient where that harness is.
  strict_answer  math-verify's equivalence on the stated answer only: the training reward's reading
               (:func:`rlvr_repro.evaluate.extract.reward_answer`; ``strict_format=True``): only a
               boxed answer or a response that is nothing but the answer counts. For evaluations that
               measure what the reward trains (the local protocol): on short arithmetic answers
               math-verify's expression reader pays restated questions ("The answer to 1 + 9 is 11."
               reads ``1 + 9`` = 10).

How a batch is graded fast without changing a verdict:

1. string work in the parent: the text each response is read from, each gold normalised once;
2. responses whose reading reduces to one box (:func:`~rlvr_repro.evaluate.extract.single_box`) become
   a short ``(box, gold)`` pair, and identical pairs are judged once — the 32 samples of one problem
   mostly repeat a handful of answers;
3. two plain numbers are decided in the parent exactly as math-verify would
   (:func:`~rlvr_repro.evaluate.judge.quick_judge`);
4. the rest go to a :class:`~rlvr_repro.evaluate.pool.GraderPool`, where math-verify runs with a hard
   per-comparison deadline. A comparison that runs past it is a *timeout*: it counts as incorrect and
   is reported separately, never silently. A box that math-verify cannot parse is re-read as the whole
   response, as math-verify itself would.

:func:`grade_generations` grades a generations JSONL file (CONTRACTS.md) into a grades JSONL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from rlvr_repro.evaluate import evalscope_rules
from rlvr_repro.evaluate.extract import (MODES, answer_region, extract_choice, grading_mode, last_boxed, mv_gold,
                                         normalize_gold, prepare_response, reward_answer, single_box)
from rlvr_repro.evaluate.judge import boxed_inner, quick_judge
from rlvr_repro.evaluate.pool import GraderPool, shared_pool
from rlvr_repro.io import read_jsonl, write_jsonl

DEFAULT_TIMEOUT_S = 5.0
STATUSES = ("correct", "incorrect", "no_answer", "timeout", "error")
DEFAULT_GRADER = "math_verify"
GRADERS: dict[str, str] = {
    "math_verify": "math-verify 0.9.0 parse/verify (strict; the configuration of its own test suite)",
    "evalscope": "evalscope v1.4.2 (modelscope/evalscope@457dc8cb) math_parser + multi_choices rules, ported",
    "strict_answer": "math-verify 0.9.0 equivalence of the stated answer only (the training reward's reading)",
}


def check_grader(grader: str) -> str:
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; expected one of {sorted(GRADERS)}")
    return grader


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


# One item's plan: decided now (correct, extracted, status), or a worker task key (kind, pred, gold)
# plus the extracted string the parent already knows (None: the worker's reading decides).
_Decided = tuple[bool, "str | None", str]
_Task = tuple[str, str, str]


def _plan_math_verify(response: str, gold: str, strict_format: bool) -> tuple[_Decided | None, _Task | None, str | None]:
    if strict_format:
        answer = reward_answer(response)
        if answer is None:
            return (False, None, "no_answer"), None, None
        inner = boxed_inner(answer)
        decided = quick_judge(inner, gold)
        if decided is not None:
            return (decided, inner, "correct" if decided else "incorrect"), None, None
        return None, ("mv_strict", answer, mv_gold(gold)), inner
    text = prepare_response(response)
    box = single_box(text)
    if box is not None:
        decided = quick_judge(box, gold)
        if decided is not None:
            return (decided, box, "correct" if decided else "incorrect"), None, None
        return None, ("mv_box", "\\boxed{" + box + "}", mv_gold(gold)), box
    return None, ("mv", text, mv_gold(gold)), None


def _completion(response) -> str:
    """What evalscope reads: the completion's content, i.e. the answer region after ``</think>``."""
    if not isinstance(response, str):
        raise ValueError(f"response must be a string, got {type(response).__name__}")
    return answer_region(response)


def _plan_evalscope(response: str, gold: str) -> tuple[_Decided | None, _Task | None, str | None]:
    pred = evalscope_rules.extract_answer(_completion(response))
    if not pred:
        return (False, None, "no_answer"), None, None
    ref = evalscope_rules.strip_answer(last_boxed(gold) or gold)  # evalscope's targets are bare answers
    decided = evalscope_rules.quick_equal(pred, ref)
    if decided is not None:
        return (decided, pred, "correct" if decided else "incorrect"), None, None
    return None, ("evalscope", pred, ref), pred


def _grade_choice(response: str, gold: str, grader: str, choices) -> GradeResult:
    if grader == "evalscope":
        letter = evalscope_rules.parse_choice(_completion(response), len(choices) if choices else 4)
        correct = letter.strip().lower() == gold.strip().lower()
        return GradeResult(correct, letter or None, "correct" if correct else ("incorrect" if letter else "no_answer"))
    letter = extract_choice(response, list(choices) if choices else None)
    if letter is None:
        return GradeResult(False, None, "no_answer")
    correct = letter.strip().upper() == gold.strip().upper()
    return GradeResult(correct, letter, "correct" if correct else "incorrect")


def grade_many(items: Iterable[tuple[str, object]], benchmark: str | None, *, grader: str = DEFAULT_GRADER,
               strict_format: bool = False, workers: int = 2, timeout: float = DEFAULT_TIMEOUT_S,
               soft_timeout: int | None | str = "auto", choices: Sequence[Sequence[str] | None] | None = None,
               progress: bool = False, pool: GraderPool | None = None, mode: str | None = None) -> list[GradeResult]:
    """Grade ``(response, gold)`` pairs of one benchmark (or of one grading ``mode`` given directly, as
    the training reward does for data sources that are not benchmarks) with ``grader``.

    ``strict_format`` (math_verify only): the training reward's reading (module docstring).
    ``timeout`` is the hard wall-clock bound per distinct comparison; ``soft_timeout`` is
    math-verify's internal timeout ("auto": :func:`soft_timeout_for`; None disables it, leaving only
    the hard kill). ``choices`` (per item, optional): multiple-choice options. ``pool`` defaults to a
    process-wide pool of ``workers`` processes, started only if some pair needs a worker.
    """
    check_grader(grader)
    if grader == "strict_answer":
        grader, strict_format = "math_verify", True
    if mode is None:
        mode = grading_mode(benchmark)
    elif mode not in MODES:
        raise ValueError(f"unknown grading mode {mode!r}; expected one of {MODES}")
    if strict_format and grader != "math_verify":
        raise ValueError("strict_format is the math_verify reward reading; it does not apply to "
                         f"grader {grader!r}")
    benchmark = benchmark or mode
    items = list(items)
    if choices is not None and len(choices) != len(items):
        raise ValueError(f"choices has {len(choices)} entries for {len(items)} items")
    soft = soft_timeout_for(timeout) if soft_timeout == "auto" else soft_timeout

    runner = pool  # the process-wide pool is taken (and started) only if a pair needs a worker
    gold_cache: dict[tuple[str, str], str] = {}
    results: list[GradeResult | None] = [None] * len(items)
    pending: dict[_Task, list[tuple[int, str | None]]] = {}
    for k, (response, gold) in enumerate(items):
        key = (type(gold).__name__, str(gold))
        if key not in gold_cache:
            try:
                gold_cache[key] = normalize_gold(gold, mode)
            except ValueError as exc:
                raise ValueError(f"item {k} ({benchmark}): {exc}") from None
        gold_text = gold_cache[key]
        if mode == "choice":
            results[k] = _grade_choice(response, gold_text, grader, choices[k] if choices else None)
            continue
        if grader == "evalscope":
            decided, task, known = _plan_evalscope(response, gold_text)
        else:
            decided, task, known = _plan_math_verify(response, gold_text, strict_format)
        if decided is not None:
            results[k] = GradeResult(*decided)
        else:
            if not pending:  # the first worker task: start the workers while the rest is planned
                runner = runner if runner is not None else shared_pool(workers)
                runner.start()
            pending.setdefault(task, []).append((k, known))

    while pending:
        # the tasks of one gold side by side (the pool keeps them on one worker, which parses the gold
        # once), and in each gold's run the whole responses (the slowest) first
        first = {}
        for kind, _, gold_input in pending:
            first.setdefault(gold_input, len(first))
        tasks = sorted(pending, key=lambda task: (first[task[2]], task[0] != "mv"))
        outcomes = runner.run([(pred, gold, kind) for kind, pred, gold in tasks], timeout=timeout,
                              soft_timeout=soft, progress=progress)
        retry: dict[_Task, list[tuple[int, str | None]]] = {}
        for task, outcome in zip(tasks, outcomes):
            kind, _, gold_input = task
            for k, known in pending[task]:
                if kind == "mv_box" and outcome.status == "error":  # the box did not parse
                    retry.setdefault(("mv", prepare_response(items[k][0]), gold_input), []).append((k, None))
                    continue
                extracted = known if known is not None else outcome.extracted
                if outcome.status in ("timeout", "error"):
                    results[k] = GradeResult(False, extracted, outcome.status)
                elif extracted is None:
                    results[k] = GradeResult(False, None, "no_answer")
                else:
                    results[k] = GradeResult(outcome.correct, extracted,
                                             "correct" if outcome.correct else "incorrect")
        pending = retry
    return results  # type: ignore[return-value]


def grade(response: str, gold, benchmark: str, *, grader: str = DEFAULT_GRADER,
          timeout: float = DEFAULT_TIMEOUT_S) -> bool:
    """True when the response's final answer is equivalent to ``gold`` (docs/CONTRACTS.md contract).

    Returns within about ``timeout`` seconds whatever the input (twice that when an unparsable box
    sends the response to a second reading): slow comparisons run in a worker process that is
    killed at the deadline (a timeout counts as incorrect).
    """
    return grade_many([(response, gold)], benchmark, grader=grader, workers=1, timeout=timeout)[0].correct


def grade_rows(generation_rows: Sequence[dict], *, benchmark: str | None = None, grader: str = DEFAULT_GRADER,
               workers: int = 2, timeout: float = DEFAULT_TIMEOUT_S, progress: bool = True,
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
        results = grade_many(items, bench, grader=grader, workers=workers, timeout=timeout,
                             choices=choices, progress=progress)
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
                      benchmark: str | None = None, grader: str = DEFAULT_GRADER, workers: int = 2,
                      timeout: float = DEFAULT_TIMEOUT_S, progress: bool = True) -> dict:
    """Grade a generations JSONL into a grades JSONL (written atomically) with ``grader``. Returns counts."""
    rows = read_jsonl(generations_path)
    graded = grade_rows(rows, benchmark=benchmark, grader=grader,
                        workers=workers, timeout=timeout, progress=progress,
                        source=str(generations_path))
    write_jsonl(out_path, graded)
    n = sum(len(r["correct"]) for r in graded)
    return {"problems": len(graded), "responses": n, "grader": grader,
            "correct": sum(sum(r["correct"]) for r in graded),
            "timeouts": sum(r["timeouts"] for r in graded),
            "errors": sum(r["errors"] for r in graded)}
