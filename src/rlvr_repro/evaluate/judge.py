"""Equivalence of a response and a gold answer: math-verify (strict default) or evalscope's rules.

Two layers, because math-verify (sympy) can hang on inputs like ``5^{5^{5^{5^5}}}`` and even
``str()`` of a parsed object can run forever (Math-Verify #59/#65):

* :func:`quick_judge` — in the parent process, pure Python, bounded time: two plain numbers, compared
  exactly as math-verify compares them, are decided without a worker round trip (integer answers,
  fractions, decimals that differ well beyond math-verify's 6-place rounding). Anything else is left
  to the worker. This is what makes grading 16k responses fast and the training reward cheap.
* :func:`judge` — the full comparison, only ever called inside a worker process
  (:mod:`rlvr_repro.evaluate.worker`) that the parent kills at its hard deadline. It returns plain
  booleans and math-verify's own extracted string; parsed sympy objects never leave it and are never
  printed.

Task kinds (the ``mode`` field of a worker task):

  mv         math-verify ``parse`` of the whole prepared response and of the gold, then ``verify``
  mv_box     the same on ``\\boxed{B}`` of a response whose reading reduces to its one box
             (:func:`rlvr_repro.evaluate.extract.single_box`); raises :class:`UnparsedBox` when B
             does not parse, so the caller re-reads the whole response (``mv``)
  mv_strict  the training reward: ``\\boxed{answer}`` read by the box patterns only, no fallback to
             numbers in the text (:func:`rlvr_repro.evaluate.extract.reward_answer`)
  evalscope  evalscope v1.4.2's ``math_equal`` on two extracted, stripped strings
             (:mod:`rlvr_repro.evaluate.evalscope_rules`)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from rlvr_repro.answer_forms import drop_dollars

KINDS = ("mv", "mv_box", "mv_strict", "evalscope")
FLOAT_ROUNDING = 6        # math-verify verify()'s default: floats compared after rounding to 6 places


class UnparsedBox(Exception):
    """The box of a reduced response did not parse: math-verify would go on to other matches."""


# ------------------------------------------------------------------ the parent's exact fast path

_NUMBER_RES = (
    ("int", re.compile(r"(-?\d{1,40})")),
    ("dec", re.compile(r"(-?\d{0,20}\.\d{1,20})")),
    ("frac", re.compile(r"(-?)\\[dt]?frac\{(\d{1,20})\}\{(\d{1,20})\}")),
    ("frac", re.compile(r"(-?)(\d{1,20})/(\d{1,20})")),
)


def plain_number(text: str) -> tuple[Fraction, bool] | None:
    """``(value, written_as_decimal)`` for an integer (``025``), a decimal (``.5``), ``\\frac{p}{q}``
    (``\\dfrac``, ``\\tfrac``) or ``p/q``, optionally negative and wrapped in one ``$...$``; None for
    anything else (signs like ``+``, spaces, commas, units: math-verify decides those)."""
    s = text.strip()
    if s.startswith("$") and s.endswith("$") and len(s) > 2 and s.count("$") == 2:
        s = s[1:-1].strip()
    for kind, rx in _NUMBER_RES:
        m = rx.fullmatch(s)
        if not m:
            continue
        if kind == "int":
            return Fraction(int(m.group(1))), False
        if kind == "dec":
            return Fraction(m.group(1)), True
        if int(m.group(3)) == 0:
            return None
        value = Fraction(int(m.group(2)), int(m.group(3)))
        return (-value if m.group(1) else value), False
    return None


def quick_judge(pred: str, gold: str) -> bool | None:
    """True/False when ``pred`` and ``gold`` are both plain numbers (:func:`plain_number`) whose
    math-verify verdict is certain; None otherwise.

    math-verify compares integers and fractions exactly and, when a decimal is involved, rounds both
    sides to 6 places (``float_rounding``) or simplifies their difference. So: equal values are
    equivalent; different integers/fractions are not; a decimal more than 1e-5 away from the other
    side (both below 1e9 in size, where 15-digit floats still resolve 6 places) is not. Closer
    decimals are left to math-verify.
    """
    p, g = plain_number(pred), plain_number(gold)
    if p is None or g is None:
        return None
    (pv, p_dec), (gv, g_dec) = p, g
    if pv == gv:
        return True
    if not (p_dec or g_dec):
        return False
    if abs(pv) < 10**9 and abs(gv) < 10**9 and abs(pv - gv) > Fraction(1, 10**5):
        return False
    return None


# --------------------------------------------------------------------------- worker-side judge

@dataclass
class Verdict:
    """Outcome of one full comparison. ``timed_out``: math-verify's own (soft) timeout fired and no
    comparison succeeded. ``extracted``: math-verify's extracted answer string (None: nothing)."""
    correct: bool
    timed_out: bool = False
    extracted: str | None = None


# The extraction configuration each kind parses with. ``mv`` and ``mv_box`` share one, so their parses
# share cache entries: a box written exactly like its gold (``\boxed{gold}``, mv_gold's form) is parsed
# once for both sides.
CONFIG_OF = {"mv": "default", "mv_box": "default", "mv_strict": "anchored"}


@lru_cache(maxsize=1)
def _configs() -> dict:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    return {"default": (LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()),
            "anchored": (LatexExtractionConfig(boxed_match_priority=0, try_extract_without_anchor=False),)}


@lru_cache(maxsize=4096)
def _parse(text: str, config: str, soft_timeout: int | None) -> tuple:
    """math-verify ``parse`` with configuration ``config`` (:data:`CONFIG_OF`), cached per string:
    golds and boxes repeat across a batch. Raises math-verify's TimeoutException; any other failure
    reads as "nothing extracted"."""
    from math_verify import parse
    from math_verify.errors import TimeoutException

    try:
        return tuple(parse(text, extraction_config=_configs()[config], parsing_timeout=soft_timeout,
                           raise_on_error=True))
    except TimeoutException:
        raise
    except Exception:
        return ()


def _extracted_text(parsed: tuple) -> str | None:
    """math-verify's string form of what it extracted (the fallback string it appends), never the
    ``str()`` of a sympy object (which can hang)."""
    if not parsed:
        return None
    return next((p for p in parsed if isinstance(p, str)), "")


def _math_verify(pred: str, gold: str, kind: str, soft_timeout: int | None) -> Verdict:
    """``verify(parse(gold), parse(pred))`` with math-verify's defaults, pair by pair, so a timeout in
    one pair is counted without hiding a success in another."""
    from math_verify import verify
    from math_verify.errors import TimeoutException

    try:
        gold_parsed = _parse(gold, "default", soft_timeout)  # golds are always read the default way
        pred_parsed = _parse(pred, CONFIG_OF[kind], soft_timeout)
    except TimeoutException:
        return Verdict(False, True)
    if kind == "mv_box" and not any(not isinstance(p, str) for p in pred_parsed):
        raise UnparsedBox()
    extracted = _extracted_text(pred_parsed)
    timed_out = False
    for g in gold_parsed:
        for p in pred_parsed:
            try:
                if verify(g, p, float_rounding=FLOAT_ROUNDING, timeout_seconds=soft_timeout,
                          raise_on_error=True):
                    return Verdict(True, False, extracted)
            except TimeoutException:
                timed_out = True
            except Exception:
                continue
    return Verdict(False, timed_out, extracted)


def judge(pred: str, gold: str, kind: str, soft_timeout: int | None = 3) -> Verdict:
    """One worker task (see the module docstring for the kinds)."""
    if kind in ("mv", "mv_box", "mv_strict"):
        return _math_verify(pred, gold, kind, soft_timeout)
    if kind == "evalscope":
        from rlvr_repro.evaluate.evalscope_rules import math_equal

        return Verdict(bool(math_equal(pred, gold)), False, pred)
    raise ValueError(f"unknown judge kind {kind!r}; expected one of {KINDS}")


def boxed_inner(answer: str) -> str:
    """``\\boxed{B}`` -> ``B`` (the reward's answer string as the fast path and the grades file see it)."""
    return answer[len("\\boxed{"):-1] if answer.startswith("\\boxed{") and answer.endswith("}") else drop_dollars(answer)
