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
``workflow/schemas/tables.schema.yaml`` mirrors the checks here (its root validates the ``tables``
list; ``$defs`` hold the paper_numbers.yaml document); a test keeps the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rlvr_repro.report.collect import ReportInputError

ALL = "all"
STEP_CHOICES = ("last", "best", "all")
NAME_PATTERN = re.compile(r"^[a-z0-9_]+$")
BENCHMARK_PATTERN = re.compile(r"^[a-z0-9_]+(:[a-z0-9_.-]+)?$")
METRIC_PATTERN = re.compile(r"^(pass@([1-9][0-9]*|n)|avg@n|lift@n|mean_pass1)$")


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


_SPEC_KEYS = {
    # key: (required, allowed python types)
    "paper": (True, str), "name": (True, str), "protocol": (True, str), "caption": (True, str),
    "benchmarks": (True, (str, list)), "metrics": (True, list), "models": (True, (str, list)),
    "methods": (True, (str, list)), "methods_by_model": (False, dict), "datasets": (False, list),
    "step": (False, (str, int)), "avg": (False, bool), "bold": (False, bool), "std": (False, bool),
    "delta_vs_base": (False, bool), "labels": (False, dict), "note": (False, str),
}


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
        where = f"{where}[{entry.get('paper', '?')}/{entry.get('name', '?')}]"
        for key in entry:
            if key not in _SPEC_KEYS:
                raise ReportInputError(f"{where}: unknown key {key!r} (allowed: {sorted(_SPEC_KEYS)})")
        for key, (required, types) in _SPEC_KEYS.items():
            if key not in entry:
                if required:
                    raise ReportInputError(f"{where}: missing key {key!r}")
                continue
            value = entry[key]
            if isinstance(value, bool) and types is not bool:
                raise ReportInputError(f"{where}: key {key!r} must not be a bool")
            if not isinstance(value, types):
                raise ReportInputError(f"{where}: key {key!r} has the wrong type ({type(value).__name__})")
        for key in ("paper", "name"):
            if not NAME_PATTERN.match(entry[key]):
                raise ReportInputError(f"{where}: key {key!r} = {entry[key]!r} must match {NAME_PATTERN.pattern}")

        def names(key: str, pattern: re.Pattern = NAME_PATTERN) -> tuple[str, ...] | str:
            value = entry[key]
            if value == ALL:
                return ALL
            if isinstance(value, str) or not value:
                raise ReportInputError(f"{where}: key {key!r} must be 'all' or a non-empty list")
            for item in value:
                if not isinstance(item, str) or not pattern.match(item):
                    raise ReportInputError(f"{where}: key {key!r} has a bad entry {item!r}")
            if len(set(value)) != len(value):
                raise ReportInputError(f"{where}: key {key!r} lists an entry twice")
            return tuple(value)

        metrics = names("metrics", METRIC_PATTERN)
        if metrics == ALL:
            raise ReportInputError(f"{where}: key 'metrics' must be a list")
        step = entry.get("step", "last")
        if isinstance(step, str) and step not in STEP_CHOICES:
            raise ReportInputError(f"{where}: key 'step' must be one of {STEP_CHOICES} or a step number")
        if isinstance(step, int) and step < 0:
            raise ReportInputError(f"{where}: key 'step' must be >= 0")
        by_model = {}
        for model, methods in entry.get("methods_by_model", {}).items():
            if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
                raise ReportInputError(f"{where}: methods_by_model[{model!r}] must be a list of names")
            by_model[model] = tuple(methods)
        labels = entry.get("labels", {})
        for key, mapping in labels.items():
            if key not in ("models", "methods", "benchmarks") or not isinstance(mapping, dict):
                raise ReportInputError(f"{where}: labels.{key} is not one of models/methods/benchmarks mappings")
        datasets = entry.get("datasets")
        return cls(
            paper=entry["paper"], name=entry["name"], protocol=entry["protocol"], caption=entry["caption"],
            benchmarks=names("benchmarks", BENCHMARK_PATTERN), metrics=metrics, models=names("models"),
            methods=names("methods"), methods_by_model=by_model,
            datasets=tuple(datasets) if datasets is not None else None, step=step,
            avg=entry.get("avg", False), bold=entry.get("bold", True), std=entry.get("std", True),
            delta_vs_base=entry.get("delta_vs_base", False), labels=labels, note=entry.get("note"),
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
    allowed = {"source", "file", "columns", "rows"}
    if not isinstance(entry, Mapping) or set(entry) - allowed or not {"source", "file", "columns", "rows"} <= set(entry):
        raise ReportInputError(f"{where}: needs exactly the keys {sorted(allowed)}")
    columns = tuple(entry["columns"])
    rows = []
    row_keys = {"model", "method", "paper_row", "line", "values", "std", "note"}
    for i, row in enumerate(entry["rows"]):
        rw = f"{where}.rows[{i}]"
        if not isinstance(row, Mapping):
            raise ReportInputError(f"{rw}: must be a mapping")
        if set(row) - row_keys:
            raise ReportInputError(f"{rw}: unknown key(s) {sorted(set(row) - row_keys)}")
        for req in ("model", "method", "paper_row", "line", "values"):
            if req not in row:
                raise ReportInputError(f"{rw}: missing key {req!r}")
        for vkey in ("values", "std"):
            if vkey in row and len(row[vkey]) != len(columns):
                raise ReportInputError(f"{rw}: {vkey} has {len(row[vkey])} entries for {len(columns)} columns")
            for v in row.get(vkey) or ():
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ReportInputError(f"{rw}: {vkey} entry {v!r} is not a number")
        if "note" in row and (not isinstance(row["note"], str) or not row["note"].strip()):
            raise ReportInputError(f"{rw}: note must be a non-empty string")
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


_REFERENCE_KEYS = {"quantity", "paper_row", "line", "value", "model", "method", "params", "reason"}
TARGET_PATTERN = re.compile(r"^[a-z0-9_]+/[a-z0-9_]+$")


def _reference_set(key: str, entry: Mapping) -> ReferenceSet:
    where = f"reference_values[{key}]"
    if not TARGET_PATTERN.match(key):
        raise ReportInputError(f"{where}: key must be '{{paper}}/{{table or figure}}' ({TARGET_PATTERN.pattern})")
    if not isinstance(entry, Mapping) or set(entry) != {"source", "file", "values"}:
        raise ReportInputError(f"{where}: needs exactly the keys ['file', 'source', 'values']")
    values = []
    for i, v in enumerate(entry["values"]):
        vw = f"{where}.values[{i}]"
        if not isinstance(v, Mapping) or set(v) - _REFERENCE_KEYS:
            raise ReportInputError(f"{vw}: a mapping with keys from {sorted(_REFERENCE_KEYS)}")
        for req in ("quantity", "paper_row", "line", "value"):
            if req not in v:
                raise ReportInputError(f"{vw}: missing key {req!r}")
        value = v["value"]
        if value is None:
            if not isinstance(v.get("reason"), str) or not v["reason"].strip():
                raise ReportInputError(f"{vw}: value null needs a reason (why the paper's number is unavailable)")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ReportInputError(f"{vw}: value {value!r} is not a number or null")
        values.append(ReferenceValue(quantity=v["quantity"], paper_row=v["paper_row"], line=int(v["line"]),
                                     value=value, model=v.get("model"), method=v.get("method"),
                                     params=dict(v.get("params") or {}), reason=v.get("reason")))
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
    unknown = set(labels) - {"models", "methods", "benchmarks"}
    if unknown:
        raise ReportInputError(f"labels: unknown key(s) {sorted(unknown)}")
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
    unknown = set(extra) - {"labels", "paper_numbers", "reference_values"}
    if unknown:
        raise ReportInputError(f"{paper_numbers_yaml}: unknown top-level key(s) {sorted(unknown)}")
    return parse_report_config(tables, extra.get("labels"), extra["paper_numbers"], extra.get("reference_values"))
