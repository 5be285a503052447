"""The rule-facing stage functions and the CLI, chained on files as the workflow chains them."""

import json
from pathlib import Path

import pytest

from rlvr_repro.evaluate import cli, stages

ROOT = Path(__file__).resolve().parents[2]


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_grade_metrics_diagnostics_chain(tmp_path):
    bench = _write(tmp_path / "bench.jsonl", [
        {"id": "1", "problem": "1+1?", "answer": "2", "benchmark": "math500", "level": 5},
        {"id": "2", "problem": "2+2?", "answer": "4", "benchmark": "math500", "level": 1}])
    gen = _write(tmp_path / "generations.jsonl", [
        {"id": "1", "benchmark": "math500", "prompt": "p", "answer": "2", "n": 2,
         "samples": [{"text": "\\boxed{2}", "n_tokens": 4, "finish_reason": "stop", "mean_nll": 0.2},
                     {"text": "\\boxed{3}", "n_tokens": 8, "finish_reason": "length", "mean_nll": 0.8}]},
        {"id": "2", "benchmark": "math500", "prompt": "p", "answer": "4", "n": 2,
         "samples": [{"text": "\\boxed{4}", "n_tokens": 4, "finish_reason": "stop", "mean_nll": 0.1},
                     {"text": "\\boxed{4}", "n_tokens": 4, "finish_reason": "stop", "mean_nll": 0.3}]}])
    grades = tmp_path / "grades.jsonl"
    assert stages.run_grading(gen, grades, progress=False)["correct"] == 3
    protocol = {"temperature": 1.0, "n": 2, "max_tokens": 8, "benchmarks": ["math500"], "k_list": [1, 2]}
    m = stages.run_metrics(grades, bench, tmp_path / "metrics.json", protocol_name="local",
                           protocol=protocol, subject="base-smol", step="step_0")
    assert json.loads((tmp_path / "metrics.json").read_text()) == m
    assert m["step"] == 0 and m["protocol"] == "local" and m["pass_at_k"] == {"1": 0.75, "2": 1.0}
    assert m["mean_response_tokens"] == 5.0 and m["truncated_frac"] == 0.25
    assert m["subsets"]["level4-5"]["avg_at_n"] == 0.5
    d = stages.run_diagnostics(gen, grades, tmp_path / "diag.json", plot=tmp_path / "h.png")
    assert d["entropy"]["gap"] == pytest.approx(0.8 - 0.2)
    assert d["confidence_shift"] is None and (tmp_path / "h.png").exists()


def test_resolve_model_dir(tmp_path):
    hf = tmp_path / "hf"
    hf.mkdir()
    (hf / "config.json").write_text("{}")
    record = tmp_path / "model.json"
    record.write_text(json.dumps({"name": "m", "path": str(hf)}))
    assert stages.resolve_model_dir(record) == str(hf) and stages.resolve_model_dir(hf) == str(hf)
    with pytest.raises(FileNotFoundError, match="not an HF model directory"):
        stages.resolve_model_dir(tmp_path)


@pytest.mark.slow
def test_cli_end_to_end_on_real_gsm8k_rows(smol_model_dir, tmp_path, real_rows):
    """generate (transformers, the local protocol) -> grade -> metrics -> diagnostics on the first
    real GSM8K test problems, through the command line the rules can also use."""
    rows = [{"id": str(r["idx"]), "problem": r["question"], "answer": r["answer"].rsplit("####", 1)[1].strip(),
             "benchmark": "gsm8k"} for r in real_rows("gsm8k")[:2]]
    bench = _write(tmp_path / "gsm8k.jsonl", rows)
    gen, grades, metrics = tmp_path / "generations.jsonl", tmp_path / "grades.jsonl", tmp_path / "metrics.json"
    protocols = str(ROOT / "config" / "protocols.yaml")
    cli.main(["generate", "--model", str(smol_model_dir), "--protocols", protocols, "--protocol", "local",
              "--family", "generic", "--backend", "hf", "--bench", f"{bench}:{gen}",
              "--resources", '{"threads": 1}'])
    cli.main(["grade", str(gen), str(grades), "--workers", "1"])
    cli.main(["metrics", str(grades), str(bench), str(metrics), "--protocols", protocols,
              "--protocol", "local", "--subject", "base-smollm2_135m", "--step", "0"])
    cli.main(["diagnostics", str(gen), str(grades), str(tmp_path / "diag.json"),
              "--reference-model", str(smol_model_dir)])
    m = json.loads(metrics.read_text())
    assert m["n_problems"] == 2 and m["n"] == 4 and m["k_list"] == [1, 2, 4]
    assert 0.0 <= m["pass_at_k"]["1"] <= m["pass_at_k"]["4"] <= 1.0
    assert 0 < m["mean_response_tokens"] <= 64
    diag = json.loads((tmp_path / "diag.json").read_text())
    assert set(diag) == {"entropy", "think_answer_auc", "confidence_shift", "samples"}
    n_samples = diag["entropy"]["n_correct"] + diag["entropy"]["n_incorrect"] + diag["entropy"]["n_missing"]
    assert len(diag["samples"]["correct"]) == len(diag["samples"]["mean_nll"]) == n_samples
