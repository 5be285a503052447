"""GRPO, Dr.GRPO and REINFORCE outcome advantages (the baselines every paper compares against).

Each estimator maps a ``Rollouts`` batch to one scalar per response; the dispatcher in ``__init__``
broadcasts it over the response tokens. ``grpo_scalars`` is also the base advantage that ACE, LENS,
EGPO and EDGE-GRPO modify, so those methods reduce to GRPO exactly when their extra term vanishes.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .groups import Groups
from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")

GRPO_EPS = 1e-6  # verl's compute_grpo_outcome_advantage default
# Parameters of GRPO's normalisation, shared by every estimator built on it.
EPS = Param("float", "GRPO std epsilon (verl's 1e-6)", minimum=0.0)
SINGLETON = Param("choice", "advantage of a group of one response: zero (docs/CONTRACTS.md) or verl "
                  "(r/(1+eps), verl 0.9.1)", choices=("zero", "verl"))


def grpo_scalars(rewards: torch.Tensor, groups: Groups, *, norm_by_std: bool = True, eps: float = GRPO_EPS,
                 singleton: str = "zero") -> torch.Tensor:
    """Group-relative advantage, as verl 0.9.1 ``compute_grpo_outcome_advantage``.

    GRPO (Shao et al. 2024, DeepSeekMath; ACE eq. 1, LENS eq. 2, EGPO eq. 2, AsymGRPO eq. 3):
        A_i = (r_i - mean_g(r)) / (std_g(r) + eps)         std = torch's *unbiased* std, eps = 1e-6
    Dr.GRPO (Liu et al. 2025, ``norm_by_std=False``):  A_i = r_i - mean_g(r).

    Conventions (tested against verl's function on random batches):
      * a group of ONE response has no group baseline. ``singleton="zero"`` (default, the project's
        contract in docs/CONTRACTS.md) gives it 0, like any group without contrast. ``singleton="verl"``
        reproduces verl exactly: mean 0 and std 1, so A = r/(1+eps) (GRPO) or A = r (Dr.GRPO), which
        makes rollout.n=1 degrade to REINFORCE on the raw reward. With rollout.n >= 2 (every paper
        preset) no singleton occurs in training, so the two agree on real batches.
      * groups of >= 2 equal rewards get exactly 0. verl gets 0 for 0/1 rewards; we also force it for
        non-binary equal rewards, where float rounding of the mean would otherwise be divided by eps.
    """
    if singleton not in ("zero", "verl"):
        raise ValueError(f"singleton must be 'zero' or 'verl', got {singleton!r}")
    r = rewards.to(torch.float64)
    single = groups.size == 1
    mean = torch.where(single, 0.0, groups.mean(r))
    centered = r - groups.per_response(mean)
    if norm_by_std:
        std = torch.where(single, 1.0, groups.std(r))
        adv = centered / (groups.per_response(std) + eps)
    else:
        adv = centered
    zero = (groups.max(r) == groups.min(r)) & ~single
    if singleton == "zero":
        zero = zero | single
    return torch.where(groups.per_response(zero), 0.0, adv)


@register("grpo", paper="baseline", params={"eps": EPS, "singleton": SINGLETON})
def grpo(batch: Rollouts, *, eps: float = GRPO_EPS, singleton: str = "zero") -> torch.Tensor:
    """GRPO outcome advantage (std-normalised), verl's conventions. See ``grpo_scalars``."""
    return grpo_scalars(batch.rewards, batch.groups, norm_by_std=True, eps=eps, singleton=singleton)


@register("drgrpo", paper="baseline", params={"singleton": SINGLETON})
def drgrpo(batch: Rollouts, *, singleton: str = "zero") -> torch.Tensor:
    """Dr.GRPO advantage (Liu et al. 2025, "Understanding R1-Zero-like training", §3.2): A_i = r_i - mean_g(r),
    no std division. Its loss-side half (constant normaliser, ``seq-mean-token-sum-norm``) is a preset
    setting, not part of the advantage."""
    return grpo_scalars(batch.rewards, batch.groups, norm_by_std=False, singleton=singleton)


@register("reinforce", paper="baseline")
def reinforce(batch: Rollouts) -> torch.Tensor:
    """REINFORCE with the fixed baseline b = 0.5 (AsymGRPO eq. 2; Zhu et al. 2025 NSR/PSR):
        A_i = 2 r_i - 1  in {+1, -1} for 0/1 rewards.
    Independent of the group: it is the (beta_pos, beta_neg) = (0, 0) point of AsymGRPO's family."""
    return 2.0 * batch.rewards.to(torch.float64) - 1.0
