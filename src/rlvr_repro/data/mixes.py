"""Training mixes: several sources, each optionally subsampled, concatenated (LENS §6 / App. D).

LENS trains on "the MATH training set of 7,500 samples with a random subset of 17,500 samples from
DAPO" (more than DAPO's ~17.4k unique prompts: config/datasets.yaml takes all of them, size null)
and, second, on MATH + NuminaMath-1.5 (the Numina share is not stated; our default subsample size is
a config key). Spec::

    builder: mix
    sources: {math: {...}, dapo: {...}}
    params:
      components:                      # one per source, in this order
        math: {kind: math_train}       # size absent/null: every row
        dapo: {kind: dapo, size: null}
        # numina: {kind: numina, size: 17500, params: {require_valid: true}}

Each component is built by its own builder's row function (unwrap, dedup, filters, all counted),
decontaminated, then subsampled with the dataset seed, so the subset has exactly ``size`` clean
rows. Problems that occur in two components are kept once (first component wins), then the
validation split is taken as for any dataset.
"""

from __future__ import annotations

from rlvr_repro.data import dapo, math_train, numina
from rlvr_repro.data.errors import DataError
from rlvr_repro.data.examples import Example, exact_unique, seeded_choice
from rlvr_repro.data.pipeline import BuildContext, decontaminate_and_dedup, open_source, resolve_params, split

DEFAULTS = {"components": {}, "val_size": 128, "val_holdout": False, "decontaminate": "drop",
            "near_dedup": False}
KINDS = ("math_train", "dapo", "numina")
_COMPONENT_KEYS = {"kind", "size", "params"}


def _component_examples(name: str, comp: dict, spec: dict, ctx: BuildContext) -> list[Example]:
    source = open_source(spec, name, ctx)
    kind = comp["kind"]
    if kind == "math_train":
        return math_train.math_examples(source, ctx, label=name)
    if kind == "dapo":
        return dapo.dapo_examples(source, ctx, label=name)
    sub = {**numina.DEFAULTS, **(comp.get("params") or {})}
    unknown = sorted(set(sub) - set(numina.DEFAULTS))
    if unknown:
        raise DataError(ctx.dataset, f"unknown numina param(s) {unknown}", field=f"params.components.{name}.params")
    return numina.numina_examples(source, ctx, sub, label=name)


def _check_component(name: str, comp, ctx: BuildContext) -> None:
    where = f"params.components.{name}"
    if not isinstance(comp, dict):
        raise DataError(ctx.dataset, "a component must be a mapping", field=where)
    unknown = sorted(set(comp) - _COMPONENT_KEYS)
    if unknown:
        raise DataError(ctx.dataset, f"unknown key(s) {unknown}; allowed {sorted(_COMPONENT_KEYS)}",
                        field=f"{where}.{unknown[0]}")
    if comp.get("kind") not in KINDS:
        raise DataError(ctx.dataset, f"kind must be one of {KINDS}, got {comp.get('kind')!r}", field=f"{where}.kind")
    size = comp.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        raise DataError(ctx.dataset, f"size must be a positive integer or null, got {size!r}", field=f"{where}.size")
    if comp.get("params") and comp["kind"] != "numina":
        raise DataError(ctx.dataset, "only numina components take params", field=f"{where}.params")


def build(spec: dict, ctx: BuildContext) -> tuple[list[Example], list[Example]]:
    params = resolve_params(spec, DEFAULTS, ctx)
    components = params["components"]
    if not components:
        raise DataError(ctx.dataset, "a mix needs at least one component", field="params.components")
    mixed: list[Example] = []
    for name, comp in components.items():
        _check_component(name, comp, ctx)
        examples = _component_examples(name, comp, spec, ctx)
        examples = decontaminate_and_dedup(examples, ctx, decontaminate=params["decontaminate"],
                                           near_dedup=False, minhash=params["minhash"], label=name)
        size = comp.get("size")
        if size is not None:
            picked = seeded_choice(len(examples), size, ctx.seed)
            if len(picked) < size:
                ctx.manifest.note(f"{name}:subset_shortfall", {"requested": size, "available": len(examples)})
            ctx.manifest.stage(f"{name}:subset", len(picked), rows_in=len(examples),
                               drops={"not_sampled": len(examples) - len(picked)})
            examples = [examples[i] for i in picked]
        for e in examples:
            e.extra["component"] = name
        mixed.extend(examples)
    unique, n_dup = exact_unique(mixed)
    ctx.manifest.stage("mixed", len(unique), rows_in=len(mixed), drops={"duplicate_across_components": n_dup})
    if params["near_dedup"]:
        unique = decontaminate_and_dedup(unique, ctx, decontaminate="off", near_dedup=True,
                                         minhash=params["minhash"], label="mix")
    return split(unique, ctx, val_size=params["val_size"], holdout=params["val_holdout"])
