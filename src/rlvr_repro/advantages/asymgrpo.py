"""AsymGRPO ("Asymmetric Advantage Modulation Calibrates Entropy Dynamics in RLVR", eq. 8) and its presets.

GRPO's advantage for 0/1 rewards depends only on the group accuracy p (eq. 4); AsymGRPO gives the
positive and negative channels their own modulation strengths:
    correct:    A = ((1 - p) / p) ** beta_pos
    incorrect:  A = -(p / (1 - p)) ** beta_neg
(0, 0) is REINFORCE (2r - 1); (0.5, 0.5) is GRPO's closed form (eq. 4), i.e. GRPO with the *population*
std sqrt(p(1-p)) and no eps (verl's GRPO uses the unbiased std); (0.5, 0) Pos-Only, (0, 0.5) Neg-Only.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")


def positive_channel(p: torch.Tensor, beta: float) -> torch.Tensor:
    """A_pos^(beta)(p) = ((1-p)/p)^beta (eq. 5/8), defined for p in (0, 1]; p = 1 gives 0 (beta > 0) or 1
    (beta = 0, torch's 0**0 = 1, i.e. REINFORCE). p = 0 lanes (no correct response exists) return 0."""
    safe = torch.where(p > 0, p, 1.0)
    return torch.where(p > 0, ((1.0 - safe) / safe) ** beta, 0.0)


def negative_channel(p: torch.Tensor, beta: float) -> torch.Tensor:
    """A_neg^(beta)(p) = -(p/(1-p))^beta (eq. 5/8), defined for p in [0, 1); p = 1 lanes return 0."""
    safe = torch.where(p < 1, 1.0 - p, 1.0)
    return torch.where(p < 1, -((p / safe) ** beta), 0.0)


def flipped_positive(k: torch.Tensor, n: torch.Tensor, beta: float) -> torch.Tensor:
    """EntDecrease (§3.2, App. C): Ã_pos(p) = B_pos(p) = A_pos(1 - p) for p <= (G-1)/G; at p = 1 the
    undefined endpoint is extrapolated linearly from the two nearest feasible points:
        V_end = B_pos((G-1)/G) + [B_pos((G-1)/G) - B_pos((G-2)/G)].
    Per group (k correct of n). A group of one has a single feasible point, B_pos(0): used as is."""
    p = k / n
    interior = positive_channel(1.0 - p, beta)
    b1 = positive_channel(1.0 - (n - 1) / n, beta)
    b2 = positive_channel(1.0 - ((n - 2) / n).clamp(min=0.0), beta)
    endpoint = torch.where(n >= 2, 2.0 * b1 - b2, b1)
    return torch.where(k >= n, endpoint, interior)


def flipped_negative(k: torch.Tensor, n: torch.Tensor, beta: float) -> torch.Tensor:
    """EntIncrease (§3.2, App. C): Ã_neg(p) = B_neg(p) = A_neg(1 - p) for p >= 1/G; at p = 0:
        V_end = B_neg(1/G) - [B_neg(2/G) - B_neg(1/G)].
    A group of one has a single feasible point, B_neg(1/1): used as is."""
    p = k / n
    interior = negative_channel(1.0 - p, beta)
    b1 = negative_channel(1.0 - 1.0 / n, beta)
    b2 = negative_channel(1.0 - (2.0 / n).clamp(max=1.0), beta)
    endpoint = torch.where(n >= 2, 2.0 * b1 - b2, b1)
    return torch.where(k <= 0, endpoint, interior)


@register("asymgrpo", paper="asymgrpo", params={
    "beta_pos": Param("float", "positive-channel modulation strength (eq. 8; paper 0.9)", minimum=0.0),
    "beta_neg": Param("float", "negative-channel modulation strength (eq. 8; paper 0.4)", minimum=0.0),
    "flip": Param("choice", "none | pos (EntDecrease) | neg (EntIncrease): reflect p -> 1-p in one channel "
                  "(§3.2, App. C)", choices=("none", "pos", "neg")),
})
def asymgrpo(batch: Rollouts, *, beta_pos: float = 0.9, beta_neg: float = 0.4, flip: str = "none") -> torch.Tensor:
    """AsymGRPO advantage (eq. 8), p = fraction of correct responses in the response's group.

    ``flip="pos"`` (EntDecrease) / ``"neg"`` (EntIncrease) reflect one channel around p = 0.5 with the
    App. C endpoint extrapolation; the paper runs them at beta_pos = beta_neg = 0.5. Unlike GRPO there is
    no eps and uniform groups are not zeroed by construction: at (0, 0) every response gets ±1 (REINFORCE),
    for beta > 0 the formula itself gives 0 to all-correct / all-incorrect groups.
    """
    groups, correct = batch.groups, batch.correct
    k = groups.sum(correct.to(torch.float64))
    n = groups.size
    p = groups.per_response(k / n)
    pos = groups.per_response(flipped_positive(k, n, beta_pos)) if flip == "pos" else positive_channel(p, beta_pos)
    neg = groups.per_response(flipped_negative(k, n, beta_neg)) if flip == "neg" else negative_channel(p, beta_neg)
    return torch.where(correct, pos, neg)
