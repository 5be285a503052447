"""The evalscope port against evalscope v1.4.2's own code.

tests/evaluate/data/evalscope_cases.json holds what evalscope's ``extract_answer``,
``strip_answer_string``, ``math_equal`` and ``parse_answers`` returned (at tag v1.4.2, commit 457dc8cb;
make_evalscope_cases.py) on evalscope's own examples, Math-Verify's 270 test pairs and our GSM8K-style,
adversarial and multiple-choice completions. The port must give the same strings and verdicts.
"""

import json
from pathlib import Path

import pytest

from rlvr_repro.evaluate import evalscope_rules as es
from rlvr_repro.evaluate.pool import shared_pool

DATA = json.loads((Path(__file__).parent / "data" / "evalscope_cases.json").read_text())
MATH, CHOICE = DATA["math"], DATA["choice"]


def _inputs(case):
    if case.get("direct"):  # evalscope's example calls math_equal on the raw prediction
        return case["completion"], case["target"]
    return es.extract_answer(case["completion"]), es.strip_answer(case["target"])


def test_data_names_its_source():
    assert DATA["source"]["repo"] == "modelscope/evalscope" and DATA["source"]["tag"] == "v1.4.2"
    assert len(MATH) >= 300 and any(c["source"] == "evalscope __main__" for c in MATH)


def test_extraction_and_normalisation_equal_evalscopes():
    differ = [(c["completion"][:60], _inputs(c), (c["extracted"], c["reference"]))
              for c in MATH if _inputs(c) != (c["extracted"], c["reference"])]
    assert differ == []


def test_in_process_steps_never_contradict_evalscope():
    decided = [(c, es.quick_equal(c["extracted"], c["reference"])) for c in MATH]
    decided = [(c, v) for c, v in decided if v is not None]
    assert len(decided) >= 100
    assert [(c["extracted"], c["reference"]) for c, v in decided if v != c["correct"]] == []


def test_math_equal_verdicts_equal_evalscopes():
    """All verdicts, the sympy ones in the grading workers (as the egpo protocol runs them)."""
    tasks = [(c["extracted"], c["reference"], "evalscope") for c in MATH]
    outcomes = shared_pool(2).run(tasks, timeout=30.0, soft_timeout=18)
    assert [o.status for o in outcomes].count("ok") == len(MATH)
    assert [(c["extracted"], c["reference"]) for c, o in zip(MATH, outcomes) if o.correct != c["correct"]] == []


@pytest.mark.parametrize("case", CHOICE, ids=[c["completion"][:30] for c in CHOICE])
def test_multiple_choice_equals_evalscopes(case):
    assert es.parse_choice(case["completion"], case["n_choices"]) == case["parsed"]
    assert es.choice_correct(case["completion"], case["gold"], case["n_choices"]) is case["correct"]


def test_worked_examples_of_the_harness_leniency():
    """Values worked out from the rules, not from the code under test."""
    assert es.extract_answer("5 cars drove through in the first 15 minutes.") == "15"   # last number
    assert es.extract_answer("The total is 125,96.\n#### 125,96") == "12596"          # commas dropped first
    assert es.strip_answer(r"\left( 3, \frac{\pi}{2} \right)") == r"(3,\frac{\pi}{2})"
    assert es.strip_answer("3, 1, 2") == "1,2,3"                                      # integer lists sorted
    assert es.strip_answer(r"10,\!080") == "10080"
    assert es.quick_equal("50", "0.5") is True                                        # 50 = 0.5 * 100
    assert es.quick_equal("20.391", "20.39") is True                                  # |d| / 20.391 < 1e-4
    assert es.quick_equal("20.5", "20.39") is False
    assert es.quick_equal("(1,2)", "1,2") is True                                     # brackets stripped
    assert es.quick_equal("[1,2)", "(1,2)") is None and es.math_equal("[1,2)", "(1,2)")  # element-wise
    assert es.quick_equal("x^2+2x+1", "(x+1)^2") is None                              # sympy: a worker


def test_unsafe_strings_never_reach_pythons_eval():
    assert es._sympy_parse("__import__('os').getcwd()") != __import__("os").getcwd()
