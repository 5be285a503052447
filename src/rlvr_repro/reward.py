"""The verifiable reward: 1.0 when a response's final answer is correct, else 0.0.

Training and evaluation share the grader (:mod:`rlvr_repro.evaluate.grading`): equivalence is
math-verify's, as in the strict evaluation default. The reward is stricter about *what it reads*
(:func:`rlvr_repro.evaluate.extract.reward_answer`): a math answer is expected, and every prompt family
says in which form (:mod:`rlvr_repro.prompts`):

* the boxed families (qwen_math, qwen3, llama31, r1_distill, generic, and the evalscope template) ask
  for the final answer in ``\\boxed{}``: the reward reads the boxes after a closing ``</think>``;
  several different boxes are one list answer (a hedge ``\\boxed{2}`` or ``\\boxed{3}`` is wrong for
  the gold 2);
* ``short_answer`` (the local arithmetic task) asks for "only the final answer as a number": the
  reward reads the whole response as the answer. ``7``, ``7.``, ``$7$`` and "The answer is 7." pay;
  a number inside a sentence does not.

Either way, a response with no box that is more than an answer gets 0: the reward never pays for a
number that merely appears last in the text, for a relation (``x \\neq 5``, ``x < 3``), a list or a
hedge, or for a truncated box. The reading does not depend on the family (a bare "7" is an answer
under any prompt, a boxed one too), so the reward needs only ``(data_source, response, gold)``.

Entry points:

* :func:`compute_score` — verl's custom reward function signature
  ``(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict`` (verl's
  reward managers call it per response, possibly from a thread pool, which is why grading never
  relies on SIGALRM in the caller: slow comparisons go to a worker process with a hard deadline).
* :func:`compute_score_batch` — the same for verl's ``BatchRewardManager``
  (``data_sources, solution_strs, ground_truths, extra_infos``).
* :func:`score_batch` — ``(data_sources, solutions, ground_truths) -> list[float]`` for the local
  CPU trainer.

The fast path is cheap: the answer is read in-process and two plain numbers (DAPO-Math's integer
answers, the local task's) are compared exactly in-process; identical answers within a batch are
judged once. ``data_source`` picks the grading mode (how the gold is read): a benchmark name uses that
benchmark's mode, GSM8K-like sources the numeric mode, anything else (DAPO-Math-17k, OpenR1, MATH
train, unknown sources) the general math mode.
"""

from __future__ import annotations

import os
from typing import Sequence

from rlvr_repro.evaluate.extract import BENCHMARK_MODES
from rlvr_repro.evaluate.grading import DEFAULT_TIMEOUT_S, grade_many

# Known training/validation data sources that are not benchmark names (verl's own example
# preprocessors name their sources after the HF dataset id).
SOURCE_MODES: dict[str, str] = {
    "openai/gsm8k": "numeric",
    "gsm8k_train": "numeric",
    "math_dapo": "math",
    "dapo17k": "math",
    "openr1_stable10k": "math",
    "math_train": "math",
    "lighteval/MATH": "math",
    "DigitalLearningGmbH/MATH-lighteval": "math",
}


def _workers() -> int:
    return max(1, int(os.environ.get("RLVR_REWARD_WORKERS", "2")))


def source_mode(data_source) -> str:
    """Grading mode for a data source; unknown sources use the general math grader."""
    name = str(data_source)
    return BENCHMARK_MODES.get(name) or SOURCE_MODES.get(name) or "math"


def _grade_by_source(data_sources: Sequence, solutions: Sequence[str], ground_truths: Sequence,
                     *, timeout: float, workers: int) -> list:
    """GradeResults for a batch: one grading call per grading mode present in the batch."""
    n = len(solutions)
    if len(data_sources) != n or len(ground_truths) != n:
        raise ValueError(f"reward batch: got {len(data_sources)} data_sources, {n} solutions and "
                         f"{len(ground_truths)} ground_truths; they must be equal")
    by_mode: dict[str, list[int]] = {}
    for i, source in enumerate(data_sources):
        by_mode.setdefault(source_mode(source), []).append(i)
    results: list = [None] * n
    for mode, idx in by_mode.items():
        graded = grade_many([(solutions[i], ground_truths[i]) for i in idx], None, mode=mode,
                            strict_format=True, workers=workers, timeout=timeout)
        for i, res in zip(idx, graded):
            results[i] = res
    return results


def score_batch(data_sources: Sequence, solutions: Sequence[str], ground_truths: Sequence, *,
                timeout: float = DEFAULT_TIMEOUT_S, workers: int | None = None) -> list[float]:
    """0/1 rewards for a batch, in order (the local CPU trainer's reward function)."""
    results = _grade_by_source(data_sources, solutions, ground_truths, timeout=timeout,
                               workers=workers or _workers())
    return [1.0 if r.correct else 0.0 for r in results]


def _score_dict(result) -> dict:
    return {"score": 1.0 if result.correct else 0.0, "acc": bool(result.correct),
            "pred": result.extracted or "", "timeout": result.timed_out}


def compute_score(data_source, solution_str: str, ground_truth, extra_info=None, **kwargs) -> dict:
    """verl custom reward: ``{"score": 0.0|1.0, "acc": bool, "pred": str, "timeout": bool}``.

    ``pred`` is the extracted answer ("" when none) and ``timeout`` flags a comparison that hit
    the hard deadline (counted as incorrect). Extra keyword arguments from verl are ignored.
    """
    mode = source_mode(data_source)
    try:
        result = grade_many([(solution_str, ground_truth)], None, mode=mode, strict_format=True, workers=1,
                            timeout=kwargs.get("timeout", DEFAULT_TIMEOUT_S))[0]
    except ValueError as exc:
        raise ValueError(f"reward for data_source {data_source!r}, ground_truth "
                         f"{ground_truth!r}: {exc}") from None
    return _score_dict(result)


def compute_score_batch(data_sources, solution_strs, ground_truths, extra_infos=None,
                        **kwargs) -> list[dict]:
    """verl ``BatchRewardManager`` form of :func:`compute_score` (same dict per response)."""
    results = _grade_by_source(data_sources, solution_strs, ground_truths,
                               timeout=kwargs.get("timeout", DEFAULT_TIMEOUT_S), workers=_workers())
    return [_score_dict(r) for r in results]
