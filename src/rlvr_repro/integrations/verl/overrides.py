"""Run spec (docs/CONTRACTS.md "Run spec") -> verl 0.9.1 Hydra overrides. Pure: no verl import.

    build_overrides(run_spec, *, run_dir=None) -> list[str]     the run's overrides
    verl_override_items(mapping)                                train.verl_overrides, owned keys refused

The offline check of the result against verl's own config and validation is ``check.py``.

Order of the overrides: the flat train keys, then the GPU throughput settings (throughput.py: dynamic
batch size, Ulysses, FSDP offload; derived from model size and sequence length unless set), then
``train.verl_overrides`` verbatim and last (an entry replaces ours for the same key). Keys the pipeline
reads back or owns (run length, checkpoint cadence, cluster shape, paths, the estimator) cannot be set
there: ``OWNED_KEYS`` names the train key (or the part of the config) that sets each.

The footguns of verl 0.9.1 (docs/verl-0.9.1.md) are handled here, once:
  * clip_ratio_low/high are always explicit (they default to 0.2 and override actor.clip_ratio);
  * rewards use the 0.9.x ``reward.*`` keys (the legacy top-level keys are silently ignored by 0.9.x);
  * an estimator that needs pi_ref without a KL term gets a reference policy via use_kl_loss=True with
    kl_loss_coef=0 (``need_ref``);
  * DAPO dynamic sampling is ``algorithm.filter_groups`` (on the verifier's ``acc``, so the overlong
    penalty does not make a uniform group look mixed), the overlong buffer is the ``dapo`` reward
    manager's ``overlong_buffer_cfg``;
  * checkpoints save ``hf_model`` too (the evaluation stage reads HF weights);
  * Hydra's output dir goes under the run dir (not ./outputs/<date>);
  * ``ray_kwargs.ray_init.num_cpus`` is never set here: it must stay null when attaching to a cluster
    started with ``ray start``; the single-node launcher appends it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlvr_repro.advantages import REQUIRES, needs_reference, validate_params

from rlvr_repro.train.keys import BY_NAME, REQUIRED, TRAIN_KEYS

from . import throughput
from .plugin_names import verl_name

LOGPROB_GAIN_KEY = "algorithm.rlvr_logprob_gain"  # read by plugin.make_update_actor
# verl's checkpoint contents: FSDP shards to resume + full HF weights for evaluation
SAVE_CONTENTS = ("model", "optimizer", "extra", "hf_model")
# verl stops at whichever comes first, epochs or total_training_steps: the run length is total_steps,
# so the epoch cap is set far out of the way.
EPOCH_CAP = 1000
_PLAIN = re.compile(r"^[A-Za-z0-9_./@-]+$")
# Hydra override key: optional +, ++ (add / force-add) or ~ (delete), then a dotted path.
OVERRIDE_KEY = re.compile(r"^(\+\+|\+|~)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)$")
_A = "actor_rollout_ref."
# verl keys train.verl_overrides may not set, and what sets them instead: every verl key of a train key
# (the table in rlvr_repro.train.keys; those are recorded in run.json and read by both backends, the
# plan and the cost estimate), and the paths and names the pipeline itself depends on.
OWNED_KEYS = {
    **{k.verl: f"train.{k.name}" for k in TRAIN_KEYS if k.verl},
    "algorithm.adv_estimator": "the method preset (methods.<preset>.estimator)",
    "algorithm.rlvr": "the method preset (methods.<preset>.params)",
    "data.train_files": "the run's dataset", "data.val_files": "the run's dataset",
    _A + "model.path": "models.<model>",
    "data.seed": "the run's seed", _A + "actor.data_loader_seed": "the run's seed", _A + "rollout.seed": "the run's seed",
    "trainer.experiment_name": "the run id", "trainer.default_local_dir": "the run directory",
    "trainer.total_epochs": "train.total_steps", "trainer.resume_mode": "the pipeline (resume after a restart)",
    "reward.custom_reward_function.path": "the pipeline (rlvr_repro.reward)",
    "reward.custom_reward_function.name": "the pipeline (rlvr_repro.reward)",
    "hydra.run.dir": "the run directory",
}


def hydra_value(value: Any) -> str:
    """Render a Python value in Hydra's override grammar (quoted when it is not a plain token)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"cannot pass a non-finite number to verl: {value!r}")
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        for k in value:
            if not isinstance(k, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
                raise ValueError(f"cannot pass mapping key {k!r} to verl (keys must be identifiers)")
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (str, os.PathLike)):
        s = os.fspath(value)
        if _PLAIN.match(s) and s.lower() not in ("null", "true", "false", "none"):
            return s
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise TypeError(f"cannot render {type(value).__name__} {value!r} as a Hydra override value")


def _need(mapping: Mapping, key: str, where: str = ""):
    if key not in mapping or mapping[key] is None:
        raise KeyError(f"run spec is missing {f'{where}.{key}' if where else key!r}")
    return mapping[key]


def reward_function_path() -> str:
    """File of ``rlvr_repro.reward.compute_score`` (verl loads the custom reward function by path)."""
    import importlib.util

    spec = importlib.util.find_spec("rlvr_repro.reward")
    if spec is None or spec.origin is None:
        raise ImportError("rlvr_repro.reward (compute_score for verl) is not importable")
    return spec.origin


def build_overrides(run_spec: Mapping[str, Any], *, run_dir: str | os.PathLike | None = None,
                    reward_path: str | None = None) -> list[str]:
    """verl 0.9.1 Hydra overrides for one training run (for ``python -m rlvr_repro.integrations.verl.entry``).

    run_dir: where verl writes checkpoints (``<run_dir>/verl/checkpoints``) and Hydra its files
    (``<run_dir>/verl/hydra``); default ``results/runs/<run_id>``. reward_path: file holding
    ``compute_score`` (default: ``rlvr_repro.reward``'s file).
    """
    run_id = _need(run_spec, "run_id")
    given = dict(_need(run_spec, "train"))
    unknown = sorted(set(given) - set(BY_NAME))
    if unknown:
        raise KeyError(f"run {run_id}: unknown train key(s) {unknown} (config/train_keys.md)")
    train = {**{k.name: k.default for k in TRAIN_KEYS if k.name not in given}, **given}
    method = _need(run_spec, "method")
    estimator = _need(method, "estimator", "method")
    params = validate_params(estimator, method.get("params") or {})
    model = _need(run_spec, "model")
    dataset = _need(run_spec, "dataset")
    seed = int(run_spec.get("seed", 0))
    run_dir = Path(run_dir) if run_dir is not None else Path("results/runs") / run_id

    missing = [k.name for k in TRAIN_KEYS if train[k.name] is REQUIRED]
    if missing:
        raise KeyError(f"run spec is missing train.{missing[0]!r}")
    use_kl = bool(train["use_kl_loss"])
    has_ref = needs_reference(estimator, use_kl_loss=use_kl, need_ref=bool(train["need_ref"]))
    micro = BY_NAME["micro_batch_size"].coerce(train["micro_batch_size"])
    loss_scale = train["loss_scale_factor"]
    if train["loss_agg_mode"] == "seq-mean-token-sum-norm" and loss_scale is None:
        # Dr.GRPO divides by a *constant*; verl's fallback is the padded width of the batch, which the v1
        # trainer pads to the longest response in the batch, so it would change every step.
        loss_scale = int(train["max_response_length"])

    ov = {
        # --- the train keys verl takes as they are (rlvr_repro.train.keys, column `copied`)
        **{k.verl: k.coerce(train[k.name]) for k in TRAIN_KEYS if k.verl and k.copied},
        # --- ... and the ones it takes derived
        _A + "actor.ppo_mini_batch_size": int(train["ppo_mini_batch_size"] or train["prompts_per_step"]),
        _A + "actor.ppo_micro_batch_size_per_gpu": micro,
        _A + "ref.log_prob_micro_batch_size_per_gpu": micro,
        _A + "rollout.log_prob_micro_batch_size_per_gpu": micro,
        _A + "actor.loss_scale_factor": loss_scale,
        # a reference policy exists iff use_kl_loss (or KL in reward); an estimator that reads ref_log_probs
        # (REQUIRES, e.g. ACE) needs it even without a KL term
        _A + "actor.use_kl_loss": has_ref,
        _A + "actor.kl_loss_coef": float(train["kl_coef"]) if use_kl else 0.0,
        # --- algorithm: our estimator + its parameters under algorithm.rlvr
        "algorithm.adv_estimator": verl_name(estimator),
        "algorithm.use_kl_in_reward": False,
        "algorithm.norm_adv_by_std_in_grpo": True,
        # --- data
        "data.train_files": _need(dataset, "train_files", "dataset"),
        "data.val_files": _need(dataset, "val_files", "dataset"),
        "data.filter_overlong_prompts": True,
        "data.truncation": "error",
        "data.seed": seed,
        # --- model / actor
        _A + "model.path": _need(model, "path", "model"),
        _A + "model.use_remove_padding": True,
        _A + "model.enable_gradient_checkpointing": True,
        _A + "actor.data_loader_seed": seed,
        _A + "actor.checkpoint.save_contents": list(SAVE_CONTENTS),
        # --- rollout
        _A + "rollout.name": "vllm",
        _A + "rollout.seed": seed,
        # --- reward (0.9.x keys)
        "reward.custom_reward_function.path": reward_path or reward_function_path(),
        "reward.custom_reward_function.name": "compute_score",
        # --- trainer
        "trainer.project_name": "rlvr-repro",
        "trainer.experiment_name": run_id,
        "trainer.total_epochs": EPOCH_CAP,
        "trainer.test_freq": -1,  # evaluation is the pipeline's evaluate stage, not verl's validation
        "trainer.val_before_train": False,
        "trainer.resume_mode": "auto",
        "trainer.default_local_dir": run_dir / "verl" / "checkpoints",
        "trainer.logger": ["console", "file"],
        "trainer.critic_warmup": 0,
    }
    if train["logprob_gain_diag"]:
        # AsymGRPO Fig. 2(d): the plug-in recomputes the batch's log-probs after the update
        # (plugin.make_update_actor), which it can do in the legacy loop; v1 hands the actor a
        # TransferQueue batch the plug-in does not read
        ov["trainer.use_v1"] = False
        ov["+" + LOGPROB_GAIN_KEY] = True
    if "token_entropy" in REQUIRES[estimator]:
        # EDGE-GRPO's Shannon entropy: the plug-in keeps the old-log-prob forward's entropys in the legacy
        # loop (plugin.make_compute_old_log_prob); v1 stores them but never hands them to the advantage step
        ov["trainer.use_v1"] = False
    if train.get("dynamic_sampling"):
        ov["algorithm.filter_groups.enable"] = True
        ov["algorithm.filter_groups.metric"] = "acc"
        # read by the legacy (use_v1=False) loop only; verl 0.9.1's v1 replay buffer ignores it (warns)
        ov["algorithm.filter_groups.max_num_gen_batches"] = int(train["max_gen_batches"])
    if int(train.get("overlong_buffer_len") or 0) > 0:
        ov["reward.reward_manager.name"] = "dapo"
    if model.get("params_b") is None and any(train.get(k) is None for k in throughput.KEYS):
        raise ValueError(f"run {run_id}: the size of model {model.get('name')!r} is unknown: set "
                         f"models.{model.get('name')}.params_b (or every one of train.{list(throughput.KEYS)})")
    ov.update(throughput.verl_overrides(throughput.resolve(train, model.get("params_b"), has_ref=has_ref)))
    passthrough = verl_override_items(train.get("verl_overrides") or {}, where=f"run {run_id}: train.verl_overrides")
    replaced = {key.lstrip("+~") for key, _ in passthrough}
    ov = {k: v for k, v in ov.items() if k not in replaced}
    out = [f"{k}={hydra_value(v)}" for k, v in ov.items()]
    out += [f"+algorithm.rlvr.{k}={hydra_value(v)}" for k, v in params.items()]
    if int(train.get("overlong_buffer_len") or 0) > 0:
        buf = "+reward.reward_kwargs.overlong_buffer_cfg"
        out += [f"{buf}.enable=true", f"{buf}.len={int(train['overlong_buffer_len'])}",
                f"{buf}.penalty_factor={hydra_value(float(train['overlong_penalty_factor']))}", f"{buf}.log=true",
                f"+reward.reward_kwargs.max_resp_len={int(train['max_response_length'])}"]
    out.append(f"hydra.run.dir={hydra_value(run_dir / 'verl' / 'hydra')}")
    out = [o for o in out if o.split("=", 1)[0].lstrip("+~") not in replaced]
    out += [key if key.startswith("~") and value is None else f"{key}={hydra_value(value)}" for key, value in passthrough]
    return out


def verl_override_items(mapping: Mapping[str, Any], *, where: str = "train.verl_overrides") -> list[tuple[str, Any]]:
    """``train.verl_overrides`` as (key, value) pairs, in order; a malformed key or one the pipeline owns
    (``OWNED_KEYS``, and anything under them) raises ValueError naming it. Pure: whether the key exists
    in verl's config is :func:`check_verl_override_keys`'s job (it needs verl)."""
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{where} must be a mapping of dotted verl keys to values, got {type(mapping).__name__}")
    items = []
    for key, value in mapping.items():
        m = OVERRIDE_KEY.match(str(key))
        if not m:
            raise ValueError(f"{where}: {key!r} is not a dotted verl key (e.g. actor_rollout_ref.rollout.enforce_eager)")
        path = m.group(2)
        owner = next((OWNED_KEYS[k] for k in OWNED_KEYS if path == k or path.startswith(k + ".")), None)
        if owner:
            raise ValueError(f"{where}: {key!r} is set by {owner}, not by verl_overrides")
        try:
            hydra_value(value)  # fails here, naming the key, rather than in Hydra's grammar
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: {key!r}: {e}") from None
        items.append((str(key), value))
    return items
