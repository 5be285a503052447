"""Examples -> verl's training parquet, and re-rendering a parquet's prompts for a model family.

Row layout (docs/CONTRACTS.md, verl ``examples/data_preprocess``)::

    data_source: str                     reward function's grading-mode key
    prompt: list<{role, content}>        rlvr_repro.prompts.build_messages(problem, family)
    ability: "math"
    reward_model: {style: "rule", ground_truth: str}
    extra_info: {split, index, problem, answer, source_id, <dataset-specific keys>}

``extra_info`` carries the raw problem so :func:`render_family` can rebuild the prompt for another
model family without going back to the sources. Dataset-specific keys are the union over all rows
(missing values are null) so every row has the same Arrow struct type.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rlvr_repro.data.errors import DataError
from rlvr_repro.data.examples import Example
from rlvr_repro.data.builder_io import write_parquet
from rlvr_repro.prompts import build_messages

CANONICAL_FAMILY = "generic"
BASE_EXTRA = ("split", "index", "problem", "answer", "source_id")
_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
_REWARD = pa.struct([("style", pa.string()), ("ground_truth", pa.string())])


def examples_table(examples: list[Example], *, split: str, family: str = CANONICAL_FAMILY,
                   dataset: str = "dataset") -> pa.Table:
    """The verl table for ``examples`` (row order kept, ``extra_info.index`` = position)."""
    extra_keys = sorted({k for e in examples for k in e.extra} - set(BASE_EXTRA))
    extra_cols: dict[str, list] = {k: [] for k in BASE_EXTRA + tuple(extra_keys)}
    prompts, answers, sources = [], [], []
    for i, e in enumerate(examples):
        if not isinstance(e.answer, str) or not e.answer.strip():
            raise DataError(dataset, "empty ground truth reached the writer", row=e.source_id, field="answer")
        prompts.append(build_messages(e.problem, family))
        answers.append({"style": "rule", "ground_truth": e.answer})
        sources.append(e.data_source)
        for k, v in (("split", split), ("index", i), ("problem", e.problem), ("answer", e.answer),
                     ("source_id", e.source_id)):
            extra_cols[k].append(v)
        for k in extra_keys:
            extra_cols[k].append(e.extra.get(k))
    fields, arrays = [], []
    for k, values in extra_cols.items():
        try:
            arr = pa.array(values, type=pa.int64() if k == "index" else None)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise DataError(dataset, f"extra_info values of mixed types across rows ({err})", field=k) from err
        if arr.type == pa.null():
            arr = arr.cast(pa.string())
        fields.append(pa.field(k, arr.type))
        arrays.append(arr)
    extra = pa.StructArray.from_arrays(arrays, fields=fields) if examples else pa.array(
        [], type=pa.struct([pa.field(k, pa.int64() if k == "index" else pa.string()) for k in extra_cols]))
    return pa.table({
        "data_source": pa.array(sources, type=pa.string()),
        "prompt": pa.array(prompts, type=_MESSAGES),
        "ability": pa.array(["math"] * len(examples), type=pa.string()),
        "reward_model": pa.array(answers, type=_REWARD),
        "extra_info": extra,
    })


def write_examples(examples: list[Example], path: Path, *, split: str, family: str = CANONICAL_FAMILY,
                   dataset: str = "dataset") -> Path:
    """Write ``examples`` as a verl parquet (atomic, byte-deterministic)."""
    return write_parquet(Path(path), examples_table(examples, split=split, family=family, dataset=dataset))


def render_family(in_parquet: Path, family: str, out_parquet: Path) -> Path:
    """Copy a canonical parquet with its ``prompt`` column rebuilt for ``family`` from
    ``extra_info.problem``; every other column is kept byte for byte."""
    table = pq.read_table(in_parquet)
    for col in ("prompt", "extra_info"):
        if col not in table.column_names:
            raise DataError(str(in_parquet), f"not a verl training parquet (no {col!r} column)", field=col)
    extra = table.column("extra_info").combine_chunks()
    if "problem" not in [f.name for f in extra.type]:
        raise DataError(str(in_parquet), "extra_info has no 'problem' to rebuild prompts from",
                        field="extra_info.problem")
    problems = extra.field("problem").to_pylist()
    prompts = []
    for i, p in enumerate(problems):
        if not isinstance(p, str) or not p.strip():
            raise DataError(str(in_parquet), "empty problem", row=i, field="extra_info.problem")
        prompts.append(build_messages(p, family))
    idx = table.column_names.index("prompt")
    table = table.set_column(idx, pa.field("prompt", _MESSAGES), pa.array(prompts, type=_MESSAGES))
    return write_parquet(Path(out_parquet), table)
