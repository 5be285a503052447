"""Every advantage estimator of the pipeline, one entry point for the local trainer and verl.

    compute_advantages(name, *, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None,
                       token_entropy=None, **params) -> torch.Tensor [N, T] float32

* ``rewards`` [N] outcome rewards (0/1); ``index`` N hashable prompt ids (verl ``uid``), groups need not
  be contiguous; ``response_mask`` [N, T]; ``old_log_probs`` / ``ref_log_probs`` [N, T] per-token log-probs
  of the sampled tokens under the rollout and the reference policy (needed by ace, lens, egpo);
  ``token_entropy`` [N, T] the rollout policy's Shannon entropy at each response position (edge_grpo).
* returns one scalar per response broadcast over its response tokens, 0 where the mask is 0. Never NaN/inf.
* ``params`` are the estimator's keyword arguments (see ``PARAMS`` / ``validate_params``); they are also
  the keys of ``methods.<preset>.params`` in config/methods.yaml and of ``+algorithm.rlvr.*`` in verl.

Estimators (``ESTIMATORS``: name -> function(Rollouts, **params) -> per-response scalars [N]):
grpo, drgrpo, reinforce (``grpo.py``), ace, lens, egpo, edge_grpo, asymgrpo (one module each).
"""

from __future__ import annotations

import torch

from .ace import ace
from .asymgrpo import asymgrpo
from .edge_grpo import edge_grpo
from .egpo import egpo
from .grpo import drgrpo, grpo, reinforce
from .lens import lens
from .params import PARAMS, REQUIRES, methods_schema, validate_method_presets, validate_params
from .rollouts import CORRECT_THRESHOLD, Rollouts

ESTIMATORS = {
    "grpo": grpo,
    "drgrpo": drgrpo,
    "reinforce": reinforce,
    "ace": ace,
    "lens": lens,
    "egpo": egpo,
    "edge_grpo": edge_grpo,
    "asymgrpo": asymgrpo,
}


def _run(name: str, rewards, index, response_mask, old_log_probs, ref_log_probs, token_entropy,
         params) -> tuple[torch.Tensor, Rollouts]:
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
    return scalars, batch


def compute_response_advantages(name: str, *, rewards, index, response_mask, old_log_probs=None,
                                ref_log_probs=None, token_entropy=None, **params) -> torch.Tensor:
    """Like ``compute_advantages`` but returns the per-response scalar advantages (float64 [N])."""
    return _run(name, rewards, index, response_mask, old_log_probs, ref_log_probs, token_entropy, params)[0]


def compute_advantages(name: str, *, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None,
                       token_entropy=None, **params) -> torch.Tensor:
    """Advantages [N, T] (float32) of estimator ``name``: one scalar per response, 0 outside the mask."""
    scalars, batch = _run(name, rewards, index, response_mask, old_log_probs, ref_log_probs, token_entropy, params)
    out = scalars.to(torch.float32).unsqueeze(-1) * batch.mask_float  # 0 outside the mask, one pass
    device = response_mask.device if isinstance(response_mask, torch.Tensor) else None
    return out.to(device) if device is not None else out


__all__ = [
    "CORRECT_THRESHOLD",
    "ESTIMATORS",
    "PARAMS",
    "REQUIRES",
    "Rollouts",
    "compute_advantages",
    "compute_response_advantages",
    "methods_schema",
    "validate_method_presets",
    "validate_params",
]
