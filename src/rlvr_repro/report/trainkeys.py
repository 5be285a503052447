"""One name per training-log quantity, whichever backend wrote the log.

The local trainer and verl name some quantities differently (docs/CONTRACTS.md): the local loop
writes ``frac_all_incorrect`` (over every generated group), verl runs our plug-in's
``diag/frac_none_solved``. Every plot and figure reads a quantity through :func:`train_series` /
:func:`with_canonical`, so a figure is never empty because a log came from the other backend.

``entropy`` is the policy's token entropy, -sum_v pi(v) log pi(v) (verl's ``actor/entropy``; the local
trainer's ``entropy``). The local ``entropy_proxy`` (mean NLL of the sampled tokens, EGPO's Eq. 5) is
a different quantity and is never read as ``entropy``: a log without true entropy has no entropy
curve, and the figures name it missing.

Per row the first candidate with a value wins (a frame that mixes local and verl runs has each
column empty in the other backend's rows).
"""

from __future__ import annotations

import pandas as pd

# canonical name -> the log keys that carry it, best first
CANONICAL: dict[str, tuple[str, ...]] = {
    "entropy": ("entropy",),
    "frac_none_solved": ("diag/frac_none_solved", "frac_all_incorrect"),
    "frac_all_solved": ("diag/frac_all_solved", "frac_all_correct"),
    "truncated_frac": ("truncated_frac", "verl/response_length/clip_ratio"),
    "reward_mean": ("reward_mean",),
    "response_length_mean": ("response_length_mean",),
    "kappa": ("diag/asym_kappa",),
    # of the responses generated in a step, the fraction with a non-zero advantage (local trainer)
    "frac_nonzero_adv": ("frac_nonzero_adv",),
    # all-negative groups among *every* group generated (before DAPO's filter) where the log has it
    "frac_none_solved_generated": ("frac_all_incorrect", "diag/frac_none_solved"),
    "logprob_gain_correct": ("diag/logprob_gain_correct",),
}


def train_series(logs: pd.DataFrame, name: str) -> pd.Series:
    """The values of canonical quantity ``name`` per row of ``logs`` (NaN where no candidate has one)."""
    if name not in CANONICAL:
        raise KeyError(f"unknown training quantity {name!r}; known: {sorted(CANONICAL)}")
    cols = [c for c in CANONICAL[name] if c in logs.columns]
    if not cols:
        return pd.Series(float("nan"), index=logs.index, name=name)
    values = logs[cols].apply(pd.to_numeric, errors="coerce")
    return values.bfill(axis=1).iloc[:, 0].rename(name)


def with_canonical(logs: pd.DataFrame) -> pd.DataFrame:
    """``logs`` with one column per canonical quantity (replacing a same-named raw column)."""
    out = logs.copy()
    for name in CANONICAL:
        out[name] = train_series(logs, name)
    return out
