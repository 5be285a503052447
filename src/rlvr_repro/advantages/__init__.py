"""Every advantage estimator of the pipeline, one entry point for the local trainer and verl.

    compute_advantages(name, *, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None,
                       token_entropy=None, **params) -> torch.Tensor [N, T] float32

* ``rewards`` [N] outcome rewards (0/1); ``index`` N hashable prompt ids (verl ``uid``), groups need not
  be contiguous; ``response_mask`` [N, T]; ``old_log_probs`` / ``ref_log_probs`` [N, T] per-token log-probs
  of the sampled tokens under the rollout and the reference policy; ``token_entropy`` [N, T] the rollout
  policy's Shannon entropy at each response position (``REQUIRES`` says who needs which).
* returns one scalar per response broadcast over its response tokens, 0 where the mask is 0. Never NaN/inf.
* ``params`` are the estimator's keyword arguments (see ``PARAMS`` / ``validate_params``); they are also
  the keys of ``methods.<preset>.params`` in config/methods.yaml and of ``+algorithm.rlvr.*`` in verl.

Estimators are declared in their own modules with ``@register`` (``registry.py``) and found by
``discover()``: grpo, drgrpo, reinforce (``grpo.py``), ace, lens, egpo, edge_grpo, asymgrpo (one module
each). A new module in this package is a new estimator.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .registry import (ESTIMATORS, PARAMS, REQUIRES, Param, discover, methods_schema, needs_reference, register,
                       validate_params)
from .batch import CORRECT_THRESHOLD, Rollouts

torch = lazy_module("torch")
discover()


def compute_advantages(name: str, *, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None,
                       token_entropy=None, **params) -> torch.Tensor:
    """Advantages [N, T] (float32) of estimator ``name``: one scalar per response, 0 outside the mask."""
    resolved = validate_params(name, params)
    batch = Rollouts.build(rewards=rewards, index=index, response_mask=response_mask,
                           old_log_probs=old_log_probs, ref_log_probs=ref_log_probs, token_entropy=token_entropy)
    batch.require(name, *REQUIRES[name])
    with torch.no_grad():
        scalars = ESTIMATORS[name](batch, **resolved)
    bad = ~torch.isfinite(scalars)
    if bad.any():  # every formula is guarded; reaching this is a bug, never silently train on it
        row = int(torch.nonzero(bad)[0])
        raise FloatingPointError(f"estimator {name!r} produced a non-finite advantage at row {row} "
                                 f"(reward={float(batch.rewards[row])}); params={resolved}")
    out = scalars.to(torch.float32).unsqueeze(-1) * batch.mask_float  # 0 outside the mask, one pass
    device = response_mask.device if isinstance(response_mask, torch.Tensor) else None
    return out.to(device) if device is not None else out


__all__ = [
    "CORRECT_THRESHOLD",
    "ESTIMATORS",
    "PARAMS",
    "REQUIRES",
    "needs_reference",
    "Param",
    "Rollouts",
    "compute_advantages",
    "discover",
    "methods_schema",
    "register",
    "validate_params",
]
