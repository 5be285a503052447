"""Config validation at workflow start-up: a bad key or value stops the run with its key path.

Two layers:
  1. JSON schema (``workflow/schemas/config.schema.yaml`` and the section schemas it references):
     types, enums, misspelled keys (``additionalProperties: false``).
  2. Semantic checks the schema cannot express: references between sections (an experiment naming
     an unknown model or method preset), finite estimator parameters, run-id collisions
     (:class:`rlvr_repro.plan.Plan` raises those).

Section schemas that follow from the code (the methods schema from the estimator registry, the
train schema from the train-key table, the benchmark loaders) are generated here at start-up
(:func:`generated_schemas`), never kept as files; ``python -m rlvr_repro.config train.schema.yaml``
prints one.

Errors are collected and reported together, each as ``<key.path>: <problem>``, so a user fixes a
config in one round instead of one error per Snakemake start.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from rlvr_repro.plan import ConfigError, Plan

REPO_DIR = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_DIR / "workflow" / "schemas"
CONFIG_DIR = REPO_DIR / "config"
# The files the Snakefile loads, in merge order; a --configfile goes on top of them.
CONFIG_FILES = ("methods.yaml", "datasets.yaml", "protocols.yaml", "tables.yaml", "config.yaml")


def load_config(*extra: str | Path) -> dict:
    """The config Snakemake builds: CONFIG_FILES in order, then ``extra`` files (like --configfile),
    merged with Snakemake's own rule (mappings key by key; lists and scalars replaced). Names without
    a directory are looked up in config/."""
    from snakemake.utils import update_config

    config: dict = {}
    for name in (*CONFIG_FILES, *extra):
        path = Path(name) if Path(name).parent != Path(".") else CONFIG_DIR / name
        update_config(config, yaml.safe_load(path.read_text()) or {})
    return config


def generated_schemas() -> dict[str, dict]:
    """The section schemas derived from the code's registries (no file to regenerate by hand):
    ``methods.schema.yaml`` from the estimator registry (rlvr_repro.advantages.registry),
    ``train.schema.yaml`` from the train-key table (rlvr_repro.train.keys), ``loaders.schema.yaml``
    from the benchmark loaders (rlvr_repro.data.benchmarks.LOADERS)."""
    from rlvr_repro.advantages import methods_schema
    from rlvr_repro.data.benchmarks import loader_schema
    from rlvr_repro.train.keys import train_schema

    return {"methods.schema.yaml": methods_schema(), "train.schema.yaml": train_schema(),
            "loaders.schema.yaml": loader_schema()}


@functools.lru_cache(maxsize=None)
def _schema_files(schema_dir: Path) -> dict[str, dict]:
    """The schema files of ``schema_dir``, parsed once per process (the report validates each table
    spec with them while the workflow plans)."""
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(schema_dir.glob("*.schema.yaml"))}


def _registry(schema_dir: Path):
    """A `referencing` registry that resolves ``other.schema.yaml#/...`` to the sibling files and to
    the generated section schemas (regenerated each time: an estimator may register late, e.g. in tests)."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    contents = {**_schema_files(Path(schema_dir)), **generated_schemas()}
    return Registry().with_resources(
        (name, Resource.from_contents(c, default_specification=DRAFT202012)) for name, c in contents.items())


def _key_path(path, prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    parts += [str(p) if not isinstance(p, int) else f"[{p}]" for p in path]
    return ".".join(parts).replace(".[", "[") or "<top level>"


def error_messages(validator, instance, prefix: str = "") -> list[str]:
    """Every violation of ``validator``'s schema as ``key.path: message`` (``prefix`` names the
    instance's own place, e.g. ``tables[3]``), sorted by key path."""
    errors = []
    for err in validator.iter_errors(instance):
        # For oneOf/anyOf failures the most specific sub-error names the real problem: a branch whose
        # type matches the value, then the shortest message.
        best = min(err.context, key=lambda e: (e.validator == "type", len(e.message))) if err.context else err
        errors.append(f"{_key_path(best.absolute_path if best.absolute_path else err.absolute_path, prefix)}: "
                      f"{best.message}")
    return sorted(set(errors))


def schema_validator(name: str, ref: str = "", schema_dir: Path = SCHEMA_DIR):
    """A validator for ``name`` (a file of ``schema_dir`` or a generated schema), at ``#/$defs/<ref>``."""
    from jsonschema import Draft202012Validator

    registry = _registry(schema_dir)
    return Draft202012Validator({"$ref": f"{name}#/$defs/{ref}" if ref else name}, registry=registry)


def schema_errors(config: dict, schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """Every JSON-schema violation of the merged config as ``key.path: message``, sorted by key path."""
    return error_messages(schema_validator("config.schema.yaml", schema_dir=schema_dir), config)


def method_param_errors(config: dict) -> list[str]:
    """What the schema cannot state about the presets' estimator parameters: finite numbers (NaN
    passes every JSON-schema bound)."""
    from rlvr_repro.advantages import validate_params

    errors = []
    for name, preset in (config.get("methods") or {}).items():
        try:
            validate_params(preset["estimator"], preset.get("params") or {})
        except ValueError as exc:
            errors.append(f"methods.{name}.params: {exc}")
    return errors


def fixture_errors(config: dict) -> list[str]:
    """A source that reads a generated local fixture no generator writes (rlvr_repro.data.fixtures)."""
    from rlvr_repro.data.fixtures import fixtures_named_by

    try:
        fixtures_named_by(config)
    except ValueError as exc:
        return [str(exc)]
    return []


def validate_config(config: dict, schema_dir: Path = SCHEMA_DIR) -> Plan:
    """Validate ``config`` and return its :class:`Plan`; raise :class:`ConfigError` listing every problem."""
    errors = schema_errors(config, schema_dir)
    if not errors:
        errors = method_param_errors(config) + fixture_errors(config)
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(errors))
    return Plan(config)


if __name__ == "__main__":  # python -m rlvr_repro.config train.schema.yaml: print a generated schema
    import sys

    generated = generated_schemas()
    if len(sys.argv) != 2 or sys.argv[1] not in generated:
        sys.exit(f"usage: python -m rlvr_repro.config {{{'|'.join(generated)}}}")
    print(yaml.safe_dump(generated[sys.argv[1]], sort_keys=False, width=110), end="")
