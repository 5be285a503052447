"""Run spec (docs/CONTRACTS.md "Run spec") -> verl 0.9.1 Hydra overrides, and an offline check of them.

    build_overrides(run_spec, *, run_dir=None) -> list[str]     pure; no verl import
    check_overrides(overrides) -> dict                          compose + verl's validate_config (~2 s, CPU)
    check_verl_override_keys(mapping)                           train.verl_overrides names real verl keys

Order of the overrides: the flat train keys, then the GPU throughput settings (throughput.py: dynamic
batch size, Ulysses, FSDP offload; derived from model size and sequence length unless set), then
``train.verl_overrides`` verbatim and last (an entry replaces ours for the same key). Keys the pipeline
reads back or owns (run length, checkpoint cadence, cluster shape, paths, the estimator) cannot be set
there: ``OWNED_KEYS`` names the train key (or the part of the config) that sets each.

The footguns of shared/notes/verl-0.9.1-integration.md are handled here, once:
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

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rlvr_repro.advantages import REQUIRES, validate_params

from . import throughput
from .plugin_names import verl_name

PLUGIN_MODULE = "rlvr_repro.integrations.verl.plugin"
LOGPROB_GAIN_KEY = "algorithm.rlvr_logprob_gain"  # read by plugin.make_update_actor
# verl's checkpoint contents: FSDP shards to resume + full HF weights for evaluation
SAVE_CONTENTS = ("model", "optimizer", "extra", "hf_model")
# verl stops at whichever comes first, epochs or total_training_steps: the run length is total_steps,
# so the epoch cap is set far out of the way.
EPOCH_CAP = 1000
# Train keys read by the verl backend (config/train_keys.md); any other key in run_spec["train"] is an error.
TRAIN_KEYS = {
    "backend", "total_steps", "save_freq", "prompts_per_step", "group_size", "ppo_mini_batch_size", "ppo_epochs",
    "micro_batch_size", "lr", "weight_decay", "warmup_steps", "grad_clip", "temperature", "top_p",
    "max_prompt_length", "max_response_length", "clip_ratio_low", "clip_ratio_high", "clip_ratio_c",
    "loss_agg_mode", "loss_scale_factor", "entropy_coeff", "use_kl_loss", "kl_coef", "kl_loss_type", "need_ref",
    "dynamic_sampling", "max_gen_batches", "overlong_buffer_len", "overlong_penalty_factor", "logprob_gain_diag",
    "gpu_memory_utilization", "tensor_parallel_size", "nnodes", "gpus_per_node",
    *throughput.KEYS, "gpu_memory_gb", "verl_overrides",
}
_PLAIN = re.compile(r"^[A-Za-z0-9_./@-]+$")
# Hydra override key: optional +, ++ (add / force-add) or ~ (delete), then a dotted path.
_OVERRIDE_KEY = re.compile(r"^(\+\+|\+|~)?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)$")
_A = "actor_rollout_ref."
# verl keys train.verl_overrides may not set, and what sets them instead. The flat train keys are
# recorded in run.json and read by both backends, the plan and the cost estimate; the rest are paths
# and names the pipeline itself depends on.
OWNED_KEYS = {
    **{k: f"train.{v}" for k, v in {
        "data.train_batch_size": "prompts_per_step", "data.max_prompt_length": "max_prompt_length",
        "data.max_response_length": "max_response_length", _A + "actor.optim.lr": "lr",
        _A + "actor.optim.weight_decay": "weight_decay", _A + "actor.optim.lr_warmup_steps": "warmup_steps",
        _A + "actor.grad_clip": "grad_clip", _A + "actor.ppo_mini_batch_size": "ppo_mini_batch_size",
        _A + "actor.ppo_epochs": "ppo_epochs", _A + "actor.ppo_micro_batch_size_per_gpu": "micro_batch_size",
        _A + "actor.clip_ratio_low": "clip_ratio_low", _A + "actor.clip_ratio_high": "clip_ratio_high",
        _A + "actor.clip_ratio_c": "clip_ratio_c", _A + "actor.loss_agg_mode": "loss_agg_mode",
        _A + "actor.loss_scale_factor": "loss_scale_factor", _A + "actor.entropy_coeff": "entropy_coeff",
        _A + "actor.use_kl_loss": "use_kl_loss / train.need_ref", _A + "actor.kl_loss_coef": "kl_coef",
        _A + "actor.kl_loss_type": "kl_loss_type", _A + "rollout.n": "group_size",
        _A + "rollout.temperature": "temperature", _A + "rollout.top_p": "top_p",
        _A + "rollout.gpu_memory_utilization": "gpu_memory_utilization",
        _A + "rollout.tensor_model_parallel_size": "tensor_parallel_size",
        "trainer.total_training_steps": "total_steps", "trainer.save_freq": "save_freq",
        "trainer.nnodes": "nnodes", "trainer.n_gpus_per_node": "gpus_per_node",
        "algorithm.filter_groups.enable": "dynamic_sampling",
        "algorithm.filter_groups.max_num_gen_batches": "max_gen_batches",
    }.items()},
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
    train = dict(_need(run_spec, "train"))
    unknown = sorted(set(train) - TRAIN_KEYS)
    if unknown:
        raise KeyError(f"run {run_id}: unknown train key(s) {unknown} (config/train_keys.md)")
    method = _need(run_spec, "method")
    estimator = _need(method, "estimator", "method")
    params = validate_params(estimator, method.get("params") or {})
    model = _need(run_spec, "model")
    dataset = _need(run_spec, "dataset")
    seed = int(run_spec.get("seed", 0))
    run_dir = Path(run_dir) if run_dir is not None else Path("results/runs") / run_id

    def t(key):
        return _need(train, key, "train")

    use_kl = bool(t("use_kl_loss"))
    need_ref = bool(train.get("need_ref", False)) or estimator == "ace"
    kl_coef = float(t("kl_coef")) if use_kl else 0.0
    micro = int(t("micro_batch_size"))
    max_resp = int(t("max_response_length"))
    loss_scale = train.get("loss_scale_factor")
    if t("loss_agg_mode") == "seq-mean-token-sum-norm" and loss_scale is None:
        # Dr.GRPO divides by a *constant*; verl's fallback is the padded width of the batch, which the v1
        # trainer pads to the longest response in the batch, so it would change every step.
        loss_scale = max_resp

    ov = {
        # --- algorithm: our estimator + its parameters under algorithm.rlvr
        "algorithm.adv_estimator": verl_name(estimator),
        "algorithm.use_kl_in_reward": False,
        "algorithm.norm_adv_by_std_in_grpo": True,
        # --- data
        "data.train_files": _need(dataset, "train_files", "dataset"),
        "data.val_files": _need(dataset, "val_files", "dataset"),
        "data.train_batch_size": int(t("prompts_per_step")),
        "data.max_prompt_length": int(t("max_prompt_length")),
        "data.max_response_length": max_resp,
        "data.filter_overlong_prompts": True,
        "data.truncation": "error",
        "data.seed": seed,
        # --- model / actor
        "actor_rollout_ref.model.path": _need(model, "path", "model"),
        "actor_rollout_ref.model.use_remove_padding": True,
        "actor_rollout_ref.model.enable_gradient_checkpointing": True,
        "actor_rollout_ref.actor.optim.lr": float(t("lr")),
        "actor_rollout_ref.actor.optim.weight_decay": float(t("weight_decay")),
        "actor_rollout_ref.actor.optim.lr_warmup_steps": int(t("warmup_steps")),
        "actor_rollout_ref.actor.grad_clip": float(t("grad_clip")),
        "actor_rollout_ref.actor.ppo_mini_batch_size": int(t("ppo_mini_batch_size")),
        "actor_rollout_ref.actor.ppo_epochs": int(t("ppo_epochs")),
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.actor.clip_ratio_low": float(t("clip_ratio_low")),
        "actor_rollout_ref.actor.clip_ratio_high": float(t("clip_ratio_high")),
        "actor_rollout_ref.actor.clip_ratio_c": float(t("clip_ratio_c")),
        "actor_rollout_ref.actor.loss_agg_mode": t("loss_agg_mode"),
        "actor_rollout_ref.actor.loss_scale_factor": loss_scale,
        "actor_rollout_ref.actor.entropy_coeff": float(t("entropy_coeff")),
        # a reference policy exists iff use_kl_loss (or KL in reward); ACE needs it even without a KL term
        "actor_rollout_ref.actor.use_kl_loss": use_kl or need_ref,
        "actor_rollout_ref.actor.kl_loss_coef": kl_coef,
        "actor_rollout_ref.actor.kl_loss_type": t("kl_loss_type"),
        "actor_rollout_ref.actor.data_loader_seed": seed,
        "actor_rollout_ref.actor.checkpoint.save_contents": list(SAVE_CONTENTS),
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": micro,
        # --- rollout
        "actor_rollout_ref.rollout.name": "vllm",
        "actor_rollout_ref.rollout.n": int(t("group_size")),
        "actor_rollout_ref.rollout.temperature": float(t("temperature")),
        "actor_rollout_ref.rollout.top_p": float(t("top_p")),
        "actor_rollout_ref.rollout.gpu_memory_utilization": float(t("gpu_memory_utilization")),
        "actor_rollout_ref.rollout.tensor_model_parallel_size": int(t("tensor_parallel_size")),
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": micro,
        "actor_rollout_ref.rollout.seed": seed,
        # --- reward (0.9.x keys)
        "reward.custom_reward_function.path": reward_path or reward_function_path(),
        "reward.custom_reward_function.name": "compute_score",
        # --- trainer
        "trainer.project_name": "rlvr-repro",
        "trainer.experiment_name": run_id,
        "trainer.total_training_steps": int(t("total_steps")),
        "trainer.total_epochs": EPOCH_CAP,
        "trainer.save_freq": int(t("save_freq")),
        "trainer.test_freq": -1,  # evaluation is the pipeline's evaluate stage, not verl's validation
        "trainer.val_before_train": False,
        "trainer.resume_mode": "auto",
        "trainer.default_local_dir": run_dir / "verl" / "checkpoints",
        "trainer.logger": ["console", "file"],
        "trainer.nnodes": int(t("nnodes")),
        "trainer.n_gpus_per_node": int(t("gpus_per_node")),
        "trainer.critic_warmup": 0,
    }
    if train.get("logprob_gain_diag"):
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
        ov["algorithm.filter_groups.max_num_gen_batches"] = int(t("max_gen_batches"))
    if int(train.get("overlong_buffer_len") or 0) > 0:
        ov["reward.reward_manager.name"] = "dapo"
    if model.get("params_b") is None and any(train.get(k) is None for k in throughput.KEYS):
        raise ValueError(f"run {run_id}: the size of model {model.get('name')!r} is unknown: set "
                         f"models.{model.get('name')}.params_b (or every one of train.{list(throughput.KEYS)})")
    ov.update(throughput.verl_overrides(throughput.resolve(train, model.get("params_b"), has_ref=use_kl or need_ref)))
    passthrough = verl_override_items(train.get("verl_overrides") or {}, where=f"run {run_id}: train.verl_overrides")
    replaced = {key.lstrip("+~") for key, _ in passthrough}
    ov = {k: v for k, v in ov.items() if k not in replaced}
    out = [f"{k}={hydra_value(v)}" for k, v in ov.items()]
    out += [f"+algorithm.rlvr.{k}={hydra_value(v)}" for k, v in params.items()]
    if int(train.get("overlong_buffer_len") or 0) > 0:
        buf = "+reward.reward_kwargs.overlong_buffer_cfg"
        out += [f"{buf}.enable=true", f"{buf}.len={int(train['overlong_buffer_len'])}",
                f"{buf}.penalty_factor={hydra_value(float(t('overlong_penalty_factor')))}", f"{buf}.log=true",
                f"+reward.reward_kwargs.max_resp_len={max_resp}"]
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
        m = _OVERRIDE_KEY.match(str(key))
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


# ------------------------------------------------------------------------------------------------------
# offline check: Hydra compose on verl's packaged config + verl's own validation (no Ray, no model, no GPU)
# ------------------------------------------------------------------------------------------------------


def verl_config_dir() -> str:
    import verl

    return os.path.join(os.path.dirname(verl.__file__), "trainer", "config")


def compose(overrides: list[str]):
    """Compose verl's ``ppo_trainer`` config exactly as ``@hydra.main`` in main_ppo would (hydra.* dropped)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=verl_config_dir(), version_base=None):
            return hydra_compose(config_name="ppo_trainer",
                                 overrides=[o for o in overrides if not o.startswith("hydra.")])
    finally:
        GlobalHydra.instance().clear()


@functools.lru_cache(maxsize=1)
def _default_config():
    """verl's packaged defaults (composed once per process; the type check compares against them)."""
    return compose(["actor_rollout_ref.rollout.name=vllm"])


def _type_mismatches(cfg, overrides: list[str]) -> list[str]:
    """verl does not check leaf types (rollout.n=eight composes); compare each overridden leaf with the
    packaged default's type (int <-> float allowed, null defaults skipped)."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    default = _default_config()
    errors = []
    for ov in overrides:
        if "=" not in ov or ov.startswith(("+", "~", "hydra.")):
            continue
        key = ov.split("=", 1)[0]
        old, new = OmegaConf.select(default, key, default=None), OmegaConf.select(cfg, key, default=None)
        if old is None or new is None or isinstance(old, (DictConfig, ListConfig)):
            continue
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (old, new))
        if type(old) is not type(new) and not numeric:
            errors.append(f"{key}={new!r} is {type(new).__name__}, verl expects {type(old).__name__} (default {old!r})")
    return errors


def check_verl_override_keys(mapping: Mapping[str, Any], *, where: str = "train.verl_overrides") -> None:
    """Every key of ``train.verl_overrides`` against verl's packaged config: a plain or ``~`` key must
    exist, a ``+`` key must not (Hydra's rules), and its parent must. Raises ValueError naming the key and
    the nearest existing keys; catches a typo before Hydra's less specific composition error."""
    import difflib

    from omegaconf import DictConfig

    default = _default_config()

    def near(node, name, prefix):
        hits = difflib.get_close_matches(name, [str(k) for k in node.keys()], n=3)
        return f"; did you mean {', '.join(repr(prefix + h) for h in hits)}?" if hits else ""

    for key, _ in verl_override_items(mapping, where=where):
        m = _OVERRIDE_KEY.match(key)
        op, parts = m.group(1) or "", m.group(2).split(".")
        node, depth = default, 0  # walk to the parent; stop at the first missing section
        while depth < len(parts) - 1 and isinstance(node, DictConfig) and parts[depth] in node:
            node, depth = node._get_node(parts[depth]), depth + 1
        known = ".".join(parts[:depth])
        prefix = known + "." if known else ""
        if depth < len(parts) - 1 or not isinstance(node, DictConfig):
            if op == "++":
                continue  # ++ may create whole sections
            hint = near(node, parts[depth], prefix) if isinstance(node, DictConfig) else ""
            raise ValueError(f"{where}: {key!r} is not a verl 0.9.1 config key: {known or 'the config'} has no "
                             f"section {parts[depth]!r}{hint}")
        exists = parts[-1] in node
        if op == "+" and exists:
            raise ValueError(f"{where}: {key!r}: {m.group(2)} already exists in verl's config; drop the '+'")
        if op in ("", "~") and not exists:
            hint = near(node, parts[-1], prefix) or " (a new key needs a '+' prefix)"
            raise ValueError(f"{where}: {key!r} is not a verl 0.9.1 config key{hint}")


def _throughput_errors(cfg) -> list[str]:
    """Our checks of the batch shape, which verl only asserts after the first rollout or skips:
    the dynamic-batch token budgets (``rearrange_micro_batches``: a micro-batch holds budget x sp tokens
    and one sequence must fit), Ulysses against the GPU count (verl's device mesh is dp x sp), and the
    batch divisibility that ``validate_config`` checks only without dynamic batch size (the batch is
    still split over the data-parallel ranks)."""
    a = cfg.actor_rollout_ref
    seq = int(cfg.data.max_prompt_length) + int(cfg.data.max_response_length)
    n_gpus = int(cfg.trainer.n_gpus_per_node) * int(cfg.trainer.nnodes)
    n = int(a.rollout.n)
    errors = []
    if (int(cfg.data.train_batch_size) * n) % n_gpus:
        errors.append(f"data.train_batch_size x rollout.n = {int(cfg.data.train_batch_size) * n} responses is not "
                      f"divisible by the run's {n_gpus} GPUs")
    if int(a.actor.ppo_mini_batch_size) > int(cfg.data.train_batch_size):
        errors.append(f"actor.ppo_mini_batch_size={a.actor.ppo_mini_batch_size} > data.train_batch_size="
                      f"{cfg.data.train_batch_size}")
    for section, sp_key, dyn_key, budget_key in (
            ("actor", "actor", "use_dynamic_bsz", "ppo_max_token_len_per_gpu"),
            ("ref", "ref", "log_prob_use_dynamic_bsz", "log_prob_max_token_len_per_gpu"),
            ("rollout", "actor", "log_prob_use_dynamic_bsz", "log_prob_max_token_len_per_gpu")):
        node = a[section]
        sp = int(a[sp_key].ulysses_sequence_parallel_size)
        if n_gpus % sp:
            errors.append(f"actor_rollout_ref.{sp_key}.ulysses_sequence_parallel_size={sp} does not divide the "
                          f"run's {n_gpus} GPUs")
        if node[dyn_key] and int(node[budget_key]) * sp < seq:
            errors.append(f"actor_rollout_ref.{section}.{budget_key}={node[budget_key]} x sp {sp} < "
                          f"max_prompt_length + max_response_length = {seq}: verl fails after the first rollout")
    return sorted(set(errors))


def _missing_values(node, path=""):
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(node, DictConfig):
        for k in node.keys():
            p = f"{path}.{k}" if path else str(k)
            if OmegaConf.is_missing(node, k):
                yield p
            else:
                yield from _missing_values(node._get_node(k), p)
    elif isinstance(node, ListConfig):
        for i in range(len(node)):
            yield from _missing_values(node._get_node(i), f"{path}[{i}]")


def check_overrides(overrides: list[str]) -> dict[str, Any]:
    """Compose ``overrides`` on verl 0.9.1's config and run verl's own start-up validation, offline.

    Raises ValueError (with the underlying error) on: an unknown or misspelled key, a value of the wrong
    type, verl's ``validate_config`` failures (batch divisibility, micro-batch rules, loss_agg_mode), an
    algorithm/rollout config that its dataclass rejects, an unregistered reward manager, an unresolved
    interpolation or '???' value, an estimator that is not registered (after importing our plug-in),
    bad ``algorithm.rlvr`` parameters, and the silent footguns listed in the module docstring.
    Returns a summary (reference policy, estimator function, lints)."""
    import dataclasses
    import importlib
    import warnings
    from importlib.util import find_spec

    from omegaconf import OmegaConf

    warnings.filterwarnings("ignore", module="verl")
    os.environ.setdefault("VERL_LOGGING_LEVEL", "ERROR")
    importlib.import_module(PLUGIN_MODULE)
    from hydra.utils import get_class
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    try:
        cfg = compose(overrides)
    except Exception as e:
        raise ValueError(f"verl config composition failed: {type(e).__name__}: {e}") from e
    problems = _type_mismatches(cfg, overrides)
    if problems:
        raise ValueError("override type mismatch: " + "; ".join(problems))
    problems = _throughput_errors(cfg)
    if problems:
        raise ValueError("batch shape / GPU throughput settings: " + "; ".join(problems))
    use_ref, use_critic = need_reference_policy(cfg), need_critic(cfg)
    try:
        validate_config(config=cfg, use_reference_policy=use_ref, use_critic=use_critic)
        algo = OmegaConf.create(OmegaConf.to_container(cfg.algorithm, resolve=True))
        known = {f.name for f in dataclasses.fields(get_class(algo._target_))} | {"_target_"}
        for extra in [k for k in algo.keys() if k not in known]:  # our algorithm.rlvr namespace
            algo.pop(extra)
        omega_conf_to_dataclass(algo)
        omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)
        OmegaConf.to_container(cfg, resolve=True)
    except Exception as e:
        raise ValueError(f"verl rejected the config: {type(e).__name__}: {e}") from e
    missing = [p for p in _missing_values(cfg)
               if not (p.startswith("reward.reward_model.") and not cfg.reward.reward_model.enable)]
    if missing:
        raise ValueError(f"mandatory verl values still '???': {missing}")
    rm = cfg.reward.reward_manager
    if rm.get("source", "register") == "register":
        from verl.experimental.reward_loop.reward_manager.registry import REWARD_MANAGER

        if rm.name not in REWARD_MANAGER:
            raise ValueError(f"reward.reward_manager.name={rm.name!r} is not registered; known: {sorted(REWARD_MANAGER)}")
    info = preflight(cfg)
    actor = cfg.actor_rollout_ref.actor
    lints = []
    if cfg.get("custom_reward_function", {}).get("path") or cfg.get("reward_model", {}).get("reward_manager"):
        raise ValueError("legacy top-level custom_reward_function/reward_model keys are silently ignored by verl 0.9.x; "
                         "use reward.custom_reward_function.* and reward.reward_manager.name")
    if actor.clip_ratio != 0.2 and actor.clip_ratio_low == 0.2 and actor.clip_ratio_high == 0.2:
        raise ValueError("actor.clip_ratio is set but clip_ratio_low/high are 0.2: the vanilla loss ignores clip_ratio")
    if cfg.reward.get("reward_kwargs", {}).get("overlong_buffer_cfg") and rm.name != "dapo":
        raise ValueError("reward_kwargs.overlong_buffer_cfg is only read by reward.reward_manager.name=dapo")
    if cfg.ray_kwargs.ray_init.num_cpus is not None:
        lints.append("ray_kwargs.ray_init.num_cpus is set: fine for a single-node run with verl's own ray.init, "
                     "fatal when attaching to a `ray start` cluster")
    if cfg.trainer.get("use_v1", False) and find_spec("transfer_queue") is None:
        lints.append("trainer.use_v1=True needs the TransferQueue package on the cluster")
    return {**info, "use_critic": use_critic, "lints": lints}


def preflight(cfg) -> dict[str, Any]:
    """Estimator checks on a composed verl config, before any rollout (verl itself only finds out after
    the first rollout): the estimator is registered, ``algorithm.rlvr`` holds valid parameters for it,
    and the reference policy it needs exists. Used by ``check_overrides`` and the entry point."""
    import importlib

    importlib.import_module(PLUGIN_MODULE)
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    from verl.trainer.ppo.utils import need_reference_policy

    from . import plugin

    est = cfg.algorithm.adv_estimator
    try:
        fn = get_adv_estimator_fn(est)
    except ValueError as e:
        raise ValueError(f"algorithm.adv_estimator={est!r} is not registered in verl: {e}") from e
    ours = plugin.our_name(est)
    params = {}
    use_ref = need_reference_policy(cfg)
    if ours is not None:
        params = validate_params(ours, plugin.estimator_params(cfg.algorithm))
        if "ref_log_probs" in REQUIRES[ours] and not use_ref:
            raise ValueError(f"{est} needs ref_log_prob but this config creates no reference policy: "
                             f"{plugin.VERL_FIXES['ref_log_probs']}")
        if "token_entropy" in REQUIRES[ours] and cfg.trainer.get("use_v1", False):
            raise ValueError(f"{est} needs the per-token entropy, which verl 0.9.1's v1 trainer does not hand to the "
                             f"advantage step: {plugin.VERL_FIXES['token_entropy']}")
    elif cfg.algorithm.get(plugin.CONFIG_NAMESPACE) is not None:
        raise ValueError(f"algorithm.{plugin.CONFIG_NAMESPACE} is set but {est!r} is not an rlvr estimator "
                         f"(rlvr names: {[plugin.verl_name(n) for n in plugin.ESTIMATORS]})")
    return {"adv_estimator": est, "adv_estimator_fn": f"{fn.__module__}.{fn.__name__}", "rlvr_params": params,
            "use_reference_policy": use_ref}
