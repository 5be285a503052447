"""Rows in the real source schemas (HF / Qwen2.5-Math harness), written by hand for the data tests."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from rlvr_repro.data.dapo import TEMPLATE_PREFIX, TEMPLATE_SUFFIX
from rlvr_repro.data.builder_io import write_parquet

SHARED_BENCHMARKS = Path(__file__).resolve().parents[2] / "../shared/benchmarks"


def shared_file(*parts: str) -> Path:
    """A file of the shared real benchmark snapshot, or a clean skip when it is not there."""
    path = SHARED_BENCHMARKS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared benchmark file {path} is not present on this machine")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_rows_parquet(path: Path, rows: list[dict]) -> Path:
    return write_parquet(path, pa.Table.from_pylist(rows))


def math_row(problem: str, answer: str, level: str = "Level 2", subject: str = "Algebra") -> dict:
    """MATH train schema (DigitalLearningGmbH/MATH-lighteval, original JSON files)."""
    return {"problem": problem, "level": level, "type": subject,
            "solution": f"Some work. So the answer is $\\boxed{{{answer}}}$."}


def dapo_row(problem: str, answer: str, index: str) -> dict:
    """BytedTsinghua-SIA/DAPO-Math-17k schema, with DAPO's instruction wrapper."""
    return {"data_source": "math_dapo",
            "prompt": [{"content": TEMPLATE_PREFIX + problem + TEMPLATE_SUFFIX, "role": "user"}],
            "ability": "MATH", "reward_model": {"ground_truth": answer, "style": "rule-lighteval/MATH_v2"},
            "extra_info": {"index": index}}


def openr1_row(problem: str, answer: str, correct: list[bool], *, uuid: str, boxes: list[str] | None = None,
               solution_box: str | None = None, gen_text: str = "", source: str = "olympiads") -> dict:
    """open-r1/OpenR1-Math-220k schema (14 columns; correctness_llama/finish_reasons often null)."""
    boxes = boxes if boxes is not None else [answer if ok else answer + "1" for ok in correct]
    gens = [f"<think>{gen_text}</think> The answer is $\\boxed{{{b}}}$." for b in boxes]
    sol = f"Solution. Hence $\\boxed{{{solution_box if solution_box is not None else answer}}}$."
    return {"problem": problem, "solution": sol, "answer": answer, "problem_type": "Algebra",
            "question_type": "math-word-problem", "source": source, "uuid": uuid,
            "is_reasoning_complete": [True] * len(gens), "generations": gens,
            "correctness_math_verify": correct, "correctness_llama": None, "finish_reasons": None,
            "correctness_count": sum(correct),
            "messages": [{"content": problem, "role": "user"}, {"content": gens[0] if gens else "", "role": "assistant"}]}


def numina_row(problem: str, answer: str, *, valid: str = "Yes", solution_valid: str = "Yes",
               synthetic: bool = False) -> dict:
    """AI-MO/NuminaMath-1.5 schema."""
    return {"problem": problem, "solution": f"... $\\boxed{{{answer}}}$", "answer": answer,
            "problem_type": "Algebra", "question_type": "math-word-problem", "problem_is_valid": valid,
            "solution_is_valid": solution_valid, "source": "olympiads", "synthetic": synthetic}


# Problems of realistic length and wording, distinct from each other (near-dup tests plant copies).
PROBLEMS = [
    "A rectangular garden is 24 meters long and 15 meters wide. A path of uniform width is built around "
    "the garden, and the total area of the garden and the path is 540 square meters. What is the width of the path?",
    "How many positive integers less than 1000 are divisible by 7 but not by 11? Give your answer as an integer.",
    "Let $f(x) = x^2 - 6x + 13$. Find the minimum value of $f(x)$ over all real numbers $x$, and the value "
    "of $x$ at which it is attained.",
    "Three fair six-sided dice are rolled. What is the probability that the sum of the numbers shown is "
    "exactly 10? Express your answer as a common fraction.",
    "In triangle $ABC$, $AB = 13$, $BC = 14$ and $CA = 15$. Find the length of the altitude from $A$ to $BC$.",
    "The sum of the first $n$ terms of an arithmetic sequence is $3n^2 + 5n$. Find the 20th term of the sequence.",
]
