"""What the strict grader hands math-verify, and the in-process number check (no worker processes)."""

from fractions import Fraction

import pytest

from rlvr_repro.evaluate.extract import (
    answer_region, canonical, extract_choice, grading_mode, last_boxed, mv_gold, normalize_gold,
    prepare_response, reward_answer, single_box, strip_units)
from rlvr_repro.evaluate.judge import plain_number, quick_judge


def test_last_boxed_balanced_nested_and_variants():
    assert last_boxed(r"first \boxed{1} then \boxed{\frac{9}{7}}.") == r"\frac{9}{7}"
    assert last_boxed(r"\boxed{\left( 3, \frac{\pi}{2} \right)}") == r"\left( 3, \frac{\pi}{2} \right)"
    assert last_boxed(r"\fbox{42}") == "42"
    assert last_boxed(r"escaped braces \boxed{\{1,2\}}") == r"\{1,2\}"
    assert last_boxed("no box here") is None
    assert last_boxed(r"\boxed{3} ... final: \boxed{12") == "3"   # a truncated box is not an answer


def test_answer_region_after_think():
    assert answer_region("<think>try \\boxed{1}</think> The answer is \\boxed{2}") == " The answer is \\boxed{2}"
    assert answer_region("<think>unfinished thinking \\boxed{1}") == "<think>unfinished thinking \\boxed{1}"
    assert answer_region("<think>x</think>   ") == "<think>x</think>   "


@pytest.mark.parametrize("response, prepared", [
    (r"so \boxed{1 000}.", r"so \boxed{1000}."),                       # LaTeX ignores the space
    (r"so \boxed{28 %}", r"so \boxed{28}"),                             # % is a comment in LaTeX
    (r"so \boxed{62.5\%} and more", r"so \boxed{62.5} and more"),
    (r"so \boxed{4.5e33}", r"so \boxed{4.5\times10^{33}}"),             # e-notation is not 4.5*e*33
    (r"so \boxed{5.}", r"so \boxed{5}"),                                # a trailing period is punctuation
    (r"so \boxed{\frac{1}{2}}", r"so \boxed{\frac{1}{2}}"),
    ("Answer $ \n 9 \n $", "Answer  "),                                 # inline math across lines: blanked
    ("Answer \\( \n 9 \n \\)", "Answer  "),
    ("Answer $$ \n 9 \n $$", "Answer $$ \n 9 \n $$"),                   # display math may span lines
    ("costs $5 and\nthen $6 more", "costs $5 and\nthen $6 more"),       # currency is left alone
    ("<think>\\boxed{1}</think>so \\boxed{2}", "so \\boxed{2}"),
])
def test_prepare_response(response, prepared):
    assert prepare_response(response) == prepared


@pytest.mark.parametrize("text, box", [
    (r"Therefore the final answer is $\boxed{\frac{14}{3}}$.", r"\frac{14}{3}"),
    (r"so $x = \boxed{5} + 0$ and $y^{2}$", "5"),
    (r"\boxed{ 7 }", "7"),
    (r"\boxed{1} and \boxed{2}", None),                 # several boxes: math-verify joins them
    (r"The final answer is $\boxed{3}$. I hope it is correct.", None),   # "I hope" forms rank with boxes
    (r"$\boxed{28}$ pct", None),                        # a percent after the math is read with it
    (r"\boxed{}", None), (r"\boxed 5", None), (r"\boxed{12", None), (r"\fbox{3} \boxed{3}", None),
    ("no box", None),
])
def test_single_box_only_when_the_reading_reduces_to_it(text, box):
    assert single_box(text) == box


@pytest.mark.parametrize("gold, text", [
    (r"\frac{14}{3}", r"\boxed{\frac{14}{3}}"), (r"\sqrt{2}", r"\boxed{\sqrt{2}}"),
    ("$[0,1)$", "$[0,1)$"), (r"\boxed{1} and \boxed{2}", r"\boxed{1} and \boxed{2}"),
    (r"\$32,\!348", r"\boxed{\$32,\!348}"),              # a currency sign is not a delimiter
    ("4.5e33", r"\boxed{4.5\times10^{33}}"), ("62.5%", r"\boxed{62.5}"), (r"\(x\)", r"\(x\)"),
])
def test_mv_gold(gold, text):
    assert mv_gold(gold) == text


def test_grading_mode_names_unknown_benchmark():
    assert grading_mode("aime25") == "integer"
    with pytest.raises(ValueError, match="unknown benchmark 'aime26'"):
        grading_mode("aime26")


def test_normalize_gold_per_source_format():
    assert normalize_gold("Janet sells ... = <<9*2=18>>18 every day.\n#### 18", "numeric") == "18"
    assert normalize_gold(" 2,125", "numeric") == "2125"
    assert normalize_gold("#### 125,96", "numeric") == "125,96"     # not a thousands number: kept
    assert normalize_gold(27.0, "numeric") == "27"      # AMC23 golds are floats
    assert normalize_gold(70, "integer") == "70"        # AIME 2025 golds are ints
    assert normalize_gold("025", "integer") == "025"    # AIME 2024 zero-padded strings
    assert normalize_gold(2, "choice") == "C"           # MMLU-STEM 0-based index
    assert normalize_gold("(B)", "choice") == "B"
    assert normalize_gold(r"So $s=\alpha f$ ... \boxed{1.6} \mathrm{~cm}", "minerva") == "1.6"
    assert normalize_gold(r"\boxed{1.3 \times 10^{-3} \mathrm{~m}}", "minerva") == r"1.3 \times 10^{-3}"
    assert normalize_gold(r"\boxed{1} papers and \boxed{2} bins", "math") == r"\boxed{1} papers and \boxed{2} bins"
    assert normalize_gold("$69$,$84$", "olympiad") == "$69$,$84$"
    with pytest.raises(ValueError, match="neither a letter"):
        normalize_gold("maybe", "choice")
    with pytest.raises(ValueError, match="empty"):
        normalize_gold("  ", "math")
    with pytest.raises(ValueError, match="not a finite number"):
        normalize_gold(float("nan"), "numeric")


def test_strip_units_minerva():
    assert strip_units(r"6.5 \mathrm{~m}") == "6.5"
    assert strip_units(r"4.5e33 \text{ erg/s}") == "4.5e33"
    assert strip_units(r"1.3 \times 10^{-3} \mathrm{~m}") == r"1.3 \times 10^{-3}"
    assert strip_units(r"30^{\circ}") == "30"
    assert strip_units(r"8 \mu \mathrm{m}") == "8"
    assert strip_units(r"c x^{-2}-\frac{\cos (2 x)}{2 x^{2}}") == r"c x^{-2}-\frac{\cos (2 x)}{2 x^{2}}"
    assert strip_units("2n") == "2n" and strip_units(r"3 \pi") == r"3 \pi"


@pytest.mark.parametrize("response, answer", [
    ("7", r"\boxed{7}"), ("7.", r"\boxed{7}"), ("$7$", r"\boxed{7}"), (" The answer is 7. ", r"\boxed{7}"),
    ("**Answer:** 7", r"\boxed{7}"), ("Let me think.\nAnswer: $13$", r"\boxed{13}"),
    ("x = 7", r"\boxed{x = 7}"), (r"so \boxed{\frac{1}{2}}.", r"\boxed{\frac{1}{2}}"),
    (r"\boxed{2} or \boxed{3}", r"\boxed{2, 3}"),              # a hedge is a list
    (r"\boxed{2} so \boxed{ 2 }", r"\boxed{2}"),                # a repeated answer is one answer
    (r"<think>\boxed{3}</think>so \boxed{4}", r"\boxed{4}"),
    ("We have 3 apples.\nSo 7", None), ("so she has 7 apples", None), ("7 or 8", None),
    ("Answer: 7 apples", None), (r"so \boxed{12", None), ("", None), ("   \n ", None),
    ("The answer is $3$ or $4$", None), ("1" * 101, None),
])
def test_reward_answer(response, answer):
    assert reward_answer(response) == answer


def test_reading_rejects_non_strings():
    for fn in (prepare_response, reward_answer, extract_choice):
        with pytest.raises(ValueError, match="must be a string"):
            fn(None)


@pytest.mark.parametrize("response, expected", [
    (r"\boxed{C}", "C"), (r"\boxed{(B) 12}", "B"), (r"\boxed{\text{D}}", "D"),
    ("Therefore, the answer is (A).", "A"), ("I am not sure.", None),
])
def test_extract_choice(response, expected):
    assert extract_choice(response) == expected


def test_extract_choice_by_option_text():
    choices = ["maintain the population", "opt for zero", "reduce the carrying capacity", "increase mortality"]
    assert extract_choice(r"\boxed{\text{reduce the carrying capacity}}", choices) == "C"
    assert extract_choice(r"\boxed{\text{something else}}", choices) is None
    assert canonical(r"\text{(C)}") == "(C)"


@pytest.mark.parametrize("text, value", [
    ("42", (Fraction(42), False)), ("025", (Fraction(25), False)), ("-3", (Fraction(-3), False)),
    (".5", (Fraction(1, 2), True)), ("27.0", (Fraction(27), True)), ("$12$", (Fraction(12), False)),
    (r"\frac{3}{4}", (Fraction(3, 4), False)), (r"-\dfrac{17}{50}", (Fraction(-17, 50), False)),
    ("3/4", (Fraction(3, 4), False)),
])
def test_plain_number(text, value):
    assert plain_number(text) == value


@pytest.mark.parametrize("text", ["x", "+3", "1,000", "1 000", r"\frac43", r"\frac{1}{0}", "5.", "1e5", "50\\%", "", "1" * 41])
def test_plain_number_leaves_the_rest_to_math_verify(text):
    assert plain_number(text) is None


@pytest.mark.parametrize("pred, gold, expected", [
    ("25", "025", True), ("26", "025", False), (r"\frac{18}{14}", r"\frac{9}{7}", True), ("3/6", "0.5", True),
    ("1.0", "1", True), ("0.5", r"\frac{1}{3}", False),          # 1/6 apart: far beyond 6-place rounding
    ("0.333333", r"\frac13", None),                               # \frac13 is no plain number
    ("0.333333", r"\frac{1}{3}", None),                           # within rounding: math-verify decides
    ("0.33", r"\frac{1}{3}", False), ("2000000000.5", "2000000000", None),  # big floats: math-verify
    ("x+1", "1+x", None), ("-7", "7", False),
])
def test_quick_judge(pred, gold, expected):
    assert quick_judge(pred, gold) is expected
