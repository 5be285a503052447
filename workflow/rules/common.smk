# Shared set-up: config validation, the run matrix, wildcard constraints and input functions.
import re
from pathlib import Path

from rlvr_repro.config import validate_config
from rlvr_repro.plan import BASE_PREFIX
from rlvr_repro.prompts import FAMILIES

PLAN = validate_config(config)


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


def res(group):
    """Cluster resources of a rule group (config `resources`)."""
    return dict((config.get("resources") or {}).get(group) or {})


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


# Aggregate targets only collect inputs: never submit them to a cluster.
localrules:
    all,
    data,
    models,
    train,
    evaluate,


def metrics_inputs(wildcards):
    """A cell's grades; a trained checkpoint's cell also reads the base model's grades of the same
    benchmark, for the paired lift (rlvr_repro.evaluate.metrics.paired_lift)."""
    cell = f"results/eval/{wildcards.protocol}/{wildcards.subject}/step_{wildcards.step}/{wildcards.benchmark}"
    inputs = {"grades": f"{cell}/grades.jsonl", "generations": f"{cell}/generations.jsonl",
              "benchmark": f"results/benchmarks/{wildcards.benchmark}.jsonl"}
    if not wildcards.subject.startswith(BASE_PREFIX):
        base = BASE_PREFIX + PLAN.subject_model(wildcards.subject)
        inputs["base_grades"] = f"results/eval/{wildcards.protocol}/{base}/step_0/{wildcards.benchmark}/grades.jsonl"
    return inputs
