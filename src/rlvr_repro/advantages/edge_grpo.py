"""EDGE-GRPO's entropy-driven advantage (Zhang et al. 2025, arXiv 2507.21848), EGPO's main baseline."""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .egpo import ENTROPY_EPS
from .grpo import EPS, GRPO_EPS, grpo_scalars
from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")


# w_min <= 1 <= w_max (the bounds below) also keeps w_min <= w_max.
@register("edge_grpo", paper="baseline", requires=("token_entropy",), params={
    "entropy_norm": Param("choice", "normalise each response's mean Shannon token entropy by its group's mean "
                          "(EGPO §5 'group-relative entropy ratio') or the batch mean (EDGE-GRPO's trainer)",
                          choices=("group", "batch")),
    "clip_weight": Param("bool", "clamp the entropy weight to [w_min, w_max] (EGPO's authors' EDGE-GRPO)"),
    "w_min": Param("float", "lower bound of the clamped weight", minimum=0.0, maximum=1.0),
    "w_max": Param("float", "upper bound of the clamped weight", minimum=1.0),
    "eps": EPS,
    "entropy_eps": ENTROPY_EPS,
})
def edge_grpo(batch: Rollouts, *, entropy_norm: str = "group", clip_weight: bool = False, w_min: float = 0.5,
              w_max: float = 2.0, eps: float = GRPO_EPS, entropy_eps: float = 1e-6) -> torch.Tensor:
    """Entropy-Driven Advantage (EDA):  Â_i = A_i · w_i,   w_i = (mean(P) + eps_H) / (P_i + eps_H)  (= A_i / Phat_i).

    A_i is the GRPO advantage; P_i = (1/|o_i|) Σ_t H_t the response's mean Shannon token entropy,
    H_t = -Σ_v pi_old(v | q, o_<t) log pi_old(v | q, o_<t) (EGPO §1: EDGE-GRPO "leverages Shannon entropy";
    §5: "a group-relative entropy ratio"). mean(P) over the response's group (``entropy_norm="group"``,
    EDGE-GRPO's Phat_i = P_i / mean_group P, and EGPO's authors' implementation) or over the whole batch
    (``"batch"``, EDGE-GRPO's own trainer: ``advantages / per_entropy_mean * all_entropy_mean.mean()``).

    ``clip_weight`` clamps w_i to [w_min, w_max]: EGPO's authors' EDGE-GRPO does (``lambda_min`` 0.5 /
    ``lambda_max`` 2.0, GitHub Zzzzyear/test_verl@4656be8 ``verl/verl/trainer/ppo/core_algos.py``
    ``compute_edge_grpo_advantage`` and ``src/scripts/run_edge-grpo.sh``); EDGE-GRPO's paper does not.

    Readings: eps_H keeps a zero-entropy response finite and makes equal entropies give exactly w = 1.
    EDGE-GRPO's second component, Guided Error Correction, injects reference answers into rollouts; it is
    not an advantage estimator and is not implemented.
    """
    batch.require("edge_grpo", "token_entropy")
    base = grpo_scalars(batch.rewards, batch.groups, eps=eps)
    p = batch.mean_token_entropy
    if entropy_norm == "batch":
        ref = p.mean() if p.numel() else p.new_zeros(())
    else:
        ref = batch.groups.per_response(batch.groups.mean(p))
    w = (ref + entropy_eps) / (p + entropy_eps)
    if clip_weight:
        w = w.clamp(w_min, w_max)
    return base * w
