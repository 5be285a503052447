# Evaluation of every checkpoint (and the base model as step 0) under each active protocol.
#   generate_{p}    (GPU with vLLM; CPU with transformers): one model load for all benchmarks of a checkpoint
#   score_{p}       (CPU): every benchmark of a checkpoint graded (math-verify in a hard-timeout worker
#                   pool), then its metrics.json (pass@k, avg@n, standard errors, bootstrap CIs, MATH
#                   Levels 4-5 subset, lift over the base model)
#   diagnostics_{p} (GPU): every benchmark of a checkpoint re-scored under policy + reference, one load each
#                   (protocols with `token_entropy`: also the evaluated model's token entropy, ACE eq. 16)
#   eval_part       marker of packed checkpoints (eval.checkpoints_per_allocation): one allocation per part
# On a cluster all of these jobs of one checkpoint and protocol form one Snakemake group, i.e. one
# Slurm allocation (common.smk eval_group). Grading and metrics are one job per checkpoint, not two per
# cell: a paper config has ~4,200 cells, and Snakemake plans in time linear in its jobs (the dry run
# took 51 s with per-cell jobs, benchmarks/bench_dryrun.py). Rebuilding one metrics.json therefore
# regrades its checkpoint's cells from their generations (seconds of CPU) and reruns the checkpoint's
# diagnostics, which read its grades; generation is never redone. Forcing every score job (a metrics
# fix) thus also reruns the diagnostics (GPU) of the checkpoints that have them.
# Snakemake times the generate, score and diagnostics jobs (`benchmark:`, logs/benchmarks/<stage>/...tsv:
# wall seconds, max RSS, CPU time); the cost estimate prices evaluation still to go from the generate
# timings (rlvr_repro.cost.summary.eval_summary).
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
            benchmarks=f"results/benchmarks/sets/{_p}.json",  # lists _benches' files
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
            GENERATE_TIMING.format(protocol=_p, subject="{subject}", step="{step}")
        conda:
            "../../envs/eval.yaml"
        script:
            "../../scripts/generate.py"

    rule:
        """Grades and metrics.json of every benchmark of the checkpoint, then score.json listing them (a
        trained checkpoint's metrics also read the base model's grades, for the paired lift): one job
        per checkpoint, because Snakemake's planning time grows with its jobs (benchmarks/bench_dryrun.py)
        and, less, with their input files; so later rules read score.json, not each metrics.json."""
        name:
            f"score_{_p}"
        input:
            generations=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/generations.jsonl" for b in _benches],
            benchmarks=f"results/benchmarks/sets/{_p}.json",  # lists _benches' files
            base_score=base_score_of(_p),  # a trained checkpoint's lift reads the base model's grades
        output:
            grades=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/grades.jsonl" for b in _benches],
            metrics=[f"results/eval/{_p}/{{subject}}/step_{{step}}/{b}/metrics.json" for b in _benches],
            done=f"results/eval/{_p}/{{subject}}/step_{{step}}/score.json",  # written last
        params:
            protocol=config["protocols"][_p],
            protocol_name=_p,
            benchmarks=_benches,
            # the loader names a benchmark's format (a local `math500`-shaped file grades like MATH-500)
            formats=[PLAN.benchmark_format(b) for b in _benches],
            # the protocol names its grader (config/protocols.yaml `grader`, default the strict math_verify)
            grader=config["protocols"][_p].get("grader", "math_verify"),
            family=lambda w: PLAN.family(PLAN.subject_model(w.subject)),
            model=lambda w: PLAN.subject_model(w.subject),
            base_subject=lambda w: BASE_PREFIX + PLAN.subject_model(w.subject),
            workers=EVAL.get("grade_workers", 2),
            timeout=EVAL.get("grade_timeout_s", 5.0),
        threads: nthreads("grade", 2)
        resources:
            **eval_member_resources("grade", 1, _p),
        group:
            eval_group(_p)
        log:
            f"logs/score/{_p}/{{subject}}/step_{{step}}.log",
        benchmark:
            f"logs/benchmarks/score/{_p}/{{subject}}/step_{{step}}.tsv"
        conda:
            "../../envs/eval.yaml"
        script:
            "../../scripts/score.py"

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
            **eval_member_resources("generate", 1, _p),
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
        **{k: v for k, v in eval_member_resources("grade", 1).items() if k != "runtime"},
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
        PLAN.metrics_targets(),  # each one, so a deleted metrics.json is rebuilt (see rule all)
        PLAN.score_targets(),
        PLAN.diagnostics_targets(),
        PLAN.eval_part_targets(),
