# Training: one job per run. Outputs are small marker files so that a crashed job keeps its
# checkpoints and log on disk (Snakemake deletes a failed job's declared outputs) and the rerun
# resumes from the last complete checkpoint instead of starting over.
#
#   results/runs/{run}/run.json                      resolved run spec (written before training)
#   results/runs/{run}/train_log.jsonl               per-step log (grows during training)
#   results/runs/{run}/train_done.json               marker: training finished
#   results/runs/{run}/checkpoints/step_{N}/DONE     marker: HF checkpoint of step N is complete
#   results/checks/verl/{check}.json                 marker: a verl override set passed the login-node check


for _i, ((_steps, _nnodes, _gpn), _runs) in enumerate(_runs_by_schedule()):
    if BACKEND == "local":

        rule:
            name:
                f"train_local_{_i}"
            input:
                unpack(train_inputs),
            output:
                done="results/runs/{run}/train_done.json",
                checkpoints=[f"results/runs/{{run}}/checkpoints/step_{s}/DONE" for s in _steps],
            wildcard_constraints:
                run=_alternation(_runs),
            params:
                spec=lambda w: PLAN.run_spec(w.run),
            threads: nthreads("train", 2)
            resources:
                **res("train"),
            log:
                "logs/train/{run}.log",
            conda:
                "../../envs/train.yaml"
            script:
                "../../scripts/train_local.py"

    else:

        rule:
            name:
                f"train_verl_{_i}"
            input:
                unpack(train_inputs),
            output:
                done="results/runs/{run}/train_done.json",
            wildcard_constraints:
                run=_alternation(_runs),
            params:
                spec=lambda w: PLAN.run_spec(w.run),
            threads: nthreads("train", 1)
            resources:
                **train_resources(_nnodes, _gpn),
            log:
                "logs/train/{run}.log",
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

    rule merge_checkpoint:
        """verl's sharded FSDP actor checkpoint -> HF directory (CPU job; verl.model_merger)."""
        input:
            "results/runs/{run}/train_done.json",
        output:
            "results/runs/{run}/checkpoints/step_{step}/DONE",
        resources:
            **res("merge"),
        log:
            "logs/merge/{run}/step_{step}.log",
        conda:
            "../../envs/train.yaml"
        script:
            "../../scripts/merge_verl_checkpoint.py"


rule train:
    input:
        PLAN.checkpoint_targets(),
