"""The local CPU training backend (``train.backend: local``): a single-process GRPO-family loop in torch.

It exists so the whole DAG runs, and is tested, without GPUs. It differs from verl only in rollout
(``transformers.generate`` instead of vLLM) and in parallelism (one process): the policy loss, the loss
aggregation modes, the KL penalty, log-prob and entropy helpers and the LR schedule are verl 0.9.1's own
functions, and the advantages come from ``rlvr_repro.advantages.compute_advantages`` like on the cluster.

One training step (:func:`train_step`), top to bottom:

  1. rollout      take ``prompts_per_step`` prompts (seeded epochs), sample ``group_size`` responses each,
                  score them with the verifier (+ DAPO overlong shaping); with DAPO dynamic sampling,
                  drop groups whose scores are all equal and sample more, up to ``max_gen_batches``
  2. log-probs    of the sampled tokens under the current policy ("old", no grad) and, when a KL loss or
                  the estimator needs it, under the frozen initial model ("ref")
  3. advantages   ``compute_advantages(estimator, rewards, index, response_mask, old/ref log-probs, **params)``
  4. update       ``ppo_epochs`` x mini-batches x micro-batches: new log-probs, verl's loss, backward;
                  AdamW step (fp32 master weights) with grad clipping after every mini-batch
  5. log          one ``train_log.jsonl`` record (docs/CONTRACTS.md fields + ``diag/*`` + timings)

``train_local`` runs the steps, saves HF checkpoints at ``save_freq`` and the last step, and resumes an
interrupted run from its newest checkpoint. Randomness is re-seeded from ``(seed, step)`` at the start of
every step, so a resumed run samples exactly what the uninterrupted run would have (no RNG state to save).

CLI: ``python -m rlvr_repro.train.local --run-spec run.json --out-dir DIR [--threads N] [--dtype auto]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import AutoModelForCausalLM, AutoTokenizer
from verl.trainer.ppo.core_algos import agg_loss, kl_penalty

from rlvr_repro.advantages import ESTIMATORS, REQUIRES, compute_advantages, needs_reference, validate_params
from rlvr_repro.advantages.batch_stats import logprob_gain_correct, training_diagnostics
from rlvr_repro.compute_dtype import CHOICES as DTYPE_CHOICES
from rlvr_repro.compute_dtype import resolve_model_dtype

from . import checkpoint as ckpt
from .deadline import Deadline, TimeLimitReached
from .logprobs import batched_response_log_probs, batched_response_stats, response_log_probs
from .loss import build_actor_config, micro_batch_loss, mini_batch_info
from .optim import MasterWeights, build_optimizer, clip_and_step
from .prompts_data import PromptRecord, PromptSampler, load_prompts
from .rewards import (RewardFn, default_reward_fn, outcome_fractions, overlong_penalty, score_responses,
                      varied_groups)
from .rollout import RolloutBatch, concat_batches, generate_groups, pad_token_id, stop_token_ids
from .settings import RunSpec, TrainConfigError, TrainSettings, parse_run_spec
from .trainlog import TrainLog

log = logging.getLogger(__name__)


@dataclass
class Trainer:
    """Everything one training step reads or updates."""

    spec: RunSpec
    model: torch.nn.Module  # the policy, in its compute dtype
    ref_model: torch.nn.Module | None  # frozen copy of the initial policy (KL loss / ref-needing estimators)
    tokenizer: object
    master: MasterWeights
    optimizer: torch.optim.Optimizer
    scheduler: object
    actor_config: object  # verl's ActorConfig: what verl's loss functions read
    records: list[PromptRecord]
    sampler: PromptSampler
    reward_fn: RewardFn
    stop_ids: list[int]
    pad_id: int
    elapsed_s: float = 0.0

    @property
    def settings(self) -> TrainSettings:
        return self.spec.train


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measure(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0


def step_seed(seed: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def _token_mean(values: torch.Tensor, mask: torch.Tensor) -> float | None:
    n = float(mask.sum())
    return float((values * mask).sum()) / n if n else None


# ------------------------------------------------------------------------------------------ one step
def collect_rollouts(t: Trainer, step: int, timings: Timings) -> tuple[RolloutBatch, list[RolloutBatch]]:
    """Step 1: the training batch (at most ``prompts_per_step`` groups) and every batch generated for it."""
    s = t.settings
    kept, generated = [], []
    for gen_batch in range(s.max_gen_batches if s.dynamic_sampling else 1):
        prompts = [t.records[i] for i in t.sampler.take(s.prompts_per_step)]
        with timings.measure("generate"):
            batch = generate_groups(t.model, t.tokenizer, prompts, group_size=s.group_size,
                                    max_new_tokens=s.max_response_length, temperature=s.temperature, top_p=s.top_p,
                                    stop_ids=t.stop_ids, pad_id=t.pad_id, uid_prefix=f"{step}.{gen_batch}")
        with timings.measure("reward"):
            scores = score_responses(t.reward_fn, batch.data_sources, batch.texts, batch.ground_truths)
            rewards = scores + overlong_penalty(batch.response_lengths, max_response_length=s.max_response_length,
                                                buffer_len=s.overlong_buffer_len,
                                                penalty_factor=s.overlong_penalty_factor)
        batch = batch.with_rewards(scores, rewards)
        generated.append(batch)
        if not s.dynamic_sampling:
            return batch, generated
        kept.append(batch.select_groups(varied_groups(scores, s.group_size)))
        if sum(b.n_groups for b in kept) >= s.prompts_per_step:
            break
    train_batch = concat_batches(kept)
    if train_batch.n_groups > s.prompts_per_step:  # DAPO trains on exactly one batch worth of groups
        train_batch = train_batch.select_groups(torch.arange(train_batch.n_groups) < s.prompts_per_step)
    return train_batch, generated


def fused_rows(s: TrainSettings, n_rows: int) -> int:
    """How many rows take their old log-probs from the update's own first forward: the first mini-batch's.
    Nothing has been updated when it runs, so its forward *is* the old policy's (ratio exactly 1, as
    on-policy PPO has it); the later mini-batches (and epochs) run after an update and need the old
    policy's log-probs from a separate no-grad pass, taken before the first update."""
    return min(n_rows, s.mini_batch_prompts * s.group_size)


def micro_slices(n_rows: int, micro_rows: int, start: int = 0) -> list[slice]:
    return [slice(lo, min(lo + micro_rows, n_rows)) for lo in range(start, n_rows, micro_rows)]


def needs_token_entropy(t: Trainer) -> bool:
    """The estimator reads the old policy's per-token entropy (EDGE-GRPO), as verl's ``entropys``."""
    return "token_entropy" in REQUIRES[t.spec.estimator]


def forward_with_grad(t: Trainer, inputs: dict, width: int, rows: list[slice]) -> list[tuple]:
    """The update's forward passes, kept with their graphs: ``[(rows, log_prob, entropy)]``. The token
    entropy is always computed from the logits the forward has (it is logged); it keeps its graph only
    when the loss has an entropy bonus."""
    s = t.settings
    out = []
    for r in rows:
        log_prob, entropy = response_log_probs(t.model, inputs["input_ids"][r], inputs["attention_mask"][r],
                                               inputs["position_ids"][r], width, temperature=s.temperature,
                                               with_entropy=True)
        if s.entropy_coeff == 0:
            entropy = entropy.detach()  # logged only: no backward through it
        out.append((r, log_prob, entropy))
    return out


def update_policy(t: Trainer, batch: RolloutBatch, inputs: dict, old_log_probs: torch.Tensor,
                  ref_log_probs: torch.Tensor | None, advantages: torch.Tensor,
                  first_forward: list[tuple] | None = None) -> dict:
    """Step 4: ``ppo_epochs`` passes of mini-batch AdamW updates with verl's loss; returns loss metrics.

    ``first_forward`` (from :func:`forward_with_grad` over :func:`fused_rows`) supplies the first
    mini-batch's micro-batch forwards, so they are not run twice.

    Metrics follow verl's aggregation: loss terms are normalised by the mini-batch, so they are summed
    over its micro-batches (then averaged over mini-batches); clip fraction and ppo_kl are micro-batch
    means, averaged."""
    s = t.settings
    width = batch.response_ids.shape[1]
    mini_rows = s.mini_batch_prompts * s.group_size
    micro_rows = s.micro_batch_size or mini_rows
    mask = batch.response_mask
    summed = ("loss", "pg_loss", "entropy_loss", "kl_loss")
    per_mini = {k: [] for k in summed}
    per_micro = {"clip_frac": [], "ppo_kl": []}
    grad_norms, skipped = [], 0
    for _epoch in range(s.ppo_epochs):
        for start in range(0, batch.n_rows, mini_rows):
            stop = min(start + mini_rows, batch.n_rows)
            info = mini_batch_info(mask[start:stop], t.actor_config.loss_scale_factor)
            totals = dict.fromkeys(summed)
            forwards, first_forward = first_forward, None  # only the first mini-batch has one
            for j, rows in enumerate(micro_slices(stop, micro_rows, start)):
                if forwards is not None:
                    _, log_prob, entropy = forwards[j]
                    forwards[j] = None  # free the graph as soon as it is used
                else:
                    _, log_prob, entropy = forward_with_grad(t, inputs, width, [rows])[0]
                parts = micro_batch_loss(t.actor_config, log_prob=log_prob, old_log_prob=old_log_probs[rows],
                                         advantages=advantages[rows], response_mask=mask[rows], batch_info=info,
                                         ref_log_prob=None if ref_log_probs is None else ref_log_probs[rows],
                                         entropy=entropy if s.entropy_coeff != 0 else None)
                parts.loss.backward()
                t.master.collect_grads()
                values = {"loss": float(parts.loss.detach()), "pg_loss": parts.pg_loss,
                          "entropy_loss": parts.entropy_loss, "kl_loss": parts.kl_loss}
                for k, v in values.items():
                    if v is not None:
                        totals[k] = (totals[k] or 0.0) + v
                per_micro["clip_frac"].append(parts.clip_frac)
                per_micro["ppo_kl"].append(parts.ppo_kl)
            for k, v in totals.items():
                if v is not None:
                    per_mini[k].append(v)
            grad_norm = clip_and_step(t.master, t.optimizer, s.grad_clip)
            if np.isfinite(grad_norm):
                grad_norms.append(grad_norm)
            else:
                skipped += 1
                log.warning("update skipped: gradient norm is %s", grad_norm)
    mean = lambda xs: float(np.mean(xs)) if xs else None  # noqa: E731
    out = {k: mean(v) for k, v in {**per_mini, **per_micro}.items()}
    out.update(grad_norm=mean(grad_norms), skipped_updates=skipped)
    return out


NO_UPDATE = {"loss": None, "grad_norm": None, "clip_frac": None, "ppo_kl": None, "pg_loss": None,
             "entropy_loss": None, "kl_loss": None, "skipped_updates": 0}


def rollout_metrics(batch: RolloutBatch, generated: list[RolloutBatch], s: TrainSettings) -> dict:
    """Outcome and length statistics over *every* response generated this step (before DAPO's filter,
    so methods with and without dynamic sampling report the same policy accuracy)."""
    scores = torch.cat([b.scores for b in generated])
    lengths = torch.cat([b.response_lengths for b in generated])
    return {"reward_mean": float(scores.mean()),
            "reward_shaped_mean": float(torch.cat([b.rewards for b in generated]).mean()),
            "response_length_mean": float(lengths.mean()),
            "truncated_frac": float((lengths >= s.max_response_length).float().mean()),
            **outcome_fractions(scores, s.group_size),
            "n_groups_kept": batch.n_groups, "n_groups_generated": sum(b.n_groups for b in generated),
            "n_gen_batches": len(generated)}


def nonzero_advantage_fraction(advantages: torch.Tensor, n_generated: int) -> float:
    """Of every response generated this step, the fraction whose advantage is non-zero on some token,
    i.e. that the update learns from. All-equal groups under GRPO, and groups DAPO's filter drops,
    count as zero: the quantity LENS's and EGPO's all-negative-group signals raise."""
    return float((advantages != 0).any(dim=-1).sum()) / n_generated if n_generated else 0.0


def log_prob_metrics(mask: torch.Tensor, old_log_probs: torch.Tensor, ref_log_probs: torch.Tensor | None,
                     kl_type: str, entropy: torch.Tensor | None = None) -> dict:
    """entropy: token-mean of the policy's true token entropy -Σ_v p log p over the full vocabulary
    (verl's ``actor/entropy``), from the forward that gave the old log-probs, i.e. the policy that
    sampled the batch; entropy_proxy: mean NLL of the sampled tokens (EGPO's proxy); kl: token-mean of
    verl's ``kl_penalty(old, ref)`` with the configured estimator (null without a reference model)."""
    out = {"entropy": None if entropy is None else _token_mean(entropy, mask),
           "entropy_proxy": _token_mean(-old_log_probs, mask), "kl": None}
    if ref_log_probs is not None:
        kl = kl_penalty(logprob=old_log_probs, ref_logprob=ref_log_probs, kl_penalty=kl_type)
        out["kl"] = float(agg_loss(loss_mat=kl, loss_mask=mask.bool(), loss_agg_mode="token-mean"))
    return out


def train_step(t: Trainer, step: int) -> dict:
    """One optimizer step (see the module docstring); returns its ``train_log.jsonl`` record."""
    s = t.settings
    torch.manual_seed(step_seed(t.spec.seed, step))
    timings, t0, cpu0 = Timings(), time.perf_counter(), time.process_time()
    record = {"step": step, "lr": t.optimizer.param_groups[0]["lr"],
              "compute_dtype": str(t.model.dtype).removeprefix("torch.")}

    # 1. rollout: sample, score, (dynamic sampling) filter and refill
    batch, generated = collect_rollouts(t, step, timings)
    record.update(rollout_metrics(batch, generated, s), epoch=t.sampler.epoch, entropy=None, entropy_proxy=None,
                  kl=None, frac_nonzero_adv=0.0, **NO_UPDATE)
    if batch.n_rows:  # dynamic sampling may have dropped every group: then there is nothing to learn from
        inputs, width = batch.model_inputs(), batch.response_ids.shape[1]
        micro_rows = s.micro_batch_size or s.mini_batch_prompts * s.group_size

        # 2. log-probs of the sampled tokens: current policy (old) and frozen initial policy (ref).
        # The first mini-batch's old log-probs are the update's own first forward (detached): the same
        # numbers, one forward fewer; the other rows get a no-grad pass before anything is updated.
        # The policy's token entropy comes from the same forwards (logged; the bonus when entropy_coeff > 0;
        # EDGE-GRPO's per-token input, as verl's ``entropys`` of the old-log-prob forward).
        n_fused = fused_rows(s, batch.n_rows)
        with timings.measure("update"):
            first_forward = forward_with_grad(t, inputs, width, micro_slices(n_fused, micro_rows)) if n_fused else None
        old_parts = [lp.detach() for _, lp, _ in first_forward or ()]
        entropy_parts = [e.detach() for _, _, e in first_forward or ()]
        if n_fused < batch.n_rows:
            with timings.measure("old_log_prob"):
                rest = {k: v[n_fused:] for k, v in inputs.items()}
                lp, ent = batched_response_stats(t.model, rest, width, temperature=s.temperature,
                                                 micro_batch_size=micro_rows, with_entropy=True)
            old_parts.append(lp)
            entropy_parts.append(ent)
        old_log_probs, entropy = torch.cat(old_parts), torch.cat(entropy_parts)
        token_entropy = entropy if needs_token_entropy(t) else None  # the estimator's input (EDGE-GRPO)
        ref_log_probs = None
        if t.ref_model is not None:
            with timings.measure("ref_log_prob"):
                ref_log_probs = batched_response_log_probs(t.ref_model, inputs, width, temperature=s.temperature,
                                                           micro_batch_size=micro_rows)

        # 3. advantages (rlvr_repro.advantages) and the per-step diagnostics from the same tensors
        with timings.measure("advantage"):
            advantages = compute_advantages(t.spec.estimator, rewards=batch.rewards, index=list(batch.uids),
                                            response_mask=batch.response_mask, old_log_probs=old_log_probs,
                                            ref_log_probs=ref_log_probs, token_entropy=token_entropy,
                                            **t.spec.params)
            diagnostics = training_diagnostics(rewards=batch.scores, index=list(batch.uids),
                                               response_mask=batch.response_mask, old_log_probs=old_log_probs,
                                               ref_log_probs=ref_log_probs)
        record.update(log_prob_metrics(batch.response_mask, old_log_probs, ref_log_probs, s.kl_loss_type, entropy))
        record["frac_nonzero_adv"] = nonzero_advantage_fraction(advantages, sum(b.n_rows for b in generated))
        record.update({f"diag/{k}": v for k, v in diagnostics.items()})

        # 4. policy update: ppo_epochs x mini-batches x micro-batches with verl's loss, AdamW
        with timings.measure("update"):
            record.update(update_policy(t, batch, inputs, old_log_probs, ref_log_probs, advantages, first_forward))
        if s.logprob_gain_diag:  # AsymGRPO Fig. 2(d): one extra forward, of the updated policy
            with timings.measure("logprob_gain"):
                new_log_probs = batched_response_log_probs(t.model, inputs, width, temperature=s.temperature,
                                                           micro_batch_size=micro_rows)
                gain = logprob_gain_correct(rewards=batch.scores, response_mask=batch.response_mask,
                                            old_log_probs=old_log_probs, new_log_probs=new_log_probs)
            record.update({f"diag/{k}": v for k, v in gain.items()})
    with warnings.catch_warnings():  # without a kept group there was no optimizer.step(); the schedule still advances
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler.step\(\)` before", category=UserWarning)
        t.scheduler.step()

    # 5. the log record's timings
    record["time_s"] = time.perf_counter() - t0
    # CPU seconds of this process (all threads): on a busy machine time_s >> cpu_s / threads shows waiting
    timings.seconds["cpu"] = time.process_time() - cpu0
    t.elapsed_s += record["time_s"]
    record["elapsed_s"] = t.elapsed_s
    record.update({f"timing/{k}_s": v for k, v in timings.seconds.items()})
    return record


# ------------------------------------------------------------------------------------------ the run
def _load_policy(model_path: str, dtype: str):
    if dtype not in DTYPE_CHOICES:
        raise TrainConfigError(f"dtype must be one of {DTYPE_CHOICES}, got {dtype!r}")
    path = Path(model_path)
    if not (path / "config.json").is_file():
        raise TrainConfigError(f"run_spec['model']['path'] = {model_path!r} is not a Hugging Face model directory")
    choice = resolve_model_dtype(dtype, path)
    log.info("compute dtype %s (%s)", choice.name, choice.reason)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=choice.dtype)
    model.eval()  # no dropout: the old and new log-probs of one policy must agree
    tokenizer = AutoTokenizer.from_pretrained(path)
    return model, tokenizer


def build_trainer(spec: RunSpec, *, reward_fn: RewardFn | None, dtype: str) -> Trainer:
    s = spec.train
    if spec.estimator not in ESTIMATORS:
        raise TrainConfigError(f"run_spec['method']['estimator'] = {spec.estimator!r}; expected one of "
                               f"{sorted(ESTIMATORS)}")
    validate_params(spec.estimator, spec.params)
    model, tokenizer = _load_policy(spec.model_path, dtype)
    has_ref = needs_reference(spec.estimator, use_kl_loss=s.use_kl_loss, need_ref=s.need_ref)
    ref_model = copy.deepcopy(model).requires_grad_(False) if has_ref else None
    master = MasterWeights(model)
    optimizer, scheduler = build_optimizer(master, lr=s.lr, weight_decay=s.weight_decay, warmup_steps=s.warmup_steps)
    records = load_prompts(spec.train_files, tokenizer, spec.family, s.max_prompt_length)
    stop_ids = stop_token_ids(model, tokenizer)
    return Trainer(spec=spec, model=model, ref_model=ref_model, tokenizer=tokenizer, master=master,
                   optimizer=optimizer, scheduler=scheduler, actor_config=build_actor_config(s), records=records,
                   sampler=PromptSampler(len(records), spec.seed), reward_fn=reward_fn or default_reward_fn(),
                   stop_ids=stop_ids, pad_id=pad_token_id(model, tokenizer, stop_ids))


def trainer_state(t: Trainer, step: int) -> dict:
    return {"step": step, "master": t.master.state_dict(), "optimizer": t.optimizer.state_dict(),
            "scheduler": t.scheduler.state_dict(), "sampler": t.sampler.state_dict(), "elapsed_s": t.elapsed_s,
            "resume_key": json.dumps(t.spec.resume_key(), sort_keys=True)}


def restore(t: Trainer, state: dict, where: Path) -> int:
    """Load a checkpoint's trainer state into ``t``; refuses a state written for different settings."""
    saved, now = json.loads(state["resume_key"]), t.spec.resume_key()
    if saved != now:
        diff = sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
        if "train" in diff:
            diff += [f"train.{k}" for k in now["train"] if saved.get("train", {}).get(k) != now["train"][k]]
        raise TrainConfigError(f"cannot resume from {where}: the run spec changed since it was written ({diff}); "
                               f"use a new out_dir or delete the old checkpoints")
    t.master.load_state_dict(state["master"])
    t.optimizer.load_state_dict(state["optimizer"])
    t.scheduler.load_state_dict(state["scheduler"])
    t.sampler = PromptSampler.from_state(state["sampler"], len(t.records), t.spec.seed)
    t.elapsed_s = float(state["elapsed_s"])
    return int(state["step"])


def _finished(out_dir: Path, s: TrainSettings, train_log: TrainLog) -> bool:
    final = ckpt.complete_checkpoints(out_dir).get(s.total_steps)
    if final is None or (final / ckpt.STATE_FILE).exists():
        return False
    return [int(r["step"]) for r in train_log.records()] == list(range(1, s.total_steps + 1))


def _logged_dtype(train_log: TrainLog, step: int) -> str | None:
    """The compute dtype the run used up to ``step``: a resumed run keeps it, so that it computes
    exactly what the uninterrupted run would (``auto`` probes timings, which can differ per start)."""
    for record in train_log.records():
        if int(record.get("step", 0)) == step:
            return record.get("compute_dtype")
    return None


def train_local(run_spec: dict, out_dir: Path, *, reward_fn: RewardFn | None = None, progress: bool = True,
                dtype: str = "auto", num_threads: int | None = None, deadline: Deadline | None = None,
                on_step=None) -> Path:
    """Train one run on CPU; returns the final checkpoint directory ``out_dir/checkpoints/step_{total_steps}``.

    Writes ``out_dir/train_log.jsonl`` and ``out_dir/checkpoints/step_{N}/`` (HF dirs + ``DONE``) at every
    ``save_freq`` steps and the last step. If ``out_dir`` holds an interrupted run of the same spec, training
    continues from its newest checkpoint; a finished run returns at once. ``reward_fn(data_sources, solutions,
    ground_truths) -> scores`` defaults to ``rlvr_repro.reward.score_batch``. ``dtype``: ``auto`` computes in
    whichever of fp32 / bf16 this CPU runs faster (:mod:`rlvr_repro.compute_dtype`; logged), ``bfloat16`` /
    ``float32`` force one; the optimizer always holds fp32 weights. ``deadline``
    (:class:`rlvr_repro.train.deadline.Deadline`): when the job's time limit nears, save a resumable
    checkpoint after the current step and raise :class:`TimeLimitReached` (the retry resumes there).
    ``on_step(step, record)`` sees each step's log record (live tracking, rlvr_repro.tracking).
    """
    spec = parse_run_spec(run_spec)
    s = spec.train
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if num_threads:
        torch.set_num_threads(num_threads)
    train_log = TrainLog(out_dir)
    final_dir = ckpt.checkpoint_dir(out_dir, s.total_steps)
    for stale in ckpt.remove_stale_temporaries(out_dir):
        log.info("removed a half-written checkpoint: %s", stale)
    ckpt.restore_done_markers(out_dir)
    if _finished(out_dir, s, train_log):
        log.info("%s: training already finished (%d steps)", out_dir, s.total_steps)
        return final_dir

    resumable = ckpt.latest_resumable(out_dir)
    if resumable is not None and dtype == "auto":
        dtype = _logged_dtype(train_log, resumable[0]) or dtype
    t = build_trainer(spec, reward_fn=reward_fn, dtype=dtype)
    start = 0
    if resumable is not None:
        start = restore(t, ckpt.load_trainer_state(resumable[1]), resumable[1])
        train_log.truncate_to(start)
        log.info("resuming %s from step %d", out_dir, start)
    else:
        if ckpt.complete_checkpoints(out_dir) or train_log.path.exists():
            log.warning("%s holds checkpoints or a log but no resumable state: starting over", out_dir)
        train_log.start_fresh()

    bar = tqdm(range(start + 1, s.total_steps + 1), initial=start, total=s.total_steps, disable=not progress,
               desc=f"train {spec.run_id or out_dir.name}", unit="step")
    for step in bar:
        step_start = time.monotonic()
        record = train_step(t, step)
        train_log.append(record)
        if on_step is not None:
            on_step(step, record)
        bar.set_postfix(reward=f"{record['reward_mean']:.3f}", kept=record["n_groups_kept"])
        if s.is_save_step(step):
            ckpt.save_checkpoint(out_dir, step, t.model, t.tokenizer, trainer_state(t, step))
        if deadline is not None and step < s.total_steps and deadline.reached(time.monotonic() - step_start):
            if not s.is_save_step(step):  # an extra checkpoint; scripts/train_local.py prunes it at the end
                ckpt.save_checkpoint(out_dir, step, t.model, t.tokenizer, trainer_state(t, step))
            raise TimeLimitReached(f"{out_dir}: stopped after step {step} with a resumable checkpoint: "
                                   f"{deadline.why()}")
    ckpt.drop_trainer_state(final_dir)  # the run is complete: nothing left to resume
    return final_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rlvr_repro.train.local", description=__doc__.split("\n")[0])
    parser.add_argument("--run-spec", required=True, type=Path, help="run.json (docs/CONTRACTS.md 'Run spec')")
    parser.add_argument("--out-dir", required=True, type=Path, help="results/runs/{run}")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--dtype", choices=DTYPE_CHOICES, default="auto",
                        help="compute dtype (default: the faster of fp32 / bf16 on this CPU)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    spec = json.loads(args.run_spec.read_text(encoding="utf-8"))
    final = train_local(spec, args.out_dir, progress=not args.no_progress, dtype=args.dtype, num_threads=args.threads)
    print(final)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
