"""The paired lift over the base model: hand-computed from per-problem accuracies, edge cases, and
its way through metrics.json -> the tidy frame -> the rendered table (value and CI)."""

from __future__ import annotations

import json

import pytest

from rlvr_repro.evaluate.metrics import paired_lift
from rlvr_repro.report.collect import ReportInputError, collect_metrics
from rlvr_repro.report.specs import TableSpec
from rlvr_repro.report.tables import build_table
from rlvr_repro.report.writers import to_csv, to_markdown
from report.fixtures import metrics_record, write_metrics


def grades(**rows):
    return [{"id": k, "correct": v} for k, v in rows.items()]


RUN = grades(a=[True, True, False, False], b=[True, True, True, True], c=[False] * 4)
BASE = grades(c=[False] * 4, a=[False] * 4, b=[True, False, False, False])  # order does not matter: by id


def test_lift_is_the_mean_paired_difference():
    out = paired_lift(RUN, BASE, base_subject="base-m")
    # per problem: a 0.50 - 0.00, b 1.00 - 0.25, c 0.00 - 0.00 -> mean of (0.5, 0.75, 0) = 1.25 / 3
    assert out["lift"] == pytest.approx(1.25 / 3)
    lo, hi = out["ci95"]
    assert 0.0 <= lo <= out["lift"] <= hi <= 0.75  # a resampled mean lies within the differences' range
    assert out["n_problems"] == 3 and out["base_subject"] == "base-m"
    assert paired_lift(RUN, BASE, base_subject="base-m") == out  # seeded: same interval every time


def test_edge_cases():
    same = paired_lift(RUN, RUN, base_subject="base-m")  # no change at all: zero with a zero-width CI
    assert same["lift"] == 0.0 and same["ci95"] == [0.0, 0.0]
    all_right = grades(a=[True] * 4, b=[True] * 4, c=[True] * 4)
    all_wrong = grades(a=[False] * 4, b=[False] * 4, c=[False] * 4)
    assert paired_lift(all_right, all_wrong, base_subject="b") == {
        "base_subject": "b", "lift": 1.0, "ci95": [1.0, 1.0], "n_problems": 3, "n_boot": 2000}
    assert paired_lift(all_wrong, all_right, base_subject="b")["lift"] == -1.0
    one = paired_lift(grades(a=[True]), grades(a=[False]), base_subject="b")  # one problem, one sample
    assert one["lift"] == 1.0 and one["ci95"] == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"only in the run: \['d'\]"):
        paired_lift(RUN + grades(d=[True]), BASE, base_subject="b")
    with pytest.raises(ValueError, match="has no samples"):
        paired_lift(grades(a=[]), grades(a=[True]), base_subject="b")


def test_lift_reaches_the_table_with_its_interval(tmp_path):
    base = metrics_record("p", "base-m", 0, "b1", pass_at_k={1: 0.2})
    run = metrics_record("p", "m-d-a-s0", 12, "b1", pass_at_k={1: 0.7})
    run["lift_vs_base"] = {"base_subject": "base-m", "lift": 0.5, "ci95": [0.41, 0.587], "n_problems": 10,
                           "n_boot": 2000}
    frame = collect_metrics([write_metrics(tmp_path, base), write_metrics(tmp_path, run)])
    spec = TableSpec.from_dict(dict(paper="t", name="main", protocol="p", caption="c", benchmarks=["b1"],
                                    metrics=["avg@n", "lift@n"], models=["m"], methods=["base", "a"], avg=False))
    table = build_table(frame, spec, warn=False)
    assert table.missing == []  # the base row needs no lift cell
    md = to_markdown(table)
    assert "| Avg@4 | Lift [95% CI] |" in md
    assert "| m | base | 20.00 |  |" in md  # no lift for the base model itself
    assert "| 70.00 | +50.00 [+41.00, +58.70] |" in md
    assert "paired-bootstrap" in md
    csv = to_csv(table)
    assert "b1/lift@n:ci_lo" in csv.splitlines()[0]


def test_a_malformed_lift_names_the_file_and_key(tmp_path):
    run = metrics_record("p", "m-d-a-s0", 12, "b1", pass_at_k={1: 0.7})
    run["lift_vs_base"] = {"lift": 1.5, "ci95": [0.1, 0.2]}
    path = write_metrics(tmp_path, run)
    with pytest.raises(ReportInputError, match=r"metrics.json: key 'lift_vs_base.lift' must be a number in \[-1, 1\]"):
        collect_metrics([path])
    run["lift_vs_base"] = {"lift": 0.1, "ci95": [0.1]}
    path.write_text(json.dumps(run))
    with pytest.raises(ReportInputError, match="lift_vs_base.ci95"):
        collect_metrics([path])
