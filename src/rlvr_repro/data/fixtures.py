"""The local data for the CPU DAG: generated problems written in the real source schemas.

The CPU machine has no Hub access, so the local run's training sources and benchmarks are
generated here, deterministically from a seed, and then go through the *same* builders and
loaders as the paper-scale data (a MATH-schema file through ``math_train``, a DAPO-schema parquet
through ``dapo``, OpenR1-schema parquets through ``openr1``, MATH-500 / GSM8K / MMLU-STEM-schema
files through the benchmark loaders). Problems are single-operation small-integer arithmetic and
one-step linear equations ("What is $7 + 5$?"), which exercise every builder and loader. The task the
local run *learns* on is :mod:`rlvr_repro.data.arith_task` (``arith_*`` files). Benchmark operands (21-60) are disjoint from training
operands (1-20), so decontamination has nothing real to remove; exact answers are computed, never
typed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from rlvr_repro.data.arith_task import arith_task_rows
from rlvr_repro.data.builder_io import write_parquet
from rlvr_repro.io import write_jsonl

DEFAULT_SIZES = {"math_train": 200, "dapo": 120, "dapo_repeats": 3, "openr1_default": 120,
                 "openr1_extended": 60, "numina": 80, "math500": 40, "gsm8k": 40, "mmlu_stem": 40,
                 # the local learning task (rlvr_repro.data.arith_task): held-out sizes; train is the rest
                 "arith_test": 120, "arith_words": 40, "arith_hard": 100, "arith_hard_train": 0}
TRAIN_RANGE = (1, 20)
BENCH_RANGE = (21, 60)
_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_NAMES = ["Tom", "Ann", "Lee", "Mia", "Sam", "Ava", "Max", "Zoe"]
_ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "coins"]


def _problems(rng: random.Random, n: int, lo: int, hi: int) -> list[tuple[str, int, int]]:
    """``n`` distinct (op, a, b) with op in + - * and "x" (solve x + a = b), results >= 0."""
    space = [(op, a, b) for op in ("+", "-", "*", "x") for a in range(lo, hi + 1) for b in range(lo, hi + 1)
             if op not in ("-", "x") or a <= b]
    if n > len(space):
        raise ValueError(f"asked for {n} distinct problems, only {len(space)} exist in [{lo}, {hi}]")
    return rng.sample(space, n)


def _solve(op: str, a: int, b: int) -> tuple[str, int, str]:
    """(problem text in MATH style, exact answer, one-line worked solution)."""
    if op == "x":
        return (f"Solve for $x$: $x + {a} = {b}$.", b - a, f"Subtracting {a} from both sides gives $x = {b - a}$.")
    if op == "-":
        a, b = b, a  # larger operand first: non-negative result
    value = _OPS[op](a, b)
    sym = "\\times" if op == "*" else op
    return f"What is ${a} {sym} {b}$?", value, f"We compute ${a} {sym} {b} = {value}$."


def _solved(rng: random.Random, n: int, span: tuple[int, int]):
    """``n`` distinct problems of ``span`` as (k, op, problem text, exact answer, worked solution)."""
    for k, (op, a, b) in enumerate(_problems(rng, n, *span)):
        yield (k, op, *_solve(op, a, b))


def math_train_rows(n: int, seed: int) -> list[dict]:
    """MATH training schema: problem, level ("Level N"), type, solution (with \\boxed{answer})."""
    rng = random.Random(f"math_train/{seed}")
    rows = []
    for _, op, problem, value, work in _solved(rng, n, TRAIN_RANGE):
        rows.append({"problem": problem, "level": "Level 2" if op in ("*", "x") else "Level 1",
                     "type": "Algebra" if op == "x" else "Prealgebra",
                     "solution": f"{work} The answer is $\\boxed{{{value}}}$."})
    return rows


def dapo_rows(n: int, repeats: int, seed: int) -> list[dict]:
    """DAPO-Math-17k schema, each prompt repeated ``repeats`` times in shuffled order (like the
    original's ~100x) and wrapped in DAPO's "Answer:" instruction."""
    from rlvr_repro.data.dapo import TEMPLATE_PREFIX, TEMPLATE_SUFFIX  # here: dapo pulls in the dedup stack

    rng = random.Random(f"dapo/{seed}")
    base = []
    for k, _, problem, value, _ in _solved(rng, n, TRAIN_RANGE):
        problem = problem.replace("What is", "Calculate the value of").replace("Solve for", "Find")
        base.append({"data_source": "math_dapo",
                     "prompt": [{"content": TEMPLATE_PREFIX + problem + TEMPLATE_SUFFIX, "role": "user"}],
                     "ability": "MATH",
                     "reward_model": {"ground_truth": str(value), "style": "rule-lighteval/MATH_v2"},
                     "extra_info": {"index": f"dapo-{seed}-{k:05d}"}})
    rows = [dict(r) for r in base for _ in range(repeats)]
    rng.shuffle(rows)
    return rows


def openr1_rows(n: int, subset: str, seed: int) -> list[dict]:
    """OpenR1-Math-220k schema with 2-4 generated "traces" per problem; some traces are wrong, so
    all three outcome buckets occur, and the correctness lists agree with the traces."""
    rng = random.Random(f"openr1/{subset}/{seed}")
    rows = []
    for k, op, problem, value, work in _solved(rng, n, TRAIN_RANGE):
        problem = problem.replace("What is", "Evaluate").replace("?", ".").replace("Solve for", "Determine")
        n_gen = rng.randint(2, 4)
        correct = [rng.random() < 0.6 for _ in range(n_gen)]
        gens = [f"<think>{work}</think> So the result is $\\boxed{{{value if ok else value + rng.randint(1, 5)}}}$."
                for ok in correct]
        rows.append({
            "problem": problem, "solution": f"{work} Hence $\\boxed{{{value}}}$.", "answer": str(value),
            "problem_type": "Algebra" if op == "x" else "Arithmetic", "question_type": "math-word-problem",
            "source": rng.choice(["olympiads", "cn_contest", "amc_aime"]), "uuid": f"{subset}-{seed}-{k:05d}",
            "is_reasoning_complete": [True] * n_gen, "generations": gens,
            "correctness_math_verify": correct, "correctness_llama": None,
            "finish_reasons": ["stop"] * n_gen, "correctness_count": sum(correct),
            "messages": [{"content": problem, "role": "user"}, {"content": gens[0], "role": "assistant"}]})
    return rows


def numina_rows(n: int, seed: int) -> list[dict]:
    """NuminaMath-1.5 schema, with some "proof" / "notfound" sentinels and invalid rows to filter."""
    rng = random.Random(f"numina/{seed}")
    rows = []
    for _, _, problem, value, work in _solved(rng, n, TRAIN_RANGE):
        problem = problem.replace("What is", "Find the value of").replace("Solve for", "Solve for the unknown")
        roll = rng.random()
        answer = "proof" if roll < 0.08 else "notfound" if roll < 0.14 else str(value)
        rows.append({"problem": problem, "solution": f"{work} $\\boxed{{{value}}}$", "answer": answer,
                     "problem_type": "Algebra", "question_type": "proof" if answer == "proof" else "math-word-problem",
                     "problem_is_valid": "No" if rng.random() < 0.05 else "Yes", "solution_is_valid": "Yes",
                     "source": "synthetic_math", "synthetic": True})
    return rows


def math500_rows(n: int, seed: int) -> list[dict]:
    """MATH-500 schema: problem, solution, answer, subject, level (int), unique_id."""
    rng = random.Random(f"math500/{seed}")
    rows = []
    for k, op, problem, value, work in _solved(rng, n, BENCH_RANGE):
        subject = "Algebra" if op == "x" else "Prealgebra"
        rows.append({"problem": problem, "solution": f"{work} The answer is $\\boxed{{{value}}}$.",
                     "answer": str(value), "subject": subject, "level": 2 if op in ("*", "x") else 1,
                     "unique_id": f"test/{subject.lower()}/{k}.json"})
    return rows


def gsm8k_rows(n: int, seed: int) -> list[dict]:
    """GSM8K (Qwen2.5-Math harness) schema: question, answer ending in "#### n", idx."""
    rng = random.Random(f"gsm8k/{seed}")
    space = [(a, b) for a in range(*BENCH_RANGE) for b in range(*BENCH_RANGE)]
    rows = []
    for k, (a, b) in enumerate(rng.sample(space, n)):
        name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
        rows.append({"question": f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?",
                     "answer": f"{name} has {a} + {b} = <<{a}+{b}={a + b}>>{a + b} {item}.\n#### {a + b:,}",
                     "idx": k})
    return rows


def mmlu_stem_rows(n: int, seed: int) -> list[dict]:
    """MMLU-STEM (Qwen2.5-Math harness) schema: question, type, choices (4), answer (int index)."""
    rng = random.Random(f"mmlu_stem/{seed}")
    rows = []
    for _, _, problem, value, _ in _solved(rng, n, BENCH_RANGE):
        wrong = rng.sample([v for v in range(max(0, value - 9), value + 10) if v != value], 3)
        choices = [str(v) for v in wrong]
        answer = rng.randrange(4)
        choices.insert(answer, str(value))
        rows.append({"question": problem.replace("$", ""), "type": "elementary_mathematics",
                     "choices": choices, "answer": answer})
    return rows


@dataclass(frozen=True)
class Fixture:
    """One generated source file: its name under the fixture directory and its rows."""

    file: str
    rows: Callable[[int, dict[str, int]], list[dict]]  # (seed, sizes) -> rows


def _arith(name: str) -> Callable[[int, dict[str, int]], list[dict]]:
    """One file of the local task's split (all four come from one partition of the facts)."""
    def rows(seed: int, n: dict[str, int]) -> list[dict]:
        return arith_task_rows(seed, n_test=n["arith_test"], n_words=n["arith_words"], n_hard=n["arith_hard"],
                               n_hard_train=n["arith_hard_train"])[name]
    return rows


# Every fixture the local run can use. The workflow generates the ones its config's sources name
# (``path: resources/fixtures/<file>``; :func:`fixtures_named_by`), so a local benchmark in a known
# schema is one config entry, and a new schema is one entry here.
FIXTURES: dict[str, Fixture] = {
    "math_train": Fixture("math_train.jsonl", lambda seed, n: math_train_rows(n["math_train"], seed)),
    "dapo": Fixture("dapo_math_17k.parquet", lambda seed, n: dapo_rows(n["dapo"], n["dapo_repeats"], seed)),
    "openr1_default": Fixture("openr1_default.parquet",
                              lambda seed, n: openr1_rows(n["openr1_default"], "default", seed)),
    "openr1_extended": Fixture("openr1_extended.parquet",
                               lambda seed, n: openr1_rows(n["openr1_extended"], "extended", seed)),
    "numina": Fixture("numinamath_1_5.parquet", lambda seed, n: numina_rows(n["numina"], seed)),
    "math500": Fixture("math500.jsonl", lambda seed, n: math500_rows(n["math500"], seed)),
    "gsm8k": Fixture("gsm8k.jsonl", lambda seed, n: gsm8k_rows(n["gsm8k"], seed)),
    "mmlu_stem": Fixture("mmlu_stem.jsonl", lambda seed, n: mmlu_stem_rows(n["mmlu_stem"], seed)),
    **{name: Fixture(f"{name}.jsonl", _arith(name)) for name in ("arith_train", "arith_test", "arith_words",
                                                                 "arith_hard")},
}


def write_local_fixtures(out_dir: Path, seed: int, *, names: Iterable[str] | None = None,
                         **sizes: int) -> dict[str, Path]:
    """Write the fixtures ``names`` (default: all of ``FIXTURES``) under ``out_dir``; returns {name: path}.

    ``sizes`` overrides :data:`DEFAULT_SIZES` (rows per file; ``dapo_repeats`` copies per DAPO
    prompt). Same seed and sizes -> byte-identical files.
    """
    unknown = sorted(set(sizes) - set(DEFAULT_SIZES))
    if unknown:
        raise ValueError(f"unknown fixture size(s) {unknown}; known: {sorted(DEFAULT_SIZES)}")
    names = list(FIXTURES) if names is None else list(names)
    bad = sorted(set(names) - set(FIXTURES))
    if bad:
        raise ValueError(f"unknown fixture(s) {bad}; known: {sorted(FIXTURES)}")
    n = {**DEFAULT_SIZES, **sizes}
    out = {}
    for name in names:
        fixture = FIXTURES[name]
        rows = fixture.rows(seed, n)
        path = Path(out_dir) / fixture.file
        out[name] = (write_parquet(path, pa.Table.from_pylist(rows)) if fixture.file.endswith(".parquet")
                     else write_jsonl(path, rows))
    return out


def fixtures_named_by(config: dict, fixture_dir: str = "resources/fixtures") -> list[str]:
    """The fixtures that the config's dataset and benchmark sources read (``path: <fixture_dir>/<file>``).
    Raises ValueError naming the key of a source that points at a file no fixture writes, and of a
    ``fixtures.sizes`` key no fixture reads."""
    by_file = {f.file: name for name, f in FIXTURES.items()}
    sources = [(f"datasets.{d}.sources.{s}", spec) for d, ds in (config.get("datasets") or {}).items()
               for s, spec in (ds.get("sources") or {}).items()]
    sources += [(f"benchmarks.{b}.source", bs.get("source") or {}) for b, bs in (config.get("benchmarks") or {}).items()]
    names = set()
    for where, spec in sources:
        path = str(spec.get("path") or "")
        if not path.startswith(f"{fixture_dir}/"):
            continue
        file = path[len(fixture_dir) + 1:]
        if file not in by_file:
            raise ValueError(f"{where}.path: {path} is not a generated fixture; known: {sorted(by_file)}")
        names.add(by_file[file])
    unknown = sorted(set((config.get("fixtures") or {}).get("sizes") or {}) - set(DEFAULT_SIZES))
    if unknown:
        raise ValueError(f"fixtures.sizes: unknown size(s) {unknown}; known: {sorted(DEFAULT_SIZES)}")
    return sorted(names)
