"""Batch builders shared by the advantage tests (plain functions so tests read top to bottom)."""

from __future__ import annotations

import numpy as np
import torch

from rlvr_repro.advantages import ESTIMATORS, Rollouts, validate_params


def response_advantages(name: str, *, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None,
                        token_entropy=None, **params) -> torch.Tensor:
    """The per-response scalar advantages (float64 [N]) of estimator ``name``, before the broadcast
    over tokens that ``compute_advantages`` does."""
    batch = Rollouts.build(rewards=rewards, index=index, response_mask=response_mask,
                           old_log_probs=old_log_probs, ref_log_probs=ref_log_probs, token_entropy=token_entropy)
    return ESTIMATORS[name](batch, **validate_params(name, params))


def constant_logprob_rows(mean_log_probs, lengths, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(log_probs [N, width], mask [N, width]) where row i has lengths[i] tokens, each with log-prob
    mean_log_probs[i], so its length-normalised log-prob is exactly mean_log_probs[i]. Padding holds -inf
    to prove that masked positions never leak into a statistic."""
    n = len(lengths)
    lengths_t = torch.as_tensor(lengths)
    mask = (torch.arange(width).unsqueeze(0) < lengths_t.unsqueeze(1)).float()
    lp = torch.as_tensor(mean_log_probs, dtype=torch.float32).unsqueeze(1).expand(n, width).clone()
    lp[mask == 0] = -torch.inf
    return lp, mask


def random_batch(seed: int = 0, n_groups: int = 6, group_size: int = 8, width: int = 12,
                 singletons: int = 2, shuffle: bool = True):
    """Random 0/1 rewards in groups (plus some singleton groups), rows shuffled so groups are not
    contiguous, random lengths (incl. zero-length rows), random old/ref log-probs."""
    g = torch.Generator().manual_seed(seed)
    uids = [f"q{k}" for k in range(n_groups) for _ in range(group_size)] + [f"s{k}" for k in range(singletons)]
    n = len(uids)
    p_group = torch.rand(n_groups + singletons, generator=g)
    rewards = torch.tensor([float(torch.rand(1, generator=g) < p_group[int(u[1:]) + (n_groups if u[0] == "s" else 0)])
                            for u in uids])
    lengths = torch.randint(0, width + 1, (n,), generator=g)
    mask = (torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)).float()
    old = -torch.rand(n, width, generator=g) * 3
    ref = old + 0.3 * torch.randn(n, width, generator=g)
    entropy = torch.rand(n, width, generator=g) * 2  # per-token Shannon entropies (EDGE-GRPO)
    perm = torch.randperm(n, generator=g) if shuffle else torch.arange(n)
    index = np.array(uids, dtype=object)[perm.numpy()]
    return dict(rewards=rewards[perm], index=index, response_mask=mask[perm],
                old_log_probs=old[perm], ref_log_probs=ref[perm], token_entropy=entropy[perm])


def row_values(adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The per-response scalar of a broadcast advantage tensor (0 for zero-length rows)."""
    return adv.sum(-1) / mask.sum(-1).clamp(min=1)
