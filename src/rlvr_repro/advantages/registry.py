"""The estimator registry: each advantage estimator declares itself once, in its own module.

    @register("ace", paper="ace", requires=("old_log_probs", "ref_log_probs"),
              params={"alpha": Param("float", "correction strength (eq. 5)", minimum=0.0), ...})
    def ace(batch: Rollouts, *, alpha: float = 1.0, ...) -> torch.Tensor: ...

A parameter's default is the function's keyword default, so it is written once. Everything the
pipeline knows about estimators is derived from these declarations:

* ``ESTIMATORS`` (name -> function), ``PARAMS`` (name -> {param: Param}), ``REQUIRES`` (name -> the
  optional per-token tensors it reads). Every "does this method need the reference policy / the old
  log-probs" question (the verl override builder, the verl plug-in, the local trainer, the cost
  estimate) reads ``REQUIRES``;
* the JSON schema of the ``methods:`` config section (:func:`methods_schema`), which the workflow
  validates every preset against at start-up, and :func:`validate_params`, the same schema at run time.

:func:`discover` imports every module of this package, so a new file in ``advantages/`` is a new
estimator and no list is edited. The modules reach torch lazily (:mod:`rlvr_repro.lazy`): reading the
declarations, as the workflow does when it plans the DAG, does not import torch.

    python -m rlvr_repro.config methods.schema.yaml     print the generated methods schema
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

# The optional per-token inputs of compute_advantages an estimator may require.
TOKEN_INPUTS = ("old_log_probs", "ref_log_probs", "token_entropy")
KINDS = ("float", "bool", "choice")


@dataclass(frozen=True)
class Param:
    """One keyword argument of an estimator, as the config and the schema see it."""

    kind: str  # "float" | "bool" | "choice"
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None  # filled in from the function's keyword default by ``register``

    def schema(self) -> dict[str, Any]:
        if self.kind == "bool":
            s: dict[str, Any] = {"type": "boolean"}
        elif self.kind == "choice":
            s = {"type": "string", "enum": list(self.choices)}
        else:
            s = {"type": "number"}
            if self.minimum is not None:
                s["minimum"] = self.minimum
            if self.maximum is not None:
                s["maximum"] = self.maximum
        return {**s, "default": self.default, "description": self.doc}


@dataclass(frozen=True)
class Estimator:
    name: str
    fn: Callable
    params: Mapping[str, Param]
    requires: tuple[str, ...]
    paper: str  # the paper the estimator comes from ("baseline" for the shared baselines)


REGISTRY: dict[str, Estimator] = {}


def register(name: str, *, paper: str, params: Mapping[str, Param] | None = None,
             requires: tuple[str, ...] = ()) -> Callable:
    """Declare ``fn(batch: Rollouts, **params) -> per-response scalars [N]`` as estimator ``name``.

    ``params`` must describe exactly the function's keyword-only arguments, each with a default;
    ``requires`` names the optional per-token inputs it reads (``TOKEN_INPUTS``)."""
    params = dict(params or {})

    def declare(fn: Callable) -> Callable:
        where = f"estimator {name!r} ({fn.__module__}.{fn.__qualname__})"
        keywords = {p.name: p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY}
        if set(keywords) != set(params):
            raise TypeError(f"{where}: keyword arguments {sorted(keywords)} differ from the declared params {sorted(params)}")
        no_default = sorted(k for k, p in keywords.items() if p.default is p.empty)
        if no_default:
            raise TypeError(f"{where}: parameters {no_default} need a default")
        bad = [p for p in params.values() if p.kind not in KINDS] + [r for r in requires if r not in TOKEN_INPUTS]
        if bad:
            raise TypeError(f"{where}: {bad[0]!r} is not one of {KINDS} / {TOKEN_INPUTS}")
        old = REGISTRY.get(name)
        if old is not None and (old.fn.__module__, old.fn.__qualname__) != (fn.__module__, fn.__qualname__):
            raise ValueError(f"{where}: the name is already taken by {old.fn.__module__}.{old.fn.__qualname__}")
        declared = {k: replace(p, default=keywords[k].default) for k, p in params.items()}
        REGISTRY[name] = Estimator(name, fn, declared, tuple(requires), paper)
        return fn

    return declare


def discover() -> dict[str, Estimator]:
    """Import every module of this package (each registers its estimators); return the registry."""
    package = __name__.rpartition(".")[0]
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{info.name}")
    return REGISTRY


class _View(Mapping):
    """A read-only view of one field of the registry (so an estimator registered later shows too)."""

    def __init__(self, field: Callable[[Estimator], Any]):
        self._field = field

    def __getitem__(self, name: str):
        return self._field(REGISTRY[name])

    def __iter__(self) -> Iterator[str]:
        return iter(REGISTRY)

    def __len__(self) -> int:
        return len(REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


ESTIMATORS: Mapping[str, Callable] = _View(lambda e: e.fn)
PARAMS: Mapping[str, Mapping[str, Param]] = _View(lambda e: e.params)
REQUIRES: Mapping[str, tuple[str, ...]] = _View(lambda e: e.requires)


def needs_reference(estimator: str, *, use_kl_loss: bool = False, need_ref: bool = False) -> bool:
    """Whether a run keeps a reference policy pi_ref: with a KL loss, when its config asks for one
    (``need_ref``), and always for an estimator that reads ``ref_log_probs`` (REQUIRES, e.g. ACE). One
    rule for the local trainer, the verl overrides and the cost estimate."""
    return bool(use_kl_loss or need_ref or "ref_log_probs" in REQUIRES[estimator])


def params_schema(estimator: str) -> dict[str, Any]:
    """JSON schema of ``methods.<preset>.params`` for one estimator."""
    return {"type": "object", "additionalProperties": False,
            "properties": {k: p.schema() for k, p in REGISTRY[estimator].params.items()}}


def validate_params(estimator: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``params`` for ``estimator`` against its schema and return them with defaults filled in.

    Raises ValueError naming the estimator and the bad key (unknown key, wrong type, value outside its
    choices or range, a non-finite number)."""
    from jsonschema import Draft202012Validator

    if estimator not in REGISTRY:
        raise ValueError(f"unknown advantage estimator {estimator!r}; known: {sorted(REGISTRY)}")
    est, params = REGISTRY[estimator], dict(params or {})
    unknown = sorted(set(params) - set(est.params))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for estimator {estimator!r}; "
                         f"allowed: {sorted(est.params) or 'none'}")
    for error in Draft202012Validator(params_schema(estimator)).iter_errors(params):
        raise ValueError(f"{estimator}.params.{'.'.join(map(str, error.path))}: {error.message}")
    out = {k: params.get(k, p.default) for k, p in est.params.items()}
    for k, p in est.params.items():
        if p.kind == "float":
            out[k] = float(out[k])
            if not math.isfinite(out[k]):  # NaN passes every JSON-schema bound
                raise ValueError(f"{estimator}.params.{k}: must be finite, got {out[k]!r}")
    return out


def methods_schema() -> dict[str, Any]:
    """JSON schema of the ``methods:`` mapping (config/methods.yaml), derived from the registry.

    Each preset: estimator (enum), params (validated per estimator via if/then), train (flat train-key
    overrides, validated like an experiment's ``train``), paper, description."""
    per_estimator = [{"if": {"properties": {"estimator": {"const": name}}},
                      "then": {"properties": {"params": params_schema(name)}}} for name in REGISTRY]
    preset = {
        "type": "object",
        "required": ["estimator", "paper", "description"],
        "additionalProperties": False,
        "properties": {
            "estimator": {"enum": list(REGISTRY)},
            "params": {"type": "object"},
            "train": {"$ref": "train.schema.yaml#/$defs/partial"},
            "paper": {"enum": sorted({e.paper for e in REGISTRY.values()})},
            "description": {"type": "string"},
            "notes": {"type": "string"},
        },
        "allOf": per_estimator,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Method presets (config/methods.yaml): advantage estimator + its params + train-key overrides. "
        "Generated from the estimator registry (rlvr_repro.advantages.registry).",
        "type": "object",
        "propertyNames": {"pattern": "^[a-z0-9_]+$"},
        "additionalProperties": preset,
    }
