"""Answer normal forms shared by the builders (data.answers) and the grader (evaluate.extract)."""

from fractions import Fraction

import pytest

from rlvr_repro.answer_forms import (MAX_DIGITS, drop_thousands, exact_number, format_number,
                                     is_thousands_number, strip_presentation, unwrap_text)
from rlvr_repro.data.answers import answers_match, normalize_answer
from rlvr_repro.evaluate.extract import canonical, normalize_gold
from rlvr_repro.evaluate.grading import grade_many


@pytest.mark.parametrize("written, bare", [
    (r"$\dfrac{9}{7}$", r"\frac{9}{7}"), (r"\tfrac12", r"\frac{1}{2}"), (r"\frac 3 4", r"\frac{3}{4}"),
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"), (r"90^\circ", "90"), (r"90^{ \circ }", "90"),
    ("90°", "90"), (r"10,\!080", "10,080"), (r"1{,}000", "1,000"), (r"\$32", "32"), (r"\(5\)", "5"),
    (r"\[x^2\]", "x^2"), (r"a\quad b~c", "abc"), (r"\text{\textbf{Evelyn}}", "Evelyn"),
    (r"\mathbf{127}", "127"), (r"\operatorname{lcm}", "lcm"), (r"\textrm{ km}", "km"), ("x = 5.", "x=5"),
    (r"\displaystyle\frac{1}{2}", r"\frac{1}{2}"),
])
def test_strip_presentation(written, bare):
    assert strip_presentation(written, keep_percent=True) == bare
    assert strip_presentation(written, keep_percent=False) == bare


def test_percent_is_the_deliberate_difference():
    assert strip_presentation(r"50\%", keep_percent=True) == "50%"     # grader: math-verify decides
    assert strip_presentation(r"50\%", keep_percent=False) == "50"     # builders: 50\% matches 50
    assert canonical(r"50\%") != canonical("50") and answers_match(r"50\%", "50")


BUILDER_FORMS = [
    (r"\(5\)", "5"), (r"\dfrac{1}{2}", r"\frac12"), (r"\mathbf{1 1 .}", "11"),
    (r"6 \sqrt{\mathbf{2}}-\mathbf{2}", r"6 \sqrt{2}-2"), (r"\frac{\mathbf{9}}{\mathbf{3 2}}", r"\frac{9}{32}"),
    (r"\left[ 1, 2 \right)", "[1,2)"), (r"\text{(C)}", "(C)"), (r"30^{\circ}", "30"), (r"1{,}000", "1,000"),
]


@pytest.mark.parametrize("variant, base", BUILDER_FORMS)
def test_builders_read_the_forms_as_one(variant, base):
    # The boxed-match filter of the builders: one normal form. The \mathbf cases are OlympiadBench
    # reference solutions' boxes.
    assert answers_match(variant, base)
    assert normalize_answer(variant) == normalize_answer(base)


def test_the_grader_reads_them_as_math_verify_does():
    """The grader is math-verify: it agrees with the builders except on bold digits, which
    math-verify 0.9.0 reads as a symbol (a model's \\boxed{\\mathbf{11}} is not 11 to it)."""
    results = grade_many([(f"\\boxed{{{variant}}}", base) for variant, base in BUILDER_FORMS], "math500")
    assert [variant for (variant, _), r in zip(BUILDER_FORMS, results) if not r.correct] == [
        r"\mathbf{1 1 .}", r"6 \sqrt{\mathbf{2}}-\mathbf{2}", r"\frac{\mathbf{9}}{\mathbf{3 2}}"]


def test_the_builders_also_drop_a_leading_variable_and_thousands():
    assert normalize_answer("x = 1,234") == "1234"
    assert canonical("x = 1,234") == "x=1,234"          # the grader leaves equations to math-verify


def test_unwrap_text_nested_and_only_wrappers():
    assert unwrap_text(r"\text{\textbf{\textit{x}}}") == "x"
    assert unwrap_text(r"\sqrt{\text{2}}") == r"\sqrt{2}"
    assert unwrap_text(r"\frac{a}{b}") == r"\frac{a}{b}"


def test_thousands():
    assert is_thousands_number("2,125") and is_thousands_number("-1,000.5")
    assert not is_thousands_number("1,2") and not is_thousands_number("12,34")
    assert drop_thousands("11,111,100") == "11111100" and drop_thousands("1,2") == "1,2"


@pytest.mark.parametrize("t, value", [
    ("025", Fraction(25)), (".5", Fraction(1, 2)), ("-3.0", Fraction(-3)), ("4.5e33", Fraction(45 * 10**32)),
    ("3/4", Fraction(3, 4)), (r"\frac{3}{4}", Fraction(3, 4)), (r"-\frac{35}{9}", Fraction(-35, 9)),
    (r"\frac{1}{-2}", Fraction(-1, 2)), (r"\frac43", Fraction(4, 3)),
])
def test_exact_number_plain_forms(t, value):
    assert exact_number(t) == value


@pytest.mark.parametrize("t", ["", "x", "1,000", "50%", r"\sqrt{2}", "3/0", r"\frac{1}{0}", "1/-2", "1e"])
def test_exact_number_refuses_the_rest(t):
    assert exact_number(t) is None


def test_exact_number_powers_of_ten_only_when_asked():
    assert exact_number(r"4.5\times10^{33}") is None
    assert exact_number(r"4.5\times10^{33}", powers_of_ten=True) == Fraction(45 * 10**32)
    assert exact_number("10^{-3}", powers_of_ten=True) == Fraction(1, 1000)


def test_exact_number_never_builds_a_huge_number():
    assert exact_number(f"1e{MAX_DIGITS + 1}") is None                           # exponent bound
    assert exact_number("1" * (MAX_DIGITS + 1)) is None                           # length bound
    assert exact_number(f"10^{{{10**9}}}", powers_of_ten=True) is None
    assert exact_number("1" * (MAX_DIGITS + 1), max_digits=4300) == int("1" * (MAX_DIGITS + 1))


def test_format_number():
    assert [format_number(x) for x in (27.0, -1.0, 0.5, 3)] == ["27", "-1", "0.5", "3"]
    for bad in (float("nan"), float("-inf"), True, "3"):
        with pytest.raises(ValueError, match="not a finite number"):
            format_number(bad)
    # the grader writes float golds the same way, and names a bad one
    assert normalize_gold(27.0, "numeric") == "27" and normalize_gold(0.5, "math") == "0.5"
    with pytest.raises(ValueError, match="gold answer nan is not a finite number"):
        normalize_gold(float("nan"), "numeric")
