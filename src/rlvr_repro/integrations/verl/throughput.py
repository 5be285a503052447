"""GPU throughput settings for a verl run, derived from model size and sequence length (pure; no verl import).

verl 0.9.1's defaults (static micro-batches, no offload, no sequence parallelism, 16k tokens per GPU)
are tuned for short responses. At 8k-16k-token responses verl's own recipes turn on three things:

* **dynamic batch size** (``use_dynamic_bsz``): micro-batches are packed up to a token budget per GPU
  (``ppo_max_token_len_per_gpu`` for the update, ``log_prob_max_token_len_per_gpu`` for the forward-only
  old/ref log-prob passes) instead of a fixed sequence count, so a batch of long responses does not
  run out of memory and a batch of short ones does not idle;
* **Ulysses sequence parallelism** (``ulysses_sequence_parallel_size``): one sequence is split over
  sp GPUs, so activation memory per GPU scales with seq/sp;
* **FSDP offload** (``fsdp_config.param_offload`` / ``optimizer_offload``): the actor's fp32 weights
  and Adam moments stay on GPU through rollout, next to vLLM's share of memory, unless offloaded.

Anchors (verl recipe scripts, volcengine/verl): ``recipe/dapo/test_dapo_7b_math.sh`` (Qwen2.5-Math-7B,
2k prompt + 8k response: sp 4, dynamic bsz, actor budget 2x(prompt+response) per GPU, log-prob budget
3x, offload on); ``recipe/dapo/run_dapo_qwen2.5_32b.sh`` (32B, 2k + 20k: sp 8, budget 1x, offload on);
``recipe/dapo/run_dapo_qwen_3_4b_w_GFPO`` (Qwen3-4B, 2k + 10k: sp 1, budget 1x);
``examples/grpo_trainer/run_qwen2-7b_seq_balance.sh`` (7B, 1.5k: dynamic bsz, 24k tokens per GPU,
actor offload off, ref param offload on).

Every number below is **our choice** (the papers state none of them); each can be set per run with
the flat train key of the same name (config/train_keys.md), and any verl key with ``train.verl_overrides``.
The GPU assumed is an 80 GB H100/A100 (``train.gpu_memory_gb``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rlvr_repro.train.keys import BY_NAME, keys

# Flat train keys of this module that are derived when null (or absent): the table's throughput group.
KEYS = tuple(k for k in keys(group="throughput") if BY_NAME[k].default is None)
DEFAULT_GPU_MEMORY_GB = 80.0

# Our choice: tokens of one sequence a GPU holds before Ulysses splits it (activation memory grows with
# the hidden size, i.e. with the model). 7B at 10k tokens -> sp 4, as in the DAPO 7B recipe.
SHARD_TOKENS = ((2.0, 12288), (5.0, 8192), (math.inf, 4096))  # (params_b up to, tokens)
# Our choice: sp <= 4. Ulysses splits attention heads; 4 divides the head counts of every configured
# backbone (12: Qwen2.5-1.5B/R1-1.5B, 16: Qwen2.5-3B, 28: Qwen2.5-7B/R1-7B, 32: Qwen3-4B/8B, Llama-3.1-8B);
# 8 does not divide 12 or 28.
MAX_SP = 4
# Our choice: actor update token budget per GPU (verl's default 16384 for >5B; the 7B recipes use
# 20-24k); forward-only log-prob passes get 1.5x (the DAPO 7B recipe's 3x/2x ratio).
TOKEN_BUDGET = ((2.0, 32768), (5.0, 24576), (math.inf, 16384))
LOG_PROB_FACTOR = 1.5
# Our choice: GPU memory not available to FSDP state during rollout besides vLLM's share
# (CUDA context, NCCL buffers, allocator fragmentation).
HEADROOM_GB = 6.0
# Bytes per parameter of the actor's FSDP state: fp32 weights (verl's actor keeps fp32 master weights)
# + fp32 grads + two fp32 Adam moments; the reference policy is bf16 weights only.
ACTOR_BYTES, OPTIM_BYTES, REF_BYTES = 16, 8, 2


def _by_size(table, params_b: float) -> int:
    return next(v for limit, v in table if params_b <= limit)


def _round_up(n: float, to: int = 1024) -> int:
    return int(math.ceil(n / to) * to)


def sequence_parallel(seq_len: int, params_b: float, n_gpus: int) -> int:
    """Smallest sp in 1, 2, 4 whose shard of one sequence fits the size's token limit; it must divide
    the run's GPU count (verl's device mesh is dp x sp)."""
    limit = _by_size(SHARD_TOKENS, params_b)
    candidates = [sp for sp in (1, 2, 4) if sp <= MAX_SP and n_gpus % sp == 0]
    return next((sp for sp in candidates if math.ceil(seq_len / sp) <= limit), candidates[-1])


def fsdp_offload(params_b: float, n_gpus: int, *, has_ref: bool, gpu_memory_gb: float,
                 gpu_memory_utilization: float) -> tuple[bool, bool]:
    """(param_offload, optimizer_offload): offload the optimizer when the actor's FSDP state (+ the
    reference weights) per GPU does not fit next to vLLM during rollout; offload the weights as well
    when even without the optimizer it does not."""
    free = gpu_memory_gb * (1.0 - gpu_memory_utilization) - HEADROOM_GB
    ref = REF_BYTES * params_b / n_gpus if has_ref else 0.0
    full = ACTOR_BYTES * params_b / n_gpus + ref
    without_optim = (ACTOR_BYTES - OPTIM_BYTES) * params_b / n_gpus + ref
    optim_off = full > free
    return optim_off and without_optim > free, optim_off


def resolve(train: Mapping[str, Any], params_b: float | None, *, has_ref: bool) -> dict[str, Any]:
    """The six throughput settings of one run: the train key where set, else derived.

    ``params_b`` may be None only if every derived value is given explicitly."""
    got = {k: train.get(k) for k in KEYS}
    if any(v is None for v in got.values()) and params_b is None:
        raise ValueError("the model's size is unknown (set models.<model>.params_b) and train sets not all of "
                         f"{list(KEYS)}")
    seq = int(train["max_prompt_length"]) + int(train["max_response_length"])
    n_gpus = int(train.get("nnodes", 1)) * int(train.get("gpus_per_node", 1))
    out = dict(got)
    if out["use_dynamic_bsz"] is None:
        out["use_dynamic_bsz"] = True  # every recipe at these lengths
    if out["ulysses_sequence_parallel_size"] is None:
        out["ulysses_sequence_parallel_size"] = sequence_parallel(seq, params_b, n_gpus)
    sp = int(out["ulysses_sequence_parallel_size"])
    shard = _round_up(seq / sp)  # one sequence must fit one micro-batch: budget x sp >= prompt + response
    if out["ppo_max_token_len_per_gpu"] is None:
        out["ppo_max_token_len_per_gpu"] = max(_by_size(TOKEN_BUDGET, params_b), shard)
    if out["log_prob_max_token_len_per_gpu"] is None:
        out["log_prob_max_token_len_per_gpu"] = _round_up(LOG_PROB_FACTOR * int(out["ppo_max_token_len_per_gpu"]))
    if out["param_offload"] is None or out["optimizer_offload"] is None:
        p_off, o_off = fsdp_offload(params_b, n_gpus, has_ref=has_ref,
                                    gpu_memory_gb=float(train.get("gpu_memory_gb") or DEFAULT_GPU_MEMORY_GB),
                                    gpu_memory_utilization=float(train["gpu_memory_utilization"]))
        out["param_offload"] = p_off if out["param_offload"] is None else out["param_offload"]
        out["optimizer_offload"] = o_off if out["optimizer_offload"] is None else out["optimizer_offload"]
    return out


def verl_overrides(settings: Mapping[str, Any]) -> dict[str, Any]:
    """verl 0.9.1 keys for resolved settings. The ref and rollout (old log-prob) sections get the same
    switches explicitly, as the recipes do, rather than through verl's ``oc.select`` interpolations."""
    dyn, sp = bool(settings["use_dynamic_bsz"]), int(settings["ulysses_sequence_parallel_size"])
    lp = int(settings["log_prob_max_token_len_per_gpu"])
    a = "actor_rollout_ref."
    return {
        a + "actor.use_dynamic_bsz": dyn,
        a + "actor.ppo_max_token_len_per_gpu": int(settings["ppo_max_token_len_per_gpu"]),
        a + "ref.log_prob_use_dynamic_bsz": dyn,
        a + "ref.log_prob_max_token_len_per_gpu": lp,
        a + "rollout.log_prob_use_dynamic_bsz": dyn,
        a + "rollout.log_prob_max_token_len_per_gpu": lp,
        a + "actor.ulysses_sequence_parallel_size": sp,
        a + "ref.ulysses_sequence_parallel_size": sp,
        a + "actor.fsdp_config.param_offload": bool(settings["param_offload"]),
        a + "actor.fsdp_config.optimizer_offload": bool(settings["optimizer_offload"]),
        # the reference model is forward-only: offloading its weights costs one H2D copy per step
        a + "ref.fsdp_config.param_offload": bool(settings["param_offload"]),
    }
