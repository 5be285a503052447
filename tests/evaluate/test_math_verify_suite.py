"""Math-Verify's own test suite through our strict default grader.

The 270 (gold, prediction, expected) cases of huggingface/Math-Verify's tests at the pinned commit
(tests/evaluate/data/math_verify_cases.json, with its source and the script that rebuilds it), 261 of
them under math-verify's default settings (float precision 6, strict, no set/relation comparison).
Each prediction is graded with ``grade_many(..., "math500")`` in two readings:

* as is: the prediction is a full response;
* bare boxed: a bare prediction (no math delimiters, no words) is graded as ``\\boxed{prediction}``.

math-verify 0.9.0 itself agrees with 260 of the 261 (and 269 of 270) under each test's own settings.
"""

import json
import re
from pathlib import Path

import pytest

from rlvr_repro.evaluate.extract import mv_gold, normalize_gold, prepare_response
from rlvr_repro.evaluate.grading import grade_many
from rlvr_repro.evaluate.pool import shared_pool

DATA = json.loads((Path(__file__).parent / "data" / "math_verify_cases.json").read_text())
CASES = DATA["cases"]
DEFAULT = [i for i, c in enumerate(CASES)
           if c["precision"] == 6 and c["strict"] and not c["allow_set_relation_comp"]]
_DELIMITERS = re.compile(r"\\boxed|\\\(|\\\[|\$")
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")

# The pairs we still grade differently from the suite's expectation, and why (each is a LaTeX
# reading: inside a box, "1,22" and "1000,99" are lists to math-verify too).
KNOWN_DISAGREEMENTS = {
    "as_is": {("1,22", "1.22")},            # gold "1,22" is a list in LaTeX; the suite reads it as 1.22
    "bare_boxed": {("1,22", "\\boxed{1.22}"), ("1000.99", "\\boxed{1000,99}")},
}


def _is_bare(pred: str) -> bool:
    return not _DELIMITERS.search(pred) and not _WORD.search(pred)


def _reading(name: str) -> list[str]:
    if name == "as_is":
        return [c["pred"] for c in CASES]
    return [f"\\boxed{{{c['pred']}}}" if _is_bare(c["pred"]) else c["pred"] for c in CASES]


@pytest.fixture(scope="module")
def verdicts():
    """Both readings graded in one batch (identical pairs once), with a generous deadline so a
    loaded machine cannot turn a slow comparison into a timeout."""
    readings = {name: _reading(name) for name in ("as_is", "bare_boxed")}
    pairs = sorted({(p, c["gold"]) for preds in readings.values() for p, c in zip(preds, CASES)})
    results = dict(zip(pairs, grade_many(pairs, "math500", workers=2, timeout=30.0)))
    return {name: [results[(p, c["gold"])] for p, c in zip(preds, CASES)] for name, preds in readings.items()}


def test_data_file_names_its_source_and_holds_the_suite():
    assert DATA["source"]["repo"] == "huggingface/Math-Verify"
    assert DATA["source"]["commit"] == "5d148cfaaf99214c2e4ffb4bc497ab042c592a7a"
    assert len(CASES) == 270 and len(DEFAULT) == 261
    # math-verify 0.9.0 under each test's own settings (recorded by the data script)
    assert sum(c["math_verify_0_9_0"] == c["expected"] for c in CASES) == 269
    assert sum(CASES[i]["math_verify_0_9_0"] == CASES[i]["expected"] for i in DEFAULT) == 260


@pytest.mark.parametrize("reading", ["as_is", "bare_boxed"])
def test_default_pairs_agree_with_the_suite(verdicts, reading):
    preds = _reading(reading)
    wrong = {(CASES[i]["gold"], preds[i]) for i in DEFAULT if verdicts[reading][i].correct != bool(CASES[i]["expected"])}
    assert wrong == KNOWN_DISAGREEMENTS[reading]
    assert len(DEFAULT) - len(wrong) >= 256
    assert not any(verdicts[reading][i].status in ("timeout", "error") for i in range(len(CASES)))


@pytest.mark.parametrize("reading", ["as_is", "bare_boxed"])
def test_never_correct_where_the_suite_says_wrong(verdicts, reading):
    preds = _reading(reading)
    false_correct = [(c["gold"], p) for c, p, r in zip(CASES, preds, verdicts[reading]) if r.correct and not c["expected"]]
    assert false_correct == []


def test_the_issue_cases_the_old_grader_got_wrong(verdicts):
    """The suite's cases named in the issue, now graded as the suite says (the issue's relations
    "x \\neq 5" for the gold 5 are our own adversarial cases, in test_eval_grading.py)."""
    as_is = {(c["gold"], c["pred"]): r.correct for c, r in zip(CASES, verdicts["as_is"])}
    assert as_is[("$2$", "$\\frac{1+\\sqrt{5}}{2}$")] is False          # no last-number fallback
    assert as_is[("$1$", "$-[0,1)$")] is False
    assert as_is[("2", "AZYUK2A")] is False
    assert as_is[(" So the answer is: \\[ \\boxed{32349} \\]", "is $\\boxed{32, 349}$")] is False  # a list
    assert as_is[("\\boxed{1} papers and \\boxed{2} bins", "$\\boxed{1,2}$")] is True   # a gold's boxes: all
    assert as_is[("$$(2, 2), (6, 2)$$", "$$\\boxed{(2, 2)} \\quad \\text{and} \\quad \\boxed{(6, 2)}$$")] is True
    assert as_is[("$34$", "Final Answer: The largest $n$ is 34.")] is True
    assert as_is[("$x != 3$", "We find that $x \\neq 3$.")] is True       # a relation equal to a relation


def test_fast_paths_give_math_verifys_verdict_on_the_suite(verdicts):
    """Every verdict of the batch grader (box reduction, de-duplication, in-process numbers) equals
    math-verify's reading of the whole prepared response, run in the worker pool with no shortcut."""
    for name in ("as_is", "bare_boxed"):
        preds = _reading(name)
        tasks = [(prepare_response(p), mv_gold(normalize_gold(c["gold"], "math")), "mv") for p, c in zip(preds, CASES)]
        full = shared_pool(2).run(tasks, timeout=30.0, soft_timeout=18)
        differ = [(c["gold"], p) for c, p, f, r in zip(CASES, preds, full, verdicts[name]) if f.correct != r.correct]
        assert differ == [], name
