"""Vectorised per-group and per-response statistics shared by every advantage estimator.

Why this module exists: every method in the four papers is "a statistic of the prompt group, then a
per-response formula". verl's reference GRPO loops over groups in Python; at 16k responses that loop
dominates. Here a group is an integer id per response (``Groups.ids``) and every group statistic is a
single scatter/segment op over those ids, so no estimator ever loops over groups.

Group ids come from ``index`` (verl's ``uid``: a numpy object array of strings; our local trainer passes
a list of str or an int tensor). Rows of one group need not be contiguous (verl's ``balance_batch``
reorders rows), and the numbering of groups is irrelevant to every formula.

Per-response scalars and group statistics are float64 throughout the package (``torch.float64``): they
are O(N) values, so the precision is free, and it keeps ratios such as LENS's pi/(D - pi) and EGPO's
inverse-entropy weight exact to ~1e-15.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rlvr_repro.lazy import lazy_module

# Imported on first use, like in every module of this package: planning reads the estimator
# declarations only (rlvr_repro.lazy).
torch = lazy_module("torch")


def group_ids(index: Sequence | np.ndarray | torch.Tensor, n: int) -> tuple[torch.Tensor, int]:
    """Map N hashable prompt ids to dense group ids ``0..G-1`` (LongTensor [N]) and return ``(ids, G)``.

    Integer tensors/arrays use ``torch.unique(return_inverse=True)``. Strings and other hashables go
    through ``pandas.factorize`` (a C hash table: exact, so two different uids can never collide, unlike
    hashing to int64 first). Missing ids (None/NaN) are a bug upstream and raise.
    """
    if isinstance(index, torch.Tensor):
        arr = index
    elif isinstance(index, np.ndarray) and index.dtype.kind in "iub":
        arr = torch.from_numpy(np.ascontiguousarray(index))
    else:
        arr = None
    if arr is not None:
        if arr.dim() != 1 or arr.shape[0] != n:
            raise ValueError(f"index must be 1-D with {n} entries (one per response), got shape {tuple(arr.shape)}")
        if arr.dtype.is_floating_point:
            raise ValueError("index tensor must hold integer prompt ids, got a floating-point tensor")
        _, inverse = torch.unique(arr, return_inverse=True)
        return inverse.long(), int(inverse.max().item()) + 1 if n else 0

    import pandas as pd  # here, not at the top: planning imports this package for the estimator declarations

    values = index if isinstance(index, np.ndarray) else pd.Series(list(index), dtype=object)
    if len(values) != n:
        raise ValueError(f"index has {len(values)} entries but there are {n} responses (rewards)")
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"index must be 1-D, got shape {values.shape}")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        raise ValueError(f"index has a missing prompt id (None/NaN) at row {int(missing[0])}")
    return torch.from_numpy(codes.astype(np.int64)), len(uniques)


@dataclass(frozen=True)
class Groups:
    """Dense group ids of N responses plus segment reductions over them (all O(N), no loop over groups)."""

    ids: torch.Tensor  # LongTensor [N]
    count: int  # number of groups G
    size: torch.Tensor  # float64 [G], responses per group

    @classmethod
    def from_index(cls, index, n: int) -> Groups:
        ids, count = group_ids(index, n)
        size = torch.zeros(count, dtype=torch.float64).index_add_(0, ids, torch.ones(n, dtype=torch.float64))
        return cls(ids=ids, count=count, size=size)

    def sum(self, x: torch.Tensor) -> torch.Tensor:
        """Per-group sum of a per-response vector -> [G]."""
        return torch.zeros(self.count, dtype=x.dtype).index_add_(0, self.ids, x)

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        return self.sum(x) / self.size.to(x.dtype)

    def std(self, x: torch.Tensor) -> torch.Tensor:
        """Per-group *unbiased* std (torch.std's default, as verl's GRPO uses). Two-pass for accuracy.
        Singletons get 0 here; GRPO's own singleton convention is applied by the caller."""
        dev = x - self.per_response(self.mean(x))
        ss = self.sum(dev * dev)
        return torch.sqrt(ss / (self.size.to(x.dtype) - 1).clamp(min=1))

    def max(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.full((self.count,), -torch.inf, dtype=x.dtype)
        return out.scatter_reduce_(0, self.ids, x, reduce="amax", include_self=True)

    def min(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.full((self.count,), torch.inf, dtype=x.dtype)
        return out.scatter_reduce_(0, self.ids, x, reduce="amin", include_self=True)

    def per_response(self, g: torch.Tensor) -> torch.Tensor:
        """Broadcast a per-group vector [G] back to the responses [N].
        (index_select, not g[ids]: advanced indexing costs milliseconds per call on a busy multi-threaded CPU.)"""
        return g.index_select(0, self.ids)


def response_lengths(response_mask: torch.Tensor) -> torch.Tensor:
    """Number of response tokens per row (float64 [N])."""
    return response_mask.sum(dim=-1, dtype=torch.float64)


def length_normalized_sum(values: torch.Tensor, response_mask: torch.Tensor, mask_float: torch.Tensor | None = None,
                          lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Σ_t m_t·v_t / max(Σ_t m_t, 1) per response (float64 [N]); a zero-length response gives 0, not NaN.

    Fast path: one multiply-and-sum with a float mask (fp32 accumulation: torch sums pairwise, so the
    relative error of a 1k-token row is ~1e-7). Padding may hold inf/NaN (0·inf = NaN), so rows whose
    fast sum is not finite are recomputed with the padding *replaced* by 0 -- which keeps a genuinely
    non-finite value inside the mask non-finite, for the caller to report.
    """
    if mask_float is None:
        mask_float = response_mask.to(values.dtype)
    sums = (values * mask_float).sum(dim=-1)
    bad = ~torch.isfinite(sums)
    if bad.any():
        rows = torch.nonzero(bad).squeeze(-1)
        sums[rows] = torch.where(response_mask[rows], values[rows], torch.zeros((), dtype=values.dtype)).sum(dim=-1)
    if lengths is None:
        lengths = response_lengths(response_mask)
    return sums.to(torch.float64) / lengths.clamp(min=1.0)
