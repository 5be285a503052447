"""One generated sample as stored in a generations row, built the same way by both backends.

A sample is ``{text, n_tokens, finish_reason, mean_nll}`` (CONTRACTS.md) plus, for reasoning
models whose response contains ``</think>``, ``nll_think`` and ``nll_answer``: the mean NLL of
the tokens up to and including ``</think>`` and of the tokens after it (and ``n_answer_tokens``, the
number after it). EGPO Table 3 / App. A.4
compares the two ("thinking entropy" vs "answer entropy"), which needs the per-token log-probs
split at that boundary; they are only available at generation time, so they are stored here.

``mean_nll`` is EGPO's entropy proxy (Eq. 5): ``-(1/|o|) sum_t log pi(o_t | q, o_<t)`` over the
sampled tokens (the end-of-sequence token included when one was generated), under the model's
raw distribution (before temperature / top-p; vLLM's default ``logprobs_mode="raw_logprobs"``
and ``output_logits`` in transformers both give that). A response without tokens has
``mean_nll: null`` rather than a NaN.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

THINK_END = "</think>"


def mean_nll(logprobs: Sequence[float]) -> float | None:
    """EGPO Eq. 5 entropy proxy: minus the mean log-prob of the sampled tokens; None if empty."""
    if len(logprobs) == 0:
        return None
    value = -float(sum(logprobs)) / len(logprobs)
    if not math.isfinite(value):
        raise ValueError(f"non-finite token log-prob in a sample (mean NLL {value})")
    return value


def _find_subsequence(seq: Sequence[int], sub: Sequence[int]) -> int:
    if not sub:
        return -1
    first = sub[0]
    for i in range(len(seq) - len(sub), -1, -1):  # last occurrence
        if seq[i] == first and list(seq[i:i + len(sub)]) == list(sub):
            return i
    return -1


def think_boundary(token_ids: Sequence[int], text: str, think_ids: Sequence[int],
                   decode: Callable[[Sequence[int]], str]) -> int | None:
    """Number of tokens up to and including the last ``</think>``, or None when absent.

    Fast path: ``</think>`` as its own token sequence (a single special token for
    DeepSeek-R1-Distill). Otherwise the shortest prefix whose decoded text contains the marker
    as often as the full text does, found by bisection (O(log T) decodes)."""
    if THINK_END not in text:
        return None
    pos = _find_subsequence(token_ids, think_ids)
    if pos >= 0:
        return pos + len(think_ids)
    target = text.count(THINK_END)
    lo, hi = 1, len(token_ids)
    while lo < hi:
        mid = (lo + hi) // 2
        if decode(token_ids[:mid]).count(THINK_END) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo if decode(token_ids[:lo]).count(THINK_END) >= target else None


def make_sample(text: str, token_ids: Sequence[int], token_logprobs: Sequence[float],
                finish_reason: str, *, think_ids: Sequence[int] = (),
                decode: Callable[[Sequence[int]], str] | None = None) -> dict:
    """A generations-row sample from a backend's raw output (token ids and their log-probs)."""
    if len(token_ids) != len(token_logprobs):
        raise ValueError(f"sample has {len(token_ids)} tokens but {len(token_logprobs)} log-probs")
    if finish_reason not in ("stop", "length"):
        raise ValueError(f"finish_reason must be 'stop' or 'length', got {finish_reason!r}")
    sample = {"text": text, "n_tokens": len(token_ids), "finish_reason": finish_reason,
              "mean_nll": mean_nll(token_logprobs)}
    if decode is not None:
        cut = think_boundary(list(token_ids), text, list(think_ids), decode)
        if cut is not None:
            sample["nll_think"] = mean_nll(token_logprobs[:cut])
            sample["nll_answer"] = mean_nll(token_logprobs[cut:])
            sample["n_answer_tokens"] = len(token_ids) - cut  # EGPO App. A.4: answer length vs entropy
    return sample
