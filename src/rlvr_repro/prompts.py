"""Prompt families: how a math problem becomes chat messages for a given model family.

Training (verl parquet ``prompt`` column, local trainer) and evaluation (vLLM / transformers)
must show the model the *same* prompt, otherwise the measured gains are partly template effects
(Liu et al. 2025, "Understanding R1-Zero"; open-r1 #224). So both sides call :func:`build_messages`
and render with the tokenizer's own chat template plus :func:`chat_template_kwargs`.

Families (the papers' models):
  qwen_math   Qwen2.5-Math base/instruct: the boxed system prompt of the Qwen2.5-Math harness.
  qwen3       Qwen3 base/instruct in non-thinking mode (ACE evaluates Qwen3-8B-Base that way).
  llama31     Llama-3.1-Instruct: instruction appended to the user turn.
  r1_distill  DeepSeek-R1-Distill-Qwen: no system prompt, DeepSeek's recommended user suffix.
  generic     any other chat model: the boxed instruction appended to the user turn.
  short_answer  a small chat model that cannot finish a worked solution in its budget (the local
              SmolLM2-135M): "Give only the final answer as a number." appended to the user turn.
              Graded like every family (boxed, then "answer is", then the last number), so a bare
              "7" is read as the answer.

Templates (``template=``; a protocol's ``prompt_template``), orthogonal to the family:
  default     the family's prompt above (the one training uses).
  evalscope   the zero-shot prompt templates of evalscope v1.4.2 (modelscope/evalscope, commit 457dc8cb;
              EGPO §4.1 "evalscope with default templates"): one user turn, no system prompt, for every
              family. Math benchmarks (math_500, aime24, minerva_math, gsm8k adapters):
              ``{question}\nPlease reason step by step, and put your final answer within \boxed{}.``;
              multiple choice (mmlu adapter): ``MultipleChoiceTemplate.SINGLE_ANSWER_COT`` with choices
              as ``A) ...`` lines. The chat template and ``chat_template_kwargs`` still come from the family.
"""

from __future__ import annotations

BOXED_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."

FAMILIES = ("qwen_math", "qwen3", "llama31", "r1_distill", "generic", "short_answer")
TEMPLATES = ("default", "evalscope")

# Measured on SmolLM2-135M-Instruct (fp32, T = 1, 16 new tokens, the real grader, 4 x 48 problems
# each): "What is 3 + 4?" + this instruction scores 22 % (+), 20 % (-), 28 % (*) on single digits and
# 4 % on two-digit + one-digit sums; with the problem in $...$ it drops to 11 %; with the instruction
# as the system prompt to 15-17 %. With the boxed step-by-step instruction the model rambles past a
# 48-token budget and scores ~4 %. So the local run starts at the edge of the model, where RL learns.
SHORT_ANSWER_INSTRUCTION = "Give only the final answer as a number."
SHORT_CHOICE_INSTRUCTION = "Give only the letter of the correct option."


# evalscope v1.4.2: evalscope/benchmarks/math_500/math_500_adapter.py (and aime24, minerva_math, gsm8k):
# prompt_template='{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}.'
EVALSCOPE_MATH_TEMPLATE = "{question}\nPlease reason step by step, and put your final answer within \\boxed{{}}."
# evalscope v1.4.2: evalscope/utils/multi_choices.py, SINGLE_ANSWER_TEMPLATE_COT (used by the mmlu adapter)
EVALSCOPE_CHOICE_TEMPLATE = (
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. Think step by step before "
    "answering.\n\n{question}\n\n{choices}")


def evalscope_messages(problem: str, *, choices: list[str] | None = None) -> list[dict]:
    """evalscope's zero-shot prompt for one problem (see the module docstring), as chat messages."""
    if not isinstance(problem, str) or not problem.strip():
        raise ValueError("problem text is empty")
    if choices:
        letters = "ABCDEFGHIJ"[:len(choices)]
        text = EVALSCOPE_CHOICE_TEMPLATE.format(
            letters=",".join(letters), question=problem,
            choices="\n".join(f"{letters[i]}) {c}" for i, c in enumerate(choices)))
    else:
        text = EVALSCOPE_MATH_TEMPLATE.format(question=problem)
    return [{"role": "user", "content": text}]


def build_messages(problem: str, family: str, *, choices: list[str] | None = None,
                   template: str = "default") -> list[dict]:
    """Chat messages for one problem. ``choices`` (multiple choice, MMLU-STEM) are listed as A-D.

    The default template asks for a final ``\\boxed{}`` answer (what every grader in
    ``rlvr_repro.evaluate.grading`` extracts first), except the ``short_answer`` family, which asks
    for the bare answer (the graders fall back to the last number / option letter).
    ``template="evalscope"`` gives evalscope's prompt (:func:`evalscope_messages`) for any family.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown prompt family {family!r}; expected one of {FAMILIES}")
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; expected one of {TEMPLATES}")
    if template == "evalscope":
        return evalscope_messages(problem, choices=choices)
    if not isinstance(problem, str) or not problem.strip():
        raise ValueError("problem text is empty")
    body = problem.strip()
    if choices:
        letters = "ABCDEFGHIJ"
        body += "\n\n" + "\n".join(f"({letters[i]}) {c}" for i, c in enumerate(choices))
        instruction = ("Please reason step by step, and put the letter of the correct option "
                       "within \\boxed{}.")
    else:
        instruction = BOXED_INSTRUCTION
    if family == "short_answer":
        instruction = SHORT_CHOICE_INSTRUCTION if choices else SHORT_ANSWER_INSTRUCTION
    if family == "qwen_math":
        return [{"role": "system", "content": instruction}, {"role": "user", "content": body}]
    return [{"role": "user", "content": f"{body}\n{instruction}"}]


def chat_template_kwargs(family: str) -> dict:
    """Extra keyword arguments for ``tokenizer.apply_chat_template`` (verl: ``data.apply_chat_template_kwargs``)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown prompt family {family!r}; expected one of {FAMILIES}")
    return {"enable_thinking": False} if family == "qwen3" else {}


def render_prompt(tokenizer, messages: list[dict], family: str) -> str:
    """The prompt string the model sees: the tokenizer's chat template with a generation prompt."""
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True,
                                         **chat_template_kwargs(family))
