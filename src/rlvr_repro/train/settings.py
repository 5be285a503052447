"""The local trainer's settings: the flat ``train`` keys of a run spec, checked once, up front.

Both backends read the same flat keys (config/train_keys.md); this module turns them into one frozen
dataclass so the loop never looks a key up by string. Defaults are verl 0.9.1's own defaults (so a
key left out behaves as it would on the cluster). A misspelled or unknown key, a wrong type or an
inconsistent combination raises :class:`TrainConfigError` naming the key — a typo must stop the run
before the first rollout, not be ignored for hours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# Keys only the verl backend reads; the local loop accepts and ignores them.
VERL_ONLY_KEYS = frozenset({"backend", "gpu_memory_utilization", "tensor_parallel_size", "nnodes", "gpus_per_node",
                            "use_dynamic_bsz", "ppo_max_token_len_per_gpu", "log_prob_max_token_len_per_gpu",
                            "ulysses_sequence_parallel_size", "param_offload", "optimizer_offload", "gpu_memory_gb",
                            "verl_overrides"})

# verl 0.9.1's accepted values (workers/config/actor.py, trainer/ppo/core_algos.py:kl_penalty_forward).
LOSS_AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
_KL_BASES = ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3")  # "+" suffix: straight-through k2 gradient
KL_LOSS_TYPES = _KL_BASES + tuple(b + "+" for b in _KL_BASES)


class TrainConfigError(ValueError):
    """A bad ``train`` key (or run-spec field) of a local training run; the message names it."""


@dataclass(frozen=True)
class TrainSettings:
    """One local training run's hyperparameters (meaning of each key: config/train_keys.md)."""

    total_steps: int
    prompts_per_step: int
    group_size: int
    lr: float
    save_freq: int = 0  # <= 0: only the last step is saved
    ppo_mini_batch_size: int | None = None  # prompts; None = prompts_per_step (fully on-policy)
    ppo_epochs: int = 1
    micro_batch_size: int | None = None  # sequences per forward pass; None = the whole mini-batch
    weight_decay: float = 0.01
    warmup_steps: int = 0
    grad_clip: float = 1.0
    temperature: float = 1.0
    top_p: float = 1.0
    max_prompt_length: int = 512
    max_response_length: int = 512
    clip_ratio_low: float = 0.2
    clip_ratio_high: float = 0.2
    clip_ratio_c: float = 3.0
    loss_agg_mode: str = "token-mean"
    loss_scale_factor: float | None = None
    entropy_coeff: float = 0.0
    use_kl_loss: bool = False
    kl_coef: float = 0.001
    kl_loss_type: str = "low_var_kl"
    need_ref: bool = False
    dynamic_sampling: bool = False
    max_gen_batches: int = 10
    overlong_buffer_len: int = 0
    overlong_penalty_factor: float = 1.0
    # AsymGRPO Fig. 2(d): log the mean log-prob gain of correct rollouts after the update
    # (diag/logprob_gain_correct); costs one more forward of the batch per step, so off by default
    logprob_gain_diag: bool = False

    @property
    def mini_batch_prompts(self) -> int:
        return self.ppo_mini_batch_size or self.prompts_per_step

    def is_save_step(self, step: int) -> bool:
        """verl's rule: every ``save_freq`` steps and always the last step."""
        return step == self.total_steps or (self.save_freq > 0 and step % self.save_freq == 0)

    def save_steps(self) -> list[int]:
        return [s for s in range(1, self.total_steps + 1) if self.is_save_step(s)]

    @classmethod
    def from_dict(cls, train: dict) -> "TrainSettings":
        """Validate ``run_spec["train"]``; every error names the offending key."""
        if not isinstance(train, dict):
            raise TrainConfigError(f"run_spec['train'] must be a mapping, got {type(train).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(train) - set(fields) - VERL_ONLY_KEYS)
        if unknown:
            raise TrainConfigError(f"unknown train key(s) {unknown}; the local backend knows "
                                   f"{sorted(fields)} (see config/train_keys.md)")
        required = [n for n, f in fields.items()
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        missing = [k for k in required if train.get(k) is None]
        if missing:
            raise TrainConfigError(f"missing required train key(s) {missing}")
        values = {k: _coerce(k, v, fields[k].type) for k, v in train.items() if k in fields}
        settings = cls(**values)
        settings._check_ranges()
        return settings

    def _check_ranges(self) -> None:
        def bad(key: str, why: str) -> TrainConfigError:
            return TrainConfigError(f"train.{key} = {getattr(self, key)!r}: {why}")

        for key in ("total_steps", "prompts_per_step", "group_size", "ppo_epochs", "max_prompt_length",
                    "max_response_length", "max_gen_batches"):
            if getattr(self, key) < 1:
                raise bad(key, "must be >= 1")
        for key in ("ppo_mini_batch_size", "micro_batch_size"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise bad(key, "must be >= 1 (or null)")
        if self.prompts_per_step % self.mini_batch_prompts:
            raise bad("ppo_mini_batch_size", f"must divide prompts_per_step ({self.prompts_per_step})")
        for key in ("lr", "weight_decay", "warmup_steps", "entropy_coeff", "kl_coef", "overlong_buffer_len",
                    "overlong_penalty_factor"):
            if getattr(self, key) < 0:
                raise bad(key, "must be >= 0")
        if self.grad_clip <= 0:
            raise bad("grad_clip", "must be > 0")
        if self.temperature <= 0:
            raise bad("temperature", "must be > 0 (the loop samples)")
        if not 0 < self.top_p <= 1:
            raise bad("top_p", "must be in (0, 1]")
        if not 0 <= self.clip_ratio_low < 1:
            raise bad("clip_ratio_low", "must be in [0, 1)")
        if self.clip_ratio_high < 0:
            raise bad("clip_ratio_high", "must be >= 0")
        if self.clip_ratio_c <= 1:
            raise bad("clip_ratio_c", "must be > 1 (verl's dual-clip bound)")
        if self.loss_agg_mode not in LOSS_AGG_MODES:
            raise bad("loss_agg_mode", f"expected one of {LOSS_AGG_MODES}")
        if self.loss_scale_factor is not None and self.loss_scale_factor <= 0:
            raise bad("loss_scale_factor", "must be > 0 (or null)")
        if self.kl_loss_type not in KL_LOSS_TYPES:
            raise bad("kl_loss_type", f"expected one of {KL_LOSS_TYPES}")
        if self.overlong_buffer_len > self.max_response_length:
            raise bad("overlong_buffer_len", f"must be <= max_response_length ({self.max_response_length}); "
                      "verl's DAPO reward manager asserts the same")


def _coerce(key: str, value: Any, annotation: str) -> Any:
    """Check one value against its field annotation (ints stay ints, bools are not numbers)."""
    optional = "None" in annotation
    if value is None:
        if optional:
            return None
        raise TrainConfigError(f"train.{key} must not be null")
    base = annotation.replace(" | None", "")
    if base == "bool":
        if not isinstance(value, bool):
            raise TrainConfigError(f"train.{key} must be true/false, got {value!r}")
        return value
    if base == "str":
        if not isinstance(value, str):
            raise TrainConfigError(f"train.{key} must be a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TrainConfigError(f"train.{key} must be a number, got {value!r}")
    if base == "int":
        if float(value) != int(value):
            raise TrainConfigError(f"train.{key} must be an integer, got {value!r}")
        return int(value)
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise TrainConfigError(f"train.{key} must be finite, got {value!r}")
    return value


@dataclass(frozen=True)
class RunSpec:
    """The parts of a run spec (docs/CONTRACTS.md "Run spec") the local trainer uses."""

    run_id: str
    seed: int
    model_path: str
    family: str
    train_files: tuple[str, ...]
    estimator: str
    params: dict
    train: TrainSettings
    raw: dict

    def resume_key(self) -> dict:
        """What must not change between an interrupted run and its resumption."""
        return {"seed": self.seed, "model": self.raw["model"].get("name"), "family": self.family,
                "dataset": self.raw["dataset"].get("name"), "train_files": list(self.train_files),
                "estimator": self.estimator, "params": self.params, "train": dataclasses.asdict(self.train)}


def _get(spec: dict, *path: str):
    node = spec
    for i, key in enumerate(path):
        if not isinstance(node, dict) or key not in node or node[key] is None:
            where = "run_spec" + "".join(f"[{k!r}]" for k in path[:i + 1])
            raise TrainConfigError(f"{where} is missing")
        node = node[key]
    return node


def parse_run_spec(spec: dict) -> RunSpec:
    """Check a run spec for the local backend; errors name the missing or bad field."""
    if not isinstance(spec, dict):
        raise TrainConfigError(f"run spec must be a mapping, got {type(spec).__name__}")
    backend = spec.get("backend") or (spec.get("train") or {}).get("backend") or "local"
    if backend != "local":
        raise TrainConfigError(f"run_spec['backend'] is {backend!r}; train_local runs only the 'local' backend")
    seed = _get(spec, "seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TrainConfigError(f"run_spec['seed'] must be an integer, got {seed!r}")
    files = _get(spec, "dataset", "train_files")
    files = (files,) if isinstance(files, str) else tuple(str(f) for f in files)
    estimator = _get(spec, "method", "estimator")
    params = spec["method"].get("params") or {}
    if not isinstance(params, dict):
        raise TrainConfigError(f"run_spec['method']['params'] must be a mapping, got {params!r}")
    return RunSpec(run_id=str(spec.get("run_id", "")), seed=seed, model_path=str(_get(spec, "model", "path")),
                   family=str(_get(spec, "model", "family")), train_files=files,
                   estimator=str(estimator), params=dict(params),
                   train=TrainSettings.from_dict(_get(spec, "train")), raw=spec)
