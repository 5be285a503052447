"""Run a prompt through the model once for all the responses that share it.

GRPO samples G responses per prompt and evaluation draws n samples per problem, so each prompt
appears G (or n) times in a batch. ``generate(num_return_sequences=G)`` and a plain forward over
prompt + response process every copy of the prompt, and for short answers the prompt is most of
the tokens. On SmolLM2 with 48 prompt and 16 response tokens, 8 prompts x 8 samples, 2 CPU threads
(``benchmarks/bench_local_step.py``, against the unshared call in the same run): generation 1.37x and
the training forward + backward 1.75x faster; greedy outputs are token-identical and log-probs and
gradients agree to float rounding (tests/train/test_prefix_cache.py).

The prompt (all but its last token) is run once per distinct prompt into a KV cache, the cache rows
are repeated for the copies, and the model continues from there. The attention mask and position
ids are the ones the unshared call uses, so the result is the same computation with the repeated
work removed; it stays differentiable (the cache expansion is an index), so the training forward
uses it too. Works for any causal LM whose ``DynamicCache`` supports ``batch_select_indices``.
"""

from __future__ import annotations

import torch
from transformers import DynamicCache


def runs_of_equal_rows(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """For each row, the index of its distinct prompt, where equal prompts are consecutive rows
    (GRPO groups, n samples of one problem): ``[0, 0, 0, 1, 1, 2, ...]``."""
    if ids.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long)
    same = (ids[1:] == ids[:-1]).all(-1) & (mask[1:] == mask[:-1]).all(-1)
    return torch.cat([torch.zeros(1, dtype=torch.long), (~same).long().cumsum(0)])


def prefill_shared(model, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
                   owner: torch.Tensor) -> DynamicCache:
    """A KV cache of ``ids`` ([B, L]) computed once per distinct row and expanded to all B rows.

    ``owner`` is :func:`runs_of_equal_rows`; the first row of each run is the one computed."""
    owner = owner.to(ids.device)
    first = torch.nonzero(torch.cat([torch.ones(1, dtype=torch.bool, device=owner.device), owner[1:] != owner[:-1]])).squeeze(-1)
    cache = DynamicCache()
    model(input_ids=ids[first], attention_mask=mask[first], position_ids=positions[first],
          past_key_values=cache, use_cache=True)
    if len(first) != ids.shape[0]:
        cache.batch_select_indices(owner)
    return cache


def forward_tail_logits(model, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, split: int,
                        keep: int, *, share: bool = True) -> torch.Tensor:
    """Logits of the last ``keep`` positions of ``ids`` ([B, L]), where columns ``[0, split)`` are a
    prompt prefix that consecutive rows may share: shared prefixes run once (:func:`prefill_shared`)
    and the rest continues from the cache; otherwise (or with ``share=False``) one plain forward.
    ``keep`` must not exceed ``L - split``. The training forward and the diagnostics scorer both use it."""
    owner = runs_of_equal_rows(ids[:, :split], mask[:, :split]) if share and split > 0 else None
    if owner is not None and int(owner[-1]) + 1 < ids.shape[0]:
        cache = prefill_shared(model, ids[:, :split], mask[:, :split], positions[:, :split], owner)
        return model(input_ids=ids[:, split:], attention_mask=mask, position_ids=positions[:, split:],
                     past_key_values=cache, logits_to_keep=keep, use_cache=True).logits
    return model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=keep,
                 use_cache=False).logits


def generate_shared(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, copies: int, **kwargs):
    """``model.generate`` of ``copies`` samples per prompt row (what ``num_return_sequences=copies``
    gives, rows grouped per prompt), with each prompt prefilled once. Returns generate's output."""
    ids = input_ids.repeat_interleave(copies, 0)
    mask = attention_mask.repeat_interleave(copies, 0)
    if input_ids.shape[1] < 2:  # nothing to cache before the last prompt token
        return model.generate(input_ids=ids, attention_mask=mask, **kwargs)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    owner = torch.arange(input_ids.shape[0]).repeat_interleave(copies)
    cache = prefill_shared(model, ids[:, :-1], mask[:, :-1], positions[:, :-1], owner)
    return model.generate(input_ids=ids, attention_mask=mask, past_key_values=cache, **kwargs)
