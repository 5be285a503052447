"""Table specifications, display labels and the papers' reported numbers, as read from config.

A table spec says which evaluation protocol feeds a table, which rows (model blocks × methods), which
columns (benchmark × metric), which checkpoint (last, best, a fixed step, or all steps) and how to
decorate it (Avg columns, bold best, ± std, delta vs the base model). ``config/tables.yaml`` holds the
specs under ``tables:`` (part of the Snakemake config). ``config/paper_numbers.yaml`` is a plain input
file of the table rule, not Snakemake config: ``labels:`` (the names the papers print for our models,
methods and benchmarks), ``paper_numbers:`` (numbers transcribed from the papers for the
cross-check columns, each row tied to the line of the paper text it comes from; a row's ``note`` is
printed under any table that shows it) and ``reference_values:`` (single paper numbers that are not
a results-table cell -- a diagnostic table, a figure's point -- keyed "{paper}/{table or figure}", each
tied to its line, or ``null`` with a ``reason`` when the number did not survive the paper's text).
Both are validated with ``workflow/schemas/tables.schema.yaml`` (its ``$defs/table`` is one spec,
``$defs/paper_numbers_file`` the paper_numbers.yaml document); the code here checks only what a schema
cannot state (a row's number of values against its table's columns, numbers for a table without a
spec, duplicate table ids). Errors name the key path: ``tables[3][ace/table1].step: ...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rlvr_repro.config import error_messages, schema_validator
from rlvr_repro.report.targets import ReportInputError

ALL = "all"
SCHEMA = "tables.schema.yaml"


def _check(instance, ref: str, where: str) -> None:
    """Validate ``instance`` against ``tables.schema.yaml#/$defs/<ref>``; raise naming every bad key."""
    errors = error_messages(schema_validator(SCHEMA, ref), instance, where)
    if errors:
        raise ReportInputError("; ".join(errors))


@dataclass(frozen=True)
class Column:
    """One result column: a metric on a benchmark (optionally a subset such as MATH ``level4-5``)."""

    benchmark: str
    subset: str
    metric: str

    @property
    def id(self) -> str:
        bench = self.benchmark if self.subset == "all" else f"{self.benchmark}:{self.subset}"
        return f"{bench}/{self.metric}"

    @property
    def bench_id(self) -> str:
        return self.id.rsplit("/", 1)[0]


def avg_column_id(metric: str) -> str:
    """Id of the Avg column that averages ``metric`` over a table's benchmarks."""
    return f"avg/{metric}"


@dataclass(frozen=True)
class Labels:
    """Display names; anything without a label is shown by its config name."""

    models: Mapping[str, str] = field(default_factory=dict)
    methods: Mapping[str, str] = field(default_factory=dict)
    benchmarks: Mapping[str, str] = field(default_factory=dict)

    def model(self, name: str) -> str:
        return self.models.get(name, name)

    def method(self, name: str) -> str:
        return self.methods.get(name, name)

    def benchmark(self, bench_id: str) -> str:
        return self.benchmarks.get(bench_id, bench_id)

    def merged(self, override: Mapping[str, Mapping[str, str]] | None) -> Labels:
        if not override:
            return self
        return Labels(
            models={**self.models, **override.get("models", {})},
            methods={**self.methods, **override.get("methods", {})},
            benchmarks={**self.benchmarks, **override.get("benchmarks", {})},
        )


@dataclass(frozen=True)
class TableSpec:
    """One paper table (see the module docstring); built from a ``tables:`` entry by ``from_dict``."""

    paper: str
    name: str
    protocol: str
    caption: str
    benchmarks: tuple[str, ...] | str
    metrics: tuple[str, ...]
    models: tuple[str, ...] | str
    methods: tuple[str, ...] | str
    methods_by_model: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    datasets: tuple[str, ...] | None = None
    step: str | int = "last"
    avg: bool = False
    bold: bool = True
    std: bool = True
    delta_vs_base: bool = False
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    note: str | None = None               # printed with the table's notes (a reading, a caveat)

    @property
    def id(self) -> str:
        return f"{self.paper}/{self.name}"

    @classmethod
    def from_dict(cls, entry: Mapping, where: str = "tables") -> TableSpec:
        if not isinstance(entry, Mapping):
            raise ReportInputError(f"{where}: each table must be a mapping")
        _check(entry, "table", f"{where}[{entry.get('paper', '?')}/{entry.get('name', '?')}]")

        def names(key: str) -> tuple[str, ...] | str:
            return ALL if entry[key] == ALL else tuple(entry[key])

        datasets = entry.get("datasets")
        return cls(
            paper=entry["paper"], name=entry["name"], protocol=entry["protocol"], caption=entry["caption"],
            benchmarks=names("benchmarks"), metrics=tuple(entry["metrics"]), models=names("models"),
            methods=names("methods"), methods_by_model={m: tuple(ms) for m, ms in entry.get("methods_by_model", {}).items()},
            datasets=tuple(datasets) if datasets is not None else None, step=entry.get("step", "last"),
            avg=entry.get("avg", False), bold=entry.get("bold", True), std=entry.get("std", True),
            delta_vs_base=entry.get("delta_vs_base", False), labels=entry.get("labels", {}), note=entry.get("note"),
        )


@dataclass(frozen=True)
class PaperRow:
    """A row of numbers as printed in a paper (percentages), tied to our model/method names."""

    model: str
    method: str
    paper_row: str
    line: int
    values: tuple[float | None, ...]
    std: tuple[float | None, ...] | None = None
    note: str | None = None               # e.g. a printed number that does not add up; shown under the table


@dataclass(frozen=True)
class PaperTable:
    """Numbers of one paper table; ``columns`` are our column ids (``math500/pass@1``, ``avg/avg@n``)."""

    source: str
    file: str
    columns: tuple[str, ...]
    rows: tuple[PaperRow, ...]

    @property
    def decimals(self) -> int:
        """Decimals the paper prints in this table (the most any transcribed value shows), so our
        "paper" column reads 63.0 where the paper wrote 63.0, not 63."""
        shown = [repr(float(v)).split(".")[1] for r in self.rows for v in (*r.values, *(r.std or ()))
                 if v is not None]
        return max((0 if d == "0" else len(d) for d in shown), default=0)

    def lookup(self, model: str, method: str) -> dict[str, tuple[float | None, float | None]]:
        """column id -> (value, std) in percent for one of our rows; empty if the paper lacks it."""
        for row in self.rows:
            if row.model == model and row.method == method:
                stds = row.std or (None,) * len(self.columns)
                return {c: (v, s) for c, v, s in zip(self.columns, row.values, stds)}
        return {}


def _paper_table(key: str, entry: Mapping) -> PaperTable:
    where = f"paper_numbers[{key}]"
    columns = tuple(entry["columns"])
    rows = []
    for i, row in enumerate(entry["rows"]):
        for vkey in ("values", "std"):
            if vkey in row and len(row[vkey]) != len(columns):
                raise ReportInputError(f"{where}.rows[{i}]: {vkey} has {len(row[vkey])} entries for {len(columns)} columns")
        rows.append(PaperRow(
            model=row["model"], method=row["method"], paper_row=row["paper_row"], line=int(row["line"]),
            values=tuple(row["values"]), std=tuple(row["std"]) if "std" in row else None, note=row.get("note"),
        ))
    return PaperTable(source=entry["source"], file=entry["file"], columns=columns, rows=tuple(rows))


@dataclass(frozen=True)
class ReferenceValue:
    """One number a paper states outside its results tables (or ``value`` None with a ``reason``)."""

    quantity: str                          # what is measured, e.g. "kappa_B x 1e3", "auc_answer_entropy"
    paper_row: str                         # the label (row name, grid point) as printed on ``line``
    line: int
    value: float | None
    model: str | None = None
    method: str | None = None
    params: Mapping[str, float] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class ReferenceSet:
    """``reference_values["{paper}/{target}"]``: the paper's numbers for one diagnostic table or figure."""

    source: str
    file: str
    values: tuple[ReferenceValue, ...]


def _reference_set(key: str, entry: Mapping) -> ReferenceSet:
    values = [ReferenceValue(quantity=v["quantity"], paper_row=v["paper_row"], line=int(v["line"]), value=v["value"],
                             model=v.get("model"), method=v.get("method"), params=dict(v.get("params") or {}),
                             reason=v.get("reason"))
              for v in entry["values"]]
    return ReferenceSet(source=entry["source"], file=entry["file"], values=tuple(values))


@dataclass(frozen=True)
class ReportConfig:
    """Everything the table writer needs from config files."""

    tables: tuple[TableSpec, ...]
    labels: Labels
    paper_numbers: Mapping[str, PaperTable]
    reference_values: Mapping[str, ReferenceSet] = field(default_factory=dict)


def _read_yaml(path: Path, key: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReportInputError(f"{path}: cannot read YAML ({exc})") from None
    if not isinstance(data, dict) or key not in data:
        raise ReportInputError(f"{path}: missing top-level key {key!r}")
    return data


def parse_report_config(tables: object, labels: Mapping | None = None,
                        paper_numbers: Mapping | None = None,
                        reference_values: Mapping | None = None) -> ReportConfig:
    """Build a ReportConfig from the ``tables`` list (Snakemake's ``config["tables"]``) and,
    optionally, the ``labels``, ``paper_numbers`` and ``reference_values`` mappings of
    config/paper_numbers.yaml."""
    if not isinstance(tables, list):
        raise ReportInputError("config key 'tables' must be a list of table specs")
    specs = tuple(TableSpec.from_dict(entry, f"tables[{i}]") for i, entry in enumerate(tables))
    ids = [s.id for s in specs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ReportInputError(f"tables: duplicate paper/name {dupes}")
    labels = labels or {}
    _check(labels, "labels", "labels")
    _check(paper_numbers or {}, "paper_numbers", "paper_numbers")
    _check(reference_values or {}, "reference_values", "reference_values")
    numbers = {key: _paper_table(key, entry) for key, entry in (paper_numbers or {}).items()}
    missing = sorted(set(numbers) - set(ids))
    if missing:
        raise ReportInputError(f"paper_numbers: no table spec for {missing}")
    references = {key: _reference_set(key, entry) for key, entry in (reference_values or {}).items()}
    return ReportConfig(tables=specs, labels=Labels(**{k: dict(v) for k, v in labels.items()}),
                        paper_numbers=numbers, reference_values=references)


def load_report_config(tables_yaml: Path, paper_numbers_yaml: Path | None = None) -> ReportConfig:
    """Read config/tables.yaml (``tables:``) and optionally config/paper_numbers.yaml (``labels:``,
    the papers' names for models/methods/benchmarks, and ``paper_numbers:``) into a ReportConfig."""
    tables = _read_yaml(tables_yaml, "tables")["tables"]
    if paper_numbers_yaml is None:
        return parse_report_config(tables)
    extra = _read_yaml(paper_numbers_yaml, "paper_numbers")
    _check(extra, "paper_numbers_file", str(paper_numbers_yaml))
    return parse_report_config(tables, extra.get("labels"), extra["paper_numbers"], extra.get("reference_values"))
