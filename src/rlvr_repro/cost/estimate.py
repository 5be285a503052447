"""GPU-hours of training and evaluation: from tokens x model size at a stated throughput, or from the
step times a run has already logged.

Every number here is **our choice** (no paper or anchor states one); each is a CLI flag.

Training, per step: ``prompts_per_step x group_size`` sequences of ``prompt + response`` tokens, with
  prompt   = min(PROMPT_TOKENS, max_prompt_length)       (a math problem + template: ~100-300 tokens)
  response = RESPONSE_FILL x max_response_length         (RL responses grow towards the cap)
and FLOPs per token, N = parameters (the 2N / 6N rule; Kaplan et al. 2020):
  rollout (vLLM)              2N              x DYNAMIC_SAMPLING_ROLLOUTS with DAPO dynamic sampling
  old log-probs (actor fwd)   2N
  reference log-probs         2N              only with a reference policy (KL loss, or ACE)
  update                      8N x ppo_epochs (6N forward + backward, +2N activation recomputation)
Rollout runs at GEN_TFLOPS, the forward/backward passes at TRAIN_TFLOPS per GPU. Rollout decoding is
memory-bound, so its effective rate is a small fraction of the GPU's peak (H100 bf16 dense: 989 TFLOP/s).
For a 7B model with a reference policy this is ~1,800 tokens/s/GPU over the whole RL step.

Measured (preferred as soon as a run logged a step): the median ``time_s`` of its logged steps (the
first step dropped as warm-up once there are three) x the steps still to do x the run's GPUs, plus the
time already logged.

Evaluation: per cell ``problems x n`` samples of ``prompt + RESPONSE_FILL x max_tokens`` tokens at 2N
FLOPs per token, at GEN_TFLOPS. The problem count is read from the built benchmark file
(``results/benchmarks/<b>.jsonl``, capped by ``eval.limit``); before the benchmark is built it is unknown.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Assumptions:
    prompt_tokens: int = 256
    response_fill: float = 0.5
    gen_tflops: float = 50.0
    train_tflops: float = 300.0
    dynamic_sampling_rollouts: float = 1.5  # DAPO refills groups with uniform rewards: more rollouts per step

    def describe(self) -> str:
        return (f"our choice: prompts {self.prompt_tokens} tokens, responses {self.response_fill:.0%} of the cap, "
                f"rollout/eval generation {self.gen_tflops:g} TFLOP/s/GPU, forward/backward {self.train_tflops:g} "
                f"TFLOP/s/GPU, DAPO dynamic sampling x{self.dynamic_sampling_rollouts:g} rollouts; "
                "measured step times replace the estimate once a run has logged steps")


def _tokens_per_sequence(a: Assumptions, max_prompt: int, max_response: int) -> float:
    return min(a.prompt_tokens, max_prompt) + a.response_fill * max_response


def train_step_gpu_seconds(train: dict, params_b: float, *, has_ref: bool, a: Assumptions) -> float:
    """GPU-seconds of one RL step (all GPUs together)."""
    seqs = int(train["prompts_per_step"]) * int(train["group_size"])
    tokens = seqs * _tokens_per_sequence(a, int(train["max_prompt_length"]), int(train["max_response_length"]))
    n = params_b * 1e9
    rollouts = a.dynamic_sampling_rollouts if train.get("dynamic_sampling") else 1.0
    gen = 2 * n * tokens * rollouts
    passes = (2 + (2 if has_ref else 0) + 8 * int(train.get("ppo_epochs", 1))) * n * tokens
    return gen / (a.gen_tflops * 1e12) + passes / (a.train_tflops * 1e12)


def logged_step_times(run_dir: Path) -> list[float]:
    """``time_s`` of every complete step record of ``train_log.jsonl`` (a torn last line is skipped)."""
    path = Path(run_dir) / "train_log.jsonl"
    if not path.is_file():
        return []
    times, lines = {}, path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines):
                break
            raise ValueError(f"{path}:{i}: not JSON") from None
        if isinstance(rec.get("time_s"), (int, float)) and "step" in rec:
            times[int(rec["step"])] = float(rec["time_s"])  # a resumed step replaces the earlier record
    return [times[s] for s in sorted(times)]


@dataclass
class TrainCost:
    gpu_hours_total: float
    gpu_hours_to_go: float
    source: str  # "estimate" | "measured (N steps)" | "cpu"


def train_cost(train: dict, params_b: float | None, *, n_gpus: int, has_ref: bool, done: bool,
               step_times: list[float], a: Assumptions) -> TrainCost:
    """A run's GPU-hours, total and still to go. ``n_gpus`` 0 = a CPU run (local backend)."""
    total_steps = int(train["total_steps"])
    if n_gpus == 0:
        return TrainCost(0.0, 0.0, "cpu")
    if step_times:
        body = step_times[1:] if len(step_times) >= 3 else step_times
        per_step = statistics.median(body) * n_gpus
        spent = sum(step_times) * n_gpus
        to_go = 0.0 if done else max(total_steps - len(step_times), 0) * per_step
        return TrainCost((spent + to_go) / 3600, to_go / 3600, f"measured ({len(step_times)} steps)")
    if params_b is None:
        raise ValueError("model size unknown: set models.<model>.params_b")
    total = total_steps * train_step_gpu_seconds(train, params_b, has_ref=has_ref, a=a) / 3600
    return TrainCost(total, 0.0 if done else total, "estimate")


def eval_cell_gpu_hours(problems: int, n: int, max_tokens: int, params_b: float, a: Assumptions) -> float:
    """GPU-hours of generating one evaluation cell (grading and metrics run on CPUs)."""
    tokens = problems * n * (a.prompt_tokens + a.response_fill * max_tokens)
    return 2 * params_b * 1e9 * tokens / (a.gen_tflops * 1e12) / 3600
