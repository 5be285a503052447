"""Parameters of every estimator: names, defaults, allowed values -- one table for validation and schema.

The keyword arguments of ``compute_advantages`` are also the config keys (``methods.<preset>.params``
and verl's ``+algorithm.rlvr.*``), so a typo must fail at workflow start-up, not after the first
rollout on a cluster. ``validate_params`` does that; ``methods_schema`` renders the same table as the
JSON-schema fragment ``workflow/schemas/methods.schema.yaml`` (a test keeps the file in sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    default: Any
    kind: str  # "float" | "bool" | "choice"
    doc: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


_EPS = Param(1e-6, "float", "GRPO std epsilon (verl's 1e-6)", minimum=0.0)
_SINGLETON = Param("zero", "choice", "advantage of a group of one response: zero (DESIGN.md) or verl (r/(1+eps), verl 0.9.1)",
                   choices=("zero", "verl"))
_ENTROPY_EPS = Param(1e-6, "float", "stabiliser of the inverse-entropy ratio (EGPO eq. 7's epsilon)", minimum=0.0)

PARAMS: dict[str, dict[str, Param]] = {
    "grpo": {"eps": _EPS, "singleton": _SINGLETON},
    "drgrpo": {"singleton": _SINGLETON},
    "reinforce": {},
    "ace": {
        "alpha": Param(1.0, "float", "ACE correction strength alpha (eq. 5; paper default 1.0, App. D)", minimum=0.0),
        "modulation": Param("softplus", "choice", "softplus (ACE default) or relu (§5.5 ablation)", choices=("softplus", "relu")),
        "eps": _EPS,
    },
    "lens": {
        "neg_weight": Param(0.25, "float", "alpha weighting all-negative groups (LENS §5.1 'Final Objective'; paper 0.25)", minimum=0.0),
        "mode": Param("full", "choice", "full | mixed_only | negative_only (LENS App. D.2 ablation)",
                      choices=("full", "mixed_only", "negative_only")),
        "d_imp": Param("pibar", "choice", "probability inside eq. 14's D_imp: pibar (length-normalised, as in the rest "
                       "of §5.1; default) | raw (eq. 14's sequence probability pi_old)", choices=("pibar", "raw")),
        "eps": _EPS,
    },
    "egpo": {
        "w_min": Param(0.8, "float", "lower clamp bound of the entropy weight (lost from the paper's text; EGPO's "
                       "authors' configs: lambda_min 0.8)", minimum=0.0, maximum=1.0),
        "w_max": Param(2.0, "float", "upper clamp bound of the entropy weight (lost from the paper's text; EGPO's "
                       "authors' configs: lambda_max 2.0)", minimum=1.0),
        "clamp": Param("asymmetric", "choice", "asymmetric (EGPO) | symmetric (C1) | neg_only (C2) | pos_only (C3)",
                       choices=("asymmetric", "symmetric", "neg_only", "pos_only")),
        "renorm": Param("none", "choice", "none (EGPO) | after_clamp (C5) | before_clamp (C6)",
                        choices=("none", "after_clamp", "before_clamp")),
        "nsr": Param(True, "bool", "constant -1 base advantage on all-incorrect groups (EGPO eq. 13, §3.2); false = "
                     "GRPO's 0 there, as in EGPO's authors' code (ablation preset egpo_no_nsr)"),
        "nsr_uniform": Param(False, "bool", "weight 1 on all-incorrect groups instead of the entropy weight (C4)"),
        "eps": _EPS,
        "entropy_eps": _ENTROPY_EPS,
    },
    "edge_grpo": {
        "entropy_norm": Param("group", "choice", "normalise each response's mean Shannon token entropy by its group's "
                              "mean (EGPO §5 'group-relative entropy ratio') or the batch mean (EDGE-GRPO's trainer)",
                              choices=("group", "batch")),
        "clip_weight": Param(False, "bool", "clamp the entropy weight to [w_min, w_max] (EGPO's authors' EDGE-GRPO)"),
        "w_min": Param(0.5, "float", "lower bound of the clamped weight", minimum=0.0, maximum=1.0),
        "w_max": Param(2.0, "float", "upper bound of the clamped weight", minimum=1.0),
        "eps": _EPS,
        "entropy_eps": _ENTROPY_EPS,
    },
    "asymgrpo": {
        "beta_pos": Param(0.9, "float", "positive-channel modulation strength (eq. 8; paper 0.9)", minimum=0.0),
        "beta_neg": Param(0.4, "float", "negative-channel modulation strength (eq. 8; paper 0.4)", minimum=0.0),
        "flip": Param("none", "choice", "none | pos (EntDecrease) | neg (EntIncrease): reflect p -> 1-p in one channel (§3.2, App. C)",
                      choices=("none", "pos", "neg")),
    },
}

# Which optional per-token tensors each estimator needs (the verl plug-in checks these before calling).
REQUIRES: dict[str, tuple[str, ...]] = {
    "grpo": (), "drgrpo": (), "reinforce": (), "asymgrpo": (),
    "ace": ("old_log_probs", "ref_log_probs"),
    "lens": ("old_log_probs",),
    "egpo": ("old_log_probs",),
    "edge_grpo": ("token_entropy",),
}


def _check_value(estimator: str, key: str, spec: Param, value: Any) -> Any:
    where = f"{estimator}.params.{key}"
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{where} must be true or false, got {value!r}")
        return value
    if spec.kind == "choice":
        if value not in spec.choices:
            raise ValueError(f"{where} must be one of {list(spec.choices)}, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{where} must be finite, got {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise ValueError(f"{where} must be >= {spec.minimum}, got {value}")
    if spec.maximum is not None and value > spec.maximum:
        raise ValueError(f"{where} must be <= {spec.maximum}, got {value}")
    return value


def validate_params(estimator: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``params`` for ``estimator`` and return them with defaults filled in.

    Raises ValueError naming the estimator and the bad key (unknown key, wrong type, value outside its
    choices or range). Call it at workflow start-up on every preset.
    """
    if estimator not in PARAMS:
        raise ValueError(f"unknown advantage estimator {estimator!r}; known: {sorted(PARAMS)}")
    spec = PARAMS[estimator]
    params = dict(params or {})
    unknown = sorted(set(params) - set(spec))
    if unknown:
        allowed = sorted(spec) or "none"
        raise ValueError(f"unknown parameter(s) {unknown} for estimator {estimator!r}; allowed: {allowed}")
    out = {k: _check_value(estimator, k, s, params.get(k, s.default)) for k, s in spec.items()}
    if "w_min" in out and out["w_min"] > out["w_max"]:
        raise ValueError(f"{estimator}.params.w_min ({out['w_min']}) must be <= w_max ({out['w_max']})")
    return out


def validate_method_presets(methods: Mapping[str, Any], train_keys=None) -> dict[str, dict[str, Any]]:
    """Validate a ``methods:`` mapping (config/methods.yaml) and return ``{preset: resolved params}``.

    Checks what the JSON schema cannot: every preset's params against its estimator's table, and (when
    ``train_keys`` is given, e.g. the keys of config ``train``) that each preset only overrides known
    train keys. Errors name the preset and the key."""
    import re

    resolved = {}
    for name, preset in methods.items():
        if not re.fullmatch(r"[a-z0-9_]+", str(name)):
            raise ValueError(f"method preset name {name!r} must match ^[a-z0-9_]+$ (it becomes part of run ids)")
        if not isinstance(preset, Mapping) or "estimator" not in preset:
            raise ValueError(f"method preset {name!r} must be a mapping with an 'estimator' key")
        try:
            resolved[name] = validate_params(preset["estimator"], preset.get("params") or {})
        except ValueError as e:
            raise ValueError(f"method preset {name!r}: {e}") from None
        if train_keys is not None:
            unknown = sorted(set(preset.get("train") or {}) - set(train_keys))
            if unknown:
                raise ValueError(f"method preset {name!r} overrides unknown train key(s) {unknown}")
    return resolved


def _param_schema(spec: Param) -> dict:
    if spec.kind == "bool":
        s: dict[str, Any] = {"type": "boolean"}
    elif spec.kind == "choice":
        s = {"type": "string", "enum": list(spec.choices)}
    else:
        s = {"type": "number"}
        if spec.minimum is not None:
            s["minimum"] = spec.minimum
        if spec.maximum is not None:
            s["maximum"] = spec.maximum
    s["default"] = spec.default
    s["description"] = spec.doc
    return s


def methods_schema() -> dict:
    """JSON schema (draft-07 subset) of the ``methods:`` mapping in config/methods.yaml.

    Each preset: estimator (enum), params (validated per estimator via if/then), train (flat train-key
    overrides; their values are validated by the main config schema), paper, description.
    """
    per_estimator = [
        {
            "if": {"properties": {"estimator": {"const": name}}},
            "then": {"properties": {"params": {
                "type": "object", "additionalProperties": False,
                "properties": {k: _param_schema(p) for k, p in spec.items()},
            }}},
        }
        for name, spec in PARAMS.items()
    ]
    preset = {
        "type": "object",
        "required": ["estimator", "paper", "description"],
        "additionalProperties": False,
        "properties": {
            "estimator": {"type": "string", "enum": list(PARAMS)},
            "params": {"type": "object"},
            "train": {"type": "object"},
            "paper": {"type": "string", "enum": ["ace", "lens", "egpo", "asymgrpo", "baseline"]},
            "description": {"type": "string"},
            "notes": {"type": "string"},
        },
        "allOf": per_estimator,
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "description": "Method presets (config/methods.yaml): advantage estimator + its params + train-key overrides. "
        "Generated from rlvr_repro.advantages.params.methods_schema(); edit that, not this file.",
        "type": "object",
        "propertyNames": {"pattern": "^[a-z0-9_]+$"},
        "additionalProperties": preset,
    }


def render_schema_yaml() -> str:
    """The text of workflow/schemas/methods.schema.yaml."""
    import yaml

    header = ("# GENERATED by rlvr_repro.advantages.params.methods_schema() -- do not edit by hand.\n"
              "# Regenerate: python -m rlvr_repro.advantages.params > workflow/schemas/methods.schema.yaml\n")
    return header + yaml.safe_dump(methods_schema(), sort_keys=False, width=110)


if __name__ == "__main__":
    print(render_schema_yaml(), end="")
