"""The login-node check of the planned verl runs, before any training job is queued.

A typo in a verl key would otherwise surface when the job starts, after hours in the queue. The
workflow's local rule ``check_verl`` runs :func:`run_check` once per *distinct override set*: runs
that differ only in run id, seed, dataset or model paths build the same overrides up to those values,
so they share one check (LENS: two datasets x two seeds of one model and method make one set). Each
check composes verl's Hydra config, runs verl's ``validate_config`` and our checks
(:func:`check_overrides`), checks the ``train.verl_overrides`` key names
(:func:`check_verl_override_keys`), and writes a small marker ``results/checks/verl/{set}.json``
that the set's training jobs take as input. One job costs ~8 s on the login node (importing verl and
Hydra's first compose); ``python -m rlvr_repro.integrations.verl.check`` checks all sets in one
process (~0.4 s each after the first).

The set id hashes what the overrides are built from (train keys, estimator and parameters, model size),
so changing a run's settings gives it a new set: a new marker and a new check. A marker, once written,
must not change, because Snakemake 9 handles a re-run producer badly: without ``ancient`` a re-run check
would restart every finished run of its set; with ``ancient`` (as here) it restarts none, but drops the
runs still waiting on it from that invocation (they start on the next). So the rule has no params (the
script rebuilds its set from the config; a new run joining a set does not re-run the check), and
``results/checks/`` must not be deleted while its runs' results are kept (a missing marker is rebuilt
and restarts the runs of its set). A check reflects the code it ran with: after changing how overrides
are derived, re-check every set with the command below.

    python -m rlvr_repro.integrations.verl.check [--configfile extra.yaml ...]   check every set now

    check_overrides(overrides) -> dict          compose + verl's validate_config + ours (~2 s, CPU)
    check_verl_override_keys(mapping)           train.verl_overrides names real verl keys
    preflight(cfg) -> dict                      the estimator's checks on a composed config (also entry.py)

verl, Hydra and OmegaConf are imported inside the functions that compose: planning imports this
module to group the runs into sets, and must stay light.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from rlvr_repro.advantages import validate_params

from .overrides import OVERRIDE_KEY, build_overrides, verl_override_items

PLUGIN_MODULE = "rlvr_repro.integrations.verl.plugin"

MARKER_DIR = "results/checks/verl"
# What a check composes in place of a run's own names and paths (verl does not open them at compose time).
PLACEHOLDER_RUN = "check"
PLACEHOLDER_DIR = "/rlvr-check"


def check_id(spec: Mapping[str, Any]) -> str:
    """12 hex digits of the inputs that determine a run's overrides apart from names, paths and seed."""
    key = {"train": spec["train"], "estimator": spec["method"]["estimator"],
           "params": spec["method"].get("params") or {}, "params_b": spec["model"].get("params_b")}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def check_overrides_of(spec: Mapping[str, Any]) -> list[str]:
    """The run's overrides with its run id, seed, model and data paths replaced by placeholders."""
    spec = copy.deepcopy(dict(spec))
    spec["run_id"], spec["seed"] = PLACEHOLDER_RUN, 0
    spec["model"] = {**spec["model"], "path": f"{PLACEHOLDER_DIR}/model"}
    spec["dataset"] = {**spec["dataset"], "train_files": f"{PLACEHOLDER_DIR}/train.parquet",
                       "val_files": f"{PLACEHOLDER_DIR}/val.parquet"}
    return build_overrides(spec, run_dir=f"{PLACEHOLDER_DIR}/run", reward_path=f"{PLACEHOLDER_DIR}/reward.py")


def override_sets(plan) -> dict[str, dict[str, Any]]:
    """{set id: {"overrides", "verl_overrides", "runs"}} for the plan's runs (all verl runs of a plan
    built with ``train.backend: verl``). Building the overrides here is pure Python (no verl import), so
    a bad value fails at workflow start-up with the run named."""
    sets: dict[str, dict[str, Any]] = {}
    for rid in plan.runs:
        spec = plan.run_spec(rid)
        cid = check_id(spec)
        if cid not in sets:
            sets[cid] = {"overrides": check_overrides_of(spec),
                         "verl_overrides": dict(spec["train"].get("verl_overrides") or {}), "runs": []}
        sets[cid]["runs"].append(rid)
    return sets


def marker(cid: str) -> str:
    return f"{MARKER_DIR}/{cid}.json"


def run_check(overrides: list[str], verl_overrides: Mapping[str, Any], runs: list[str]) -> dict[str, Any]:
    """Check one override set; raise ValueError naming its runs and the problem, else return the
    marker's content (what was checked, against which verl, and verl's view of the run)."""
    import warnings

    warnings.filterwarnings("ignore", module="verl")
    os.environ.setdefault("VERL_LOGGING_LEVEL", "ERROR")
    shown = ", ".join(runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
    start = time.monotonic()
    try:
        check_verl_override_keys(verl_overrides)
        info = check_overrides(list(overrides))
    except ValueError as e:
        raise ValueError(f"verl config check failed for run(s) {shown}: {e}") from None
    import verl

    return {"verl_version": getattr(verl, "__version__", "?"), "runs": list(runs), "overrides": list(overrides),
            "adv_estimator": info["adv_estimator"], "use_reference_policy": info["use_reference_policy"],
            "lints": info["lints"], "seconds": round(time.monotonic() - start, 2)}


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
        m = OVERRIDE_KEY.match(key)
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
    the reference policy it needs exists, and an estimator reading the token entropy runs the legacy loop.
    Used by ``check_overrides`` and the entry point."""
    import importlib

    importlib.import_module(PLUGIN_MODULE)
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    from verl.trainer.ppo.utils import need_reference_policy

    from rlvr_repro.advantages import REQUIRES

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


def main(argv: list[str] | None = None) -> int:
    """Check every override set of the merged config (config/*.yaml + --configfile ...) in one process."""
    import argparse

    from rlvr_repro.config import load_config, validate_config

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", nargs="*", default=[], help="extra config files, as for snakemake")
    args = ap.parse_args(argv)
    plan = validate_config(load_config(*args.configfile))
    failed = 0
    for cid, s in override_sets(plan).items():
        try:
            res = run_check(**s)
            print(f"ok    {cid}  {len(s['runs'])} run(s)  {res['seconds']:.1f} s")
        except ValueError as e:
            failed += 1
            print(f"FAIL  {cid}  {e}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
