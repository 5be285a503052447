"""python -m rlvr_repro.cost: GPU-hours (estimated / measured), what exists on disk, Slurm submissions."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from rlvr_repro.config import load_config, validate_config
from rlvr_repro.cost.estimate import Assumptions, eval_cell_gpu_hours, logged_step_times, train_step_gpu_seconds
from rlvr_repro.cost.submissions import local_rules, parse_dry_run
from rlvr_repro.cost.summary import summarize

REPO = Path(__file__).resolve().parents[1]
A = Assumptions()


@pytest.fixture(scope="module")
def plan():
    return validate_config(load_config())


def test_estimate_is_tokens_times_size_at_the_stated_rates():
    train = {"prompts_per_step": 4, "group_size": 2, "max_prompt_length": 1024, "max_response_length": 1000,
             "ppo_epochs": 1}
    tokens = 4 * 2 * (256 + 500)
    n = 2e9
    expected = 2 * n * tokens / 50e12 + (2 + 2 + 8) * n * tokens / 300e12
    assert train_step_gpu_seconds(train, 2.0, has_ref=True, a=A) == pytest.approx(expected)
    no_ref = train_step_gpu_seconds(train, 2.0, has_ref=False, a=A)
    assert expected - no_ref == pytest.approx(2 * n * tokens / 300e12)
    dapo = train_step_gpu_seconds({**train, "dynamic_sampling": True}, 2.0, has_ref=False, a=A)
    assert dapo - no_ref == pytest.approx(0.5 * 2 * n * tokens / 50e12)
    # the docstring's claim: ~1,800 tokens/s/GPU for 7B with a reference policy
    per_token = train_step_gpu_seconds({**train, "prompts_per_step": 1, "group_size": 1}, 7.0, has_ref=True, a=A) / 756
    assert 1700 < 1 / per_token < 1900
    assert eval_cell_gpu_hours(500, 32, 3000, 7.0, A) == pytest.approx(2 * 7e9 * 500 * 32 * 1756 / 50e12 / 3600)


def test_default_config_before_anything_ran(plan, tmp_path):
    result = summarize(plan, tmp_path, A)
    total = result["total"]
    assert total["runs"] == len(plan.runs) == 78 and total["new"] == 78 and total["done"] == 0
    assert total["checkpoints"] == len(plan.checkpoint_targets()) and total["checkpoints_on_disk"] == 0
    assert total["cells"] == len(list(plan.eval_cells())) and total["cells_on_disk"] == 0
    assert total["train_gpu_hours"] == pytest.approx(total["train_gpu_hours_to_go"]) and total["train_gpu_hours"] > 1000
    assert total["measured_runs"] == 0 and set(total["benchmarks_not_built"]) == set(plan.benchmarks())
    exps = result["experiments"]
    assert set(exps) == set(plan.experiments)
    # the shared GRPO run of ace and ace_ablation is listed under both, counted once in the total
    assert sum(e["runs"] for e in exps.values()) > total["runs"]
    assert all(r["source"] == "estimate" and r["gpus"] == 8 for r in result["runs"].values())


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_partial_run_on_disk_uses_measured_step_times(plan, tmp_path):
    rid = "qwen3_4b-math_train-asym_reinforce_entreg_qwen3-s0"
    run = plan.runs[rid]
    run_dir = tmp_path / "results/runs" / rid
    times = [120.0, 60.0, 62.0, 58.0, 61.0]
    _write(run_dir / "train_log.jsonl", "".join(json.dumps({"step": i + 1, "time_s": t, "loss": 0.1}) + "\n"
                                                for i, t in enumerate(times)) + '{"step": 6, "time_')  # torn line
    assert logged_step_times(run_dir) == times
    first, second = run.steps[:2]
    ckpt = run_dir / "checkpoints" / f"step_{first}"
    for f in ("DONE", "config.json", "model.safetensors"):
        _write(ckpt / f, "{}")
    _write(run_dir / "checkpoints" / f"step_{second}" / "DONE", "")  # a marker without a model: not complete
    cells = [c for c in plan.eval_cells("asymgrpo") if c[1] == rid]
    _write(tmp_path / plan.eval_dir(*cells[0]) / "metrics.json", json.dumps({"pass@1": 0.5}))
    _write(tmp_path / plan.eval_dir(*cells[1]) / "metrics.json", "")  # an empty file Snakemake left: not a result

    result = summarize(plan, tmp_path, A)
    row = result["runs"][rid]
    per_step = statistics.median(times[1:]) * 8
    to_go = (run.train["total_steps"] - 5) * per_step / 3600
    assert row["status"] == "running" and row["logged_steps"] == 5 and row["source"] == "measured (5 steps)"
    assert row["train_gpu_hours_to_go"] == pytest.approx(to_go)
    assert row["train_gpu_hours"] == pytest.approx(to_go + sum(times) * 8 / 3600)
    assert row["checkpoints_on_disk"] == 1
    exp = result["experiments"]["asymgrpo_entreg_qwen3"]
    assert exp["running"] == 1 and exp["measured_runs"] == 1 and exp["cells_on_disk"] == 1
    assert exp["train_gpu_hours_to_go"] == pytest.approx(to_go)

    _write(run_dir / "train_done.json", json.dumps({"run_id": rid}))
    done = summarize(plan, tmp_path, A)["runs"][rid]
    assert done["status"] == "done" and done["train_gpu_hours_to_go"] == 0

    # with a built benchmark the evaluation still to do gets GPU-hours: cells without metrics only
    _write(tmp_path / "results/benchmarks/math500.jsonl", "{}\n" * 500)
    exp = summarize(plan, tmp_path, A)["experiments"]["asymgrpo_entreg_qwen3"]
    assert exp["eval_gpu_hours_to_go"] > 0 and "math500" not in exp["benchmarks_not_built"]


TSV_HEAD = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def test_eval_to_go_is_priced_from_snakemake_timings_of_finished_generate_jobs(plan, tmp_path):
    """Once generate jobs of a protocol and model have run, their `benchmark:` files price the rest."""
    exp = "asymgrpo_entreg_qwen3"  # 7 checkpoints under asymgrpo (base + 6), all of qwen3_4b, 5 benchmarks each
    rid = "qwen3_4b-math_train-asym_reinforce_entreg_qwen3-s0"
    timing = "logs/benchmarks/generate/asymgrpo/{}/step_{}.tsv"
    _write(tmp_path / timing.format("base-qwen3_4b", 0), TSV_HEAD + "600.5\t0:10:00\t1\t1\t1\t1\t0\t0\t90\t500\n")
    _write(tmp_path / timing.format(rid, 50), TSV_HEAD + "1000\t-\t1\t1\t1\t1\t0\t0\t90\t900\n"
           + "1400\t-\t1\t1\t1\t1\t0\t0\t90\t900\n")  # two repeats: their mean, 1200
    _write(tmp_path / timing.format(rid, 100), "s\th:m:s\n")  # header only: not a timing
    for cell in [c for c in plan.eval_cells("asymgrpo") if c[1] == rid and c[2] == 50]:
        _write(tmp_path / plan.eval_dir(*cell) / "metrics.json", json.dumps({"pass@1": 0.5}))
    row = summarize(plan, tmp_path, A)["experiments"][exp]
    # 6 checkpoints without metrics, each at the median of 600.5 s and 1200 s on the allocation's 1 GPU
    assert row["eval_checkpoints_to_go"] == row["eval_checkpoints_measured"] == 6
    assert row["eval_gpu_hours_to_go"] == pytest.approx(6 * (600.5 + 1200) / 2 / 3600)
    assert row["benchmarks_not_built"] == []  # no benchmark size is needed once timings exist


def test_local_rules_are_read_from_the_workflow():
    local = local_rules()
    assert {"all", "download_source", "check_verl", "prepare_model"} <= local
    assert not local & {"score_ace", "generate_ace", "merge_checkpoint", "build_dataset"}


def test_group_jobs_count_once(tmp_path):
    """A real dry run of a grouped toy workflow: two group jobs of two pipelines each, two local rules."""
    (tmp_path / "Snakefile").write_text(
        'localrules: all, agg\n'
        'rule all:\n    input: "agg.txt"\n'
        'rule agg:\n    input: expand("b{i}.txt", i=range(4))\n    output: "agg.txt"\n    shell: "cat {input} > {output}"\n'
        'rule a:\n    output: "a{i}.txt"\n    group: "g"\n    shell: "echo {wildcards.i} > {output}"\n'
        'rule b:\n    input: "a{i}.txt"\n    output: "b{i}.txt"\n    group: "g"\n    shell: "cp {input} {output}"\n')
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--executor", "slurm", "--group-components", "g=2",
                           "-j", "10"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = parse_dry_run(proc.stdout + proc.stderr, {"all", "agg"})
    assert s.n_jobs == 10 and s.groups == {"group[a+b]": 2} and dict(s.local) == {"all": 1, "agg": 1}
    assert s.n_submissions == 2 and not s.submitted


def test_cli_on_the_default_config(tmp_path):
    """The whole matrix without the dry run, then one experiment with Snakemake's dry run."""
    out = tmp_path / "cost.json"
    proc = subprocess.run([sys.executable, "-m", "rlvr_repro.cost", "--directory", str(tmp_path), "--no-dry-run",
                           "--json", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "TOTAL (shared once)" in proc.stdout and "our choice" in proc.stdout
    result = json.loads(out.read_text())
    assert result["total"]["runs"] == 78
    # the figures' analysis passes: what they add is printed with the line that removes them
    extra = result["analysis_passes"]
    assert extra["experiments"] == ["ace_analysis", "ace_entropy", "asymgrpo_appg"]
    assert extra["cells"] > 0 and extra["checkpoints"] > 0 and extra["submissions"] is None  # no dry run
    without = summarize(validate_config({**load_config(), "analysis_passes": False}), tmp_path, A)["total"]
    assert extra["cells"] == result["total"]["cells"] - without["cells"]
    assert "analysis passes (ace_analysis, ace_entropy, asymgrpo_appg" in proc.stdout
    assert "`analysis_passes: false`" in proc.stdout

    proc = subprocess.run([sys.executable, "-m", "rlvr_repro.cost", "--directory", str(tmp_path), "--experiments",
                           "asymgrpo_entreg_qwen3", "--per-run", "--json", str(out)], cwd=REPO, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    sub = json.loads(out.read_text())["experiments"]["asymgrpo_entreg_qwen3"]["submissions"]
    # 1 run: 1 training job, 1 job merging its 6 checkpoints, 3 evaluation allocations (the checkpoints
    # 3 at a time, eval.checkpoints_per_allocation.asymgrpo, + the base model), each a group of
    # generate + score per checkpoint (+ diagnostics at the last/base, + the part marker)
    by_rule = sub["by_rule"]
    assert sum(v for k, v in by_rule.items() if k.startswith("train_verl")) == 1
    assert sum(v for k, v in by_rule.items() if k.startswith("merge_checkpoints")) == 1
    groups = {k: v for k, v in by_rule.items() if k.startswith("group[")}
    assert sum(groups.values()) == 3 and all("generate_asymgrpo+score_asymgrpo" in k for k in groups), groups
    assert sum(v for k, v in groups.items() if "eval_part" in k) == 2, groups
    assert not {"generate_asymgrpo", "score_asymgrpo"} & set(by_rule)  # only inside groups
    # every job is local, submitted alone, or one of the jobs a group submission holds
    assert sub["submissions"] == sum(by_rule.values()) and sub["jobs"] > sub["submissions"] + sub["local"]
    assert "Slurm submissions by rule" in proc.stdout and "qwen3_4b-math_train-asym_reinforce_entreg_qwen3-s0" in proc.stdout


def test_a_reference_policy_is_costed_for_an_estimator_that_reads_ref_log_probs(plan):
    import dataclasses

    from rlvr_repro.cost.summary import _has_ref

    ace = next(r for r in plan.runs.values() if plan.config["methods"][r.method]["estimator"] == "ace")
    grpo = next(r for r in plan.runs.values() if r.method == "grpo")
    ace = dataclasses.replace(ace, train={**ace.train, "need_ref": False, "use_kl_loss": False})
    grpo = dataclasses.replace(grpo, train={**grpo.train, "use_kl_loss": False})
    assert _has_ref(plan, ace) and not _has_ref(plan, grpo)
