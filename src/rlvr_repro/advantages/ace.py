"""ACE: Asymmetric Confidence-aware Error penalty ("Overconfident Errors Need Stronger Correction", §4).

Only the advantage changes: incorrect rollouts the policy has become *more* confident in than the
reference (c > 0, "overconfident errors") get a larger penalty; correct rollouts keep GRPO's advantage.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .grpo import EPS, GRPO_EPS, grpo_scalars
from .registry import Param, register
from .batch import Rollouts

torch = lazy_module("torch")


@register("ace", paper="ace", requires=("old_log_probs", "ref_log_probs"), params={
    "alpha": Param("float", "ACE correction strength alpha (eq. 5; paper default 1.0, App. D)", minimum=0.0),
    "modulation": Param("choice", "softplus (ACE default) or relu (§5.5 ablation)", choices=("softplus", "relu")),
    "eps": EPS,
})
def ace(batch: Rollouts, *, alpha: float = 1.0, modulation: str = "softplus", eps: float = GRPO_EPS) -> torch.Tensor:
    """ACE advantage, eqs. 4-6 and App. C.

        c_i   = (1/|o_i|) Σ_t [log pi_old(o_t|q,o_<t) - log pi_ref(o_t|q,o_<t)]     (eq. 4, length-normalised, §4.3)
        A_i   = GRPO advantage (eq. 1)
        Â_i   = A_i · (1 + alpha · softplus(c_i))   if o_i is incorrect            (eq. 5)
        Â_i   = A_i                                 if o_i is correct              (eq. 6)

    ``modulation="relu"`` is the §5.5 ablation (ACE-ReLU: relu(c) instead of softplus(c)).

    Reading: "incorrect" is implemented as A_i < 0, the below-average set of §3. For 0/1 rewards this is
    exactly r_i = 0 in mixed groups, and all-incorrect groups have A = 0 either way (ACE leaves GRPO's
    advantage collapse alone); it also covers §4.2's remark that ACE extends to non-binary rewards
    (e.g. DAPO's overlong shaping in ACE-DAPO) by modulating below-average rollouts. c uses pi_old
    (the policy that sampled the rollouts; App. C's ``log_probs_policy``), detached as in App. A.
    """
    batch.require("ace", "old_log_probs", "ref_log_probs")
    base = grpo_scalars(batch.rewards, batch.groups, eps=eps)
    c = batch.confidence_shift
    m = torch.nn.functional.softplus(c) if modulation == "softplus" else torch.relu(c)
    return torch.where(base < 0, base * (1.0 + alpha * m), base)
