"""verl 0.9.1 plug-in: our estimators under verl names, fed with the log-prob tensors they need.

Importing this module (in the process that computes advantages: the Ray TaskRunner actor) does three
idempotent things, see ``setup``:

1. **Registers** every estimator of ``rlvr_repro.advantages.ESTIMATORS`` in verl's registry as
   ``rlvr_<name>`` (``rlvr_grpo``, ``rlvr_ace``, ...). The prefix is deliberate: verl has its own
   ``grpo`` (special-cased inside ``compute_advantage``) and may add more names; a prefix can never
   collide and makes it obvious in a verl log whose code ran. verl's own ``grpo`` stays usable and gives
   the same numbers as ``rlvr_grpo`` (tested).
2. **Wraps ``compute_advantage``** at the module attributes the trainers call
   (``verl.trainer.ppo.ray_trainer`` for the legacy ``trainer.use_v1=False`` fit loop,
   ``verl.trainer.ppo.v1.utils`` for the default v1 trainer). verl hands registered estimators only
   rewards/mask/uid/config; the wrapper reads ``old_log_probs`` and ``ref_log_prob`` from ``data.batch``,
   groups by ``uid`` (rows are not contiguous after ``balance_batch``) and reads our parameters from
   ``algorithm.rlvr`` (``+algorithm.rlvr.alpha=1.0`` on the command line). A missing tensor (e.g. ACE
   without a reference policy) raises with the override that fixes it.
3. **Logs diagnostics**: every advantage computation (any estimator, verl's included) stores
   ``training_diagnostics`` of its batch; the wrapped ``compute_data_metrics`` of both trainers adds
   them to the step's metrics as ``diag/<key>``.
4. **Keeps the token entropy** for estimators that need it (EDGE-GRPO's Shannon entropy,
   ``REQUIRES[...]`` holds ``token_entropy``): verl's legacy fit loop computes per-token ``entropys`` in
   the old-log-prob forward and pops them before the advantage step; the wrapped
   ``RayPPOTrainer._compute_old_log_prob`` copies them under ``rlvr_token_entropy``, which the
   compute_advantage wrapper reads and then drops (it never travels to the actor update). The v1
   trainer stores the entropy in its TransferQueue but does not fetch it for the advantage step, so
   the pipeline runs these estimators on the legacy loop (``trainer.use_v1=False``,
   ``overrides.compose_run``).
5. **The log-prob gain after the update** (AsymGRPO Fig. 2(d), train key ``logprob_gain_diag`` ->
   ``+algorithm.rlvr_logprob_gain=true``, legacy loop): the wrapped ``RayPPOTrainer._update_actor``
   runs verl's own ``_compute_old_log_prob`` once more on the same batch after the actor update (the
   FSDP actor then holds the updated weights; same forward as the old log-probs, same temperature),
   and stores ``logprob_gain_correct`` of (old, new) for ``compute_data_metrics``, which the legacy
   loop calls after the update. verl itself never recomputes log-probs after an update, so this is
   one extra forward per step, paid only by the runs that ask for it.

Load it with ``VERL_USE_EXTERNAL_MODULES=rlvr_repro.integrations.verl.plugin``, through the
``verl.plugins`` entry point of this package, or via ``python -m rlvr_repro.integrations.verl.entry``.
The patch points are verl-internal API: the package pins verl==0.9.1.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Mapping
from typing import Any

import torch

from rlvr_repro.advantages import ESTIMATORS, REQUIRES, compute_advantages, validate_params
from rlvr_repro.advantages.batch_stats import logprob_gain_correct, training_diagnostics

from .plugin_names import VERL_PREFIX, verl_name

log = logging.getLogger(__name__)

CONFIG_NAMESPACE = "rlvr"  # algorithm.rlvr.* holds the estimator's parameters
# Module attributes through which verl's trainers reach compute_advantage / compute_data_metrics.
ADVANTAGE_PATCH_POINTS = ("verl.trainer.ppo.ray_trainer", "verl.trainer.ppo.v1.utils")
METRICS_PATCH_POINTS = ("verl.trainer.ppo.ray_trainer", "verl.trainer.ppo.v1.trainer_base")
# verl batch key of each optional tensor, and what to set when it is absent
ENTROPY_KEY = "rlvr_token_entropy"  # the old-log-prob forward's entropys, kept for the advantage step
VERL_TENSOR_KEYS = {"old_log_probs": "old_log_probs", "ref_log_probs": "ref_log_prob", "token_entropy": ENTROPY_KEY}
VERL_FIXES = {
    "token_entropy": "run the legacy fit loop (trainer.use_v1=False, which the pipeline sets for this estimator) "
                     "with this plug-in loaded: it keeps the old-log-prob forward's entropys",
    "ref_log_probs": "create a reference policy: train key need_ref: true, i.e. "
                     "actor_rollout_ref.actor.use_kl_loss=True actor_rollout_ref.actor.kl_loss_coef=0",
    "old_log_probs": "verl computes old_log_probs in every PPO step; check that the trainer recomputes them "
                     "(algorithm.rollout_correction.bypass_mode uses rollout_log_probs instead)",
}

_LAST_DIAGNOSTICS: dict[str, float] = {}


def our_name(adv_estimator: Any) -> str | None:
    """verl's ``algorithm.adv_estimator`` (str or enum) -> our estimator name, or None if not ours."""
    name = getattr(adv_estimator, "value", adv_estimator)
    if isinstance(name, str) and name.startswith(VERL_PREFIX) and name[len(VERL_PREFIX):] in ESTIMATORS:
        return name[len(VERL_PREFIX):]
    return None


def estimator_params(config: Any) -> dict[str, Any]:
    """Read ``algorithm.rlvr`` (a DictConfig inside verl, any mapping in tests) as a plain dict."""
    if config is None:
        return {}
    node = config.get(CONFIG_NAMESPACE, None) if hasattr(config, "get") else getattr(config, CONFIG_NAMESPACE, None)
    if node is None:
        return {}
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(node, DictConfig):
            node = OmegaConf.to_container(node, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf ships with verl
        pass
    if not isinstance(node, Mapping):
        raise ValueError(f"algorithm.{CONFIG_NAMESPACE} must be a mapping of estimator parameters, got {node!r}")
    return dict(node)


def _batch_tensors(data, estimator: str) -> dict[str, Any]:
    """Pull what compute_advantages needs out of a verl DataProto, failing loudly on anything missing."""
    keys = set(data.batch.keys())
    if "token_level_rewards" not in keys:
        raise KeyError(f"verl batch has no 'token_level_rewards' (keys: {sorted(keys)})")
    if "uid" not in data.non_tensor_batch:
        raise KeyError(f"estimator {verl_name(estimator)!r} groups responses by data.non_tensor_batch['uid'], which is missing")
    if "response_mask" not in keys:
        from verl.trainer.ppo.ray_trainer import compute_response_mask

        data.batch["response_mask"] = compute_response_mask(data)
    out = {
        "rewards": data.batch["token_level_rewards"].sum(dim=-1),
        "index": data.non_tensor_batch["uid"],
        "response_mask": data.batch["response_mask"],
    }
    for ours, theirs in VERL_TENSOR_KEYS.items():
        out[ours] = data.batch[theirs] if theirs in keys else None
    for needed in REQUIRES[estimator]:
        if out[needed] is None:
            raise KeyError(f"advantage estimator {verl_name(estimator)!r} needs data.batch[{VERL_TENSOR_KEYS[needed]!r}], "
                           f"which this verl run does not produce: {VERL_FIXES[needed]}")
    return out


def _record_diagnostics(data) -> None:
    """Store the batch's diagnostics for the next compute_data_metrics call (same process, same step)."""
    _LAST_DIAGNOSTICS.clear()
    keys = set(data.batch.keys())
    if "uid" not in data.non_tensor_batch or "response_mask" not in keys:
        return
    scores = data.batch["token_level_scores"] if "token_level_scores" in keys else data.batch.get("token_level_rewards")
    if scores is None:
        return
    _LAST_DIAGNOSTICS.update(training_diagnostics(
        rewards=scores.sum(dim=-1), index=data.non_tensor_batch["uid"], response_mask=data.batch["response_mask"],
        old_log_probs=data.batch["old_log_probs"] if "old_log_probs" in keys else None,
        ref_log_probs=data.batch["ref_log_prob"] if "ref_log_prob" in keys else None))


def make_compute_advantage(original):
    """Wrap verl's ``compute_advantage``: ``rlvr_*`` estimators get the full batch; others go to verl."""
    if getattr(original, "__rlvr_wrapped__", False):
        return original

    @functools.wraps(original)
    def compute_advantage(data, adv_estimator, gamma=1.0, lam=1.0, num_repeat=1, norm_adv_by_std_in_grpo=True,
                          config=None):
        estimator = our_name(adv_estimator)
        if estimator is None:
            data = original(data, adv_estimator, gamma=gamma, lam=lam, num_repeat=num_repeat,
                             norm_adv_by_std_in_grpo=norm_adv_by_std_in_grpo, config=config)
        else:
            params = validate_params(estimator, estimator_params(config))
            tensors = _batch_tensors(data, estimator)
            adv = compute_advantages(estimator, **tensors, **params)
            adv = adv.to(device=data.batch["response_mask"].device)
            data.batch["advantages"] = adv
            data.batch["returns"] = adv.clone()
        if ENTROPY_KEY in data.batch.keys():  # read above; the actor update does not need it
            data.batch.pop(ENTROPY_KEY)
        try:
            _record_diagnostics(data)
        except Exception as e:  # diagnostics must never stop training; say so loudly in the log
            log.warning("rlvr diagnostics skipped this step: %s: %s", type(e).__name__, e)
        return data

    compute_advantage.__rlvr_wrapped__ = True
    compute_advantage.__wrapped_original__ = original
    return compute_advantage


def make_compute_data_metrics(original):
    """Wrap verl's ``compute_data_metrics`` to append the pending ``diag/*`` metrics of this step."""
    if getattr(original, "__rlvr_wrapped__", False):
        return original

    @functools.wraps(original)
    def compute_data_metrics(*args, **kwargs):
        metrics = original(*args, **kwargs)
        if _LAST_DIAGNOSTICS:
            metrics.update({f"diag/{k}": v for k, v in _LAST_DIAGNOSTICS.items()})
            _LAST_DIAGNOSTICS.clear()
        return metrics

    compute_data_metrics.__rlvr_wrapped__ = True
    return compute_data_metrics


def _flag(config, dotted: str) -> bool:
    node = config
    for part in dotted.split("."):
        node = node.get(part, None) if hasattr(node, "get") else getattr(node, part, None)
        if node is None:
            return False
    return bool(node)


def make_update_actor(original):
    """Wrap ``RayPPOTrainer._update_actor``: with ``algorithm.rlvr_logprob_gain`` set, recompute the batch's
    log-probs under the updated actor and queue ``diag/logprob_gain_correct`` (item 4 of the docstring)."""
    if getattr(original, "__rlvr_wrapped__", False):
        return original

    @functools.wraps(original)
    def _update_actor(self, batch, *args, **kwargs):
        out = original(self, batch, *args, **kwargs)
        if not _flag(self.config, "algorithm.rlvr_logprob_gain"):
            return out
        try:
            keys = set(batch.batch.keys())
            scores = batch.batch["token_level_scores" if "token_level_scores" in keys else "token_level_rewards"]
            new, _ = self._compute_old_log_prob(batch)
            _LAST_DIAGNOSTICS.update(logprob_gain_correct(
                rewards=scores.sum(dim=-1), response_mask=batch.batch["response_mask"],
                old_log_probs=batch.batch["old_log_probs"], new_log_probs=new.batch["old_log_probs"]))
        except Exception as e:  # diagnostics must never stop training
            log.warning("rlvr log-prob gain skipped this step: %s: %s", type(e).__name__, e)
        return out

    _update_actor.__rlvr_wrapped__ = True
    return _update_actor


def needs_token_entropy(config) -> bool:
    """Whether the run's ``algorithm.adv_estimator`` is ours and reads the per-token entropy."""
    algorithm = config.get("algorithm", None) if hasattr(config, "get") else getattr(config, "algorithm", None)
    if algorithm is None:
        return False
    est = algorithm.get("adv_estimator", None) if hasattr(algorithm, "get") else getattr(algorithm, "adv_estimator", None)
    ours = our_name(est)
    return ours is not None and "token_entropy" in REQUIRES[ours]


def make_compute_old_log_prob(original):
    """Wrap ``RayPPOTrainer._compute_old_log_prob``: keep a copy of its ``entropys`` under ``ENTROPY_KEY``
    when the estimator needs them (item 4 of the docstring); verl's fit pops ``entropys`` right after."""
    if getattr(original, "__rlvr_wrapped__", False):
        return original

    @functools.wraps(original)
    def _compute_old_log_prob(self, batch, *args, **kwargs):
        out = original(self, batch, *args, **kwargs)
        if needs_token_entropy(self.config):
            old_log_prob = out[0] if isinstance(out, tuple) else out
            if "entropys" not in old_log_prob.batch.keys():
                raise KeyError("verl's old-log-prob forward returned no 'entropys'; the estimator "
                               f"{self.config.algorithm.adv_estimator!r} needs the per-token entropy")
            old_log_prob.batch[ENTROPY_KEY] = old_log_prob.batch["entropys"].clone()
        return out

    _compute_old_log_prob.__rlvr_wrapped__ = True
    return _compute_old_log_prob


def _patch_trainer_method() -> list[str]:
    try:
        mod = importlib.import_module("verl.trainer.ppo.ray_trainer")
    except ImportError as e:
        log.info("rlvr plug-in: legacy trainer not importable (%s); log-prob gain and token entropy unavailable", e)
        return []
    mod.RayPPOTrainer._update_actor = make_update_actor(mod.RayPPOTrainer._update_actor)
    mod.RayPPOTrainer._compute_old_log_prob = make_compute_old_log_prob(mod.RayPPOTrainer._compute_old_log_prob)
    return ["verl.trainer.ppo.ray_trainer.RayPPOTrainer._update_actor",
            "verl.trainer.ppo.ray_trainer.RayPPOTrainer._compute_old_log_prob"]


def _patch(modules, attr, factory) -> list[str]:
    patched = []
    for modname in modules:
        try:
            mod = importlib.import_module(modname)
        except ImportError as e:  # e.g. v1 trainer without the TransferQueue package
            log.info("rlvr plug-in: %s not importable (%s); not patched", modname, e)
            continue
        if hasattr(mod, attr):
            setattr(mod, attr, factory(getattr(mod, attr)))
            patched.append(modname)
    return patched


def _registered_fn(estimator: str):
    """The function put in verl's registry for ``rlvr_<estimator>``.

    Reward-only estimators compute their advantage from what verl passes (so they work even if the
    compute_advantage wrapper were bypassed); log-prob estimators refuse, because verl would not give
    them the tensors they need."""
    needs = REQUIRES[estimator]

    def estimator_fn(token_level_rewards, response_mask, index=None, config=None, **_):
        if needs:
            raise RuntimeError(f"{verl_name(estimator)} needs {list(needs)}, which verl passes only through the "
                               "rlvr compute_advantage wrapper: import rlvr_repro.integrations.verl.plugin in the "
                               "process that runs the trainer (see the module docstring)")
        if index is None:
            raise KeyError(f"{verl_name(estimator)} groups by uid, but verl passed no index")
        adv = compute_advantages(estimator, rewards=token_level_rewards.sum(dim=-1), index=index,
                                 response_mask=response_mask,
                                 **validate_params(estimator, estimator_params(config)))
        return adv, adv.clone()

    estimator_fn.__name__ = f"rlvr_{estimator}_advantage"
    estimator_fn.__qualname__ = estimator_fn.__name__
    return estimator_fn


# One function object per name for the life of the process: verl's register_adv_est accepts re-registering
# the same object but raises for a different one under the same name.
_REGISTERED = {name: _registered_fn(name) for name in ESTIMATORS}


def register_estimators() -> list[str]:
    """Register every estimator as ``rlvr_<name>`` in verl's ADV_ESTIMATOR_REGISTRY (idempotent)."""
    from verl.trainer.ppo import core_algos

    for name, fn in _REGISTERED.items():
        existing = core_algos.ADV_ESTIMATOR_REGISTRY.get(verl_name(name))
        if existing is not None and getattr(existing, "__name__", None) == fn.__name__:
            continue  # registered by an earlier import of this module under another name
        core_algos.register_adv_est(verl_name(name))(fn)
    return [verl_name(n) for n in _REGISTERED]


def setup() -> dict[str, list[str]]:
    """Register, wrap compute_advantage and compute_data_metrics. Safe to call any number of times."""
    return {
        "registered": register_estimators(),
        "compute_advantage": _patch(ADVANTAGE_PATCH_POINTS, "compute_advantage", make_compute_advantage),
        "compute_data_metrics": _patch(METRICS_PATCH_POINTS, "compute_data_metrics", make_compute_data_metrics),
        "trainer_methods": _patch_trainer_method(),
    }


def status(adv_estimator: str | None = None) -> dict[str, Any]:
    """What is installed in *this* process (the entry point asserts on it inside the TaskRunner actor)."""
    from verl.trainer.ppo import core_algos

    wrapped = {}
    for modname in ADVANTAGE_PATCH_POINTS:
        try:
            mod = importlib.import_module(modname)
        except ImportError:
            continue
        wrapped[modname] = bool(getattr(getattr(mod, "compute_advantage", None), "__rlvr_wrapped__", False))
    out = {"registered": sorted(n for n in core_algos.ADV_ESTIMATOR_REGISTRY if n.startswith(VERL_PREFIX)),
           "compute_advantage_wrapped": wrapped}
    if adv_estimator is not None:
        out["adv_estimator"] = adv_estimator
        out["adv_estimator_registered"] = adv_estimator in core_algos.ADV_ESTIMATOR_REGISTRY
    return out


def assert_ready(adv_estimator: str) -> None:
    """Raise unless ``adv_estimator`` is registered and, for ours, every trainer path is wrapped."""
    st = status(adv_estimator)
    if not st["adv_estimator_registered"]:
        raise RuntimeError(f"advantage estimator {adv_estimator!r} is not registered in verl in this process; "
                           f"rlvr estimators: {st['registered']}")
    if our_name(adv_estimator) is not None and not all(st["compute_advantage_wrapped"].values()):
        raise RuntimeError(f"{adv_estimator!r} needs the rlvr compute_advantage wrapper, missing in: "
                           f"{[m for m, ok in st['compute_advantage_wrapped'].items() if not ok]}")


setup()
