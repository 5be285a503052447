"""DAPO-Math-17k (``BytedTsinghua-SIA/DAPO-Math-17k``), the training set of ACE and half of LENS's mix.

Source schema (verl parquet): ``data_source`` ("math_dapo"), ``prompt`` (chat messages whose user
turn wraps the problem in DAPO's "Answer:" instruction), ``ability``, ``reward_model``
{``ground_truth``, ``style``}, ``extra_info`` {``index``}. Two known traps (docs/data-sources.md; DAPO #15,
verl #3065): the parquet repeats each of its ~17k prompts ~100 times, and the wrapper text would
make every problem look alike to n-gram matching. So the builder strips the wrapper first, then
keeps the first row of each distinct problem (counts before/after in the manifest), then
decontaminates against the benchmarks.
"""

from __future__ import annotations

import re

from rlvr_repro.data.errors import DataError, require_field
from rlvr_repro.data.examples import Example
from rlvr_repro.data.pipeline import BuildContext, build_single_source
from rlvr_repro.data.sources import Source

DATA_SOURCE = "math_dapo"
COLUMNS = ["prompt", "reward_model", "extra_info"]
DEFAULTS = {"val_size": 128, "val_holdout": False, "decontaminate": "drop", "near_dedup": False}

TEMPLATE_PREFIX = ("Solve the following math problem step by step. The last line of your response should "
                   "be of the form Answer: $Answer (without quotes) where $Answer is the answer to the "
                   "problem.\n\n")
TEMPLATE_SUFFIX = "\n\nRemember to put your answer on its own line after \"Answer:\"."
_TEMPLATE_RE = re.compile(
    r"^\s*" + r"\s+".join(map(re.escape, TEMPLATE_PREFIX.split())) + r"\s*(?P<problem>.*?)\s*"
    + r"\s+".join(map(re.escape, TEMPLATE_SUFFIX.split())) + r"\s*$", re.DOTALL)


def strip_dapo_template(text: str) -> str | None:
    """The bare problem inside DAPO's instruction wrapper (whitespace-tolerant), or None."""
    m = _TEMPLATE_RE.match(text)
    if not m or not m.group("problem").strip():
        return None
    return m.group("problem").strip()


def _user_content(prompt, *, dataset: str, index: int) -> str:
    if not isinstance(prompt, list) or not prompt:
        raise DataError(dataset, f"expected a non-empty list of chat messages, got {type(prompt).__name__}",
                        row=index, field="prompt")
    for msg in reversed(prompt):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if not isinstance(content, str):
                raise DataError(dataset, f"user message content is {type(content).__name__}, expected str",
                                row=index, field="prompt.content")
            return content
    raise DataError(dataset, "no message with role 'user'", row=index, field="prompt")


def dapo_examples(source: Source, ctx: BuildContext, *, label: str = "dapo") -> list[Example]:
    """Rows -> unique, unwrapped problems (first occurrence wins); template misses and empty answers
    are counted drops. Deduplicates while streaming, so the ~1.8M-row original never sits in memory."""
    first: dict[str, Example] = {}
    drops = {"template_not_found": 0, "empty_answer": 0}
    n = n_unwrapped = conflicts = 0
    for idx, row in source.rows(COLUMNS, progress=ctx.progress, desc=f"{ctx.dataset}: {label}"):
        n += 1
        content = _user_content(require_field(row, "prompt", list, dataset=ctx.dataset, index=idx),
                                dataset=ctx.dataset, index=idx)
        reward = require_field(row, "reward_model", dict, dataset=ctx.dataset, index=idx)
        answer = require_field(reward, "ground_truth", str, dataset=ctx.dataset, index=idx).strip()
        extra = row.get("extra_info") or {}
        source_index = extra.get("index", idx) if isinstance(extra, dict) else idx
        problem = strip_dapo_template(content)
        if problem is None:
            drops["template_not_found"] += 1
            continue
        if not answer:
            drops["empty_answer"] += 1
            continue
        n_unwrapped += 1
        seen = first.get(problem)
        if seen is None:
            first[problem] = Example(problem, answer, f"{label}/{source_index}", DATA_SOURCE)
        elif seen.answer != answer:
            conflicts += 1
    unique = list(first.values())
    ctx.manifest.stage(f"{label}:loaded", n)
    ctx.manifest.stage(f"{label}:unwrapped", n_unwrapped, rows_in=n, drops=drops)
    ctx.manifest.stage(f"{label}:unique_prompts", len(unique), rows_in=n_unwrapped,
                       drops={"duplicate_prompt": n_unwrapped - len(unique)})
    ctx.manifest.note(f"{label}:duplicate_rows_with_a_different_answer", conflicts)
    return unique


def build(spec: dict, ctx: BuildContext) -> tuple[list[Example], list[Example]]:
    return build_single_source(spec, ctx, defaults=DEFAULTS, source="dapo", examples=dapo_examples)
