"""Answer extraction and cheap normalisation, per benchmark.

Why this module exists: most grading disagreements between harnesses come from *extraction*
(open-r1 #224/#269, lighteval #771, Math-Verify #70), not from the equivalence check. So the
rules that turn a model response (and a gold answer) into a comparable string are written out
here, one small function per rule, each tested on real answer formats of the nine benchmarks.

Everything here is pure string work with linear-time scanners and anchored regular expressions:
it runs in the parent process and can never hang. The (possibly slow) math-verify / sympy
comparison lives in :mod:`rlvr_repro.evaluate.judge` and runs in worker processes.

Grading modes (a benchmark name maps to one mode, see :data:`BENCHMARK_MODES`):

  math      MATH / MATH-500 / the local fixtures: last ``\\boxed{}``, math-verify equivalence
  integer   AIME: integer answers 0-999, gold may be zero-padded ("025")
  numeric   AMC23 (float golds "27.0"), GSM8K ("#### 1,234" golds, thousands commas)
  minerva   Minerva-Math: units stripped, e-notation and ``\\times 10^{}``, relative tolerance
  olympiad  OlympiadBench: units stripped, multi-answer golds compared as unordered sets
  choice    MMLU-STEM: a letter A-D from ``\\boxed{C}`` or "the answer is (C)"
"""

from __future__ import annotations

import re
from fractions import Fraction

from rlvr_repro import latex
from rlvr_repro.answer_forms import (DEGREE_RE, MAX_DIGITS, drop_dollars, drop_thousands,
                                     exact_number, format_number, is_thousands_number,
                                     strip_presentation, unwrap_text)
from rlvr_repro.data.benchmarks import LOADERS

# Every answer format (benchmark loader) declares its mode (rlvr_repro.data.benchmarks.LOADERS);
# the other names are data sources and aliases that are not loaders.
BENCHMARK_MODES: dict[str, str] = {
    **{name: loader.mode for name, loader in LOADERS.items()},
    "generic": "math",
    "arith": "numeric",
    "minerva_math": "minerva",
}
MODES = ("math", "integer", "numeric", "minerva", "olympiad", "choice")
CHOICE_LETTERS = "ABCDEFGHIJ"


def grading_mode(benchmark: str) -> str:
    """The grading mode of a benchmark name; raises ValueError naming the unknown benchmark."""
    try:
        return BENCHMARK_MODES[benchmark]
    except KeyError:
        raise ValueError(f"unknown benchmark {benchmark!r}; expected one of "
                         f"{sorted(BENCHMARK_MODES)}") from None


# --------------------------------------------------------------------------- boxed answers

def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{...}`` / ``\\fbox{...}``, as written
    (:func:`rlvr_repro.latex.last_boxed`; the callers strip it).

    Also accepts the brace-less form ``\\boxed 5``. A box left open by a truncated response is
    skipped (the previous complete box, if any, is returned), so a cut-off ``\\boxed{12`` never
    counts as the answer "12".
    """
    return latex.last_boxed(text)


def answer_region(response: str) -> str:
    """The part of a response that holds the final answer: the text after the last
    ``</think>`` when a reasoning model closed its thinking block, else the whole response."""
    head, sep, tail = response.rpartition("</think>")
    return tail if sep and tail.strip() else response


# ------------------------------------------------------------------ "the answer is ..." phrases

_PHRASE_RE = re.compile(
    r"(?:final\s+answer|answer)\s*(?:is\s*:?|:|=)\s*([^\n]+)", re.IGNORECASE)
_GSM8K_MARK_RE = re.compile(r"####\s*([^\n]+)")
_MATH_SPAN_RES = (re.compile(r"\$\$?([^$]+?)\$\$?"), re.compile(r"\\\((.+?)\\\)"),
                  re.compile(r"\\\[(.+?)\\\]"))
_LEADING_NUMBER_RE = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:/\d+)?")


def _clean_phrase(capture: str) -> str | None:
    """Trim the text after "answer is" to the answer itself (a math span or a leading number)."""
    s = capture.strip().strip("*").strip()
    for rx in _MATH_SPAN_RES:
        m = rx.search(s)
        if m and m.group(1).strip():
            return m.group(1).strip()
    m = _LEADING_NUMBER_RE.match(s)
    if m and re.search(r"\d", m.group(0)):
        return m.group(0)
    s = s.rstrip(".").strip()
    return s if s and len(s) <= 60 else None


def answer_phrase(text: str) -> str | None:
    """The answer after the last "final answer is / answer: / Answer =" (DAPO's "Answer: $13$")."""
    last = None
    for last in _PHRASE_RE.finditer(text):
        pass
    return _clean_phrase(last.group(1)) if last else None


_NUMBER_RE = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|-?\.\d+")


def last_number(text: str) -> str | None:
    """The last number in the text (thousands separators kept; the caller strips them)."""
    last = None
    for last in _NUMBER_RE.finditer(text):
        pass
    return last.group(0) if last else None


# --------------------------------------------------------------------------- multiple choice

_CHOICE_BOX_RE = re.compile(r"^\(?\s*([A-J])\s*\)?(?:[\s.:)]|$)")
_CHOICE_PHRASE_RE = re.compile(
    r"answer\s*(?:is|:)\s*(?:option\s*)?[*$\s]*\(?\s*\\?(?:text\{|textbf\{|mathrm\{)?\s*\(?([A-J])\b",
    re.IGNORECASE)


def _strip_wrappers(s: str) -> str:
    """Drop ``$``, ``\\text{}``-style wrappers and surrounding braces around a short answer."""
    s = unwrap_text(drop_dollars(s).strip())
    return s.strip().strip("{}").strip()


def extract_choice(text: str, choices: list[str] | None = None) -> str | None:
    """A multiple-choice letter: from the last box (``\\boxed{C}``, ``\\boxed{(C) 4}``,
    ``\\boxed{\\text{C}}``), else from "the answer is (C)". When the box holds an option's
    text instead of its letter and ``choices`` is given, the matching option's letter."""
    boxed = last_boxed(text)
    if boxed is not None:
        inner = _strip_wrappers(boxed)
        m = _CHOICE_BOX_RE.match(inner)
        if m:
            return m.group(1)
        if choices:
            key = canonical(inner).lower()
            for i, choice in enumerate(choices):
                if key and canonical(str(choice)).lower() == key:
                    return CHOICE_LETTERS[i]
    last = None
    for last in _CHOICE_PHRASE_RE.finditer(text):
        pass
    return last.group(1).upper() if last else None


def gold_choice(gold) -> str:
    """A gold multiple-choice answer as a letter: "C", "(C)", or the 0-based index 2 / "2"
    (the MMLU source stores the index)."""
    s = _strip_wrappers(str(gold)).strip("()").strip().upper()
    if len(s) == 1 and s in CHOICE_LETTERS:
        return s
    if s.isdigit() and int(s) < len(CHOICE_LETTERS):
        return CHOICE_LETTERS[int(s)]
    raise ValueError(f"multiple-choice gold answer {gold!r} is neither a letter A-J nor an index")


# ------------------------------------------------------------------------------- normalising

def canonical(s: str) -> str:
    """A cheap canonical form for exact-string comparison
    (:func:`rlvr_repro.answer_forms.strip_presentation`): spacing, delimiters, ``\\$``,
    ``\\left``/``\\right``, degree signs, ``\\text{}`` wrappers and a trailing period removed,
    ``\\dfrac`` written ``\\frac``. Percent signs stay: "50%" is not "50" by string. Two answers
    with equal canonical forms are equivalent; unequal forms say nothing (math-verify decides)."""
    return strip_presentation(s, keep_percent=True)


def parse_number(s: str) -> Fraction | None:
    """An exact rational for a plain numeric answer, else None.

    Accepts integers, decimals (".5"), thousands separators ("10,\\!080", "2,125"), e-notation
    ("4.5e33"), ``4.5\\times 10^{33}``, ``10^{-3}``, ``3/4`` and ``\\frac{3}{4}`` / ``\\frac34``.
    Anything else (percent signs, symbols, more than ``MAX_DIGITS`` characters or a huge
    exponent) returns None and is left to math-verify in a time-bounded worker.
    """
    return exact_number(drop_thousands(canonical(s)), max_digits=MAX_DIGITS, powers_of_ten=True)


# A unit is explicit markup (\\mathrm{~cm}, \\text{ km/h}), optionally raised to a power
# (\\mathrm{~s}^{-1}), possibly with a Greek prefix (\\mu \\mathrm{m}) and slashes between units.
_UNIT_GROUP_RE = re.compile(
    r"\\(?:mathrm|text|mbox|operatorname|textrm)\s*\{[^{}]*\}(?:\s*\^\s*\{?\s*[-+]?\d+\s*\}?)?")
_UNIT_FILLER_RE = re.compile(r"\\mu|\\Omega|\\AA|\\cdot|\^\s*\{\s*\\prime(?:\s*\\prime)*\s*\}|/|\s")
_NUMBER_PREFIX_RE = re.compile(
    r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    r"(?:\s*(?:\\times|\\cdot|×)\s*10\^\{?[-+]?\d+\}?)?")


def strip_units(s: str) -> str:
    """Remove a physical unit from a quantity: ``6.5 \\mathrm{~m}`` -> ``6.5``,
    ``4.5e33 \\text{ erg/s}`` -> ``4.5e33``, ``30^{\\circ}`` -> ``30``,
    ``4.5 \\mathrm{~erg} \\mathrm{~s}^{-1}`` -> ``4.5``.

    Only explicit unit markup after a leading number is removed: bare letters stay
    (``2n``, ``3 \\pi`` are expressions, not quantities with units), and so does everything
    in a string that is not "number + units" (``c x^{-2}``)."""
    t = s.replace("~", " ").replace("\\,", " ").replace("\\!", "").strip()
    t = DEGREE_RE.sub("", t).strip()
    m = _NUMBER_PREFIX_RE.match(t)
    if not m or m.end() == len(t):
        return t
    rest = _UNIT_GROUP_RE.sub("", t[m.end():])
    if not _UNIT_FILLER_RE.sub("", rest):
        return m.group(0).strip()
    return t


# ---------------------------------------------------------------------- multi-answer splitting

def split_top_level(s: str) -> list[str]:
    """Split an answer list at commas outside brackets (:func:`rlvr_repro.latex.split_top_level`):
    ``(6,3),(9,3)`` -> two tuples, ``[\\frac{1}{2}, 8]`` -> one interval. A lone
    thousands-separated number stays whole; parts are stripped and empty ones dropped."""
    t = drop_dollars(s).replace("\\!", "").strip()
    if is_thousands_number(t.replace(" ", "")):
        return [t]
    parts = [p.strip() for p in latex.split_top_level(t)]
    return [p for p in parts if p] or [t]


# ------------------------------------------------------------------------- per-mode entry points

def normalize_gold(gold, mode: str) -> str:
    """The gold answer as the comparison expects it, from the benchmark row's ``answer``.

    GSM8K rationales keep only the text after ``####``; a gold that is a full solution keeps
    only its last box (Minerva); numbers stored as int/float (AIME 2025, AMC23) become
    strings without a spurious ".0"; MMLU golds become a letter."""
    if mode == "choice":
        return gold_choice(gold)
    if isinstance(gold, bool) or gold is None:
        raise ValueError(f"gold answer {gold!r} is not a string or number")
    if isinstance(gold, float):
        try:
            text = format_number(gold)
        except ValueError:
            raise ValueError(f"gold answer {gold!r} is not a finite number") from None
    else:
        text = str(gold)
    if "####" in text:
        text = text.rsplit("####", 1)[1]
    if "\\boxed" in text or "\\fbox" in text:
        text = last_boxed(text) or text
    text = text.strip()
    if mode in ("minerva", "olympiad"):
        text = ",".join(strip_units(p) for p in split_top_level(text)) if mode == "olympiad" \
            else strip_units(drop_dollars(text))
    if not text:
        raise ValueError(f"gold answer {gold!r} is empty after normalisation")
    return text


def extract_answer(response: str, mode: str, *, choices: list[str] | None = None) -> str | None:
    """The model's final answer as a string, or None when the response states none.

    Order (the Qwen2.5-Math harness's order): last complete ``\\boxed{}``; then the last
    "answer is / Answer:" phrase (GSM8K also ``#### n``); then the last number in the text.
    Reasoning models are read after their last ``</think>``. Multiple choice returns a letter.
    """
    if mode not in MODES:
        raise ValueError(f"unknown grading mode {mode!r}; expected one of {MODES}")
    if not isinstance(response, str):
        raise ValueError(f"response must be a string, got {type(response).__name__}")
    text = answer_region(response)
    if mode == "choice":
        return extract_choice(text, choices)
    answer = last_boxed(text)
    if answer is None or not answer.strip():
        answer = answer_phrase(text)
    if answer is None and mode == "numeric":
        m = None
        for m in _GSM8K_MARK_RE.finditer(text):
            pass
        answer = _clean_phrase(m.group(1)) if m else None
    if answer is None:
        answer = last_number(text)
    if answer is None:
        return None
    answer = answer.strip()
    if mode in ("minerva", "numeric", "integer"):
        answer = strip_units(drop_dollars(answer))
    elif mode == "olympiad":
        answer = ",".join(strip_units(p) for p in split_top_level(answer))
    return answer or None
