"""The data builders' file conventions on top of :mod:`rlvr_repro.io`.

Parquet is written from an explicit Arrow schema without pandas metadata, so the same rows give
the same bytes (the manifest's content hash depends on it); a bad JSONL source line raises the
builders' :class:`~rlvr_repro.data.errors.DataError`, which names the dataset and row.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import rlvr_repro.io as shared_io
from rlvr_repro.data.errors import DataError


def write_parquet(path: Path, table: pa.Table) -> Path:
    """Parquet with no pandas metadata and fixed writer options, so equal tables give equal bytes."""
    table = table.replace_schema_metadata(None)
    return shared_io.atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd",
                                                                   use_dictionary=False, write_statistics=False))


def read_jsonl(path: Path, *, dataset: str) -> list[dict]:
    """:func:`rlvr_repro.io.read_jsonl`, with a bad line raised as a DataError naming the dataset,
    the row (0-based) and the file's line (1-based): the builders' one error type."""
    try:
        return shared_io.read_jsonl(path)
    except shared_io.JsonlError as err:
        raise DataError(dataset, f"{path}: line {err.lineno} is {err.problem}", row=err.lineno - 1) from err
