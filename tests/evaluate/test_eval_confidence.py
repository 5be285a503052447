"""EGPO entropy diagnostics, EGPO Table 3 AUC, ACE confidence shift, against hand values."""

import json
import math

import pytest

from rlvr_repro.evaluate.confidence import (
    confidence_shift, entropy_by_correctness, plot_entropy_distributions, roc_auc, think_answer_auc, token_entropy)
from rlvr_repro.evaluate.rescoring import score_logprobs, score_token_entropy


def _row(rid, samples):
    return {"id": rid, "benchmark": "gsm8k", "prompt": "p", "answer": "1", "n": len(samples),
            "samples": [dict({"text": "t", "n_tokens": 3, "finish_reason": "stop"}, **s) for s in samples]}


GEN = [_row("a", [{"mean_nll": 0.2}, {"mean_nll": 0.9}, {"mean_nll": None}]),
       _row("b", [{"mean_nll": 0.4}, {"mean_nll": 1.1}, {"mean_nll": 0.7}])]
GRADES = [{"id": "a", "correct": [True, False, True]}, {"id": "b", "correct": [True, False, False]}]


def test_entropy_by_correctness_hand_values():
    d = entropy_by_correctness(GEN, GRADES)
    assert d["correct"] == [0.2, 0.4] and d["incorrect"] == [0.9, 1.1, 0.7]
    # mean correct (0.2+0.4)/2 = 0.3; mean incorrect (0.9+1.1+0.7)/3 = 0.9; gap 0.6
    assert d["mean_correct"] == pytest.approx(0.3) and d["mean_incorrect"] == pytest.approx(0.9)
    assert d["gap"] == pytest.approx(0.6) and d["n_missing"] == 1


def test_entropy_all_correct_or_all_incorrect_has_no_gap():
    d = entropy_by_correctness(GEN[:1], [{"id": "a", "correct": [True, True, True]}])
    assert d["mean_incorrect"] is None and d["gap"] is None
    d = entropy_by_correctness(GEN[:1], [{"id": "a", "correct": [False, False, False]}])
    assert d["mean_correct"] is None and d["gap"] is None


def test_pairing_errors():
    with pytest.raises(ValueError, match="no grades row"):
        entropy_by_correctness(GEN, GRADES[:1])
    with pytest.raises(ValueError, match="3 samples but 2 grades"):
        entropy_by_correctness(GEN[:1], [{"id": "a", "correct": [True, False]}])


def test_roc_auc_hand_values():
    # positives 0.35, 0.8 vs negatives 0.1, 0.4: pairs won 0.35>0.1, 0.8>0.1, 0.8>0.4 -> 3/4
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == pytest.approx(0.75)
    assert roc_auc([1.0, 1.0], [True, False]) == pytest.approx(0.5)  # tie counts one half
    assert roc_auc([3.0, 2.0, 1.0], [True, True, False]) == 1.0
    assert roc_auc([1.0, 2.0], [True, True]) is None                 # one class only
    assert roc_auc([], []) is None
    with pytest.raises(ValueError):
        roc_auc([1.0], [True, False])


def test_think_answer_auc():
    gen = [_row("a", [{"mean_nll": 1, "nll_think": 0.5, "nll_answer": 0.1},
                      {"mean_nll": 1, "nll_think": 0.4, "nll_answer": 0.9},
                      {"mean_nll": 1}])]
    grades = [{"id": "a", "correct": [True, False, False]}]
    out = think_answer_auc(gen, grades)
    # incorrect sample: think 0.4 < correct 0.5 -> AUC 0; answer 0.9 > 0.1 -> AUC 1
    assert out == {"auc_think": 0.0, "auc_answer": 1.0, "n": 2, "n_incorrect": 1, "n_missing": 1}


def test_confidence_shift_hand_values():
    gen = [_row("a", [{"mean_nll": 0.5}, {"mean_nll": 2.0}, {"mean_nll": 0.1}])]
    grades = [{"id": "a", "correct": [False, False, True]}]
    ref = [[-1.0, -1.5, -0.1]]
    out = confidence_shift(gen, grades, ref)
    # incorrect: c1 = -0.5 - (-1.0) = 0.5 ; c2 = -2.0 - (-1.5) = -0.5  -> OEF 1/2
    assert out["shifts"] == [pytest.approx(0.5), pytest.approx(-0.5)]
    assert out["oef"] == 0.5 and out["mean_overconfidence"] == pytest.approx(0.5)
    assert out["mean_shift"] == pytest.approx(0.0) and out["n_incorrect"] == 2
    pol = [[-0.8, -1.0, -0.1]]
    out = confidence_shift(gen, grades, ref, policy_logprobs=pol)
    assert out["shifts"] == [pytest.approx(0.2), pytest.approx(0.5)] and out["oef"] == 1.0
    out = confidence_shift(gen, [{"id": "a", "correct": [True] * 3}], ref)
    assert out["oef"] is None and out["mean_shift"] is None and out["n_incorrect"] == 0
    with pytest.raises(ValueError, match="one entry per generations row"):
        confidence_shift(gen, grades, [])


def test_plot_entropy_distributions(tmp_path):
    path = plot_entropy_distributions(entropy_by_correctness(GEN, GRADES), tmp_path / "p" / "h.png",
                                      title="gsm8k")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = {"correct": [], "incorrect": [], "gap": None}
    assert plot_entropy_distributions(empty, tmp_path / "e.png").exists()


@pytest.mark.slow
def test_scoring_the_generating_model_reproduces_its_mean_nll(smol_model_dir, tmp_path):
    from rlvr_repro.evaluate.generate import generate_benchmarks

    bench = tmp_path / "b.jsonl"
    bench.write_text("".join(json.dumps({"id": str(i), "problem": f"What is {i} times 3?", "answer": str(3 * i),
                                         "benchmark": "gsm8k"}) + "\n" for i in range(2)))
    out = tmp_path / "g.jsonl"
    protocol = {"temperature": 1.0, "n": 3, "max_tokens": 12, "benchmarks": ["gsm8k"]}
    generate_benchmarks(smol_model_dir, [(bench, out)], backend="hf", family="generic", protocol=protocol,
                        resources={"threads": 1, "dtype": "float32"}, progress=False)  # as the scorer
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    scored = score_logprobs(smol_model_dir, rows, threads=1, progress=False)
    pairs = [(-s["mean_nll"], v) for row, vals in zip(rows, scored) for s, v in zip(row["samples"], vals)]
    assert all(v is not None and math.isfinite(v) for _, v in pairs)
    close = sum(abs(a - b) < 1e-3 for a, b in pairs)
    assert close >= len(pairs) - 1, pairs  # re-tokenization round-trips for (almost) every sample
    only = [[True, False, True], [False, False, True]]  # score a subset: same values there, None elsewhere
    part = score_logprobs(smol_model_dir, rows, threads=1, progress=False, only=only)
    for full_row, part_row, keep in zip(scored, part, only):
        for full, value, wanted in zip(full_row, part_row, keep):
            assert (value is None) if not wanted else abs(value - full) < 1e-4
    grades = [{"id": r["id"], "correct": [False] * 3} for r in rows]
    shift = confidence_shift(rows, grades, scored)       # policy == reference: no shift
    assert abs(shift["mean_shift"]) < 1e-2


def test_roc_curve_area_is_the_auc_and_sample_table_keeps_every_sample():
    from rlvr_repro.evaluate.confidence import roc_auc, roc_curve, sample_table

    scores, wrong = [0.9, 0.8, 0.8, 0.3, 0.1, 0.5], [True, False, True, False, False, True]
    fpr, tpr = roc_curve(scores, wrong)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    area = sum((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2 for i in range(1, len(fpr)))
    assert area == pytest.approx(roc_auc(scores, wrong))
    assert roc_curve([0.1, 0.2], [True, True]) == ([], [])
    gen = [{"id": 1, "samples": [{"mean_nll": 0.5, "n_tokens": 3}, {"mean_nll": None, "n_tokens": 0,
                                                                     "nll_think": 1.0, "nll_answer": 2.0,
                                                                     "n_answer_tokens": 4}]}]
    table = sample_table(gen, [{"id": 1, "correct": [True, False]}])
    assert table["correct"] == [True, False] and table["mean_nll"] == [0.5, None]
    assert table["nll_answer"] == [None, 2.0] and table["n_answer_tokens"] == [None, 4]
    assert table["problem"] == ["1", "1"]  # both samples of problem 1 (EGPO Table 3 samples problems)


def test_token_entropy_is_the_token_weighted_mean_hand_values():
    # ACE eq. 16: sum of H_t over all tokens / all tokens = (3 + 1) / (2 + 4); per-sample means 1.5 and 0.25
    scored = [[(3.0, 2), (0.0, 0)], [(1.0, 4)]]
    assert token_entropy(scored) == {"mean": 4 / 6, "sample_mean": 0.875, "n_tokens": 6, "n_samples": 2,
                                     "n_missing": 1}
    assert token_entropy([[(0.0, 0)]])["mean"] is None


def test_score_token_entropy_matches_a_plain_forward(tmp_path):
    """(sum_t H_t, |y|) per sample, H_t = -sum_v pi log pi at the positions predicting the response tokens
    (+ EOS for a stopped sample), checked against one unbatched forward per sample."""
    import torch
    from train.conftest import build_tiny_model, build_tokenizer

    model, tok = build_tiny_model(seed=3), build_tokenizer()
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    rows = [{"id": "0", "prompt": "1+1=", "samples": [{"text": "2", "finish_reason": "stop"},
                                                      {"text": "11 or 2", "finish_reason": "length"}]},
            {"id": "1", "prompt": "What is 3*3?", "samples": [{"text": "", "finish_reason": "length"}]}]
    scored = score_token_entropy(tmp_path / "m", rows, threads=1, progress=False, max_rows=2)
    model.eval()
    for row, values in zip(rows, scored):
        p = tok(row["prompt"], add_special_tokens=False)["input_ids"]
        for sample, (h_sum, n) in zip(row["samples"], values):
            r = tok(sample["text"], add_special_tokens=False)["input_ids"]
            r += [tok.eos_token_id] if sample["finish_reason"] == "stop" else []
            assert n == len(r)
            if not r:
                assert h_sum == 0.0
                continue
            with torch.no_grad():
                logits = model(torch.tensor([p + r])).logits[0, len(p) - 1:len(p) + len(r) - 1].float()
            logp = torch.log_softmax(logits, -1)
            assert abs(h_sum - float(-(logp.exp() * logp).sum())) < 1e-4
    assert token_entropy(scored)["n_samples"] == 2 and token_entropy(scored)["n_missing"] == 1
