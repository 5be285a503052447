"""A protocol's benchmark files as one file: ``results/benchmarks/sets/{protocol}.json``.

Every evaluation job of a protocol reads all of its benchmarks. Listing each benchmark file as an input
of each of the ~1,100 generate and score jobs of the paper config costs Snakemake ~2 s of planning
(benchmarks/bench_dryrun.py), so those jobs take this one file instead; the rule that writes it
(``benchmark_set``, workflow/rules/data.smk) depends on every benchmark file, so a rebuilt benchmark
still reaches every job that reads it. The file also records what each job read: path, rows, sha256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from rlvr_repro.io import write_json


def write_benchmark_set(benchmarks: dict[str, str | Path], out: str | Path) -> dict:
    """``{"benchmarks": [{name, path, rows, sha256}]}`` in the given order, written atomically."""
    entries = []
    for name, path in benchmarks.items():
        data = Path(path).read_bytes()  # one read for the row count and the hash
        entries.append({"name": name, "path": str(path), "rows": sum(1 for line in data.splitlines() if line.strip()),
                        "sha256": hashlib.sha256(data).hexdigest()})
    doc = {"benchmarks": entries}
    write_json(out, doc)
    return doc


def benchmark_files(set_file: str | Path, names: list[str]) -> list[str]:
    """The files of benchmarks ``names`` (in that order) from a set file; an error names the file and
    the benchmarks it lacks (a set written for another configuration)."""
    try:
        entries = json.loads(Path(set_file).read_text(encoding="utf-8"))["benchmarks"]
        paths = {e["name"]: e["path"] for e in entries}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{set_file}: not a benchmark set ({exc!r})") from None
    missing = [n for n in names if n not in paths]
    if missing:
        raise ValueError(f"{set_file}: no benchmarks {missing} (it has {sorted(paths)})")
    return [paths[n] for n in names]
