"""Per-step training diagnostics from the same tensors the estimators see (logged as ``diag/<key>``).

Both backends call ``training_diagnostics`` once per optimizer step on the rollout batch, whatever the
method, so GRPO runs show the same ACE/LENS/EGPO/AsymGRPO statistics as the methods that act on them.
Keys are only emitted when defined: a statistic over an empty set (e.g. the overconfident-error
magnitude when no error is overconfident, or kappa without mixed groups) is left out rather than
reported as 0 or NaN; the ``n_*`` counts say why. Log-prob statistics skip zero-length responses
(they have no tokens, so no confidence or entropy), outcome fractions count every response.
"""

from __future__ import annotations

from rlvr_repro.lazy import lazy_module

from .batch import Rollouts

torch = lazy_module("torch")


def _mean(x: torch.Tensor, where: torch.Tensor) -> float | None:
    k = int(where.sum())
    return float(x[where].sum() / k) if k else None


def group_outcome_fractions(batch: Rollouts) -> dict[str, float]:
    """Fractions of prompt groups that are all-solved, none-solved (LENS Fig. 2's "all-negative group
    ratio"; AsymGRPO Fig. 2c's "none-solved") and mixed."""
    k = batch.groups.sum(batch.correct.to(torch.float64))
    n = batch.groups.size
    g = max(batch.groups.count, 1)
    return {
        "n_responses": float(batch.n),
        "n_groups": float(batch.groups.count),
        "frac_all_solved": float((k == n).sum()) / g,
        "frac_none_solved": float((k == 0).sum()) / g,
        "frac_mixed": float(((k > 0) & (k < n)).sum()) / g,
    }


def ace_confidence_diagnostics(batch: Rollouts) -> dict[str, float]:
    """ACE §5.3 on the training rollouts: c_i (eq. 4, length-normalised) of incorrect responses.

    ace_overconfident_error_frac = |{incorrect i: c_i > 0}| / |{incorrect}|   (OEF)
    ace_overconfidence_mean      = mean of c_i over overconfident errors (c_i > 0)
    (ACE measures these on held-out prompts every 25 steps; here they are per training batch.)"""
    c = batch.confidence_shift
    has_tokens = batch.lengths > 0
    wrong = ~batch.correct & has_tokens
    over = wrong & (c > 0)
    out = {"n_incorrect": float(wrong.sum())}
    stats = {
        "ace_conf_shift_incorrect_mean": _mean(c, wrong),
        "ace_conf_shift_correct_mean": _mean(c, batch.correct & has_tokens),
        "ace_overconfident_error_frac": float(over.sum()) / float(wrong.sum()) if wrong.any() else None,
        "ace_overconfidence_mean": _mean(c, over),
    }
    out.update({k: v for k, v in stats.items() if v is not None})
    return out


def entropy_gap_diagnostics(batch: Rollouts) -> dict[str, float]:
    """EGPO §4.4 / Fig. 3: mean NLL entropy proxy (eq. 5) of correct and incorrect responses and their gap
    (incorrect minus correct; EGPO wants it large and positive)."""
    h = batch.nll_entropy_proxy
    has_tokens = batch.lengths > 0
    right = _mean(h, batch.correct & has_tokens)
    wrong = _mean(h, ~batch.correct & has_tokens)
    out = {}
    if right is not None:
        out["egpo_entropy_correct"] = right
    if wrong is not None:
        out["egpo_entropy_incorrect"] = wrong
    if right is not None and wrong is not None:
        out["egpo_entropy_gap"] = wrong - right
    return out


def asym_kappa(batch: Rollouts) -> dict[str, float]:
    """AsymGRPO App. E, reward-confidence alignment over the mixed groups V_B of the batch:

        L_i    = (1/|o_i|) Σ_t log pi_old(o_t)                 length-normalised old-policy log-prob
        delta_g = mean_{r=1} L - mean_{r=0} L,   w_g = p_g(1-p_g),   l_g = log(p_g/(1-p_g))
        kappa_B = (1/|V_B|) Σ_{g in V_B} w_g · delta_g · l_g
    p_g counts every response; the two means of L skip zero-length responses, and a mixed group whose
    correct or incorrect side has only zero-length responses is left out of V_B.
    """
    groups, correct = batch.groups, batch.correct
    L = batch.mean_old_log_prob
    has_tokens = batch.lengths > 0
    k = groups.sum(correct.to(torch.float64))
    n = groups.size
    right_n = groups.sum((correct & has_tokens).to(torch.float64))
    wrong_n = groups.sum((~correct & has_tokens).to(torch.float64))
    mixed = (k > 0) & (k < n) & (right_n > 0) & (wrong_n > 0)
    out = {"asym_n_mixed_groups": float(mixed.sum())}
    if not mixed.any():
        return out
    mean_right = groups.sum(torch.where(correct & has_tokens, L, 0.0)) / right_n.clamp(min=1)
    mean_wrong = groups.sum(torch.where(~correct & has_tokens, L, 0.0)) / wrong_n.clamp(min=1)
    p = (k / n)[mixed]
    contrib = p * (1 - p) * (mean_right - mean_wrong)[mixed] * torch.log(p / (1 - p))
    out["asym_kappa"] = float(contrib.mean())
    return out


def logprob_gain_correct(*, rewards, response_mask, old_log_probs, new_log_probs) -> dict[str, float]:
    """AsymGRPO §3.1 / Fig. 2(d): E[log pi_new(y) - log pi_old(y)] over the correct rollouts of the batch,
    with log pi(y) length-normalised (mean over the response's tokens, as kappa's L_i), pi_old the policy
    that sampled the batch and pi_new the policy after this step's update. Correct = reward > 0.5
    (``Rollouts.correct``); zero-length responses are left out. Key ``logprob_gain_correct`` (absent
    without a correct response) and ``n_correct``."""
    mask = response_mask.to(torch.float64)
    lengths = mask.sum(-1)
    correct = (torch.as_tensor(rewards).to(torch.float64) > 0.5) & (lengths > 0)
    gain = ((new_log_probs.to(torch.float64) - old_log_probs.to(torch.float64)) * mask).sum(-1) / lengths.clamp(min=1)
    out = {"n_correct": float(correct.sum())}
    if correct.any():
        out["logprob_gain_correct"] = float(gain[correct].mean())
    return out


def training_diagnostics(*, rewards, index, response_mask, old_log_probs=None, ref_log_probs=None) -> dict[str, float]:
    """All diagnostics the given tensors allow (keys without prefix; trainers log them as ``diag/<key>``).

    Always: n_responses, n_groups, frac_all_solved, frac_none_solved, frac_mixed.
    With old_log_probs: egpo_entropy_{correct,incorrect,gap}, asym_kappa, asym_n_mixed_groups.
    With old and ref log-probs: n_incorrect, ace_conf_shift_{incorrect,correct}_mean,
    ace_overconfident_error_frac, ace_overconfidence_mean.
    """
    batch = Rollouts.build(rewards=rewards, index=index, response_mask=response_mask,
                           old_log_probs=old_log_probs, ref_log_probs=ref_log_probs)
    with torch.no_grad():
        out = group_outcome_fractions(batch)
        if batch.old_log_probs is not None:
            out.update(entropy_gap_diagnostics(batch))
            out.update(asym_kappa(batch))
            if batch.ref_log_probs is not None:
                out.update(ace_confidence_diagnostics(batch))
    return out
