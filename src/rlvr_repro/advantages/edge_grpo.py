"""EDGE-GRPO's entropy-driven advantage (Zhang et al. 2025, arXiv 2507.21848), EGPO's main baseline."""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .egpo import ENTROPY_EPS
from .grpo import EPS, GRPO_EPS, grpo_scalars
from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")


@register("edge_grpo", paper="baseline", requires=("old_log_probs",), params={
    "entropy_norm": Param("choice", "normalise each response's entropy proxy by the batch mean (EDGE-GRPO code) "
                          "or the group mean", choices=("batch", "group")),
    "eps": EPS,
    "entropy_eps": ENTROPY_EPS,
})
def edge_grpo(batch: Rollouts, *, entropy_norm: str = "batch", eps: float = GRPO_EPS,
              entropy_eps: float = 1e-6) -> torch.Tensor:
    """Entropy-Driven Advantage (EDA):  Â_i = A_i / Phat_i,   Phat_i = (P_i + eps_H) / (mean(P) + eps_H).

    A_i is the GRPO advantage; P_i the response's mean entropy; mean(P) over the whole batch
    (``entropy_norm="batch"``, as in the authors' trainer: ``advantages / per_entropy_mean *
    all_entropy_mean.mean()``) or over the response's group (``"group"``).

    Readings (documented deviations): (1) P_i is EGPO's NLL entropy proxy -(1/|o|) Σ log pi_old, not the
    full-vocabulary entropy, because neither verl 0.9.1 nor our local trainer hands per-token entropy to
    the advantage step (EGPO compares against EDGE-GRPO with the same proxy family). (2) eps_H keeps a
    zero-entropy response finite. (3) EDGE-GRPO's second component, Guided Error Correction, injects
    reference answers into rollouts; it is not an advantage estimator and is not implemented.
    """
    batch.require("edge_grpo", "old_log_probs")
    base = grpo_scalars(batch.rewards, batch.groups, eps=eps)
    p = batch.nll_entropy_proxy
    if entropy_norm == "batch":
        ref = p.mean() if p.numel() else p.new_zeros(())
    else:
        ref = batch.groups.per_response(batch.groups.mean(p))
    return base * (ref + entropy_eps) / (p + entropy_eps)
