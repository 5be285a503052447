"""What the strict grader reads: model responses and gold answers as math-verify inputs, per benchmark.

The strict default grader (``math_verify``, :mod:`rlvr_repro.evaluate.grading`) *is* math-verify 0.9.0:
``parse`` of the response and of the gold with ``[LatexExtractionConfig(boxed_match_priority=0),
ExprExtractionConfig()]`` (the configuration of math-verify's own test suite and of lighteval), then
``verify`` with its defaults (``float_rounding=6``, strict). This module holds the string work around
that call, all of it pure Python with linear scanners and anchored regular expressions, so it can
never hang (math-verify itself runs in worker processes with a hard deadline):

* :func:`prepare_response` — the text math-verify reads: the answer region after a reasoning model's
  ``</think>``, a few readings of box contents fixed, and multi-line inline math blanked;
* :func:`single_box` — when a response has exactly one box and nothing that could outrank it,
  math-verify's reading of the whole response equals its reading of ``\\boxed{<content>}``: the
  batch grader then compares that short string once per distinct (content, gold) pair;
* :func:`mv_gold` / :func:`normalize_gold` — the gold answer per source format;
* :func:`reward_answer` — the training reward's stricter reading (see its docstring);
* multiple choice (MMLU-STEM) letters, which are not math.

Grading modes (a benchmark name maps to one mode, see :data:`BENCHMARK_MODES`); with math-verify
deciding equivalence, modes differ only in how the gold is read:

  math      MATH / MATH-500 / the local fixtures: the gold answer as stored
  integer   AIME: integer answers 0-999, gold may be zero-padded ("025")
  numeric   AMC23 (float golds "27.0"), GSM8K ("#### 1,234" rationale golds, thousands commas)
  minerva   Minerva-Math: the last box of the reference solution, units stripped, e-notation as 10^n
  olympiad  OlympiadBench: $-wrapped and multi-answer golds (``69, 84``: math-verify compares sets)
  choice    MMLU-STEM: a letter A-J from ``\\boxed{C}`` or "the answer is (C)"
"""

from __future__ import annotations

import re

from rlvr_repro import latex
from rlvr_repro.answer_forms import (DEGREE_RE, drop_dollars, drop_thousands, format_number,
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


def last_boxed(text: str) -> str | None:
    """Content of the last complete ``\\boxed{...}`` / ``\\fbox{...}`` (:func:`rlvr_repro.latex.last_boxed`)."""
    return latex.last_boxed(text)


def answer_region(response: str) -> str:
    """The part of a response that holds the final answer: the text after the last
    ``</think>`` when a reasoning model closed its thinking block, else the whole response
    (what a vLLM reasoning parser hands a harness as the completion's content)."""
    head, sep, tail = response.rpartition("</think>")
    return tail if sep and tail.strip() else response


def _check_response(response) -> None:
    if not isinstance(response, str):
        raise ValueError(f"response must be a string, got {type(response).__name__}")


# ------------------------------------------------------------------ the response math-verify reads

_SPACED_THOUSANDS_RE = re.compile(r"-?\d{1,3}(?: \d{3})+(?:\.\d+)?")
_TRAILING_PERCENT_RE = re.compile(r"(.*?\S)\s*\\?%")
_E_NOTATION_RE = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+))[eE]([-+]?\d+)$")
# Inline math that opens at the end of a line and closes at the start of a later one.
_MULTILINE_INLINE_RES = (re.compile(r"(?<![\\$\d])\$[ \t]*\n[^$]*?\n[ \t]*\$(?!\$)"),
                         re.compile(r"(?<!\\)\\\([ \t]*\n.*?\n[ \t]*\\\)", re.DOTALL))


def _fix_box_content(content: str) -> str:
    """Readings of a box's content (or a bare gold) that math-verify 0.9.0 gets wrong on this stack,
    written so it reads what the writer meant:

    * a trailing period is punctuation: ``5.`` -> ``5`` (math-verify cannot parse ``5.``);
    * a trailing percent sign goes: ``28 %`` / ``62.5\\%`` -> ``28`` / ``62.5``. With the antlr4 4.9.3
      runtime that verl's hydra-core pins, latex2sympy cannot parse ``\\%`` inside a box ('AtomContext'
      object has no attribute 'FUNC_GAMMA'), while math-verify reads ``$62.5\\%$`` as 62.5: a boxed
      percentage is read the same way;
    * ``1 000`` is one number (LaTeX ignores the space; math-verify reads ``1*000``) -> ``1000``;
    * ``4.5e33`` is 4.5 times 10^33 (math-verify reads 4.5 times e times 33) -> ``4.5\\times10^{33}``.
    """
    s = content.strip()
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1].rstrip()
    m = _TRAILING_PERCENT_RE.fullmatch(s)
    if m:
        s = m.group(1)
    if _SPACED_THOUSANDS_RE.fullmatch(s):
        s = s.replace(" ", "")
    elif _E_NOTATION_RE.match(s):
        s = _e_notation_as_power(s)
    return content if s == content.strip() else s


def _fix_boxes(text: str) -> str:
    if "\\boxed" not in text:
        return text
    out, pos = [], 0
    for m in re.finditer(r"\\boxed\{", text):
        close = latex.matching_brace(text, m.end() - 1)
        if close is None or m.start() < pos:
            continue
        fixed = _fix_box_content(text[m.end():close])
        if fixed != text[m.end():close]:
            out += [text[pos:m.end()], fixed]
            pos = close
    return "".join(out) + text[pos:] if out else text


def prepare_response(response: str) -> str:
    """The text the strict grader hands math-verify for one response.

    * the answer region (:func:`answer_region`);
    * box contents such as ``1 000``, ``28 %``, ``4.5e33``, ``5.`` read as meant (:func:`_fix_box_content`);
    * inline math that spans lines (``$`` at a line's end ... ``$`` at a later line's start, or the
      same with ``\\(`` ``\\)``) is blanked: math-verify's LaTeX reader refuses it ("separate line
      shouldn't work for inline latex", its test suite), and without this its expression reader
      would read the number inside it anyway.
    """
    _check_response(response)
    text = _fix_boxes(answer_region(response))
    if "\n" in text and ("$" in text or "\\(" in text):
        for rx in _MULTILINE_INLINE_RES:
            text = rx.sub(" ", text)
    return text


_PERCENT_AFTER_RE = re.compile(r"%|[Pp]ercent|[Pp]ct")


def single_box(text: str) -> str | None:
    """The content B of the response's only box when math-verify's reading of ``text`` provably is
    its reading of ``\\boxed{B}``; None otherwise (then math-verify reads the whole text).

    math-verify (``LatexExtractionConfig(boxed_match_priority=0)``) tries its priority-0 matches
    first, rightmost first: box matches and the "final answer is X. I hope" forms. With exactly one
    ``\\boxed{`` (balanced, non-empty), no ``\\fbox``, no "I hope" and no percent sign right after the
    box (math-verify attaches a percent that follows the math environment), every priority-0 match is
    that box, normalised to B. If B parses, that is the answer; if it does not, math-verify moves on
    to lower priorities in the whole text, so the caller must re-read the whole text (the worker
    reports an unparsed box, see :mod:`rlvr_repro.evaluate.judge`).
    """
    if text.count("\\boxed") != 1 or "\\fbox" in text or "I hope" in text:
        return None
    start = text.index("\\boxed") + len("\\boxed")
    if text[start:start + 1] != "{":
        return None
    close = latex.matching_brace(text, start)
    if close is None:
        return None
    if _PERCENT_AFTER_RE.search(text, close + 1, close + 25):
        return None
    content = text[start + 1:close].strip()
    return content or None


# ------------------------------------------------------------------------------- gold answers

_DELIMITED_RE = re.compile(r"\\boxed|\\\(|\\\[|(?<!\\)\$")


def mv_gold(text: str) -> str:
    """A normalised gold as math-verify input: as written when it carries math delimiters or a box
    (``$[0,1)$``, a solution ending in ``\\boxed{..}``), else ``\\boxed{gold}`` (math-verify reads
    a bare ``\\sqrt{2}`` as the number 2 and ``\\dfrac{9}{7}`` as nothing, Math-Verify #70). A currency
    ``\\$`` is not a delimiter. The box gets the same fixes as a response's box (:func:`_fix_box_content`:
    Minerva's ``4.5e33`` is 4.5 times 10^33, OlympiadBench's ``62.5%`` a percentage)."""
    if _DELIMITED_RE.search(text):
        return text
    return "\\boxed{" + _fix_box_content(text) + "}"


def strip_units(s: str) -> str:
    """Remove a physical unit from a quantity: ``6.5 \\mathrm{~m}`` -> ``6.5``,
    ``4.5e33 \\text{ erg/s}`` -> ``4.5e33``, ``30^{\\circ}`` -> ``30``.

    Only explicit unit markup after a leading number is removed: bare letters stay
    (``2n``, ``3 \\pi`` are expressions, not quantities with units)."""
    t = s.replace("~", " ").replace("\\,", " ").replace("\\!", "").strip()
    t = DEGREE_RE.sub("", t).strip()
    m = _NUMBER_PREFIX_RE.match(t)
    if not m or m.end() == len(t):
        return t
    rest = _UNIT_GROUP_RE.sub("", t[m.end():])
    if not _UNIT_FILLER_RE.sub("", rest):
        return m.group(0).strip()
    return t


# A unit is explicit markup (\\mathrm{~cm}, \\text{ km/h}), optionally raised to a power
# (\\mathrm{~s}^{-1}), possibly with a Greek prefix (\\mu \\mathrm{m}) and slashes between units.
_UNIT_GROUP_RE = re.compile(
    r"\\(?:mathrm|text|mbox|operatorname|textrm)\s*\{[^{}]*\}(?:\s*\^\s*\{?\s*[-+]?\d+\s*\}?)?")
_UNIT_FILLER_RE = re.compile(r"\\mu|\\Omega|\\AA|\\cdot|\^\s*\{\s*\\prime(?:\s*\\prime)*\s*\}|/|\s")
_NUMBER_PREFIX_RE = re.compile(
    r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
    r"(?:\s*(?:\\times|\\cdot|×)\s*10\^\{?[-+]?\d+\}?)?")


def _e_notation_as_power(s: str) -> str:
    """``4.5e33`` -> ``4.5\\times10^{33}``; anything else unchanged."""
    m = _E_NOTATION_RE.match(s)
    return f"{m.group(1)}\\times10^{{{int(m.group(2))}}}" if m else s


def normalize_gold(gold, mode: str) -> str:
    """The gold answer text, from the benchmark row's ``answer`` (or a raw source value).

    GSM8K rationales keep only the text after ``####`` (thousands commas dropped in the numeric and
    integer modes); a Minerva gold keeps only the last box of its solution, without units; a gold
    with boxes is otherwise kept whole (math-verify reads every box: ``\\boxed{1}`` papers and
    ``\\boxed{2}`` bins is the answer 1, 2); numbers stored
    as int/float (AIME 2025, AMC23) become strings without a spurious ".0"; MMLU golds become a letter."""
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
    text = text.strip()
    if mode in ("numeric", "integer"):
        text = drop_thousands(text)
    elif mode == "minerva":
        text = strip_units(drop_dollars(last_boxed(text) or text).strip())
    if not text:
        raise ValueError(f"gold answer {gold!r} is empty after normalisation")
    return text


# ------------------------------------------------------------------------- the reward's reading

_ANSWER_LEAD_RE = re.compile(r"^\W{0,4}(?:the\s+)?(?:final\s+)?answer\s*(?:is\s*:?|:)\s*", re.IGNORECASE)
_DELIMITER_PAIRS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_PROSE_WORD_RE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
MAX_BARE_ANSWER_CHARS = 100


def _bare_answer(line: str) -> str | None:
    """A line that is nothing but an answer, without a trailing period and one pair of math
    delimiters; None when it holds more (a prose word, a ``$``, too long)."""
    s = line.strip().strip("*").strip()
    s = s[:-1].rstrip() if s.endswith(".") else s
    for left, right in _DELIMITER_PAIRS:
        if s.startswith(left) and s.endswith(right) and len(s) > len(left) + len(right):
            s = s[len(left):-len(right)].strip()
            break
    if not s or len(s) > MAX_BARE_ANSWER_CHARS or "$" in s or _PROSE_WORD_RE.search(s):
        return None
    return s


def reward_answer(response: str) -> str | None:
    """The training reward's answer: a math-verify input that holds only what the response stated as
    its final answer, or None (reward 0).

    "A math answer is expected" means the response states one final answer in an explicit form;
    every prompt family asks for one (``rlvr_repro.prompts``): the boxed families for ``\\boxed{}``,
    ``short_answer`` for the bare number. So the reward reads, in the answer region:

    * the boxes, when there are any: one box -> ``\\boxed{B}``; several boxes with different contents
      -> all of them as one list ``\\boxed{B1, B2, ...}`` (a hedge ``\\boxed{2}`` or ``\\boxed{3}`` is the
      answer {2, 3}, wrong for a single gold; a two-part gold matches two boxes); an unbalanced box (a
      truncated response) is no answer;
    * with no box, a response that is one line is the answer, after an optional lead-in "The (final)
      answer is" / "Answer:"; in a longer response only a last line with that lead-in is (DAPO's
      "Answer: 13" line). The answer must be bare (:func:`_bare_answer`): at most
      :data:`MAX_BARE_ANSWER_CHARS` characters, no prose word (two or more letters not forming a
      LaTeX command), one pair of math delimiters at most. ``7``, ``7.``, ``$x = 7$``,
      "The answer is 7." pay when 7 is right; "so she has 7 apples", "7 or 8" never do.

    It never reads a number that merely appears last in prose or an "answer" phrase inside prose.
    Equivalence is math-verify's (relations such as ``x \\neq 5`` or ``x < 3`` and lists such as
    ``2, 3`` are not equal to a single number).
    """
    _check_response(response)
    text = _fix_boxes(answer_region(response))
    boxes = list(dict.fromkeys(b.strip() for b in latex.boxed_contents(text) if b.strip()))
    if boxes:
        return "\\boxed{" + ", ".join(boxes) + "}"
    if "\\boxed" in text or "\\fbox" in text:
        return None
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    led = _ANSWER_LEAD_RE.sub("", lines[-1].strip(), count=1)
    if len(lines) > 1 and led == lines[-1].strip():
        return None  # the last line of a longer response states no answer
    answer = _bare_answer(led)
    return None if answer is None else "\\boxed{" + _fix_box_content(answer) + "}"


# --------------------------------------------------------------------------- multiple choice

_CHOICE_BOX_RE = re.compile(r"^\(?\s*([A-J])\s*\)?(?:[\s.:)]|$)")
_CHOICE_PHRASE_RE = re.compile(
    r"answer\s*(?:is|:)\s*(?:option\s*)?[*$\s]*\(?\s*\\?(?:text\{|textbf\{|mathrm\{)?\s*\(?([A-J])\b",
    re.IGNORECASE)


def canonical(s: str) -> str:
    """A cheap canonical form for exact-string comparison of option texts
    (:func:`rlvr_repro.answer_forms.strip_presentation`, percent signs kept)."""
    return strip_presentation(s, keep_percent=True)


def _strip_wrappers(s: str) -> str:
    """Drop ``$``, ``\\text{}``-style wrappers and surrounding braces around a short answer."""
    s = unwrap_text(drop_dollars(s).strip())
    return s.strip().strip("{}").strip()


def extract_choice(response: str, choices: list[str] | None = None) -> str | None:
    """A multiple-choice letter from the answer region: from the last box (``\\boxed{C}``,
    ``\\boxed{(C) 4}``, ``\\boxed{\\text{C}}``), else from the last "the answer is (C)". When the box
    holds an option's text instead of its letter and ``choices`` is given, that option's letter."""
    _check_response(response)
    text = answer_region(response)
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
