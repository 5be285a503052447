"""EGPO's grader: evalscope v1.4.2's answer extraction and comparison, ported rule for rule.

EGPO §4.1 evaluates "using ... evalscope with default templates"; the ``egpo`` protocol therefore
grades like evalscope v1.4.2 (modelscope/evalscope, tag v1.4.2 = commit 457dc8cb, the release whose
prompt templates :mod:`rlvr_repro.prompts` copies). The rules come from these files of that commit:

* ``evalscope/metrics/math_parser.py`` — ``extract_answer``, ``strip_answer_string``, ``math_equal``,
  ``symbolic_equal`` (evalscope's note: "largely borrows from Qwen2.5-Math"). The math benchmarks'
  adapters (math_500, aime24, gsm8k, minerva_math) call ``extract_answer`` on the completion and
  score with the ``acc`` metric with ``numeric: True`` (``evalscope/metrics/metric.py``):
  ``math_equal(extracted, strip_answer_string(target))``.
* ``evalscope/utils/multi_choices.py`` — ``parse_answers`` (the mmlu adapter's extraction: the first
  "ANSWER: X" line, else the last capital letter of the completion) scored by ``acc`` without
  options, i.e. ``ExactMatch``: ``pred.strip().lower() == target.strip().lower()``.

This harness is lenient where the strict default is not, on purpose and only for this protocol:
with no box and no "the answer is", the *last number in the text* is the answer; a reference that
is a number also matches the prediction times or divided by 100 (``include_percentage``); numbers
match within a relative 1e-4 (``numeric_equal``).

Why a port and not ``pip install evalscope``: evalscope 1.4.2 pins ``datasets==3.6.0`` (a
downgrade here) and pulls ~37 packages (modelscope, the aliyun SDK, openai, jieba, nltk, ...);
``import evalscope.metrics.math_parser`` runs ``evalscope/__init__.py``, which imports every
benchmark adapter and the task runner, in every grading worker. The rules fit in this file and are
tested against outputs of evalscope's own code (tests/evaluate/data/evalscope_cases.json).

Where this port differs from running evalscope, and why:

* ``symbolic_equal`` tries sympy's ``parse_latex`` first. In evalscope's environment that always
  raises ImportError (sympy wants antlr4 4.11; evalscope installs ``latex2sympy2_extended[antlr4_9_3]``,
  i.e. antlr4 4.9.3), so the port skips it: the result no longer depends on which antlr4 a cluster
  image happens to have.
* ``sympy.parse_expr`` evaluates Python. Strings with ``__``, ``import``, ``lambda``, ``exec`` or
  ``eval`` are not handed to it (no math answer contains them); they fall through to latex2sympy.
* Minerva-Math: evalscope's adapter sets ``_use_llm_judge = True`` (an LLM compares the completion
  with the full reference solution; ``judge_model_args`` must name a judge model). No judge is
  run here: the rule-based comparison above is applied to the reference solution's boxed answer.
* sympy calls can run forever on some inputs; here they run in the grading worker under a hard
  deadline (a timeout counts as incorrect), where evalscope would hang.
"""

from __future__ import annotations

import re
from math import isclose

# ------------------------------------------------------------------------ answer normalisation


def _word_number(text: str) -> str:
    """``convert_word_number``: ``word2number.w2n.word_to_num`` when it accepts the text."""
    from word2number import w2n

    try:
        return str(w2n.word_to_num(text))
    except Exception:
        return text


def _fix_fracs(string: str) -> str:
    r"""``\frac12`` -> ``\frac{1}{2}``, ``\frac1b`` -> ``\frac{1}{b}`` (math_parser ``_fix_fracs``)."""
    parts = string.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part[:1] == "{":
            out += part
            continue
        if len(part) < 2:
            return string
        a, b, rest = part[0], part[1], part[2:]
        out += "{" + a + "}{" + b + "}" + rest if b != "{" else "{" + a + "}" + b + rest
    return out


def _fix_a_slash_b(string: str) -> str:
    """``3/4`` -> ``\\frac{3}{4}`` when both sides are integers written plainly."""
    pieces = string.split("/")
    if len(pieces) != 2:
        return string
    a, b = pieces
    try:
        a = a if "sqrt" in a else int(a)
        b = b if "sqrt" in b else int(b)
        if string != f"{a}/{b}":
            return string
        return "\\frac{" + str(a) + "}{" + str(b) + "}"
    except Exception:
        return string


def _text_word_number(match: re.Match) -> str:
    word = match.group(1).lower()
    converted = _word_number(word)
    return match.group(0) if converted == word else converted


def strip_answer(string) -> str:
    """evalscope's ``strip_answer_string``: the canonical form both sides are compared in.

    Step by step as in the source: line breaks and a final period go; ``\\!``, ``\\left``/``\\right``,
    ``\\{ \\}``, dfrac/tfrac, array/bmatrix spellings, degree signs, dollar signs, ``\\(\\)``, percent
    signs, units in a trailing ``\\text{}``, ``x=``-style prefixes, spaces and "and" are removed;
    number words become digits; ``a.000`` loses its zeros; thousands separators are dropped; a list of
    integers is sorted.
    """
    string = str(string).strip().replace("\n", "").rstrip(".")
    string = string.replace("\\!", "")
    string = re.sub(r"\\begin\{array\}\{.*?\}", r"\\begin{pmatrix}", string)
    string = re.sub(r"\\end\{array\}", r"\\end{pmatrix}", string)
    string = string.replace("bmatrix", "pmatrix")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\neq", "\\ne").replace("\\leq", "\\le").replace("\\geq", "\\ge")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("\\{", "{").replace("\\}", "}")
    string = re.sub(r"\\text\{([a-zA-Z]+)\}", _text_word_number, string)
    string = re.sub(r"(cm|inches)\}\^2", r"\1}", string)
    unitless = re.sub(r"\\text{.*?}$", "", string).strip()
    if unitless != "" and unitless != string:
        string = unitless
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "").replace("$", "")
    string = string.replace("\\(", "").replace("\\)", "")
    string = _word_number(string)
    string = re.sub(r"\\text\{(.*?)\}", r"\1", string)
    for key in ("x=", "y=", "z=", "x\\in", "y\\in", "z\\in", "x\\to", "y\\to", "z\\to"):
        string = string.replace(key, "")
    string = string.replace("\\emptyset", r"{}")
    string = string.replace("(-\\infty,\\infty)", "\\mathbb{R}")
    string = string.replace("\\%", "").replace("%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if (string.startswith("{") and string.endswith("}") and string.isalnum()
            or string.startswith("(") and string.endswith(")") and string.isalnum()
            or string.startswith("[") and string.endswith("]") and string.isalnum()):
        string = string[1:-1]  # never true (brackets are not alphanumeric); kept as in the source
    string = string.replace("infinity", "\\infty")
    if "\\infty" not in string:
        string = string.replace("inf", "\\infty")
    string = string.replace("+\\inity", "\\infty")
    string = string.replace("and", "").replace("\\mathbf", "")
    string = re.sub(r"\\mbox{.*?}", "", string)
    if "j" in string and "i" not in string:
        string = string.replace("j", "i")
    string = re.sub(r"(\d+)\.0*([^\d])", r"\1\2", string)
    string = re.sub(r"(\d+)\.0*$", r"\1", string)
    if not string:
        return string
    if string[0] == ".":
        string = "0" + string
    sides = string.split("=")
    if len(sides) == 2 and len(sides[0]) <= 2:
        string = sides[1]
    string = re.sub(r"\\sqrt(\w+)", r"\\sqrt{\1}", string)
    string = string.replace(" ", "")
    string = _fix_fracs(string)
    string = _fix_a_slash_b(string)
    string = re.sub(r"\\(?=\-?\d+(\\|\)|,|\]|$))", "", string)
    string = re.sub(r"thgrade$", "", string)
    if re.fullmatch(r"\s*-?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*", string):
        string = string.replace(",", "")
    if re.fullmatch(r"(\s*-?\d+\s*,)*\s*-?\d+\s*", string):
        try:
            numbers = sorted(map(int, string.split(",")))
        except ValueError:
            numbers = [-1, -1]
        string = ",".join(map(str, numbers))
    return string


# --------------------------------------------------------------------------------- extraction

_LAST_NUMBER_RE = re.compile(r"-?\d*\.?\d+")


def _box_content(after: str) -> str:
    """What follows the last "boxed": the brace group (depth counted, escapes ignored, an unclosed
    group read to the end), or the text up to the next ``$``."""
    if after[0] != "{":
        return after.split("$")[0].strip()
    depth, out = 1, ""
    for ch in after[1:]:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        out += ch
    return out


def extract_answer(pred_str: str, use_last_number: bool = True) -> str:
    """evalscope's ``extract_answer`` of a completion, already in :func:`strip_answer` form.

    First rule that applies: Minerva's "final answer is $X$. I hope"; the last "boxed"; text after
    the last "he answer is"; after the last "final answer is"; after the first "答案是"; after the
    last "ANSWER:"; else the last number (commas removed first)."""
    pred_str = pred_str.replace("\u043a\u0438", "")
    if "final answer is $" in pred_str and "$. I hope" in pred_str:
        pred = pred_str.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()
    elif "boxed" in pred_str:
        after = pred_str.split("boxed")[-1]
        if not after:
            return ""
        pred = _box_content(after)
    elif "he answer is" in pred_str:
        pred = pred_str.split("he answer is")[-1].strip()
    elif "final answer is" in pred_str:
        pred = pred_str.split("final answer is")[-1].strip()
    elif "答案是" in pred_str:
        pred = pred_str.split("答案是")[1].strip().split("\n\n")[0].strip()
    elif "ANSWER:" in pred_str:
        pred = pred_str.split("ANSWER:")[-1].strip()
    elif use_last_number:
        numbers = _LAST_NUMBER_RE.findall(pred_str.replace(",", ""))
        pred = numbers[-1] if numbers else ""
    else:
        pred = ""
    pred = re.sub(r"\n\s*", "", pred)
    if pred[:1] == ":":
        pred = pred[1:]
    if pred[-1:] == ".":
        pred = pred[:-1]
    if pred[-1:] == "/":
        pred = pred[:-1]
    return strip_answer(pred)


def parse_choice(completion: str, n_choices: int) -> str:
    """evalscope's ``parse_answers`` (single answer) for a completion with ``n_choices`` options:
    the first line "ANSWER: X" (else the first "ANSWER: X" anywhere); X must be one of the option
    letters. With no "ANSWER:" at all, the last capital letter of the completion. "" when nothing
    qualifies."""
    match = re.search(r"(?i)^ANSWER\s*:\s*([A-Za-z\d ,]+)\s*(?:$|\n|\.)", completion, flags=re.MULTILINE)
    if match is None:
        match = re.search(r"(?i)ANSWER\s*:\s*([A-Za-z\d ,]+)(?:[^\w]|\n|$|\.)", completion)
    if match is None:
        for letter in reversed(completion):
            if letter.isupper():
                return letter
        return ""
    matched = match.group(1).strip().rstrip(".")
    allowed = {chr(ord("A") + i) if i < 26 else str(i - 25) for i in range(n_choices)}
    return matched if matched in allowed else ""


def choice_correct(completion: str, gold_letter: str, n_choices: int) -> bool:
    """MMLU under evalscope: ``ExactMatch`` of :func:`parse_choice` with the gold letter."""
    return parse_choice(completion, n_choices).strip().lower() == gold_letter.strip().lower()


# -------------------------------------------------------------------------------- comparison


def _choice_clean(pred: str) -> str:
    """``choice_answer_clean``: the last standalone letter A-E, else the cleaned text."""
    pred = pred.strip("\n").rstrip(".").rstrip("/").strip(" ").lstrip(":")
    letters = re.findall(r"\b(A|B|C|D|E)\b", pred.upper())
    pred = letters[-1] if letters else pred.strip().strip(".")
    return pred.rstrip(".").rstrip("/")


def _parse_digits(num):
    num = str(num).replace(",", "")
    try:
        return float(num)
    except Exception:
        if num.endswith("%"):
            num = num[:-1]
            if num.endswith("\\"):
                num = num[:-1]
            try:
                return float(num) / 100
            except Exception:
                pass
    return None


def numeric_equal(prediction: float, reference: float) -> bool:
    return isclose(reference, prediction, rel_tol=1e-4)


def _numeric_verdict(prediction: str, reference: str, include_percentage: bool, is_close: bool):
    """``math_equal`` step 1: True/False when both sides read as numbers, else None."""
    try:
        p, r = _parse_digits(prediction), _parse_digits(reference)
        if p is None or r is None:
            return None
        for item in ([r / 100, r, r * 100] if include_percentage else [r]):
            try:
                if (numeric_equal(p, item) if is_close else item == p):
                    return True
            except Exception:
                continue
        return False
    except Exception:
        return None


def _strip_brackets(prediction: str, reference: str) -> tuple[str, str]:
    pred_str, ref_str = prediction, reference
    if ((prediction.startswith("[") and prediction.endswith("]") and not reference.startswith("("))
            or (prediction.startswith("(") and prediction.endswith(")") and not reference.startswith("["))):
        pred_str, ref_str = pred_str.strip("[]()"), ref_str.strip("[]()")
    for s in "{}()":
        ref_str, pred_str = ref_str.replace(s, ""), pred_str.replace(s, "")
    return pred_str, ref_str


def quick_equal(prediction: str, reference: str, include_percentage: bool = True,
                is_close: bool = True) -> bool | None:
    """The string-and-float steps of ``math_equal`` (no sympy): True/False when they decide the pair,
    None when the symbolic steps must (they run in a grading worker, see :func:`math_equal`)."""
    if prediction is None or reference is None:
        return False
    if prediction.strip().lower() == reference.strip().lower():
        return True
    if reference in ("A", "B", "C", "D", "E") and _choice_clean(prediction) == reference:
        return True
    numeric = _numeric_verdict(prediction, reference, include_percentage, is_close)
    if numeric is not None:
        return numeric
    if not prediction:
        return False
    pred_str, ref_str = _strip_brackets(str(prediction).strip(), str(reference).strip())
    if pred_str.lower() == ref_str.lower():
        return True
    return None


def _str_to_pmatrix(input_str: str) -> str:
    rows = re.findall(r"\{.*,.*\}", input_str.strip())
    return ", ".join(r"\begin{pmatrix}" + m.strip("{}").replace(",", "\\") + r"\end{pmatrix}" for m in rows)


def _pmatrix_lines(s: str) -> list[str]:
    return [line.strip() for line in s[len("\\begin{pmatrix}"):-len("\\end{pmatrix}")].split("\\\\")
            if line.strip()]


def _is_matrix(s: str) -> bool:
    return (s.startswith(("\\begin{pmatrix}", "\\begin{bmatrix}"))
            and s.endswith(("\\end{pmatrix}", "\\end{bmatrix}")))


def math_equal(prediction, reference, include_percentage: bool = True, is_close: bool = True) -> bool:
    """evalscope's ``math_equal``: string, numeric, element-wise (tuples, matrices), equation and
    symbolic equality. Uses sympy: call it in a grading worker (it may not terminate)."""
    decided = quick_equal(prediction, reference, include_percentage, is_close)
    if decided is not None:
        return decided
    reference, prediction = str(reference).strip(), str(prediction).strip()
    if "pmatrix" in prediction and "pmatrix" not in reference:
        reference = _str_to_pmatrix(reference)

    def equal(p, r):
        return math_equal(p, r, include_percentage, is_close)

    if re.match(r"(\(|\[).+(\)|\])", prediction) and re.match(r"(\(|\[).+(\)|\])", reference):
        pred_parts, ref_parts = prediction[1:-1].split(","), reference[1:-1].split(",")
        if len(pred_parts) == len(ref_parts) and all(equal(p, r) for p, r in zip(pred_parts, ref_parts)):
            return True
    if _is_matrix(prediction) and _is_matrix(reference):
        pred_lines, ref_lines = _pmatrix_lines(prediction), _pmatrix_lines(reference)
        if len(pred_lines) == len(ref_lines) and all(
                len(p.split("&")) == len(r.split("&")) and all(equal(a, b) for a, b in zip(p.split("&"), r.split("&")))
                for p, r in zip(pred_lines, ref_lines)):
            return True
    if prediction.count("=") == 1 and reference.count("=") == 1:
        p_lhs, p_rhs = prediction.split("=")
        r_lhs, r_rhs = reference.split("=")
        pred = f"{p_lhs.strip()} - ({p_rhs.strip()})"
        ref = f"{r_lhs.strip()} - ({r_rhs.strip()})"
        if symbolic_equal(pred, ref) or symbolic_equal(f"-({pred})", ref):
            return True
    elif prediction.count("=") == 1 and len(prediction.split("=")[0].strip()) <= 2 and "=" not in reference:
        if equal(prediction.split("=")[1], reference):
            return True
    elif reference.count("=") == 1 and len(reference.split("=")[0].strip()) <= 2 and "=" not in prediction:
        if equal(prediction, reference.split("=")[1]):
            return True
    return symbolic_equal(prediction, reference)


_UNSAFE_FOR_EVAL = ("__", "import", "lambda", "exec", "eval")


def _sympy_parse(s: str):
    """``symbolic_equal``'s ``_parse``: sympy ``parse_expr`` then latex2sympy, each on the string with
    ``\\\\`` read as ``\\`` and then as written; the string itself when both fail (``parse_latex``
    skipped, see the module docstring)."""
    from latex2sympy2_extended import latex2sympy
    from sympy.parsing.sympy_parser import parse_expr

    parsers = [latex2sympy] if any(t in s for t in _UNSAFE_FOR_EVAL) else [parse_expr, latex2sympy]
    for parser in parsers:
        for text in (s.replace("\\\\", "\\"), s):
            try:
                return parser(text)
            except Exception:
                continue
    return s


def symbolic_equal(a: str, b: str) -> bool:
    """evalscope's ``symbolic_equal``: same string or ``==``; ``equals`` or ``simplify(a - b) == 0``;
    equations by ``|lhs - rhs|``; numerically within 1e-4; matrices rounded to 3 places."""
    from sympy import N, simplify

    a, b = _sympy_parse(a), _sympy_parse(b)
    try:
        if str(a) == str(b) or a == b:
            return True
    except Exception:
        pass
    try:
        if a.equals(b) or simplify(a - b) == 0:
            return True
    except Exception:
        pass
    try:
        if (abs(a.lhs - a.rhs)).equals(abs(b.lhs - b.rhs)):
            return True
    except Exception:
        pass
    try:
        if numeric_equal(float(N(a)), float(N(b))):
            return True
    except Exception:
        pass
    try:
        if a.shape == b.shape and a.applyfunc(lambda x: round(x, 3)).equals(b.applyfunc(lambda x: round(x, 3))):
            return True
    except Exception:
        pass
    return False
