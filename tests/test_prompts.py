"""Prompt templates: evalscope's zero-shot templates (EGPO §4.1) next to the family prompts."""

import pytest

from rlvr_repro.prompts import FAMILIES, TEMPLATES, build_messages

# Verbatim from evalscope v1.4.2 (modelscope/evalscope 457dc8cb), after str.format:
#   benchmarks/{math_500,aime/aime24,minerva_math,gsm8k}: '{question}\nPlease reason step by step, and put
#   your final answer within \\boxed{{}}.'
#   utils/multi_choices.py SINGLE_ANSWER_TEMPLATE_COT, choices rendered by answer_options() as "A) ...".
EVALSCOPE_MATH = "Compute $1+1$.\nPlease reason step by step, and put your final answer within \\boxed{}."
EVALSCOPE_MC = ("Answer the following multiple choice question. The last line of your response should be of the "
                "following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B,C,D. Think "
                "step by step before answering.\n\nWhich is a prime?\n\nA) 4\nB) 6\nC) 7\nD) 9")


@pytest.mark.parametrize("family", FAMILIES)
def test_evalscope_template_is_one_user_turn_for_every_family(family):
    assert build_messages("Compute $1+1$.", family, template="evalscope") == [
        {"role": "user", "content": EVALSCOPE_MATH}]
    assert build_messages("Which is a prime?", family, choices=["4", "6", "7", "9"], template="evalscope") == [
        {"role": "user", "content": EVALSCOPE_MC}]


def test_default_template_is_the_family_prompt():
    assert TEMPLATES == ("default", "evalscope")
    assert build_messages("Q", "qwen_math") == build_messages("Q", "qwen_math", template="default")
    assert build_messages("Q", "qwen_math")[0]["role"] == "system"
    with pytest.raises(ValueError, match="unknown prompt template 'lighteval'"):
        build_messages("Q", "generic", template="lighteval")


def test_evalscope_answer_format_is_graded():
    """evalscope's multiple-choice prompt asks for 'ANSWER: C', its math prompt for a boxed answer:
    the MMLU-STEM and math graders read both."""
    from rlvr_repro.evaluate.grading import grade

    assert grade("7 is prime, the others are not.\nANSWER: C", "C", "mmlu_stem")
    assert not grade("ANSWER: B", "C", "mmlu_stem")
    assert grade("1+1 is \\boxed{2}.", "2", "math500")
