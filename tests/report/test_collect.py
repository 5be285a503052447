"""collect: the tidy frame from metrics.json / train_log.jsonl / run.json, and its input errors."""
import json
import math

import pandas as pd
import pytest

from rlvr_repro.report.collect import (
    ReportInputError, collect_metrics, collect_train_logs, load_run_specs, parse_run_id,
)
from report.fixtures import (
    metrics_record, write_metrics, write_p1, write_run_spec, write_train_log,
)


def _value(df, **where):
    sel = df
    for key, val in where.items():
        sel = sel[sel[key] == val]
    assert len(sel) == 1, where
    return sel.iloc[0]


def test_tidy_rows_carry_run_fields_and_every_metric(tmp_path):
    rec = metrics_record("lens", "llama-mix-lens-s1", 100, "math", pass_at_k={1: 0.5, 2: 0.6, 4: 0.7},
                         avg=0.5, trials={"n_trials": 8, "mean_pass1": 0.48, "stderr": 0.02},
                         subsets={"level4-5": {"n_problems": 3, "pass_at_k": {"1": 0.2, "4": 0.5}, "avg_at_n": 0.2}})
    path = write_metrics(tmp_path, rec)
    df = collect_metrics([path])
    row = _value(df, metric="pass@2", subset="all")
    assert (row.model, row.dataset, row.method, row.seed, row.step) == ("llama", "mix", "lens", 1, 100)
    assert row.run_id == "llama-mix-lens-s1" and row.value == 0.6 and row.n == 4 and row.source == str(path)
    # pass@n duplicates the k = n entry (n = 4 samples)
    assert _value(df, metric="pass@n", subset="all").value == 0.7
    assert _value(df, metric="mean_pass1").value == 0.48
    assert _value(df, metric="mean_pass1_stderr").value == 0.02
    assert _value(df, metric="pass@4", subset="level4-5").value == 0.5
    assert _value(df, metric="avg@n", subset="level4-5").value == 0.2
    assert _value(df, metric="mean_response_tokens").value == 42.5


def test_base_subject_and_run_info_override(tmp_path):
    paths = [write_p1(tmp_path, "p", "base-smol", 0, "b", 0.1), write_p1(tmp_path, "p", "odd-name", 5, "b", 0.2)]
    info = {"odd-name": {"model": "smol", "dataset": "d", "method": "grpo", "seed": 3}}
    df = collect_metrics(paths, info)
    base = _value(df, subject="base-smol", metric="pass@1")
    assert (base.model, base.method) == ("smol", "base")
    assert pd.isna(base.run_id) and pd.isna(base.seed) and pd.isna(base.dataset)
    run = _value(df, subject="odd-name", metric="pass@1")
    assert (run.model, run.dataset, run.method, run.seed) == ("smol", "d", "grpo", 3)


def test_parse_run_id():
    info = parse_run_id("qwen25_math_7b-dapo17k-ace_grpo-s12")
    assert (info.model, info.dataset, info.method, info.seed) == ("qwen25_math_7b", "dapo17k", "ace_grpo", 12)
    assert parse_run_id("not a run") is None


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("pass_at_k"), "missing key pass_at_k"),
    (lambda r: r.pop("step"), "missing key step"),
    (lambda r: r.update(step="10"), "key step must be int"),
    (lambda r: r["pass_at_k"].update({"1": 1.5}), "key pass_at_k.1 = 1.5 is not a fraction"),
    (lambda r: r["pass_at_k"].update({"8": 0.5}), "key pass_at_k.8: k exceeds n = 4"),
    (lambda r: r["pass_at_k"].update({"x": 0.5}), "key pass_at_k.x: k must be a positive integer"),
    (lambda r: r.update(avg_at_n=float("nan")), "key avg_at_n is not finite"),
    (lambda r: r.update(avg_at_n=True), "key avg_at_n must be"),
    (lambda r: r.update(trials={"n_trials": 8}), "missing key trials.mean_pass1"),
    (lambda r: r.update(subsets={"level4-5": {"pass_at_k": {"1": 0.2}}}), "missing key subsets.level4-5.avg_at_n"),
    (lambda r: r.update(subject="no run id"), "subject 'no run id'"),
])
def test_malformed_metrics_name_file_and_key(tmp_path, mutate, message):
    rec = metrics_record("p", "m-d-grpo-s0", 1, "b", pass_at_k={1: 0.5, 4: 0.6})
    mutate(rec)
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(rec))
    with pytest.raises(ReportInputError) as err:
        collect_metrics([path])
    assert str(path) in str(err.value) and message in str(err.value)


def test_invalid_json_and_duplicate_cells_are_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmark": "b", ')
    with pytest.raises(ReportInputError, match=f"{bad}: not valid JSON"):
        collect_metrics([bad])
    first = write_p1(tmp_path / "a", "p", "m-d-grpo-s0", 1, "b", 0.5)
    second = write_p1(tmp_path / "b", "p", "m-d-grpo-s0", 1, "b", 0.6)
    with pytest.raises(ReportInputError, match="duplicates"):
        collect_metrics([first, second])


def test_run_specs_and_train_logs(tmp_path):
    spec = write_run_spec(tmp_path, "r1", "smol", "arith", "grpo", 2)
    assert load_run_specs([spec]) == {"r1": {"seed": 2, "model": "smol", "dataset": "arith", "method": "grpo"}}
    broken = tmp_path / "r2" / "run.json"
    broken.parent.mkdir()
    broken.write_text(json.dumps({"run_id": "r2", "seed": 0, "model": {"name": "m"}, "dataset": {}, "method": {}}))
    with pytest.raises(ReportInputError, match=r"run.json: missing key dataset.name"):
        load_run_specs([broken])

    log = write_train_log(tmp_path / "smol-arith-grpo-s0" / "train_log.jsonl", steps=3)
    df = collect_train_logs([log])
    assert list(df.step) == [1, 2, 3] and set(df.run_id) == {"smol-arith-grpo-s0"}
    assert df.method.iloc[0] == "grpo" and math.isnan(df.kl.iloc[0])  # null -> NaN
    assert df["diag/overconfident_error_frac"].iloc[2] == pytest.approx(0.3)
    # the local trainer's one text key (its compute dtype) is read past, not rejected
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"step": 4, "loss": 0.2, "compute_dtype": "bfloat16"}) + "\n")
    df = collect_train_logs([log])
    assert list(df.step) == [1, 2, 3, 4] and "compute_dtype" not in df.columns


@pytest.mark.parametrize("line, message", [
    ("not json", ":2: not valid JSON"),
    ('{"loss": 1.0}', ":2: missing key step"),
    ('{"step": 2, "loss": "high"}', ":2: key loss must be a number or null"),
])
def test_malformed_train_log_names_file_and_line(tmp_path, line, message):
    log = tmp_path / "m-d-grpo-s0" / "train_log.jsonl"
    log.parent.mkdir()
    log.write_text('{"step": 1, "loss": 0.5}\n' + line + "\n")
    with pytest.raises(ReportInputError) as err:
        collect_train_logs([log])
    assert str(log) + message in str(err.value)
