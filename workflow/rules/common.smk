# Shared set-up: config validation, the run matrix, wildcard constraints and input functions.
import re
from pathlib import Path

from rlvr_repro import eval_alloc
from rlvr_repro.config import validate_config
from rlvr_repro.data.sources import needs_download
from rlvr_repro.integrations.verl import check as verl_check
from rlvr_repro.plan import BASE_PREFIX, GENERATE_TIMING
from rlvr_repro.prompts import FAMILIES

PLAN = validate_config(config)
BACKEND = config["train"]["backend"]
# verl runs: one login-node config check per distinct override set (rule check_verl)
VERL_CHECKS = verl_check.override_sets(PLAN) if BACKEND == "verl" else {}
VERL_CHECK_OF = {rid: cid for cid, s in VERL_CHECKS.items() for rid in s["runs"]}
FIXTURE_DIR = "resources/fixtures"


def _alternation(names):
    return "|".join(re.escape(n) for n in sorted(names)) or "(?!)"


wildcard_constraints:
    model=_alternation(config["models"]),
    dataset=_alternation(config["datasets"]),
    benchmark=_alternation(config["benchmarks"]),
    family=_alternation(f for f in FAMILIES if f != "generic"),  # generic is the canonical build
    run=_alternation(PLAN.runs),
    subject=_alternation([BASE_PREFIX + m for m in config["models"]] + list(PLAN.runs)),
    step=r"\d+",
    check=r"[0-9a-f]{12}",


def res(group):
    """Cluster resources of a rule group (config `resources`)."""
    return dict((config.get("resources") or {}).get(group) or {})


CLUSTER = config.get("cluster") or {}
# Snakemake retries of a training job: enough allocations for the longest run (config.yaml `cluster`)
TRAIN_RETRIES = int(CLUSTER.get("train_retries", 7))
# seconds before the job's end time (plus the longest step) at which training saves and stops
SAVE_MARGIN_S = float(CLUSTER.get("save_margin_s", 300))


def eval_group(protocol=None):
    """Snakemake group of an evaluation job (one Slurm allocation): every job of one checkpoint under one
    protocol, or of `eval.checkpoints_per_allocation` consecutive checkpoints of one run
    (PLAN.eval_group_name; rule eval_part's marker connects them into one group job). Names carry the
    subject and step, so checkpoints never merge through the base model's grades that trained cells'
    metrics read (Snakemake joins same-named jobs connected by an edge into one group job)."""

    def group(wildcards):
        return PLAN.eval_group_name(protocol or wildcards.protocol, wildcards.subject, int(wildcards.step))

    return group


# Every evaluation job declares `eval_gpus` and `eval_share` (rlvr_repro.eval_alloc): within one group
# job, jobs that together exceed one allocation run in turn, so a group of several checkpoints asks Slurm
# for one generate job's GPU, CPUs and memory and the sum of their runtimes.
eval_alloc.declare(workflow, res("generate"))


def eval_runtime(kind, protocol):
    """`resources.by_protocol.<protocol>.<kind>.runtime` over `resources.<kind>.runtime` (minutes)."""
    over = (((config.get("resources") or {}).get("by_protocol") or {}).get(protocol) or {}).get(kind) or {}
    return int(over.get("runtime", res(kind).get("runtime", 60)))


def eval_member_resources(kind, share, protocol=None):
    """Resources of a job inside an evaluation group. A group job requests, per topological layer,
    the sum of its members' resources (the max over layers; runtime adds up over layers). So jobs
    that run side by side each get a `1/share` part of the generate job's CPUs and memory, and their
    `eval_share` says how much of the allocation they take. (Today every layer of a checkpoint holds one
    job: generate, then score, then diagnostics; `share` is 1.) Outside a group (local runs) Snakemake ignores cpus_per_task / mem_mb.
    `protocol` None: the rule has a {protocol} wildcard and its runtime is looked up per job."""
    r, gen = res(kind), res("generate")
    if kind != "generate":
        r.pop("gpu", None)
        r.pop("tasks_per_gpu", None)
    n = max(1, int(share))
    for key in ("cpus_per_task", "mem_mb"):
        if key in gen:
            r[key] = max(1, min(int(r.get(key, gen[key])), int(gen[key]) // n))
    r = eval_alloc.resources(r, gen)
    r["runtime"] = eval_runtime(kind, protocol) if protocol else (lambda wc: eval_runtime(kind, wc.protocol))
    return r


def nthreads(group, default=1):
    return int((config.get("threads") or {}).get(group, default))


def model_record_of_subject(wildcards):
    return PLAN.model_record(PLAN.subject_model(wildcards.subject))


def checkpoint_of(wildcards):
    """The model a (subject, step) evaluates: the base model at step 0, else a run checkpoint."""
    if wildcards.subject.startswith(BASE_PREFIX):
        if int(wildcards.step) != 0:
            raise ValueError(f"base model {wildcards.subject} only has step 0, not step {wildcards.step}")
        return PLAN.model_record(PLAN.subject_model(wildcards.subject))
    return PLAN.checkpoint(wildcards.subject, int(wildcards.step))


# ---------------------------------------------------------------- data (data.smk)
def _sources(kind, name):
    spec = config[kind][name]
    return dict(spec["sources"]) if kind == "datasets" else {"source": spec["source"]}


def _source_inputs(kind, name):
    """Snapshots of hub sources, and local source files (so rules that make them run first)."""
    out = {}
    for src, spec in _sources(kind, name).items():
        if needs_download(spec):
            out[f"snapshot_{src}"] = f"resources/raw/{kind}/{name}/{src}/source.json"
        elif spec.get("path") and str(spec["path"]).startswith((f"{FIXTURE_DIR}/", "results/data/")):
            out[f"local_{src}"] = spec["path"]  # a fixture, or a dataset's held-out split (heldout_of)
    return out


def _tokenizer_model(name):
    """A dataset param `tokenizer` naming a configured model uses that model's prepared directory."""
    tok = (config["datasets"][name].get("params") or {}).get("tokenizer")
    return tok if tok in config["models"] else None


def dataset_inputs(wildcards):
    inputs = _source_inputs("datasets", wildcards.dataset)
    # the dataset's own reference set (datasets.<d>.decontaminate_against), not the active protocols'
    inputs.update(
        {f"decontam_{b}": f"results/benchmarks/{b}.jsonl" for b in PLAN.decontamination_set(wildcards.dataset)}
    )
    tok = _tokenizer_model(wildcards.dataset)
    if tok:
        inputs["tokenizer_model"] = PLAN.model_record(tok)
    return inputs


# ---------------------------------------------------------------- training (train.smk)
def train_inputs(wildcards):
    run = PLAN.runs[wildcards.run]
    family = PLAN.family(run.model)
    inputs = {
        "model": PLAN.model_record(run.model),
        "train": PLAN.train_file(run.dataset, family, "train"),
        "val": PLAN.train_file(run.dataset, family, "val"),
    }
    if BACKEND == "verl":
        # ancient: a re-run check (new check code, a new verl) must not restart finished runs
        inputs["verl_check"] = ancient(verl_check.marker(VERL_CHECK_OF[wildcards.run]))
    return inputs


def schedule_name(steps):
    """A rule-name part for a checkpoint schedule: `160steps_every20`, or `14steps` (last step only)."""
    return f"{steps[-1]}steps" + (f"_every{steps[0]}" if len(steps) > 1 else "")


def runs_by_schedule(shape=True):
    """Runs grouped by checkpoint steps (and, with ``shape``, cluster shape): one rule per group,
    named after what the group shares (`train_verl_160steps_every20_1x8gpu`), the run id as wildcard."""
    groups = {}
    for run in PLAN.runs.values():
        nodes, gpus = int(run.train.get("nnodes", 1)), int(run.train.get("gpus_per_node", 1))
        name = schedule_name(run.steps) + (f"_{nodes}x{gpus}gpu" if shape else "")
        groups.setdefault(name, (tuple(run.steps), nodes, gpus, []))[3].append(run.run_id)
    return sorted(groups.items())


def train_resources(nnodes, gpus_per_node):
    """Slurm resources of a training job. GPU counts come from the run's `train` settings.

    Multi-node jobs use the `mpi` resource so the jobstep plugin runs the script once inside the
    allocation (not wrapped in `srun -n1`); the script then starts Ray on every node itself.
    """
    r = res("train")
    if BACKEND != "verl":
        return r
    r.pop("gpu", None)
    r["tasks_per_gpu"] = 0
    r["nodes"] = nnodes
    if nnodes == 1:
        r["gpu"] = gpus_per_node
    else:
        r.update(gres=f"gpu:{gpus_per_node}", tasks=nnodes, mpi="srun")
    return r


def merge_resources(n_steps):
    """One run's checkpoint merges in one job: `resources.merge.runtime` is per checkpoint."""
    r = res("merge")
    if "runtime" in r:
        r["runtime"] = int(r["runtime"]) * max(1, int(n_steps))
    return r


# Aggregate targets only collect inputs: never submit them to a cluster.
localrules:
    all,
    data,
    models,
    train,
    evaluate,


def base_score_of(protocol):
    """Input function of score_{protocol}: a trained checkpoint's metrics read the base model's grades
    of the same benchmarks (the paired lift, rlvr_repro.evaluate.metrics.paired_lift), listed in the
    base model's score.json; the base model's own score job reads none."""

    def base_score(wildcards):
        if wildcards.subject.startswith(BASE_PREFIX):
            return []
        return [PLAN.score_marker(protocol, BASE_PREFIX + PLAN.subject_model(wildcards.subject), 0)]

    return base_score
