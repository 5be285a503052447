"""One checkpoint's score job (rlvr_repro.evaluate.scoring.run_scoring): every cell graded, then its
metrics, then score.json listing them; a trained checkpoint's lift reads the base model's grades."""

import json

import pytest

from rlvr_repro.evaluate.scoring import metrics_files, read_score, run_scoring

PROTOCOL = {"temperature": 1.0, "n": 2, "max_tokens": 8, "benchmarks": ["math500", "gsm8k"], "k_list": [1, 2]}


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _checkpoint(root, subject, texts):
    """Benchmark and generation files of one checkpoint; ``texts[benchmark]`` = samples per problem."""
    cells = []
    for bench, answers in (("math500", ["2", "4"]), ("gsm8k", ["7", "9"])):
        rows = [{"id": f"{bench}-{i}", "problem": "q", "answer": a, "benchmark": bench, "level": 5}
                for i, a in enumerate(answers)]
        bfile = _write(root / "benchmarks" / f"{bench}.jsonl", rows)
        gen = _write(root / subject / bench / "generations.jsonl", [
            {"id": r["id"], "benchmark": bench, "prompt": "p", "answer": r["answer"], "n": 2,
             "samples": [{"text": t, "n_tokens": 3, "finish_reason": "stop"} for t in samples]}
            for r, samples in zip(rows, texts[bench])])
        cells.append(dict(benchmark=bench, format=bench, generations=gen, benchmark_file=bfile,
                          grades=root / subject / bench / "grades.jsonl",
                          metrics=root / subject / bench / "metrics.json"))
    return cells


BASE = {"math500": [["\\boxed{2}", "\\boxed{3}"], ["\\boxed{5}", "\\boxed{5}"]],  # 1 of 4 right
        "gsm8k": [["#### 7", "#### 7"], ["#### 1", "#### 9"]]}                 # 3 of 4 right
RUN = {"math500": [["\\boxed{2}", "\\boxed{2}"], ["\\boxed{4}", "\\boxed{5}"]],   # 3 of 4 right
       "gsm8k": [["#### 7", "#### 7"], ["#### 1", "#### 9"]]}                  # 3 of 4 right


def test_score_job_writes_grades_metrics_then_its_listing(tmp_path):
    base = _checkpoint(tmp_path, "base", BASE)
    doc = run_scoring(base, tmp_path / "base/score.json", protocol_name="p", protocol=PROTOCOL,
                      subject="base-m", step=0, workers=1, progress=False)
    assert json.loads((tmp_path / "base/score.json").read_text()) == doc
    assert [(c["benchmark"], c["responses"], c["correct"]) for c in doc["cells"]] == [("math500", 4, 1),
                                                                                        ("gsm8k", 4, 3)]
    assert metrics_files([tmp_path / "base/score.json"]) == [str(c["metrics"]) for c in base]
    m = json.loads(base[0]["metrics"].read_text())
    assert (m["subject"], m["step"], m["avg_at_n"]) == ("base-m", 0, 0.25) and "lift_vs_base" not in m

    run = _checkpoint(tmp_path, "run", RUN)
    run_scoring(run, tmp_path / "run/score.json", protocol_name="p", protocol=PROTOCOL, subject="m-d-grpo-s0",
                step=10, base_score=tmp_path / "base/score.json", base_subject="base-m", workers=1, progress=False)
    lift = {c["benchmark"]: json.loads(c["metrics"].read_text())["lift_vs_base"] for c in run}
    # per-problem differences of avg@2: math500 (1 - 0.5, 0.5 - 0) -> 0.5; gsm8k (0, 0) -> 0
    assert lift["math500"]["lift"] == pytest.approx(0.5) and lift["gsm8k"]["lift"] == pytest.approx(0.0)
    assert lift["math500"]["base_subject"] == "base-m"


def test_missing_base_cell_or_bad_generations_leave_no_score_file(tmp_path):
    base = _checkpoint(tmp_path, "base", BASE)
    run_scoring(base[:1], tmp_path / "base/score.json", protocol_name="p", protocol=PROTOCOL,
                subject="base-m", step=0, workers=1, progress=False)
    run = _checkpoint(tmp_path, "run", RUN)
    with pytest.raises(ValueError, match=r"base/score.json: no base-model grades of \['gsm8k'\]"):
        run_scoring(run, tmp_path / "run/score.json", protocol_name="p", protocol=PROTOCOL, subject="r",
                    step=10, base_score=tmp_path / "base/score.json", base_subject="base-m", workers=1,
                    progress=False)
    run[1]["generations"].write_text('{"id": "gsm8k-0", "benchmark": "gsm8k", "answer": "7"}\n')
    with pytest.raises(ValueError, match="no field 'samples'"):
        run_scoring(run, tmp_path / "run/score.json", protocol_name="p", protocol=PROTOCOL, subject="r",
                    step=10, workers=1, progress=False)
    assert not (tmp_path / "run/score.json").exists() and not run[0]["metrics"].exists()


def test_read_score_names_the_file(tmp_path):
    bad = tmp_path / "score.json"
    bad.write_text('{"cells": [{"benchmark": "x"}]}')
    with pytest.raises(ValueError, match=r"score.json: cells \[0\] lack"):
        read_score(bad)
    bad.write_text("")
    with pytest.raises(ValueError, match="score.json: not a score file"):
        metrics_files([bad])
