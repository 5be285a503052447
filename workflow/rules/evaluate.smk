# Evaluation of every checkpoint (and the base model as step 0) under each active protocol.
#   generate_{p}    (GPU with vLLM; CPU with transformers): one model load for all benchmarks of a checkpoint
#   grade           (CPU): math-verify in a hard-timeout worker pool, one job per cell
#   metrics         (CPU): pass@k, avg@n, standard errors, bootstrap CIs, MATH Levels 4-5 subset, per cell
#   diagnostics_{p} (GPU): every benchmark of a checkpoint re-scored under policy + reference, one load each
#                   (protocols with `token_entropy`: also the evaluated model's token entropy, ACE eq. 16)
#   eval_part       marker of packed checkpoints (eval.checkpoints_per_allocation): one allocation per part
# On a cluster all of these jobs of one checkpoint and protocol form one Snakemake group, i.e. one
# Slurm allocation (common.smk eval_group). Each file stays its own job inside the group: a failed
# cell fails alone and its rerun redoes only it.
# Snakemake times the generate, grade and diagnostics jobs (`benchmark:`, logs/benchmarks/<stage>/...tsv:
# wall seconds, max RSS, CPU time), the measured cost of each cell beside the cost estimate's model.
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
            resources=dict(res("generate"), gpu_memory_utilization=EVAL.get("gpu_memory_utilization")),
        threads: nthreads("generate", 2)
        resources:
            **eval_member_resources("generate", 1, _p),
        group:
            eval_group(_p)
        log:
            f"logs/generate/{_p}/{{subject}}/step_{{step}}.log",
        benchmark:
            f"logs/benchmarks/generate/{_p}/{{subject}}/step_{{step}}.tsv"
        conda:
            "../../envs/eval.yaml"
        script:
            "../../scripts/generate.py"

    rule:
        """EGPO §4.4 entropy proxy of correct vs incorrect responses (+ histogram), EGPO Table 3 AUCs
        for <think> models, and for trained checkpoints ACE §5.3's confidence shift of incorrect
        responses against the base model; with the protocol's `token_entropy`, the evaluated model's
        per-token entropy of its own samples (ACE §5.4 eq. 16). Every benchmark of the checkpoint in one
        job: each model is loaded once and re-scores all samples (on the group's GPU on clusters)."""
        name:
            f"diagnostics_{_p}"
        input:
            generations=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/generations.jsonl" for b in _benches],
            grades=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/grades.jsonl" for b in _benches],
            policy=checkpoint_of,
            reference=model_record_of_subject,
        output:
            json=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/diagnostics.json" for b in _benches],
            png=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/entropy.png" for b in _benches],
        params:
            benchmarks=_benches,
            token_entropy=bool(config["protocols"][_p].get("token_entropy", False)),  # ACE eq. 16
        threads: nthreads("generate", 2)
        resources:
            **eval_member_resources("generate", 2, _p),  # next to the metrics jobs
        group:
            eval_group(_p)
        log:
            f"logs/diagnostics/{_p}/{{subject}}/step_{{step}}.log",
        benchmark:
            f"logs/benchmarks/diagnostics/{_p}/{{subject}}/step_{{step}}.tsv"
        conda:
            "../../envs/eval.yaml"
        script:
            "../../scripts/diagnostics.py"


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
        benchmark=lambda w: PLAN.benchmark_format(w.benchmark),
        # the protocol names its grader (config/protocols.yaml `grader`, default the strict math_verify)
        grader=lambda w: config["protocols"][w.protocol].get("grader", "math_verify"),
        workers=EVAL.get("grade_workers", 2),
        timeout=EVAL.get("grade_timeout_s", 5.0),
    threads: nthreads("grade", 2)
    resources:
        **eval_member_resources("grade", MAX_BENCHES),
    group:
        eval_group()
    log:
        "logs/grade/{protocol}/{subject}/step_{step}/{benchmark}.log",
    benchmark:
        "logs/benchmarks/grade/{protocol}/{subject}/step_{step}/{benchmark}.tsv"
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
        **eval_member_resources("grade", 2 * MAX_BENCHES),  # next to diagnostics_{protocol}
    group:
        eval_group()
    log:
        "logs/metrics/{protocol}/{subject}/step_{step}/{benchmark}.log",
    conda:
        "../../envs/eval.yaml"
    script:
        "../../scripts/metrics.py"


rule eval_part:
    """Marker of one allocation of packed checkpoints (eval.checkpoints_per_allocation): it waits for the
    metrics and diagnostics of the part's checkpoints and shares their group, which connects them into
    one group job, i.e. one Slurm allocation in which their generate jobs take the GPU in turn."""
    input:
        lambda w: PLAN.eval_part_inputs(w.protocol, w.subject, int(w.part)),
    output:
        "results/eval/{protocol}/{subject}/part_{part}.done",
    wildcard_constraints:
        protocol=_alternation(PLAN.protocols()),
        part=r"\d+",
    resources:
        **{k: v for k, v in eval_member_resources("grade", 2 * MAX_BENCHES).items() if k != "runtime"},
        runtime=1,
    group:
        lambda w: PLAN.eval_group_name(
            w.protocol, w.subject, PLAN.eval_part_steps(w.protocol, w.subject, int(w.part))[0]
        )
    log:
        "logs/eval_part/{protocol}/{subject}/part_{part}.log",
    run:
        Path(output[0]).write_text("\n".join(input) + "\n")


rule evaluate:
    input:
        PLAN.metrics_targets(),
        PLAN.diagnostics_targets(),
        PLAN.eval_part_targets(),
