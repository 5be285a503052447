"""The local learning task: small arithmetic at the edge of SmolLM2-135M, split train / held-out.

The CPU run must show RL *learning*, so its task sits where the 135M model is right some of the
time: single-digit ``a + b``, ``a - b`` (a >= b) and ``a * b``, asked as "What is 3 + 4?", which the
base model answers correctly ~20-28 % of the time with the ``short_answer`` prompt (measured, see
:mod:`rlvr_repro.prompts`). A harder family, two-digit + one-digit sums ("What is 47 + 8?", ~3-4 %),
gives a split where most groups are all-incorrect: the regime LENS and the negative-group methods
are about.

Train and held-out problems are disjoint by construction *and* by meaning: the split is drawn over
canonical keys, so ``3 + 4`` and ``4 + 3`` (one fact) always land on the same side. The builder's
MinHash decontamination then checks the result against the benchmark files (``decontaminate:
drop``); a test plants a held-out problem in the training file and sees it removed.

Every file is in a real source schema and goes through the real builders and loaders:
MATH-train (``arith_train``), MATH-500 (``arith_test``, ``arith_hard``), GSM8K (``arith_words``).
"""

from __future__ import annotations

import random

EASY_DIGITS = range(0, 10)
HARD_TENS = range(10, 100)

Problem = tuple[str, int, int]  # (op, a, b) with op in "+", "-", "*"


def _value(op: str, a: int, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def canonical_key(op: str, a: int, b: int) -> Problem:
    """One key per arithmetic fact: commutative operands sorted."""
    return (op, min(a, b), max(a, b)) if op in "+*" else (op, a, b)


def easy_problems() -> list[Problem]:
    """Every single-digit problem: 100 sums, 55 differences (a >= b), 81 products of 1-9."""
    out = [("+", a, b) for a in EASY_DIGITS for b in EASY_DIGITS]
    out += [("-", a, b) for a in EASY_DIGITS for b in EASY_DIGITS if a >= b]
    out += [("*", a, b) for a in EASY_DIGITS if a for b in EASY_DIGITS if b]
    return out


def hard_problems() -> list[Problem]:
    """Two-digit + one-digit sums (900)."""
    return [("+", a, b) for a in HARD_TENS for b in EASY_DIGITS]


def split_by_key(problems: list[Problem], n_heldout: int, rng: random.Random) -> tuple[list[Problem], list[Problem]]:
    """(train, held-out): whole canonical keys go to held-out, in a seeded order, until it holds at
    least ``n_heldout`` problems; everything else is train. Both lists keep a seeded order."""
    keys = sorted({canonical_key(*p) for p in problems})
    rng.shuffle(keys)
    by_key: dict[Problem, list[Problem]] = {}
    for p in problems:
        by_key.setdefault(canonical_key(*p), []).append(p)
    heldout_keys, count = set(), 0
    for k in keys:
        if count >= n_heldout:
            break
        heldout_keys.add(k)
        count += len(by_key[k])
    if count < n_heldout:
        raise ValueError(f"asked for {n_heldout} held-out problems, only {len(problems)} exist")
    heldout = [p for p in problems if canonical_key(*p) in heldout_keys]
    train = [p for p in problems if canonical_key(*p) not in heldout_keys]
    rng.shuffle(heldout)
    rng.shuffle(train)
    return train, heldout


def question(op: str, a: int, b: int) -> str:
    """Plain text, no ``$...$``: the 135M model scores half as well with math delimiters."""
    return f"What is {a} {op} {b}?"


def _solution(op: str, a: int, b: int) -> str:
    v = _value(op, a, b)
    return f"We compute {a} {op} {b} = {v}. The answer is $\\boxed{{{v}}}$."


def _subject(op: str) -> str:
    return "Prealgebra" if op == "*" else "Arithmetic"


def _level(op: str, a: int) -> int:
    return 2 if a >= 10 else 1


def math_train_rows(problems: list[Problem]) -> list[dict]:
    """MATH training schema: problem, level ("Level N"), type, solution (with \\boxed{answer})."""
    return [{"problem": question(*p), "level": f"Level {_level(p[0], p[1])}", "type": _subject(p[0]),
             "solution": _solution(*p)} for p in problems]


def math500_rows(problems: list[Problem], prefix: str) -> list[dict]:
    """MATH-500 schema: problem, solution, answer, subject, level (int), unique_id."""
    return [{"problem": question(*p), "solution": _solution(*p), "answer": str(_value(*p)),
             "subject": _subject(p[0]), "level": _level(p[0], p[1]),
             "unique_id": f"{prefix}/{_subject(p[0]).lower()}/{k}.json"} for k, p in enumerate(problems)]


_NAMES = ["Tom", "Ann", "Lee", "Mia", "Sam", "Ava", "Max", "Zoe"]
_ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "coins"]


def gsm8k_rows(problems: list[Problem], rng: random.Random) -> list[dict]:
    """GSM8K (Qwen2.5-Math harness) schema: question, answer ending in "#### n", idx. Sums and
    differences become one-sentence word problems; products are skipped."""
    rows = []
    for op, a, b in problems:
        if op == "*":
            continue
        name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
        v = _value(op, a, b)
        verb, sym = ("gets", "+") if op == "+" else ("gives away", "-")
        more = " more" if op == "+" else ""
        rows.append({"question": f"{name} has {a} {item} and {verb} {b}{more}. How many {item} does {name} have now?",
                     "answer": f"{name} has {a} {sym} {b} = <<{a}{sym}{b}={v}>>{v} {item}.\n#### {v}",
                     "idx": len(rows)})
    return rows


def arith_task_rows(seed: int, *, n_test: int, n_words: int, n_hard: int, n_hard_train: int) -> dict[str, list[dict]]:
    """The four sources of the local task, deterministic in ``seed``:

    ``arith_train``  every easy problem whose key is not held out, plus ``n_hard_train`` hard ones
    ``arith_test``   >= ``n_test`` held-out easy problems (MATH-500 schema)
    ``arith_words``  ``n_words`` word problems over held-out easy sums/differences (GSM8K schema)
    ``arith_hard``   ``n_hard`` held-out hard sums (MATH-500 schema), disjoint from the hard train ones
    """
    rng = random.Random(f"arith/{seed}")
    easy_train, easy_test = split_by_key(easy_problems(), n_test, rng)
    hard = hard_problems()
    if n_hard + n_hard_train > len(hard):
        raise ValueError(f"asked for {n_hard} + {n_hard_train} hard problems, only {len(hard)} exist")
    hard_train, hard_test = split_by_key(hard, n_hard, rng)
    train = easy_train + rng.sample(hard_train, n_hard_train)
    rng.shuffle(train)
    words = gsm8k_rows(easy_test, rng)
    if len(words) < n_words:
        raise ValueError(f"asked for {n_words} word problems, only {len(words)} held-out sums/differences exist")
    return {"arith_train": math_train_rows(train), "arith_test": math500_rows(easy_test, "arith"),
            "arith_words": words[:n_words], "arith_hard": math500_rows(hard_test[:n_hard], "arith_hard")}
