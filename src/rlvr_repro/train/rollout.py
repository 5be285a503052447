"""Rollout: sample G responses per prompt with ``transformers``' ``generate`` and hold them as one batch.

This is the only place the local loop differs from verl by design: verl samples with vLLM, we
sample with ``model.generate`` on CPU. Everything downstream (log-probs, advantages, loss) sees the
same tensors verl's actor sees: left-padded prompts, right-padded responses and a ``response_mask``
that covers the response up to and including its stop token (verl's ``get_response_mask``).

Sampling is plain temperature / top-p sampling, like verl's rollout (``top_k=-1``): the model's own
``generation_config`` defaults (a top-k, a repetition penalty, ...) are switched off during
generation, otherwise the samples would come from a different distribution than the one whose
log-probs the loss uses.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace

import torch
from transformers import GenerationConfig

from rlvr_repro.prefix_cache import generate_shared

from .prompts_data import PromptRecord


@dataclass(frozen=True)
class RolloutBatch:
    """Sampled responses; rows are grouped contiguously, ``group_size`` rows per prompt."""

    prompt_ids: torch.Tensor  # [N, Lp] long, left-padded with pad_id
    prompt_mask: torch.Tensor  # [N, Lp] long
    response_ids: torch.Tensor  # [N, T] long, pad_id after the stop token
    response_mask: torch.Tensor  # [N, T] float32, 1 on response tokens incl. the stop token
    uids: tuple[str, ...]  # prompt id per row (verl's uid): equal within a group
    data_sources: tuple[str, ...]
    ground_truths: tuple[str, ...]
    texts: tuple[str, ...]  # decoded responses (special tokens skipped), what the verifier grades
    group_size: int
    pad_id: int
    scores: torch.Tensor | None = None  # [N] verifier scores (0/1)
    rewards: torch.Tensor | None = None  # [N] scores + DAPO overlong shaping (what the estimator sees)

    @property
    def n_rows(self) -> int:
        return self.response_ids.shape[0]

    @property
    def n_groups(self) -> int:
        return self.n_rows // self.group_size

    @property
    def response_lengths(self) -> torch.Tensor:
        return self.response_mask.sum(-1)

    def with_rewards(self, scores: torch.Tensor, rewards: torch.Tensor) -> "RolloutBatch":
        return replace(self, scores=scores, rewards=rewards)

    def select_groups(self, keep: torch.Tensor) -> "RolloutBatch":
        """The groups where ``keep`` ([n_groups] bool) is true, in order."""
        rows = keep.repeat_interleave(self.group_size)
        idx = rows.nonzero().squeeze(-1).tolist()
        pick = lambda seq: tuple(seq[i] for i in idx)  # noqa: E731
        tensors = {k: getattr(self, k)[rows] for k in ("prompt_ids", "prompt_mask", "response_ids", "response_mask")}
        for k in ("scores", "rewards"):
            tensors[k] = None if getattr(self, k) is None else getattr(self, k)[rows]
        return replace(self, **tensors, uids=pick(self.uids), data_sources=pick(self.data_sources),
                       ground_truths=pick(self.ground_truths), texts=pick(self.texts))

    def model_inputs(self) -> dict[str, torch.Tensor]:
        """Prompt + response as one sequence, with the position ids ``generate`` used (cumsum of the mask)."""
        input_ids = torch.cat([self.prompt_ids, self.response_ids], dim=1)
        attention_mask = torch.cat([self.prompt_mask, self.response_mask.long()], dim=1)
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids}


def concat_batches(batches: list[RolloutBatch]) -> RolloutBatch:
    """Stack batches (dynamic sampling's refills); prompts are re-left-padded, responses right-padded."""
    if len(batches) == 1:
        return batches[0]
    first = batches[0]
    lp = max(b.prompt_ids.shape[1] for b in batches)
    t = max(b.response_ids.shape[1] for b in batches)
    pad = first.pad_id

    def left(x, width, value):
        return torch.nn.functional.pad(x, (width - x.shape[1], 0), value=value)

    def right(x, width, value):
        return torch.nn.functional.pad(x, (0, width - x.shape[1]), value=value)

    def cat_opt(name):
        parts = [getattr(b, name) for b in batches]
        return None if any(p is None for p in parts) else torch.cat(parts)

    return RolloutBatch(
        prompt_ids=torch.cat([left(b.prompt_ids, lp, pad) for b in batches]),
        prompt_mask=torch.cat([left(b.prompt_mask, lp, 0) for b in batches]),
        response_ids=torch.cat([right(b.response_ids, t, pad) for b in batches]),
        response_mask=torch.cat([right(b.response_mask, t, 0.0) for b in batches]),
        uids=sum((b.uids for b in batches), ()), data_sources=sum((b.data_sources for b in batches), ()),
        ground_truths=sum((b.ground_truths for b in batches), ()), texts=sum((b.texts for b in batches), ()),
        group_size=first.group_size, pad_id=pad, scores=cat_opt("scores"), rewards=cat_opt("rewards"))


def stop_token_ids(model, tokenizer) -> list[int]:
    """Token ids that end a response: the model's ``generation_config.eos_token_id`` (an int or a list)
    plus the tokenizer's eos. Both are needed: converted checkpoints (e.g. SmolLM2 from GGUF) can carry a
    tokenizer eos (``<|im_start|>``) that differs from the chat turn's end (``<|im_end|>``)."""
    ids: list[int] = []
    for source in (getattr(model.generation_config, "eos_token_id", None), model.config.eos_token_id,
                   tokenizer.eos_token_id):
        for i in ([source] if isinstance(source, int) else (source or [])):
            if i not in ids:
                ids.append(int(i))
    if not ids:
        raise ValueError("the model and tokenizer define no eos token: cannot tell where a response ends")
    return ids


def pad_token_id(model, tokenizer, stop_ids: list[int]) -> int:
    for candidate in (tokenizer.pad_token_id, getattr(model.generation_config, "pad_token_id", None),
                      model.config.pad_token_id):
        if isinstance(candidate, int):
            return candidate
    return stop_ids[0]


def response_mask_from_stops(response_ids: torch.Tensor, stop_ids: list[int]) -> torch.Tensor:
    """1 up to and including the first stop token of each row, 0 after it (all 1 when none: truncated)."""
    is_stop = torch.isin(response_ids, torch.tensor(stop_ids, dtype=response_ids.dtype))
    stopped_before = (is_stop.long().cumsum(-1) - is_stop.long()) > 0
    return (~stopped_before).to(torch.float32)


@contextlib.contextmanager
def _neutral_generation_defaults(model, stop_ids: list[int], pad_id: int):
    """Hide the model's sampling defaults (top_k, repetition_penalty, ...) while generating."""
    saved = model.generation_config
    model.generation_config = GenerationConfig(eos_token_id=stop_ids, pad_token_id=pad_id,
                                               bos_token_id=saved.bos_token_id)
    try:
        yield
    finally:
        model.generation_config = saved


def left_pad(sequences: list[tuple[int, ...]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, s in enumerate(sequences):
        if s:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids, mask


def generate_groups(model, tokenizer, records: list[PromptRecord], *, group_size: int, max_new_tokens: int,
                    temperature: float, top_p: float, stop_ids: list[int], pad_id: int,
                    uid_prefix: str) -> RolloutBatch:
    """``group_size`` samples for each record, in one ``generate`` call, each prompt prefilled once
    (:func:`rlvr_repro.prefix_cache.generate_shared`: what ``num_return_sequences`` samples)."""
    prompt_ids, prompt_mask = left_pad([r.token_ids for r in records], pad_id)
    with torch.inference_mode(), _neutral_generation_defaults(model, stop_ids, pad_id):
        out = generate_shared(model, prompt_ids, prompt_mask, group_size, do_sample=True, temperature=temperature,
                              top_p=top_p, top_k=0, max_new_tokens=max_new_tokens, eos_token_id=stop_ids,
                              pad_token_id=pad_id)
    response_ids = out[:, prompt_ids.shape[1]:].clone()  # clone: a normal tensor, usable under autograd
    response_mask = response_mask_from_stops(response_ids, stop_ids)
    response_ids = response_ids.masked_fill(response_mask == 0, pad_id)
    lengths = response_mask.sum(-1).long().tolist()
    texts = tokenizer.batch_decode([row[:n].tolist() for row, n in zip(response_ids, lengths)],
                                   skip_special_tokens=True)
    rep = lambda seq: tuple(x for x in seq for _ in range(group_size))  # noqa: E731
    return RolloutBatch(
        prompt_ids=prompt_ids.repeat_interleave(group_size, 0), prompt_mask=prompt_mask.repeat_interleave(group_size, 0),
        response_ids=response_ids, response_mask=response_mask,
        uids=rep(f"{uid_prefix}/{j}" for j in range(len(records))),
        data_sources=rep(r.data_source for r in records), ground_truths=rep(r.ground_truth for r in records),
        texts=tuple(texts), group_size=group_size, pad_id=pad_id)
