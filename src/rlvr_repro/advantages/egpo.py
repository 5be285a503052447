"""EGPO: Entropy-Guided Policy Optimization ("Know What You Know", §3) and its Table 2 ablations C1-C6.

The GRPO advantage is rescaled per response by an inverse-entropy weight that is clamped depending on
the outcome (confident correct answers up, uncertain failures never up), and all-incorrect groups get
a constant negative base advantage (negative sample reinforcement, NSR) instead of GRPO's 0.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .groups import Groups
from .grpo import EPS, GRPO_EPS, grpo_scalars
from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")

# Shared with EDGE-GRPO, whose weight is the same kind of inverse-entropy ratio (of the Shannon entropy).
ENTROPY_EPS = Param("float", "stabiliser of the inverse-entropy ratio (EGPO eq. 7's epsilon)", minimum=0.0)


def inverse_entropy_weight(entropy: torch.Tensor, groups: Groups, entropy_eps: float) -> torch.Tensor:
    """EGPO eq. 7, group-relative inverse-entropy weight: w_i = (Hbar_g + eps) / (H_i + eps), Hbar_g = mean_g H.

    Reading: the equation is missing from the paper's text; the description ("inverse-entropy ratio",
    "scale-preserving at the group level", eps "avoids numerical instability") and the public EGPO code
    give w_i = Hbar_g / (H_i + eps). We add eps to the numerator as well so that equal entropies give
    exactly w = 1 (incl. all-zero entropies, where Hbar/(H+eps) would give 0 and erase the group's signal);
    the two differ by O(eps/H)."""
    h_bar = groups.per_response(groups.mean(entropy))
    return (h_bar + entropy_eps) / (entropy + entropy_eps)


def asymmetric_clamp(w: torch.Tensor, correct: torch.Tensor, clamp: str, w_min: float, w_max: float) -> torch.Tensor:
    """EGPO eq. 8 and Table 2 C1-C3:

        asymmetric (EGPO): correct -> clip(w, 1, w_max)      incorrect -> clip(w, w_min, 1)
        symmetric  (C1):   clip(w, w_min, w_max) for both
        neg_only   (C2):   incorrect -> clip(w, w_min, 1)    correct   -> clip(w, w_min, w_max)
        pos_only   (C3):   correct   -> clip(w, 1, w_max)    incorrect -> clip(w, w_min, w_max)

    Reading for C2/C3: the one-sided variants constrain only the named outcome to its side of 1; the
    other outcome keeps the symmetric bounds of C1 (the paper lists only the constrained side)."""
    sym = w.clamp(w_min, w_max)
    pos = w.clamp(1.0, w_max) if clamp in ("asymmetric", "pos_only") else sym
    neg = w.clamp(w_min, 1.0) if clamp in ("asymmetric", "neg_only") else sym
    return torch.where(correct, pos, neg)


# w_min <= 1 <= w_max (the bounds below) also keeps w_min <= w_max.
@register("egpo", paper="egpo", requires=("old_log_probs",), params={
    "w_min": Param("float", "lower clamp bound of the entropy weight (lost from the paper's text; EGPO's authors' "
                   "configs: lambda_min 0.8)", minimum=0.0, maximum=1.0),
    "w_max": Param("float", "upper clamp bound of the entropy weight (lost from the paper's text; EGPO's authors' "
                   "configs: lambda_max 2.0)", minimum=1.0),
    "clamp": Param("choice", "asymmetric (EGPO) | symmetric (C1) | neg_only (C2) | pos_only (C3)",
                   choices=("asymmetric", "symmetric", "neg_only", "pos_only")),
    "renorm": Param("choice", "none (EGPO) | after_clamp (C5) | before_clamp (C6)",
                    choices=("none", "after_clamp", "before_clamp")),
    "nsr": Param("bool", "constant -1 base advantage on all-incorrect groups (EGPO eq. 13, §3.2); false = GRPO's 0 "
                 "there, as in EGPO's authors' code (ablation preset egpo_no_nsr)"),
    "nsr_uniform": Param("bool", "weight 1 on all-incorrect groups instead of the entropy weight (C4)"),
    "eps": EPS,
    "entropy_eps": ENTROPY_EPS,
})
def egpo(batch: Rollouts, *, w_min: float = 0.8, w_max: float = 2.0, clamp: str = "asymmetric", renorm: str = "none",
         nsr: bool = True, nsr_uniform: bool = False, eps: float = GRPO_EPS, entropy_eps: float = 1e-6) -> torch.Tensor:
    """EGPO advantage (§3.1-3.2):

        H_i  = -(1/|o_i|) Σ_t log pi_old(o_t|q,o_<t)                    entropy proxy, eq. 5-6
        w_i  = (Hbar_g + eps_H) / (H_i + eps_H)                         eq. 7 (see inverse_entropy_weight)
        w~_i = outcome-aware clamp of w_i to [w_min, w_max]             eq. 8 (see asymmetric_clamp)
        w~_i <- w~_i / mean_g(w~)      optional renorm, eq. 9: after the clamp (C5) or before it (C6)
        A_i  = GRPO advantage on mixed/all-correct groups; -1 on all-incorrect groups if nsr (eq. 13)
        Â_i  = w~_i · A_i

    ``nsr_uniform=True`` (C4) uses w~ = 1 on all-incorrect groups (uniform NSR). ``nsr=False`` leaves
    all-incorrect groups at GRPO's 0: what EGPO's authors' code does (GitHub Zzzzyear/test_verl@4656be8,
    ``compute_egpo_advantage`` scales the GRPO advantage, which is 0 there), while the paper's eq. 13 and
    §3.2 state NSR; the default keeps the paper's NSR. w_min/w_max were lost from the paper's text:
    0.8/2.0 are the authors' (``lambda_min``/``lambda_max`` of every paper-era config,
    ``src/config/egpo_train_config_exp11..19_*.yaml``).
    """
    batch.require("egpo", "old_log_probs")
    groups, correct = batch.groups, batch.correct
    w = inverse_entropy_weight(batch.nll_entropy_proxy, groups, entropy_eps)
    if renorm == "before_clamp":
        w = w / groups.per_response(groups.mean(w))
    w = asymmetric_clamp(w, correct, clamp, w_min, w_max)
    if renorm == "after_clamp":
        w = w / groups.per_response(groups.mean(w))

    base = grpo_scalars(batch.rewards, groups, eps=eps)
    all_incorrect = groups.per_response(groups.sum(correct.to(torch.float64)) == 0)
    if nsr:
        base = torch.where(all_incorrect, -1.0, base)
        if nsr_uniform:
            w = torch.where(all_incorrect, 1.0, w)
    return w * base
