"""Evaluation benchmarks -> one normalized JSONL schema (docs/CONTRACTS.md)::

    id, problem, answer (gold as the grader expects it), answer_type, choices, level, subject,
    unit, benchmark, source, source_revision

One loader per benchmark understands both the Hugging Face schema and the Qwen2.5-Math harness
files, and fixes each source's known defects (docs/data-sources.md):

  math500   ``answer``; integer ``level``; ``subject``; ``unique_id``
  math      full MATH test (5,000; LENS reports Levels 4-5): answer = last balanced \\boxed{} of
            the solution; "Level N" strings (and "Level ?") -> int / null
  aime24    zero-padded string answers ("025") -> "25"
  aime25    integer answers; JSON-escape damage in 3 problems ("\\frac" read as form feed + "rac")
  amc23     float answers (27.0) -> "27"
  olympiadbench  ``final_answer`` list (often $-wrapped), ``is_multiple_answer`` -> "multi",
            ``unit``, ``answer_type``; only English, text-only rows (others are counted drops)
  minerva   answer inside \\boxed{} in the solution (units included)
  gsm8k     "#### n" with thousands commas -> "n"
  mmlu_stem integer answer -> letter; ``choices``; subject from ``type`` or ``subject``
  heldout   a training set's held-out split in our verl schema (``results/data/<d>/val.parquet``):
            ``extra_info.problem`` / ``.answer`` / ``.source_id`` (ACE §5.4's "held-out subset of
            DAPO-Math-17K prompts"; the benchmark spec names the dataset with ``heldout_of``)

A row without a usable gold answer is an error naming the benchmark, row and field: a benchmark
silently shrinking would change every number in the tables.

``LOADERS`` is the registry of answer formats: each loader says how its answers are graded
(``mode``, one of ``rlvr_repro.evaluate.extract.MODES``). The config's ``loader:`` enum and the
grading modes (``extract.BENCHMARK_MODES``) are derived from it, so a benchmark in a known format is
one config entry (``benchmarks.<name>: {source, loader}``) and a new format is one loader here.
The module imports nothing heavy: the workflow reads ``LOADERS`` while it plans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rlvr_repro.data.answers import (classify_answer, format_number, gsm8k_final, last_boxed,
                                     repair_control_chars)
from rlvr_repro.data.errors import DataError, require_field

if TYPE_CHECKING:
    from rlvr_repro.data.sources import Source

LETTERS = "ABCDEFGHIJ"
OLYMPIAD_TYPES = {"Numerical": "numeric", "Expression": "expression", "Tuple": "tuple",
                  "Interval": "interval", "Equation": "expression"}


class Skip(Exception):
    """A row the benchmark definition excludes (e.g. a non-English OlympiadBench row); counted."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Row:
    """Field access for one source row with errors that name benchmark, row and field."""

    def __init__(self, row: dict, index: int, benchmark: str, counters: dict):
        self.row, self.index, self.benchmark, self.counters = row, index, benchmark, counters

    def get(self, field: str, types, *, allow_none: bool = False):
        return require_field(self.row, field, types, dataset=self.benchmark, index=self.index,
                             allow_none=allow_none)

    def first(self, fields: tuple[str, ...], types):
        """The first of ``fields`` present in the row (aliases across HF and harness schemas)."""
        for f in fields:
            if f in self.row:
                return self.get(f, types)
        raise DataError(self.benchmark, f"missing column (expected one of {list(fields)}; row has "
                                        f"{sorted(self.row)})", row=self.index, field=fields[0])

    def problem(self, fields: tuple[str, ...] = ("problem", "question")) -> str:
        text = self.first(fields, str)
        text, repairs = repair_control_chars(text)
        self.counters["control_char_repairs"] = self.counters.get("control_char_repairs", 0) + repairs
        if not text.strip():
            raise DataError(self.benchmark, "empty problem", row=self.index, field=fields[0])
        return text.strip()

    def row_id(self, fields: tuple[str, ...] = ("unique_id", "id", "idx")) -> str:
        for f in fields:
            if self.row.get(f) is not None:
                return str(self.row[f])
        return str(self.index)

    def fail(self, field: str, message: str):
        raise DataError(self.benchmark, message, row=self.index, field=field)


def _base(r: _Row, *, problem: str, answer: str, answer_type: str | None = None, choices=None,
          level=None, subject=None, unit=None) -> dict:
    if not answer.strip():
        r.fail("answer", "empty gold answer")
    return {"id": r.row_id(), "problem": problem, "answer": answer.strip(),
            "answer_type": answer_type or classify_answer(answer), "choices": choices, "level": level,
            "subject": subject, "unit": unit}


def _boxed_answer(r: _Row) -> str:
    if r.row.get("answer") is not None:
        return _text_answer(r)
    solution = r.first(("solution",), str)
    answer = last_boxed(solution)
    if not answer:
        r.fail("solution", "no balanced \\boxed{...} answer in the solution")
    return answer


def _text_answer(r: _Row) -> str:
    value = r.get("answer", (str, int, float))
    return value if isinstance(value, str) else format_number(value)


def load_math500(r: _Row) -> dict:
    return _base(r, problem=r.problem(), answer=r.get("answer", str), level=r.get("level", int),
                 subject=r.get("subject", str))


def load_math(r: _Row) -> dict:
    from rlvr_repro.data.math_train import parse_level  # here: math_train pulls in the dedup stack

    level = parse_level(r.row.get("level"), dataset=r.benchmark, index=r.index)
    subject = r.first(("type", "subject"), str)
    return _base(r, problem=r.problem(), answer=_boxed_answer(r), level=level, subject=subject)


def load_aime(r: _Row) -> dict:
    """AIME answers are integers 0-999; strings may be zero-padded ("025")."""
    value = r.get("answer", (str, int))
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        r.fail("answer", f"AIME answer {value!r} is not an integer")
    return _base(r, problem=r.problem(), answer=str(int(text)), answer_type="numeric")


def load_amc23(r: _Row) -> dict:
    value = r.get("answer", (str, int, float))
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            r.fail("answer", f"AMC answer {value!r} is not a number")
    return _base(r, problem=r.problem(), answer=format_number(value), answer_type="numeric")


def load_olympiadbench(r: _Row) -> dict:
    if r.row.get("language") not in (None, "English"):
        raise Skip("not_english")
    if r.row.get("modality") not in (None, "Text-only"):
        raise Skip("not_text_only")
    if any(r.row.get(k) for k in r.row if k.startswith("image")):
        raise Skip("has_image")
    question = r.problem(("question", "problem"))
    context = r.row.get("context")
    if isinstance(context, str) and context.strip():
        question = f"{context.strip()}\n\n{question}"
    if "final_answer" in r.row:
        finals = r.get("final_answer", list)
        if not finals or not all(isinstance(a, str) for a in finals):
            r.fail("final_answer", f"expected a non-empty list of strings, got {finals!r}")
        answer = ", ".join(_strip_dollars(a) for a in finals)
        multiple = bool(r.row.get("is_multiple_answer"))
        kind = "multi" if multiple else OLYMPIAD_TYPES.get(r.row.get("answer_type"), None)
    else:
        answer, kind = _strip_dollars(_text_answer(r)), None
    unit = r.row.get("unit")
    return _base(r, problem=question, answer=answer, answer_type=kind, subject=r.row.get("subfield"),
                 unit=unit.strip() if isinstance(unit, str) and unit.strip() else None)


def _strip_dollars(text: str) -> str:
    """``'$\\frac{25}{2}$' -> '\\frac{25}{2}'``; ``'$69$,$84$' -> '69, 84'`` (math pieces joined)."""
    text = text.strip()
    if "$" not in text:
        return text
    pieces = [p.strip().strip(",").strip() for p in text.split("$")]
    return ", ".join(p for p in pieces if p)


def load_minerva(r: _Row) -> dict:
    return _base(r, problem=r.problem(), answer=_boxed_answer(r), subject=r.row.get("type"))


def load_gsm8k(r: _Row) -> dict:
    raw = r.get("answer", str)
    answer = gsm8k_final(raw)
    if answer is None:
        r.fail("answer", "no '#### <number>' final answer")
    return _base(r, problem=r.problem(("question", "problem")), answer=answer, answer_type="numeric")


def load_mmlu_stem(r: _Row) -> dict:
    choices = r.get("choices", list)
    if len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        r.fail("choices", f"expected a list of >= 2 strings, got {choices!r}")
    value = r.get("answer", (int, str))
    if isinstance(value, int):
        if not 0 <= value < len(choices):
            r.fail("answer", f"answer index {value} out of range for {len(choices)} choices")
        letter = LETTERS[value]
    else:
        letter = value.strip().strip("()").upper()
        if letter not in LETTERS[:len(choices)]:
            r.fail("answer", f"answer {value!r} is not one of {list(LETTERS[:len(choices)])}")
    subject = r.first(("type", "subject"), str)
    return _base(r, problem=r.problem(("question", "problem")), answer=letter, answer_type="choice",
                 choices=list(choices), subject=subject)


def load_heldout(r: _Row) -> dict:
    extra = r.get("extra_info", dict)
    sub = _Row(extra, r.index, r.benchmark, r.counters)
    row = _base(sub, problem=sub.get("problem", str), answer=sub.get("answer", str))
    row["id"] = str(extra.get("source_id") or row["id"])
    return row


@dataclass(frozen=True)
class Loader:
    """One answer format: the row normalizer and the grading mode of its answers."""

    load: Callable[[_Row], dict]
    mode: str  # rlvr_repro.evaluate.extract.MODES


LOADERS: dict[str, Loader] = {
    "math500": Loader(load_math500, "math"),
    "math": Loader(load_math, "math"),
    "aime24": Loader(load_aime, "integer"),
    "aime25": Loader(load_aime, "integer"),
    "amc23": Loader(load_amc23, "numeric"),
    "olympiadbench": Loader(load_olympiadbench, "olympiad"),
    "minerva": Loader(load_minerva, "minerva"),
    "gsm8k": Loader(load_gsm8k, "numeric"),
    "mmlu_stem": Loader(load_mmlu_stem, "choice"),
    "heldout": Loader(load_heldout, "math"),  # graded as the training reward reads them (reward.SOURCE_MODES)
}


def loader_schema() -> dict:
    """The config rules that follow from ``LOADERS`` (generated into validation as loaders.schema.yaml):
    ``$defs/loader`` the loader enum; ``$defs/named`` a ``benchmarks:`` mapping whose entries not named
    after a loader must name one."""
    return {"$defs": {"loader": {"enum": sorted(LOADERS)},
                      "named": {"properties": {name: True for name in LOADERS},
                                "additionalProperties": {"required": ["loader"]}}}}


def source_label(info: dict) -> str:
    """Machine-independent name of a source: the HF id, a snapshot's HF id, ``local:<file>``, or
    ``<hf id> (mirror local:<file>)`` for a path given next to an hf spec."""
    if info.get("kind") == "hf":
        return info["location"]
    if info.get("snapshot_of"):
        return info["snapshot_of"]
    local = "local:" + info["location"].rstrip("/").rsplit("/", 1)[-1]
    mirror = info.get("mirror_of") or {}
    return f"{mirror['hf']} (mirror {local})" if mirror.get("hf") else local


def normalize_rows(loader: str, source: Source, *, benchmark: str, select: dict[str, str] | None = None,
                   progress: bool = True) -> tuple[list[dict], dict]:
    """Normalized rows of a benchmark source and a report (rows, skips per reason, repairs).

    ``select`` keeps only rows whose field contains a substring (``{url: "2023_AMC"}`` takes AMC 2023
    out of AI-MO/aimo-validation-amc); the others are counted as ``not_selected``."""
    if loader not in LOADERS:
        raise DataError(benchmark, f"unknown loader {loader!r}; known: {sorted(LOADERS)}", field="loader")
    fn = LOADERS[loader].load
    for field in select or {}:
        if field not in source.columns:
            raise DataError(benchmark, f"select names a column the source lacks (it has {sorted(source.columns)})",
                            field=f"select.{field}")
    counters: dict[str, int] = {}
    skips: dict[str, int] = {}
    rows, seen = [], {}
    label, revision = source_label(source.info), source.revision
    for idx, row in source.rows(progress=progress, desc=f"benchmark {benchmark}"):
        if select and not all(sub in str(row.get(field, "")) for field, sub in select.items()):
            skips["not_selected"] = skips.get("not_selected", 0) + 1
            continue
        try:
            out = fn(_Row(row, idx, benchmark, counters))
        except Skip as skip:
            skips[skip.reason] = skips.get(skip.reason, 0) + 1
            continue
        if out["id"] in seen:
            raise DataError(benchmark, f"duplicate id {out['id']!r} (also row {seen[out['id']]})",
                            row=idx, field="id")
        seen[out["id"]] = idx
        out.update(benchmark=benchmark, source=label, source_revision=revision)
        rows.append(out)
    if not rows:
        raise DataError(benchmark, f"no rows loaded from {source.info.get('location')}")
    report = {"rows_in": source.num_rows, "rows": len(rows), "skipped": skips, **counters}
    return rows, report
