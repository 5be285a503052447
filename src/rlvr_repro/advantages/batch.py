"""The validated input every estimator receives: one batch of rollouts with its group structure.

``compute_advantages`` builds a ``Rollouts`` once (shape/finite checks with errors that name the field
and the row), so the estimator functions contain only their paper's formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rlvr_repro.lazy import lazy_module

from .groups import Groups, length_normalized_sum

torch = lazy_module("torch")

# Methods that need correctness (LENS, EGPO, AsymGRPO) treat reward > 0.5 as correct: the outcome
# rewards are 0/1 (math-verify); with DAPO's overlong shaping a correct-but-overlong response can fall
# below 0.5 and then counts as incorrect, which matches DAPO's intent of punishing it.
CORRECT_THRESHOLD = 0.5


def _as_tensor(name: str, value, dtype=None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
    else:
        try:
            t = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name} must be a tensor or array of numbers, got {type(value).__name__}: {e}") from e
    return t.to(dtype) if dtype is not None else t


def _first_bad_row(bad: torch.Tensor) -> str:
    where = torch.nonzero(bad)[0].tolist()
    return f"row {where[0]}" + (f", token {where[1]}" if len(where) > 1 else "")


@dataclass(frozen=True)
class Rollouts:
    """Rewards [N], groups, response mask [N, T] and optional per-token log-probs / entropy [N, T] of one batch."""

    rewards: torch.Tensor  # float64 [N]
    groups: Groups
    mask_float: torch.Tensor  # float32 0/1 [N, T] (the caller's tensor itself when it already was fp32)
    lengths: torch.Tensor  # float64 [N], response tokens per row
    old_log_probs: torch.Tensor | None = None  # [N, T], log pi_old of the sampled tokens
    ref_log_probs: torch.Tensor | None = None  # [N, T], log pi_ref of the sampled tokens
    token_entropy: torch.Tensor | None = None  # [N, T], Shannon entropy of pi_old's next-token distribution

    @classmethod
    def build(cls, *, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None,
              token_entropy=None) -> Rollouts:
        r = _as_tensor("rewards", rewards, torch.float64)
        if r.dim() == 2 and r.shape[1] == 1:
            r = r[:, 0]
        if r.dim() != 1:
            raise ValueError(f"rewards must be a 1-D tensor [N] (one outcome reward per response), got shape {tuple(r.shape)}")
        if not torch.isfinite(r).all():
            raise ValueError(f"rewards has a non-finite value at {_first_bad_row(~torch.isfinite(r))}")
        n = r.shape[0]
        mask = _as_tensor("response_mask", response_mask)
        if mask.dim() != 2 or mask.shape[0] != n:
            raise ValueError(f"response_mask must be [N, T] with N={n} (len(rewards)), got shape {tuple(mask.shape)}")
        mask_f = mask if mask.dtype == torch.float32 else mask.to(torch.float32)  # no copy when already fp32
        lo, hi = torch.aminmax(mask_f) if mask_f.numel() else (torch.zeros(()), torch.zeros(()))
        # 0/1 check in three cheap reductions, no comparison tensor: with every value in [0, 1], the sum
        # equals the number of nonzeros iff every nonzero is exactly 1 (row sums of 0/1 are exact in fp32,
        # their total is taken in float64). NaN fails the [0, 1] test.
        lengths = mask_f.sum(dim=-1)
        if not (lo >= 0 and hi <= 1) or float(lengths.sum(dtype=torch.float64)) != int(torch.count_nonzero(mask_f)):
            raise ValueError(f"response_mask must be 0/1, found another value at {_first_bad_row((mask != 0) & (mask != 1))}")
        groups = Groups.from_index(index, n)
        lps = {}
        for name, value in (("old_log_probs", old_log_probs), ("ref_log_probs", ref_log_probs),
                            ("token_entropy", token_entropy)):
            if value is None:
                lps[name] = None
                continue
            t = _as_tensor(name, value)
            if not t.dtype.is_floating_point or t.dtype in (torch.float16, torch.bfloat16):
                t = t.to(torch.float32)  # bf16 log-probs from the actor: sum them in fp32
            if tuple(t.shape) != tuple(mask_f.shape):
                raise ValueError(f"{name} must have the shape of response_mask {tuple(mask_f.shape)}, got {tuple(t.shape)}")
            lps[name] = t  # finiteness inside the mask is checked where the values are reduced (_masked_row_mean)
        return cls(rewards=r, groups=groups, mask_float=mask_f, lengths=lengths.to(torch.float64), **lps)

    def _masked_row_mean(self, name: str, values: torch.Tensor) -> torch.Tensor:
        """Length-normalised masked row sums of a log-prob tensor; a NaN/inf inside the mask (padding may
        hold anything) makes its row non-finite, which is reported with the row (one pass, no extra scan)."""
        out = length_normalized_sum(values, self.response_mask, self.mask_float.to(values.dtype), self.lengths)
        bad = ~torch.isfinite(out)
        if bad.any():
            row = int(torch.nonzero(bad)[0])
            tok = torch.nonzero(self.response_mask[row] & ~torch.isfinite(values[row]))
            where = f"row {row}" + (f", token {int(tok[0])}" if len(tok) else "")
            raise ValueError(f"{name} has a non-finite value inside the response mask at {where}")
        return out

    @property
    def n(self) -> int:
        return self.rewards.shape[0]

    @cached_property
    def correct(self) -> torch.Tensor:
        """bool [N]: reward > CORRECT_THRESHOLD."""
        return self.rewards > CORRECT_THRESHOLD

    @cached_property
    def response_mask(self) -> torch.Tensor:
        """bool [N, T]."""
        return self.mask_float.bool()

    def require(self, estimator: str, *fields: str) -> None:
        """Fail loudly when an estimator needs a log-prob tensor the caller did not pass."""
        hints = {
            "old_log_probs": "the rollout policy's per-token log-probs of the sampled tokens (verl: data.batch['old_log_probs'])",
            "ref_log_probs": "the reference policy's per-token log-probs (verl: data.batch['ref_log_prob'], created only "
            "when a reference policy exists: set train key need_ref: true, i.e. actor.use_kl_loss=True kl_loss_coef=0)",
            "token_entropy": "the rollout policy's per-token Shannon entropy -sum_v pi(v) log pi(v) at each response "
            "position (verl: the `entropys` of the old-log-prob forward, kept by the rlvr plug-in; local trainer: "
            "computed with the old log-probs)",
        }
        for f in fields:
            if getattr(self, f) is None:
                raise ValueError(f"advantage estimator {estimator!r} needs {f}: {hints[f]}")

    @cached_property
    def mean_old_log_prob(self) -> torch.Tensor:
        """(1/|o|) Σ_t log pi_old(o_t) per response (float64 [N]); 0 for a zero-length response."""
        self.require("(length-normalised log-prob)", "old_log_probs")
        return self._masked_row_mean("old_log_probs", self.old_log_probs)

    @cached_property
    def nll_entropy_proxy(self) -> torch.Tensor:
        """EGPO eq. 5 entropy proxy: H_i = -(1/|o_i|) Σ_t log pi_old(o_t | q, o_<t) (float64 [N], >= 0)."""
        return -self.mean_old_log_prob

    @cached_property
    def mean_token_entropy(self) -> torch.Tensor:
        """(1/|o_i|) Σ_t H_t, H_t = -Σ_v pi_old(v | q, o_<t) log pi_old(v | q, o_<t): the response's mean
        Shannon token entropy (EDGE-GRPO's P_i; float64 [N], 0 for a zero-length response)."""
        self.require("(mean token entropy)", "token_entropy")
        return self._masked_row_mean("token_entropy", self.token_entropy)

    @cached_property
    def confidence_shift(self) -> torch.Tensor:
        """ACE eq. 4, length-normalised (§4.3 "Practical considerations", App. C):
        c_i = (1/|o_i|) Σ_t [log pi_old(o_t) - log pi_ref(o_t)]   (float64 [N])."""
        self.require("(confidence shift)", "old_log_probs", "ref_log_probs")
        ref = self._masked_row_mean("ref_log_probs", self.ref_log_probs)
        return self.mean_old_log_prob - ref  # = (1/|o|) Σ_t (log pi_old - log pi_ref): same normaliser
