"""What the paper figures read: the tidy metrics, the training logs, the evaluation diagnostics.

``FigureInputs`` bundles the three frames plus the config pieces a figure needs (protocols for
``curve_ema`` and ``paper``, method presets for AsymGRPO's (beta_pos, beta_neg), display labels and
the papers' reference values). ``collect_diagnostics`` reads ``diagnostics.json`` cells; their
protocol, subject, step and benchmark come from the path (``results/eval/{protocol}/{subject}/
step_{N}/{benchmark}/diagnostics.json``, the layout of ``rlvr_repro.plan``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rlvr_repro.report.collect import ReportInputError, collect_metrics, collect_train_logs, resolve_subject
from rlvr_repro.report.specs import Labels
from rlvr_repro.report.trainkeys import with_canonical

_CELL = re.compile(r"(?P<protocol>[^/]+)/(?P<subject>[^/]+)/step_(?P<step>\d+)/(?P<benchmark>[^/]+)/diagnostics\.json$")
DIAG_COLUMNS = ["protocol", "subject", "model", "dataset", "method", "seed", "step", "benchmark", "doc", "source"]


def collect_diagnostics(paths: Iterable[Path], run_info: Mapping[str, Mapping] | None = None) -> pd.DataFrame:
    """One row per diagnostics.json: the cell's coordinates and its parsed document (``doc``)."""
    rows = []
    for path in paths:
        path = Path(path)
        m = _CELL.search(path.as_posix())
        if m is None:
            raise ReportInputError(f"{path}: not a .../{{protocol}}/{{subject}}/step_{{N}}/{{benchmark}}/diagnostics.json path")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ReportInputError(f"{path}: cannot read diagnostics ({exc})") from None
        if not isinstance(doc, dict):
            raise ReportInputError(f"{path}: top level must be a JSON object")
        info = resolve_subject(m["subject"], run_info, source=str(path))
        rows.append({"protocol": m["protocol"], "subject": m["subject"], "model": info.model,
                     "dataset": info.dataset, "method": info.method, "seed": info.seed, "step": int(m["step"]),
                     "benchmark": m["benchmark"], "doc": doc, "source": str(path)})
    return pd.DataFrame(rows, columns=DIAG_COLUMNS)


@dataclass
class FigureInputs:
    metrics: pd.DataFrame
    logs: pd.DataFrame          # with the canonical columns of rlvr_repro.report.trainkeys
    diagnostics: pd.DataFrame
    protocols: Mapping[str, Mapping] = field(default_factory=dict)
    methods: Mapping[str, Mapping] = field(default_factory=dict)
    labels: Labels = field(default_factory=Labels)
    references: Mapping = field(default_factory=dict)  # specs.ReferenceSet by "{paper}/{target}"

    @classmethod
    def read(cls, metrics_files, train_logs, diagnostics_files, run_info=None, **config) -> "FigureInputs":
        return cls(metrics=collect_metrics(metrics_files, run_info),
                   logs=with_canonical(collect_train_logs(train_logs, run_info)),
                   diagnostics=collect_diagnostics(diagnostics_files, run_info), **config)

    def curve_ema(self, protocol: str) -> float | None:
        return (self.protocols.get(protocol) or {}).get("curve_ema")

    def model(self, name) -> str:
        return self.labels.models.get(name, name)

    def method(self, name) -> str:
        return self.labels.methods.get(name, name)
