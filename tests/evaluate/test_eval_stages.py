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
    assert set(diag) == {"entropy", "think_answer_auc", "confidence_shift", "token_entropy", "samples"}
    assert diag["token_entropy"] is None  # only protocols with token_entropy measure it
    n_samples = diag["entropy"]["n_correct"] + diag["entropy"]["n_incorrect"] + diag["entropy"]["n_missing"]
    assert len(diag["samples"]["correct"]) == len(diag["samples"]["mean_nll"]) == n_samples


def test_checkpoint_diagnostics_load_each_model_once(tmp_path, monkeypatch):
    """All benchmarks of a checkpoint re-scored with one load of the reference and one of the policy;
    each cell gets the log-probs of its own samples (the same result as cell by cell)."""
    loads = []

    def fake_score(model_dir, rows, only):  # policy: -mean_nll, reference: -2 mean_nll -> shift = mean_nll
        loads.append((model_dir, len(rows)))
        assert only == [[not ok for ok in [False]] for _ in rows]  # only the incorrect samples are scored
        scale = 1.0 if model_dir == "policy" else 2.0
        return [[-scale * s["mean_nll"] for s in r["samples"]] for r in rows]

    monkeypatch.setattr(stages, "score_logprobs", fake_score)
    monkeypatch.setattr(stages, "resolve_model_dir", str)
    cells = []
    for name, nll in (("a", 0.2), ("b", 0.5)):
        gen = _write(tmp_path / f"{name}_gen.jsonl", [
            {"id": str(i), "benchmark": name, "prompt": "p", "answer": "1", "n": 1,
             "samples": [{"text": "x" * (i + 1), "n_tokens": 2, "finish_reason": "stop", "mean_nll": nll + i}]}
            for i in range(2 if name == "a" else 3)])
        grades = _write(tmp_path / f"{name}_grades.jsonl",
                        [{"id": str(i), "correct": [False]} for i in range(2 if name == "a" else 3)])
        cells.append((gen, grades, tmp_path / f"{name}.json", None, name))
    docs = stages.run_checkpoint_diagnostics(cells, reference_model="ref", policy_model="policy")
    assert loads == [("ref", 5), ("policy", 5)]
    one_by_one = []
    for gen, grades, out, _, _ in cells:
        one_by_one.append(stages.run_diagnostics(gen, grades, tmp_path / "x.json", reference_model="ref",
                                                 policy_model="policy"))
    assert docs == one_by_one
    assert docs[0]["confidence_shift"]["n_incorrect"] == 2 and docs[1]["confidence_shift"]["n_incorrect"] == 3
    assert docs[0]["confidence_shift"]["mean_shift"] == pytest.approx(0.7)   # (0.2 + 1.2) / 2
    assert docs[1]["confidence_shift"]["mean_shift"] == pytest.approx(1.5)   # (0.5 + 1.5 + 2.5) / 3
    assert json.loads((tmp_path / "b.json").read_text()) == docs[1]
    assert docs[0]["token_entropy"] is None

    # ACE eq. 16 (token_entropy): one scoring pass over every cell's samples; each cell its own share.
    # Fake entropy: sample i of a cell has 2 tokens with sum H = i + 1 -> cell a: (1 + 2) / 4, cell b: (1+2+3) / 6
    def fake_entropy(model_dir, rows):
        loads.append((model_dir, len(rows)))
        return [[(float(int(r["id"]) + 1), 2) for _ in r["samples"]] for r in rows]

    monkeypatch.setattr(stages, "score_token_entropy", fake_entropy)
    loads.clear()
    docs = stages.run_checkpoint_diagnostics(cells, entropy_model="policy")
    assert loads == [("policy", 5)]
    assert [d["token_entropy"]["mean"] for d in docs] == [pytest.approx(3 / 4), pytest.approx(6 / 6)]
    assert [d["token_entropy"]["n_tokens"] for d in docs] == [4, 6]
