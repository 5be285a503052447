"""A protocol's benchmark set file (rlvr_repro.data.benchmark_sets): what the evaluation jobs read."""

import hashlib
import json

import pytest

from rlvr_repro.data.benchmark_sets import benchmark_files, write_benchmark_set


def test_set_lists_each_file_with_rows_and_hash_and_resolves_names_in_order(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text('{"id": 1}\n{"id": 2}\n\n')
    b = tmp_path / "b.jsonl"
    b.write_text('{"id": 3}\n')
    out = tmp_path / "sets/p.json"
    doc = write_benchmark_set({"math500": a, "gsm8k": b}, out)
    assert json.loads(out.read_text()) == doc
    assert doc["benchmarks"][0] == {"name": "math500", "path": str(a), "rows": 2,
                                    "sha256": hashlib.sha256(a.read_bytes()).hexdigest()}
    assert doc["benchmarks"][1]["rows"] == 1
    assert benchmark_files(out, ["gsm8k", "math500"]) == [str(b), str(a)]
    with pytest.raises(ValueError, match=r"p.json: no benchmarks \['aime24'\] \(it has \['gsm8k', 'math500'\]\)"):
        benchmark_files(out, ["math500", "aime24"])
    out.write_text("{}")
    with pytest.raises(ValueError, match="p.json: not a benchmark set"):
        benchmark_files(out, ["math500"])
