"""The local trainer's settings: the flat ``train`` keys of a run spec, checked once, up front.

Both backends read the same flat keys; their one list is the table in :mod:`rlvr_repro.train.keys`
(meaning of each: config/train_keys.md). ``TrainSettings`` has one field per key the local trainer
reads, with the table's default (verl 0.9.1's own default, so a key left out behaves as it would on
the cluster), so the loop never looks a key up by string. The keys are validated with the schema the
workflow validates the config with (``keys.train_schema``); a misspelled or unknown key, a wrong type
or an inconsistent combination raises :class:`TrainConfigError` naming the key -- a typo must stop
the run before the first rollout, not be ignored for hours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from rlvr_repro.train.keys import KL_LOSS_TYPES, LOSS_AGG_MODES, REQUIRED, TRAIN_KEYS, train_schema

__all__ = ["KL_LOSS_TYPES", "LOSS_AGG_MODES", "RunSpec", "TrainConfigError", "TrainSettings", "parse_run_spec"]


class TrainConfigError(ValueError):
    """A bad ``train`` key (or run-spec field) of a local training run; the message names it."""


_LOCAL_KEYS = [k for k in TRAIN_KEYS if k.local]
_Fields = dataclasses.make_dataclass(
    "TrainSettings",
    [(k.name, k.annotation | None if k.nullable else k.annotation) for k in _LOCAL_KEYS if k.default is REQUIRED]
    + [(k.name, k.annotation | None if k.nullable else k.annotation, dataclasses.field(default=k.default))
       for k in _LOCAL_KEYS if k.default is not REQUIRED],
    frozen=True)


class TrainSettings(_Fields):
    """One local training run's hyperparameters: a field per train key with ``local`` in the table."""

    @property
    def mini_batch_prompts(self) -> int:
        return self.ppo_mini_batch_size or self.prompts_per_step

    def is_save_step(self, step: int) -> bool:
        """verl's rule: every ``save_freq`` steps and always the last step."""
        return step == self.total_steps or (self.save_freq > 0 and step % self.save_freq == 0)

    def save_steps(self) -> list[int]:
        return [s for s in range(1, self.total_steps + 1) if self.is_save_step(s)]

    @classmethod
    def from_dict(cls, train: dict) -> TrainSettings:
        """Validate ``run_spec["train"]``; every error names the offending key."""
        from jsonschema import Draft202012Validator

        if not isinstance(train, dict):
            raise TrainConfigError(f"run_spec['train'] must be a mapping, got {type(train).__name__}")
        unknown = sorted(set(train) - {k.name for k in TRAIN_KEYS})
        if unknown:
            raise TrainConfigError(f"unknown train key(s) {unknown}; known: {sorted(k.name for k in TRAIN_KEYS)} "
                                   "(see config/train_keys.md)")
        missing = [k.name for k in _LOCAL_KEYS if k.default is REQUIRED and train.get(k.name) is None]
        if missing:
            raise TrainConfigError(f"missing required train key(s) {missing}")
        schema = train_schema()["$defs"]["optional"]
        for error in sorted(Draft202012Validator(schema).iter_errors(train), key=lambda e: list(e.path)):
            raise TrainConfigError(f"train.{'.'.join(map(str, error.path))}: {error.message}")
        settings = cls(**{k.name: k.coerce(train[k.name]) for k in _LOCAL_KEYS if k.name in train})
        settings._check_combinations()
        return settings

    def _check_combinations(self) -> None:
        """What the schema cannot state: rules between two keys."""
        if self.prompts_per_step % self.mini_batch_prompts:
            raise TrainConfigError(f"train.ppo_mini_batch_size = {self.ppo_mini_batch_size}: must divide "
                                   f"prompts_per_step ({self.prompts_per_step})")
        if self.overlong_buffer_len > self.max_response_length:
            raise TrainConfigError(f"train.overlong_buffer_len = {self.overlong_buffer_len}: must be <= "
                                   f"max_response_length ({self.max_response_length}); verl's DAPO reward "
                                   "manager asserts the same")


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
