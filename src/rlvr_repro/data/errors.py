"""One error type for bad input, so every message names the dataset, the row and the field.

A data build that dies with ``KeyError: 'answer'`` after an hour leaves the user guessing which of
225,000 rows of which source was wrong; :class:`DataError` always says.
"""

from __future__ import annotations

from typing import Any


class DataError(ValueError):
    """Bad input data. ``str(err)`` reads ``dataset 'x', row 12, field 'answer': <problem>``."""

    def __init__(self, dataset: str, message: str, *, row: int | str | None = None,
                 field: str | None = None):
        self.dataset, self.row, self.field = dataset, row, field
        where = f"dataset {dataset!r}"
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


def require_field(row: dict, field: str, types: type | tuple[type, ...], *, dataset: str,
                  index: int | str, allow_none: bool = False) -> Any:
    """``row[field]`` checked to be present and of ``types``; a :class:`DataError` otherwise.

    ``bool`` is never accepted where ``int`` is asked for (it is an ``int`` subclass in Python, but a
    boolean answer is a schema error, not a number).
    """
    if not isinstance(row, dict):
        raise DataError(dataset, f"expected a mapping, got {type(row).__name__}", row=index)
    if field not in row:
        raise DataError(dataset, f"missing column (row has {sorted(row)})", row=index, field=field)
    value = row[field]
    if value is None:
        if allow_none:
            return None
        raise DataError(dataset, "is null", row=index, field=field)
    wanted = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in wanted:
        raise DataError(dataset, f"expected {_names(wanted)}, got bool {value!r}", row=index, field=field)
    if not isinstance(value, wanted):
        raise DataError(dataset, f"expected {_names(wanted)}, got {type(value).__name__} "
                                 f"{_short(value)}", row=index, field=field)
    return value


def _names(types: tuple[type, ...]) -> str:
    return " or ".join(t.__name__ for t in types)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
