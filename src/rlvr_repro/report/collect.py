"""Read evaluation metrics and training logs into tidy pandas frames.

Every later step (tables, plots, HTML) works from the two frames built here, so this is the one place
that knows the on-disk formats of ``metrics.json`` and ``train_log.jsonl`` (docs/CONTRACTS.md) and the
one place that rejects malformed files — with an error naming the file and the key, never a silent
skip.

Tidy metrics frame (``collect_metrics``), one row per number:

    protocol, subject, run_id (None for base), model, dataset, method ("base" for the untrained model),
    seed, step, benchmark, subset ("all" or e.g. "level4-5"), metric, value, n, n_problems, source

``metric`` names: ``pass@{k}`` for every k in ``pass_at_k``, ``pass@n`` (the same number at k = n,
the largest k, so one spec serves protocols with different n), ``avg@n`` (= ``avg_at_n``, the mean
accuracy over all n samples), ``avg@n_stderr``, ``mean_pass1`` and ``mean_pass1_stderr`` (from
``trials``, when the protocol ran independent trials), ``truncated_frac``, ``mean_response_tokens``,
``timeouts``, ``no_answer``. Values are stored exactly as in metrics.json (fractions in [0, 1]).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from rlvr_repro.report.targets import ReportInputError  # noqa: F401 - raised here, imported from here

BASE_PREFIX = "base-"
BASE_METHOD = "base"
FULL_SET = "all"
LIFT = "lift@n"  # avg@n minus the base model's, paired over problems (+ "_lo"/"_hi": its 95 % CI)

# Run ids are "{model}-{dataset}-{method}-s{seed}" (config/config.yaml); names never contain "-".
RUN_ID_PATTERN = re.compile(
    r"^(?P<model>[a-z0-9_.]+)-(?P<dataset>[a-z0-9_.]+)-(?P<method>[a-z0-9_.]+)-s(?P<seed>\d+)$"
)

METRICS_COLUMNS = [
    "protocol", "subject", "run_id", "model", "dataset", "method", "seed", "step",
    "benchmark", "subset", "metric", "value", "n", "n_problems", "source",
]

# Metrics that are fractions and must lie in [0, 1]; the others are counts or token means.
_COUNT_METRICS = {"mean_response_tokens", "timeouts", "no_answer"}


@dataclass(frozen=True)
class RunInfo:
    """What a table needs to know about one subject (a run, or the base model)."""

    model: str
    dataset: str | None
    method: str
    seed: int | None
    run_id: str | None


def parse_run_id(run_id: str) -> RunInfo | None:
    """Split a run id of the form ``{model}-{dataset}-{method}-s{seed}``; None if it does not match."""
    m = RUN_ID_PATTERN.match(run_id)
    if m is None:
        return None
    return RunInfo(m["model"], m["dataset"], m["method"], int(m["seed"]), run_id)


def resolve_subject(subject: str, run_info: Mapping[str, Mapping] | None, *, source: str) -> RunInfo:
    """Map an evaluation subject (run id or ``base-{model}``) to its model/dataset/method/seed.

    ``run_info`` (run_id -> {model, dataset, method, seed}) wins; otherwise base subjects are
    recognised by their prefix and run ids are parsed. ``source`` names the file for the error.
    """
    if run_info is not None and subject in run_info:
        info = run_info[subject]
        for key in ("model", "dataset", "method", "seed"):
            if key not in info:
                raise ReportInputError(f"run_info[{subject!r}] lacks key {key!r} (needed for {source})")
        return RunInfo(str(info["model"]), info["dataset"], str(info["method"]),
                       None if info["seed"] is None else int(info["seed"]), subject)
    if subject.startswith(BASE_PREFIX):
        return RunInfo(subject[len(BASE_PREFIX):], None, BASE_METHOD, None, None)
    parsed = parse_run_id(subject)
    if parsed is None:
        raise ReportInputError(
            f"{source}: subject {subject!r} is neither 'base-<model>' nor a run id "
            "'<model>-<dataset>-<method>-s<seed>', and run_info does not describe it"
        )
    return parsed


def _require(obj: Mapping, key: str, types: type | tuple[type, ...], source: str, where: str = ""):
    if key not in obj:
        raise ReportInputError(f"{source}: missing key {where}{key}")
    value = obj[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ReportInputError(f"{source}: key {where}{key} must be {types}, got a bool")
    if not isinstance(value, types):
        raise ReportInputError(
            f"{source}: key {where}{key} must be {getattr(types, '__name__', types)}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def _number(value, key: str, source: str, *, fraction: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportInputError(f"{source}: key {key} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ReportInputError(f"{source}: key {key} is not finite ({value!r})")
    if fraction and not 0.0 <= value <= 1.0:
        raise ReportInputError(f"{source}: key {key} = {value!r} is not a fraction in [0, 1]")
    return value


def _pass_at_k(block: Mapping, n: int, source: str, where: str) -> dict[str, float]:
    table = _require(block, "pass_at_k", dict, source, where)
    out = {}
    for k, value in table.items():
        if not str(k).isdigit() or int(k) < 1:
            raise ReportInputError(f"{source}: key {where}pass_at_k.{k}: k must be a positive integer")
        if int(k) > n:
            raise ReportInputError(f"{source}: key {where}pass_at_k.{k}: k exceeds n = {n} samples")
        out[f"pass@{int(k)}"] = _number(value, f"{where}pass_at_k.{k}", source, fraction=True)
    if f"pass@{n}" in out:
        out["pass@n"] = out[f"pass@{n}"]
    return out


def _lift_number(value, key: str, source: str) -> float:
    """A difference of two fractions: in [-1, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1.0 <= float(value) <= 1.0:
        raise ReportInputError(f"{source}: key '{key}' must be a number in [-1, 1], got {value!r}")
    return float(value)


def read_metrics_file(path: Path) -> tuple[dict, list[tuple[str, str, float]]]:
    """Validate one metrics.json; return (header, [(subset, metric, value), ...]).

    The header holds protocol, subject, step, benchmark, n, n_problems. Raises ReportInputError naming
    the file and the offending key.
    """
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportInputError(f"{source}: metrics file does not exist") from None
    except json.JSONDecodeError as exc:
        raise ReportInputError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReportInputError(f"{source}: top level must be a JSON object")
    header = {
        "protocol": _require(data, "protocol", str, source),
        "subject": _require(data, "subject", str, source),
        "step": _require(data, "step", int, source),
        "benchmark": _require(data, "benchmark", str, source),
        "n": _require(data, "n", int, source),
        "n_problems": _require(data, "n_problems", int, source),
    }
    if header["n"] < 1:
        raise ReportInputError(f"{source}: key 'n' must be >= 1, got {header['n']}")
    values: list[tuple[str, str, float]] = []
    values += [(FULL_SET, m, v) for m, v in _pass_at_k(data, header["n"], source, "").items()]
    values.append((FULL_SET, "avg@n", _number(_require(data, "avg_at_n", (int, float), source),
                                              "avg_at_n", source, fraction=True)))
    if data.get("avg_at_n_stderr") is not None:
        values.append((FULL_SET, "avg@n_stderr",
                       _number(data["avg_at_n_stderr"], "avg_at_n_stderr", source, fraction=True)))
    trials = data.get("trials")
    if trials is not None:
        if not isinstance(trials, dict):
            raise ReportInputError(f"{source}: key 'trials' must be an object or null")
        values.append((FULL_SET, "mean_pass1", _number(_require(trials, "mean_pass1", (int, float), source,
                                                                "trials."), "trials.mean_pass1",
                                                       source, fraction=True)))
        if trials.get("stderr") is not None:
            values.append((FULL_SET, "mean_pass1_stderr",
                           _number(trials["stderr"], "trials.stderr", source, fraction=True)))
    lift = data.get("lift_vs_base")
    if lift is not None:  # a trained checkpoint's paired gain over the base model (metrics.paired_lift)
        if not isinstance(lift, dict):
            raise ReportInputError(f"{source}: key 'lift_vs_base' must be an object or null")
        ci = _require(lift, "ci95", list, source, "lift_vs_base.")
        if len(ci) != 2:
            raise ReportInputError(f"{source}: key 'lift_vs_base.ci95' must be [lo, hi], got {ci!r}")
        values.append((FULL_SET, LIFT, _lift_number(_require(lift, "lift", (int, float), source, "lift_vs_base."),
                                                    "lift_vs_base.lift", source)))
        values += [(FULL_SET, f"{LIFT}_{side}", _lift_number(v, f"lift_vs_base.ci95[{k}]", source))
                   for k, (side, v) in enumerate(zip(("lo", "hi"), ci))]
    for key in ("truncated_frac", "mean_response_tokens", "timeouts", "no_answer"):
        if data.get(key) is not None:
            values.append((FULL_SET, key, _number(data[key], key, source,
                                                  fraction=key not in _COUNT_METRICS)))
    subsets = data.get("subsets") or {}
    if not isinstance(subsets, dict):
        raise ReportInputError(f"{source}: key 'subsets' must be an object or null")
    for name, block in subsets.items():
        where = f"subsets.{name}."
        if not isinstance(block, dict):
            raise ReportInputError(f"{source}: key 'subsets.{name}' must be an object")
        values += [(name, m, v) for m, v in _pass_at_k(block, header["n"], source, where).items()]
        values.append((name, "avg@n", _number(_require(block, "avg_at_n", (int, float), source, where),
                                              f"{where}avg_at_n", source, fraction=True)))
    return header, values


def collect_metrics(paths: Iterable[Path], run_info: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """Read metrics.json files into the tidy frame described in the module docstring.

    ``run_info`` maps run ids to ``{model, dataset, method, seed}`` (e.g. from ``load_run_specs``);
    subjects it does not list are resolved by ``resolve_subject``. Two files describing the same
    (protocol, subject, step, benchmark) are an error naming both.
    """
    rows: list[dict] = []
    seen: dict[tuple, str] = {}
    for path in tqdm(list(paths), desc="metrics.json", unit="file", disable=None):
        header, values = read_metrics_file(Path(path))
        key = (header["protocol"], header["subject"], header["step"], header["benchmark"])
        if key in seen:
            raise ReportInputError(f"{path}: duplicates {seen[key]} (same protocol/subject/step/benchmark {key})")
        seen[key] = str(path)
        info = resolve_subject(header["subject"], run_info, source=str(path))
        base = {
            "protocol": header["protocol"], "subject": header["subject"], "run_id": info.run_id,
            "model": info.model, "dataset": info.dataset, "method": info.method, "seed": info.seed,
            "step": header["step"], "benchmark": header["benchmark"], "n": header["n"],
            "n_problems": header["n_problems"], "source": str(path),
        }
        rows += [{**base, "subset": subset, "metric": metric, "value": value}
                 for subset, metric, value in values]
    return pd.DataFrame(rows, columns=METRICS_COLUMNS)


def load_run_specs(paths: Iterable[Path]) -> dict[str, dict]:
    """Build ``run_info`` (run_id -> {model, dataset, method, seed}) from results/runs/*/run.json files."""
    out: dict[str, dict] = {}
    for path in paths:
        source = str(path)
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ReportInputError(f"{source}: cannot read run spec ({exc})") from None
        if not isinstance(spec, dict):
            raise ReportInputError(f"{source}: top level must be a JSON object")
        run_id = _require(spec, "run_id", str, source)
        entry = {"seed": _require(spec, "seed", int, source)}
        for part in ("model", "dataset", "method"):
            block = _require(spec, part, dict, source)
            entry[part] = _require(block, "name", str, source, f"{part}.")
        out[run_id] = entry
    return out


# train_log.jsonl keys that hold text, not numbers (docs/CONTRACTS.md): kept out of the numeric frame.
TEXT_LOG_KEYS = frozenset({"compute_dtype"})


def read_train_log(path: Path) -> list[dict]:
    """Parse one train_log.jsonl; every line must be a JSON object with an integer ``step`` and
    numeric (or null) values, except the text keys of :data:`TEXT_LOG_KEYS` (skipped). Raises naming
    the file, line and key."""
    records = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReportInputError(f"{where}: not valid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise ReportInputError(f"{where}: each line must be a JSON object")
            _require(record, "step", int, where)
            clean = {}
            for key, value in record.items():
                if key in TEXT_LOG_KEYS:
                    continue
                if value is None:
                    clean[key] = float("nan")
                elif isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ReportInputError(f"{where}: key {key} must be a number or null, got {value!r}")
                else:
                    clean[key] = value
            records.append(clean)
    return records


def collect_train_logs(logs: Mapping[str, Path] | Iterable[Path],
                       run_info: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """Read train_log.jsonl files into one wide frame: run_id, model, dataset, method, seed, step, <keys>.

    ``logs`` maps run ids to log paths, or is a list of ``results/runs/{run}/train_log.jsonl`` paths
    whose parent directory names the run.
    """
    items = logs.items() if isinstance(logs, Mapping) else ((Path(p).parent.name, p) for p in logs)
    frames = []
    for run_id, path in items:
        info = resolve_subject(run_id, run_info, source=str(path))
        records = read_train_log(Path(path))
        if not records:
            raise ReportInputError(f"{path}: training log is empty")
        frame = pd.DataFrame(records)
        frame.insert(0, "seed", info.seed)
        frame.insert(0, "method", info.method)
        frame.insert(0, "dataset", info.dataset)
        frame.insert(0, "model", info.model)
        frame.insert(0, "run_id", run_id)
        frames.append(frame.sort_values("step", kind="stable"))
    if not frames:
        return pd.DataFrame(columns=["run_id", "model", "dataset", "method", "seed", "step"])
    return pd.concat(frames, ignore_index=True)
