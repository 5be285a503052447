"""LENS: Likelihood Estimation with Negative Samples ("Don't Waste Mistakes", §4.2 eq. 10, eq. 14 and §5.1).

Incorrect responses get a confidence-weighted negative *calibrated reward*, so all-negative groups
(where GRPO's advantage collapses to 0) still produce a gradient.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .grpo import EPS, GRPO_EPS, grpo_scalars
from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")


D_IMP_READINGS = ("pibar", "raw")


def _log_inv_d_imp(batch: Rollouts, d_imp: str) -> torch.Tensor:
    """log of eq. 14's inverse, log{(1/G) Σ_j r_j / pi_j}, per group (float64 [G]); -inf when no r_j = 1.

    ``pi_j`` is pibar_j (``d_imp="pibar"``) or the raw sequence probability pi_old(o_j) = exp(Σ_t log pi_old)
    (``d_imp="raw"``). Computed as a log-sum-exp of -log pi_j over the correct responses, so a raw
    probability of a long response (exp(-2000)) neither overflows 1/pi nor turns D_imp into NaN: D_imp
    just underflows towards 0 and the 2·max pibar floor takes over.
    """
    groups, correct = batch.groups, batch.correct
    mean_lp = batch.mean_old_log_prob
    log_pi = mean_lp if d_imp == "pibar" else mean_lp * batch.lengths  # Σ_t log pi_old = mean · |o|
    log_pi = log_pi.clamp(max=0.0)  # probabilities <= 1 (pibar is clamped the same way)
    neg = torch.where(correct, -log_pi, torch.full_like(log_pi, -torch.inf))
    peak = groups.max(neg)  # [G], -inf for groups without a correct response
    shift = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    total = groups.sum(torch.where(correct, torch.exp(neg - groups.per_response(shift)), 0.0))
    return torch.where(total > 0, shift + torch.log(total.clamp(min=torch.finfo(torch.float64).tiny)),
                       torch.full_like(total, -torch.inf)) - torch.log(groups.size)


def lens_calibrated_rewards(batch: Rollouts, d_imp: str = "pibar") -> torch.Tensor:
    """Calibrated reward of LENS §5.1 ("Calibrated Reward (per sample)"), float64 [N]:

        pibar_i  = exp((1/|o_i|) Σ_t log pi_old(o_t))                     length-normalised probability
        D_imp(q) = { (1/G) Σ_j r_j / pi_j }^(-1)                           eq. 14
        D(q)     = max(D_imp(q), 2 max_j pibar_j)   on mixed groups
                 = 2 max_j pibar_j                  on all-negative groups (D_imp undefined)
        r~_i     = r_i - (1 - r_i) · (1/G) · pibar_i / (D(q) - pibar_i)

    ``d_imp`` chooses the probability pi_j inside eq. 14 (the reading is a config parameter):
      "pibar" (default)  pi_j = pibar_j. §5.1 replaces pi_old by pibar "to mitigate" length effects; we
                         use pibar everywhere, *including inside D_imp*: the ratio pibar / (D - pibar)
                         compares D with pibar, so D must be on pibar's scale, and with pibar D >= 2 max
                         pibar keeps every ratio in (0, 1] as §5.1 says.
      "raw"              pi_j = pi_old(o_j | q) = exp(Σ_t log pi_old), eq. 14 as printed. For long
                         responses D_imp is then ~0 and D is the 2·max pibar floor on every group.
    G is the size of the response's own group. All-correct groups keep r~ = 1. A zero-length response
    has pibar = pi = exp(0) = 1 (finite, and masked out downstream).
    """
    if d_imp not in D_IMP_READINGS:
        raise ValueError(f"lens.params.d_imp must be one of {list(D_IMP_READINGS)}, got {d_imp!r}")
    groups, correct = batch.groups, batch.correct
    r = correct.to(torch.float64)
    pibar = torch.exp(batch.mean_old_log_prob).clamp(max=1.0)
    g_size = groups.per_response(groups.size)
    two_max = 2.0 * groups.max(pibar)
    k = groups.sum(r)
    mixed = (k > 0) & (k < groups.size)
    d_imp_value = torch.exp(-_log_inv_d_imp(batch, d_imp))  # +inf without a correct response (unused there)
    d = torch.where(mixed, torch.maximum(d_imp_value, two_max), two_max)
    d_i = groups.per_response(d)
    # pibar > 0 implies D - pibar >= pibar > 0; pibar == 0 (underflow) contributes ratio 0
    ratio = torch.where(pibar > 0, pibar / (d_i - pibar).clamp(min=torch.finfo(torch.float64).tiny), 0.0)
    return r - (1.0 - r) * ratio / g_size


@register("lens", paper="lens", requires=("old_log_probs",), params={
    "neg_weight": Param("float", "alpha weighting all-negative groups (LENS §5.1 'Final Objective'; paper 0.25)",
                        minimum=0.0),
    "mode": Param("choice", "full | mixed_only | negative_only (LENS App. D.2 ablation)",
                  choices=("full", "mixed_only", "negative_only")),
    "d_imp": Param("choice", "probability inside eq. 14's D_imp: pibar (length-normalised, as in the rest of §5.1; "
                   "default) | raw (eq. 14's sequence probability pi_old)", choices=D_IMP_READINGS),
    "eps": EPS,
})
def lens(batch: Rollouts, *, neg_weight: float = 0.25, mode: str = "full", d_imp: str = "pibar",
         eps: float = GRPO_EPS) -> torch.Tensor:
    """LENS advantage, §5.1 "Final Objective": J = J_GRPO[mixed groups] + alpha · J_GRPO[negative groups].

        mixed groups:        A_i = (r~_i - mean_g r~) / (std_g r~ + eps)   (GRPO normalisation of r~)
        all-negative groups: A_i = alpha · (r~_i - mean_g r~)              (de-meaning only, alpha = neg_weight)
        all-correct groups:  GRPO of r = 1  ->  0

    r~ is :func:`lens_calibrated_rewards` with the eq. 14 reading ``d_imp`` ("pibar" | "raw").

    Ablations (App. D.2): ``mode="mixed_only"`` keeps all-negative groups at 0 (calibration in mixed
    groups only); ``mode="negative_only"`` leaves mixed groups at plain GRPO and calibrates only
    all-negative groups. GRPO normalisation uses verl's conventions (unbiased std, eps, singletons).
    """
    batch.require("lens", "old_log_probs")
    groups = batch.groups
    r_tilde = lens_calibrated_rewards(batch, d_imp)
    negative = groups.per_response(groups.sum(batch.correct.to(torch.float64)) == 0)

    calibrated = grpo_scalars(r_tilde, groups, eps=eps)
    plain = grpo_scalars(batch.rewards, groups, eps=eps)
    positive_side = plain if mode == "negative_only" else calibrated

    demeaned = r_tilde - groups.per_response(groups.mean(r_tilde))
    negative_side = torch.zeros_like(demeaned) if mode == "mixed_only" else neg_weight * demeaned
    return torch.where(negative, negative_side, positive_side)
