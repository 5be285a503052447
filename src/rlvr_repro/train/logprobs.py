"""Per-token log-probs (and entropies) of the sampled response tokens, the way verl's actor computes them.

verl scales the logits by the rollout temperature before the softmax (``_scale_logits_by_temperature``
in its FSDP engine) and takes log-probs / entropies with ``verl.utils.torch_functional``; we call the
same two functions. Work is kept to the response: rows are cut to their own length (left prompt padding
and trailing response padding removed per micro-batch) and the LM head runs only on the positions that
predict response tokens (``logits_to_keep``), so the [tokens x vocab] logits never cover the prompt.
Rows that share a prompt (a GRPO group) run it once (:mod:`rlvr_repro.shared_prompts`): the same
computation without the G - 1 repeats, which for short answers were most of the forward's tokens.
"""

from __future__ import annotations

import torch
from verl.utils import torch_functional as verl_F

from rlvr_repro.shared_prompts import forward_tail_logits


def response_log_probs(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor,
                       response_width: int, *, temperature: float, with_entropy: bool = False,
                       share_prompts: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """log p(token_t | prefix) for the last ``response_width`` columns of ``input_ids`` -> [B, T] float32.

    Differentiable (call under ``torch.inference_mode()`` for old / reference log-probs). The trimming
    is exact: dropped columns are padding the attention mask already hides (left) or columns after
    every row's response (right); the caller pads the result back to its full width.
    """
    valid_cols = attention_mask.any(dim=0).nonzero()
    prompt_width = input_ids.shape[1] - response_width
    start = int(valid_cols[0]) if len(valid_cols) else 0
    start = min(start, prompt_width - 1)  # keep the last prompt column: it predicts the first response token
    resp_len = int(attention_mask[:, prompt_width:].sum(-1).max()) if response_width else 0
    resp_len = max(resp_len, 1) if response_width else 0
    end = prompt_width + resp_len
    ids, mask, pos = input_ids[:, start:end], attention_mask[:, start:end], position_ids[:, start:end]
    split = prompt_width - 1 - start  # columns before it: the prompt without its last token
    logits = forward_tail_logits(model, ids, mask, pos, split, resp_len + 1, share=share_prompts)
    logits = logits[:, :-1].float()  # position p predicts token p + 1
    if temperature != 1.0:
        logits = logits / temperature
    labels = input_ids[:, prompt_width:end]
    log_probs = verl_F.logprobs_from_logits(logits, labels)
    entropy = verl_F.entropy_from_logits(logits) if with_entropy else None
    pad = response_width - resp_len
    if pad:
        log_probs = torch.nn.functional.pad(log_probs, (0, pad))
        entropy = None if entropy is None else torch.nn.functional.pad(entropy, (0, pad))
    return log_probs, entropy


def batched_response_log_probs(model, inputs: dict[str, torch.Tensor], response_width: int, *,
                               temperature: float, micro_batch_size: int) -> torch.Tensor:
    """No-grad log-probs of a whole batch, ``micro_batch_size`` rows per forward pass (old / ref policy)."""
    return batched_response_stats(model, inputs, response_width, temperature=temperature,
                                  micro_batch_size=micro_batch_size)[0]


def batched_response_stats(model, inputs: dict[str, torch.Tensor], response_width: int, *, temperature: float,
                           micro_batch_size: int, with_entropy: bool = False
                           ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """No-grad log-probs and (``with_entropy``) per-token entropies of a whole batch from the same forward
    passes, ``micro_batch_size`` rows each -- what verl's old-log-prob step returns (``old_log_probs``,
    ``entropys``)."""
    lps, ents = [], []
    n = inputs["input_ids"].shape[0]
    with torch.inference_mode():
        for i in range(0, n, micro_batch_size):
            rows = slice(i, i + micro_batch_size)
            lp, ent = response_log_probs(model, inputs["input_ids"][rows], inputs["attention_mask"][rows],
                                         inputs["position_ids"][rows], response_width, temperature=temperature,
                                         with_entropy=with_entropy)
            lps.append(lp)
            ents.append(ent)
    # clone: normal tensors, usable as constants under autograd
    return torch.cat(lps).clone(), (torch.cat(ents).clone() if with_entropy else None)
