#!/usr/bin/env python
"""Grading throughput: 500 problems x 32 samples (16,000 responses) on this machine's cores.

    python benchmarks/bench_grading.py                       # full size, 2 workers, 5 s deadline
    python benchmarks/bench_grading.py --problems 100 --samples 16 --baseline-subset 200

Workload: the real MATH-500 golds (``shared/benchmarks/math500``; generated golds when the file is
absent). Every problem gets a few candidate answers — the gold, the gold written another way
(``\\dfrac`` for ``\\frac``, spaces, ``\\left(``), and wrong answers (other problems' golds, off-by-one
numbers) — and its 32 samples repeat them, as samples of one problem do; each response is a
~150-word chain of thought ending in ``\\boxed{...}``; --truncated of them (5 %) are cut off before
any box, and two contain the Math-Verify #65 nested power that hangs sympy. A cut-off response costs
us what it costs plain math-verify: its reading is math-verify's parse of its last math (latex2sympy,
~50 ms), which no shortcut may replace; ``--truncated 0`` measures the boxed responses alone.

Ours: ``rlvr_repro.evaluate.grading.grade_many`` end to end with the strict default grader (reading,
box reduction, de-duplication, in-process number checks, math-verify in a hard-timeout pool of
--workers processes, including their start-up).
Baseline, measured in the same run: plain math-verify — one ``parse`` of the response and of the gold
and one ``verify`` per response, in this process, with the grader's configuration — on the first
--baseline-subset responses, extrapolated linearly to the other well-behaved ones, plus the two
hanging responses measured (math-verify's own 5 s timeouts end them). Reported: wall and CPU
seconds (ours: this process, its workers and reaped children), the ratio baseline / ours (the
issue's bar: >= 5x) and the verdict agreement on the subset (the fast paths must not change one).
Timings on a shared machine vary with its load; the ratio, measured in one run, is the number to
compare, and the CPU-seconds ratio does not depend on the load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import time
from pathlib import Path

from rlvr_repro.evaluate.grading import grade_many
from rlvr_repro.evaluate.pool import shared_pool

BENCH = Path(__file__).resolve().parents[1] / "../shared/benchmarks/math500/test.jsonl"
HANG = r"\dfrac{5^{\left(5^{\left(5^{\left(5^5\right)}\right)} - 4\right)} - 5}{16}"
WORDS = ("we", "note", "that", "the", "sum", "of", "both", "sides", "gives", "so", "then", "hence",
         "substituting", "into", "equation", "yields", "factor", "and", "simplify", "therefore")


def load_golds(count: int, rng: random.Random) -> list[str]:
    if BENCH.exists():
        golds = [json.loads(line)["answer"] for line in BENCH.read_text().splitlines() if line.strip()]
        return [golds[i % len(golds)] for i in range(count)]
    forms = [lambda: str(rng.randint(0, 999)), lambda: rf"\frac{{{rng.randint(1, 50)}}}{{{rng.randint(51, 99)}}}",
             lambda: rf"{rng.randint(2, 9)}\sqrt{{{rng.randint(2, 30)}}}", lambda: f"({rng.randint(0, 9)},{rng.randint(0, 9)})"]
    return [rng.choice(forms)() for _ in range(count)]


def rewrite(gold: str, rng: random.Random) -> str:
    """The gold written differently (equivalent)."""
    options = [gold.replace(r"\frac", r"\dfrac"), gold.replace(",", ", "), f" {gold} "]
    if r"\left" not in gold:
        options.append(gold.replace("(", r"\left(").replace(")", r"\right)"))
    return rng.choice(options)


def wrong(gold: str, golds: list[str], rng: random.Random) -> str:
    if gold.lstrip("-").isdigit() and rng.random() < 0.5:
        return str(int(gold) + rng.choice([-2, -1, 1, 3]))
    return rng.choice(golds)


def chain_of_thought(rng: random.Random) -> str:
    parts = []
    for _ in range(12):
        parts.append(" ".join(rng.choice(WORDS) for _ in range(10)))
        parts.append(f"$x^{rng.randint(2, 5)} + {rng.randint(1, 99)} = {rng.randint(100, 999)}$")
    return ". ".join(parts)


def build(problems: int, samples: int, seed: int, truncated: float = 0.05):
    rng = random.Random(seed)
    golds = load_golds(problems, rng)
    items, clean = [], []
    for p, gold in enumerate(golds):
        candidates = [gold, rewrite(gold, rng)] + [wrong(gold, golds, rng) for _ in range(rng.randint(1, 3))]
        weights = [4, 2] + [1] * (len(candidates) - 2)
        for s in range(samples):
            cot = chain_of_thought(rng)
            if p in (problems // 3, 2 * problems // 3) and s == 0:
                items.append((f"{cot}. So the answer is $\\boxed{{{HANG}}}$.", gold))
                clean.append(False)
                continue
            if rng.random() < truncated:
                items.append((cot + " and we run out of tokens", gold))
            else:
                answer = rng.choices(candidates, weights)[0]
                items.append((f"{cot}. Therefore the final answer is $\\boxed{{{answer}}}$.", gold))
            clean.append(True)
    return items, clean


def naive_loop(items) -> list[bool]:
    """Plain math-verify on every response (its timeouts on: the hanging items are excluded)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    from rlvr_repro.evaluate.extract import mv_gold, normalize_gold

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    config = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    return [bool(verify(parse(mv_gold(normalize_gold(gold, "math")), config), parse(response, config)))
            for response, gold in items]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", type=int, default=500)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--baseline-subset", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--truncated", type=float, default=0.05,
                    help="fraction of responses cut off before any box (math-verify must parse their last math)")
    args = ap.parse_args()

    items, clean = build(args.problems, args.samples, args.seed, args.truncated)
    n = len(items)
    print(f"workload: {args.problems} problems x {args.samples} samples = {n} responses "
          f"({'real MATH-500 golds' if BENCH.exists() else 'generated golds'}), "
          f"{len({(r.rsplit('boxed', 1)[-1], g) for r, g in items})} distinct (answer, gold) pairs")

    pool = shared_pool(args.workers)
    cpu0 = _cpu_seconds(pool)
    t0 = time.perf_counter()
    results = grade_many(items, "math500", workers=args.workers, timeout=args.timeout, progress=False)
    ours = time.perf_counter() - t0
    ours_cpu = _cpu_seconds(pool) - cpu0
    statuses = {s: sum(r.status == s for r in results) for s in ("correct", "incorrect", "no_answer", "timeout", "error")}
    print(f"ours:     {ours:8.2f} s for {n} responses ({n / ours:,.0f} responses/s), "
          f"workers={args.workers}, deadline={args.timeout}s, CPU {ours_cpu:.1f} s (parent + workers)  {statuses}")

    kept = [k for k, ok in enumerate(clean) if ok][:args.baseline_subset]
    hangs = [k for k, ok in enumerate(clean) if not ok]
    c0, t0 = time.process_time(), time.perf_counter()
    base_correct = naive_loop([items[k] for k in kept])
    base_time, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    c0, t0 = time.process_time(), time.perf_counter()
    naive_loop([items[k] for k in hangs])  # math-verify's own 5 s timeouts end them
    hang_time, hang_cpu = time.perf_counter() - t0, time.process_time() - c0
    n_clean = n - len(hangs)
    base_total = base_time / len(kept) * n_clean + hang_time
    base_total_cpu = base_cpu / len(kept) * n_clean + hang_cpu
    print(f"baseline: {base_time:8.2f} s for {len(kept)} responses (plain math-verify per response, one process) "
          f"-> {base_time / len(kept) * 1e3:.2f} ms/response; the {len(hangs)} hanging ones {hang_time:.1f} s; "
          f"{base_total:,.1f} s for all {n} (CPU {base_total_cpu:,.1f} s)")
    ratio = base_total / ours
    print(f"ratio baseline/ours: {ratio:.1f}x wall   (>= 5x: {ratio >= 5});  "
          f"{base_total_cpu / ours_cpu:.1f}x in CPU seconds (load-independent)")
    agree = sum(results[k].correct == b for k, b in zip(kept, base_correct))
    print(f"agreement with plain math-verify on the subset: {agree}/{len(kept)}")


def _cpu_seconds(pool) -> float:
    """CPU seconds of this process, its reaped children (workers killed at a deadline) and the live
    grading workers (read from /proc: they are long-lived)."""
    def worker(pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (time.process_time() + children.ru_utime + children.ru_stime
            + sum(worker(w.proc.pid) for w in pool._workers))


if __name__ == "__main__":
    main()
