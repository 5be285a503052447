# Training: one job per run. Outputs are small marker files so that a crashed job keeps its
# checkpoints and log on disk (Snakemake deletes a failed job's declared outputs) and the rerun
# resumes from the last complete checkpoint instead of starting over.
#
#   results/runs/{run}/run.json                      resolved run spec (written before training)
#   results/runs/{run}/train_log.jsonl               per-step log (grows during training)
#   results/runs/{run}/train_done.json               marker: training finished
#   results/runs/{run}/checkpoints/step_{N}/DONE     marker: HF checkpoint of step N is complete
#   results/checks/verl/{check}.json                 marker: a verl override set passed the login-node check
#   logs/benchmarks/train/{run}.tsv                  Snakemake's timing of the job (its last attempt)
#
# Runs are grouped by checkpoint schedule and cluster shape (the outputs and the Slurm request differ):
# one rule per group, named after both, e.g. train_verl_160steps_every20_1x8gpu.


for _name, (_steps, _nnodes, _gpn, _runs) in runs_by_schedule(shape=BACKEND == "verl"):
    if BACKEND == "local":

        rule:
            name:
                f"train_local_{_name}"
            input:
                unpack(train_inputs),
            output:
                done="results/runs/{run}/train_done.json",
                checkpoints=[f"results/runs/{{run}}/checkpoints/step_{s}/DONE" for s in _steps],
            wildcard_constraints:
                run=_alternation(_runs),
            params:
                spec=lambda w: PLAN.run_spec(w.run),
                save_margin_s=SAVE_MARGIN_S,
                tracking=config.get("tracking") or {},
            threads: nthreads("train", 2)
            resources:
                **res("train"),
            # each attempt resumes from the newest checkpoint (one saved before the time limit)
            retries: TRAIN_RETRIES
            log:
                "logs/train/{run}.log",
            benchmark:
                "logs/benchmarks/train/{run}.tsv"
            conda:
                "../../envs/train.yaml"
            script:
                "../../scripts/train_local.py"

    else:

        rule:
            name:
                f"train_verl_{_name}"
            input:
                unpack(train_inputs),
            output:
                done="results/runs/{run}/train_done.json",
            wildcard_constraints:
                run=_alternation(_runs),
            params:
                spec=lambda w: PLAN.run_spec(w.run),
                save_margin_s=SAVE_MARGIN_S,
                tracking=config.get("tracking") or {},
            threads: nthreads("train", 1)
            resources:
                **train_resources(_nnodes, _gpn),
            # each attempt resumes from verl's newest checkpoint (one saved before the time limit)
            retries: TRAIN_RETRIES
            log:
                "logs/train/{run}.log",
            benchmark:
                "logs/benchmarks/train/{run}.tsv"
            conda:
                "../../envs/train.yaml"
            script:
                "../../scripts/train_verl.py"


if BACKEND == "verl":

    localrules:
        check_verl,

    rule check_verl:
        """verl's config for one distinct override set, checked on the login node in seconds: Hydra
        compose, verl's validate_config, our type and batch-shape checks, train.verl_overrides key names.
        Every verl training job of the set takes the marker as input (rlvr_repro.integrations.verl.check)."""
        output:
            "results/checks/verl/{check}.json",
        log:
            "logs/checks/verl/{check}.log",
        conda:
            "../../envs/train.yaml"
        script:
            "../../scripts/check_verl.py"

    for _name, (_steps, _nnodes, _gpn, _runs) in runs_by_schedule(shape=False):

        rule:
            """verl's sharded FSDP actor checkpoints of one run -> HF directories (one CPU job per run,
            verl.model_merger one step after another). A step whose HF directory already holds the
            model merged from the same verl checkpoint is not merged again, so the rerun after a
            failed step redoes only that step (rlvr_repro.train.verl_launch.merge_run_checkpoints)."""
            name:
                f"merge_checkpoints_{_name}"
            input:
                "results/runs/{run}/train_done.json",
            output:
                [f"results/runs/{{run}}/checkpoints/step_{s}/DONE" for s in _steps],
            wildcard_constraints:
                run=_alternation(_runs),
            params:
                steps=list(_steps),
            resources:
                **merge_resources(len(_steps)),
            log:
                "logs/merge/{run}.log",
            conda:
                "../../envs/train.yaml"
            script:
                "../../scripts/merge_verl_checkpoint.py"


rule train:
    input:
        PLAN.checkpoint_targets(),
