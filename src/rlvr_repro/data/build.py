"""The entry points the Snakemake data rules call.

    build_dataset(name, spec, out_dir, *, decontam=None, snapshots=None) -> manifest
        out_dir/train.parquet, out_dir/val.parquet (verl schema, family "generic"), out_dir/manifest.json
    build_benchmark(name, spec, out_path, *, snapshot=None) -> small manifest
        out_path: normalized benchmark JSONL (docs/CONTRACTS.md)
    render_family(in_parquet, family, out_parquet)       (re-exported from verl_format)
    write_local_fixtures(out_dir, seed, **sizes)          (re-exported from fixtures)
    download_source(spec, out_dir)                        (re-exported from sources; a localrule)

``spec`` is the config entry (``datasets.<name>`` / ``benchmarks.<name>`` in config/datasets.yaml).
``decontam`` maps benchmark name -> its normalized JSONL; when the spec has ``decontaminate_against``
(the dataset's own reference set, config/datasets.yaml) exactly those benchmarks are used. ``snapshots`` maps a source name -> the
directory a download localrule wrote for it (compute nodes read those instead of the Hub).
"""

from __future__ import annotations

import json
from pathlib import Path

from rlvr_repro.data import dapo, math_train, mixes, openr1
from rlvr_repro.data.benchmarks import LOADERS, normalize_rows
from rlvr_repro.data.errors import DataError
from rlvr_repro.data.fixtures import write_local_fixtures
from rlvr_repro.data.builder_io import read_jsonl
from rlvr_repro.data.manifest import Manifest
from rlvr_repro.data.pipeline import BuildContext
from rlvr_repro.data.sources import download_source, load_source, with_snapshot
from rlvr_repro.data.verl_format import CANONICAL_FAMILY, render_family, write_examples
from rlvr_repro.io import sha256_file, write_json, write_jsonl

BUILDERS = {"math_train": math_train.build, "dapo": dapo.build, "openr1_stable": openr1.build, "mix": mixes.build}
DATASET_KEYS = {"builder", "sources", "params", "seed", "description", "decontaminate_against"}
BENCHMARK_KEYS = {"source", "loader", "select", "description", "heldout_of"}

__all__ = ["build_dataset", "build_benchmark", "render_family", "write_local_fixtures", "download_source",
           "load_references", "BUILDERS"]


def build_dataset(name: str, spec: dict, out_dir: Path, *, decontam: dict[str, Path] | None = None,
                  snapshots: dict[str, Path] | None = None, progress: bool = True) -> dict:
    """Build training set ``name`` from its config ``spec``; returns the manifest written."""
    spec = _checked_dataset_spec(name, spec)
    if snapshots:
        unknown = sorted(set(snapshots) - set(spec["sources"]))
        if unknown:
            raise DataError(name, f"snapshots given for unknown source(s) {unknown}", field="sources")
        spec = {**spec, "sources": {k: with_snapshot(v, snapshots.get(k)) for k, v in spec["sources"].items()}}
    seed = spec.get("seed", 0)
    manifest = Manifest(name, spec["builder"], seed=seed, params=spec.get("params") or {})
    decontam = dict(decontam or {})
    wanted = spec.get("decontaminate_against")
    if wanted is not None:  # the dataset's own reference set: exactly these benchmark files
        missing = sorted(set(wanted) - set(decontam))
        if missing:
            raise DataError(name, f"decontaminate_against lists {missing} but no benchmark file was given for them",
                            field="decontaminate_against")
        decontam = {b: decontam[b] for b in wanted}
    references = load_references(decontam)
    manifest.note("decontamination_sets", {b: {"rows": len(p), "sha256": sha256_file(Path(decontam[b]))}
                                           for b, p in references.items()})
    ctx = BuildContext(name, manifest, seed, references, progress)
    train, val = BUILDERS[spec["builder"]](spec, ctx)
    if not train:
        raise DataError(name, "the build left no training rows (see the stage counts above)")
    out_dir = Path(out_dir)
    for split_name, rows in (("train", train), ("val", val)):
        path = write_examples(rows, out_dir / f"{split_name}.parquet", split=split_name,
                              family=CANONICAL_FAMILY, dataset=name)
        manifest.output(f"{split_name}.parquet", path, len(rows))
    manifest.note("family", CANONICAL_FAMILY)
    result = manifest.to_dict()
    write_json(out_dir / "manifest.json", result, sort_keys=True)
    return result


def build_benchmark(name: str, spec: dict, out_path: Path, *, snapshot: Path | None = None,
                    progress: bool = True) -> dict:
    """Normalize benchmark ``name`` to ``out_path`` (JSONL); returns rows, revision and sha256."""
    if not isinstance(spec, dict):
        raise DataError(name, f"a benchmark spec must be a mapping, got {type(spec).__name__}")
    unknown = sorted(set(spec) - BENCHMARK_KEYS)
    if unknown:
        raise DataError(name, f"unknown key(s) {unknown}; allowed {sorted(BENCHMARK_KEYS)}", field=unknown[0])
    if "source" not in spec:
        raise DataError(name, "missing 'source'", field="source")
    loader = spec.get("loader", name)
    if loader not in LOADERS:
        raise DataError(name, f"no loader for {loader!r}; set loader: one of {sorted(LOADERS)}", field="loader")
    source = load_source(with_snapshot(spec["source"], snapshot), dataset=name, source="source")
    select = spec.get("select") or {}
    if not isinstance(select, dict) or not all(isinstance(v, str) for v in select.values()):
        raise DataError(name, "select must map a field to a substring, e.g. {url: 2023_AMC}", field="select")
    rows, report = normalize_rows(loader, source, benchmark=name, select=select, progress=progress)
    path = write_jsonl(Path(out_path), rows)
    return {"benchmark": name, "loader": loader, "source": source.info, "revision": source.revision,
            **report, "sha256": sha256_file(path)}


def load_references(decontam: dict[str, Path]) -> dict[str, list[str]]:
    """{benchmark: problems} from normalized benchmark JSONL files, in sorted benchmark order."""
    refs = {}
    for bench in sorted(decontam):
        rows = read_jsonl(Path(decontam[bench]), dataset=bench)
        problems = []
        for i, row in enumerate(rows):
            if not isinstance(row.get("problem"), str):
                raise DataError(bench, f"{decontam[bench]}: not a normalized benchmark row", row=i, field="problem")
            problems.append(row["problem"])
        refs[bench] = problems
    return refs


def _checked_dataset_spec(name: str, spec: dict) -> dict:
    if not isinstance(spec, dict):
        raise DataError(name, f"a dataset spec must be a mapping, got {type(spec).__name__}")
    unknown = sorted(set(spec) - DATASET_KEYS)
    if unknown:
        raise DataError(name, f"unknown key(s) {unknown}; allowed {sorted(DATASET_KEYS)}", field=unknown[0])
    if spec.get("builder") not in BUILDERS:
        raise DataError(name, f"builder must be one of {sorted(BUILDERS)}, got {spec.get('builder')!r}",
                        field="builder")
    if not isinstance(spec.get("sources"), dict) or not spec["sources"]:
        raise DataError(name, "sources must be a non-empty mapping of source name -> spec", field="sources")
    seed = spec.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise DataError(name, f"seed must be an integer, got {seed!r}", field="seed")
    return json.loads(json.dumps(spec))  # a private deep copy: builders never mutate the config
