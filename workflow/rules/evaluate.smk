# Evaluation of every checkpoint (and the base model as step 0) under each active protocol.
#   generate (GPU with vLLM; CPU with transformers): one model load for all benchmarks of a checkpoint
#   grade    (CPU): math-verify in a hard-timeout worker pool
#   metrics  (CPU): pass@k, avg@n, standard errors, bootstrap CIs, MATH Levels 4-5 subset
# Generation resumes after a kill: it appends to a `.partial` file next to its output (not a
# declared output, so Snakemake keeps it when a job fails) and renames it when complete.

EVAL = config.get("eval") or {}


for _p in PLAN.protocols():
    _benches = PLAN.benchmarks(_p)

    rule:
        name:
            f"generate_{_p}"
        input:
            model=checkpoint_of,
            benchmarks=[f"results/benchmarks/{b}.jsonl" for b in _benches],
        output:
            [f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/generations.jsonl" for b in _benches],
        params:
            protocol=config["protocols"][_p],
            protocol_name=_p,
            benchmarks=_benches,
            family=lambda w: PLAN.family(PLAN.subject_model(w.subject)),
            model=lambda w: PLAN.subject_model(w.subject),  # a protocol's max_tokens_by_model
            backend=EVAL.get("backend", "vllm"),
            seed=EVAL.get("seed", 0),
            limit=EVAL.get("limit"),
            batch_size=EVAL.get("batch_size"),
            resources=res("generate"),
        threads: nthreads("generate", 2)
        resources:
            **res("generate"),
        log:
            f"logs/generate/{_p}/{{subject}}/step_{{step}}.log",
        conda:
            "../../envs/eval.yaml"
        script:
            "../../scripts/generate.py"


rule grade:
    input:
        generations="results/eval/{protocol}/{subject}/step_{step}/{benchmark}/generations.jsonl",
        benchmark="results/benchmarks/{benchmark}.jsonl",
    output:
        "results/eval/{protocol}/{subject}/step_{step}/{benchmark}/grades.jsonl",
    wildcard_constraints:
        protocol=_alternation(PLAN.protocols()),
    params:
        # the loader names the benchmark's format (a local `math500`-shaped file grades like MATH-500)
        grader=lambda w: config["benchmarks"][w.benchmark].get("loader", w.benchmark),
        workers=EVAL.get("grade_workers", 2),
        timeout=EVAL.get("grade_timeout_s", 5.0),
    threads: nthreads("grade", 2)
    resources:
        **res("grade"),
    log:
        "logs/grade/{protocol}/{subject}/step_{step}/{benchmark}.log",
    conda:
        "../../envs/eval.yaml"
    script:
        "../../scripts/grade.py"


rule metrics:
    input:
        unpack(metrics_inputs),
    output:
        "results/eval/{protocol}/{subject}/step_{step}/{benchmark}/metrics.json",
    wildcard_constraints:
        protocol=_alternation(PLAN.protocols()),
    params:
        protocol=lambda w: config["protocols"][w.protocol],
        family=lambda w: PLAN.family(PLAN.subject_model(w.subject)),
        model=lambda w: PLAN.subject_model(w.subject),
        base_subject=lambda w: BASE_PREFIX + PLAN.subject_model(w.subject),
    resources:
        **res("grade"),
    log:
        "logs/metrics/{protocol}/{subject}/step_{step}/{benchmark}.log",
    conda:
        "../../envs/eval.yaml"
    script:
        "../../scripts/metrics.py"


rule diagnostics:
    """EGPO §4.4 entropy proxy of correct vs incorrect responses (+ histogram), EGPO Table 3 AUCs for
    <think> models, and for trained checkpoints ACE §5.3's confidence shift of incorrect responses
    against the base model (both models re-score the samples: a GPU job on clusters)."""
    input:
        generations="results/eval/{protocol}/{subject}/step_{step}/{benchmark}/generations.jsonl",
        grades="results/eval/{protocol}/{subject}/step_{step}/{benchmark}/grades.jsonl",
        policy=checkpoint_of,
        reference=model_record_of_subject,
    output:
        json="results/eval/{protocol}/{subject}/step_{step}/{benchmark}/diagnostics.json",
        png="results/eval/{protocol}/{subject}/step_{step}/{benchmark}/entropy.png",
    wildcard_constraints:
        protocol=_alternation(PLAN.protocols()),
    threads: nthreads("generate", 2)
    resources:
        **res("generate"),
    log:
        "logs/diagnostics/{protocol}/{subject}/step_{step}/{benchmark}.log",
    conda:
        "../../envs/eval.yaml"
    script:
        "../../scripts/diagnostics.py"


rule evaluate:
    input:
        PLAN.metrics_targets(),
        PLAN.diagnostics_targets(),
