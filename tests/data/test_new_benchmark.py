"""A benchmark of a known answer format is one config entry: a toy AMC-format benchmark defined in a
temporary config file (plus the lines that evaluate it: a protocol's list, its training set's
decontamination list) is validated, planned, built by the real loader and graded in its format's mode."""

from __future__ import annotations

import json

from rlvr_repro.config import load_config, validate_config
from rlvr_repro.data.build import build_benchmark
from rlvr_repro.evaluate.grading import grade
from rlvr_repro.io import read_jsonl

TOY_CONFIG = """
benchmarks:
  toy_amc:
    description: "three AMC-style problems with float gold answers"
    loader: amc23
    source: {{path: {path}, revision: toy}}
protocols:
  local: {{benchmarks: [local_arith, toy_amc]}}
datasets:
  local_arith: {{decontaminate_against: [local_arith, local_words, local_hard, toy_amc]}}
"""


def test_a_toy_benchmark_is_planned_built_and_graded(tmp_path):
    source = tmp_path / "amc.jsonl"
    source.write_text("".join(json.dumps({"id": i, "problem": p, "answer": a}) + "\n" for i, (p, a) in
                              enumerate([("What is 20 + 7?", 27.0), ("What is 3 / 4?", 0.75), ("What is 10 x 10?", 100)])))
    (tmp_path / "toy.yaml").write_text(TOY_CONFIG.format(path=source))
    config = load_config("local.yaml", tmp_path / "toy.yaml")
    plan = validate_config(config)
    assert plan.benchmarks("local") == ["local_arith", "toy_amc"]
    assert any("/toy_amc/metrics.json" in t for t in plan.metrics_targets())
    assert plan.benchmark_format("toy_amc") == "amc23"

    report = build_benchmark("toy_amc", config["benchmarks"]["toy_amc"], tmp_path / "toy_amc.jsonl", progress=False)
    assert report["loader"] == "amc23" and report["rows"] == 3
    gold = [row["answer"] for row in read_jsonl(tmp_path / "toy_amc.jsonl")]
    assert gold == ["27", "0.75", "100"]  # AMC's float golds normalized by its loader

    fmt = plan.benchmark_format("toy_amc")  # what the grade rule passes
    assert grade("So the answer is $\\boxed{27}$.", gold[0], fmt)
    assert grade("The answer is \\boxed{3/4}", gold[1], fmt)  # numeric mode: 3/4 == 0.75
    assert not grade("\\boxed{28}", gold[0], fmt)
