"""The loader registry is the one list of answer formats: the config's loader enum and the grading modes
follow from it, and the local run generates the fixtures its config names."""

from __future__ import annotations

import pytest

from rlvr_repro.config import fixture_errors, load_config, schema_errors
from rlvr_repro.data.benchmarks import LOADERS
from rlvr_repro.data.fixtures import FIXTURES, fixtures_named_by, write_local_fixtures
from rlvr_repro.evaluate.extract import BENCHMARK_MODES, MODES


def test_every_loader_declares_a_grading_mode():
    assert {name: loader.mode for name, loader in LOADERS.items()} == {
        "math500": "math", "math": "math", "aime24": "integer", "aime25": "integer", "amc23": "numeric",
        "olympiadbench": "olympiad", "minerva": "minerva", "gsm8k": "numeric", "mmlu_stem": "choice",
        "heldout": "math"}  # dapo17k_heldout: DAPO answers, graded as the reward reads them
    assert all(loader.mode in MODES for loader in LOADERS.values())
    assert all(BENCHMARK_MODES[name] == loader.mode for name, loader in LOADERS.items())


def test_a_benchmark_not_named_after_a_loader_must_name_one():
    config = load_config()
    config["benchmarks"]["aime26"] = {"source": {"path": "bench/aime26.jsonl"}}
    assert "benchmarks.aime26: 'loader' is a required property" in schema_errors(config)
    config["benchmarks"]["aime26"]["loader"] = "aime2026"
    assert any(e.startswith("benchmarks.aime26.loader: 'aime2026' is not one of ['aime24'") for e in schema_errors(config))
    config["benchmarks"]["aime26"]["loader"] = "aime25"
    assert schema_errors(config) == []


def test_the_local_config_generates_the_fixtures_it_names():
    config = load_config("local.yaml")
    assert fixtures_named_by(config) == ["arith_hard", "arith_test", "arith_train", "arith_words"]
    assert fixtures_named_by(load_config()) == []  # the paper config reads no generated source
    config["benchmarks"]["local_arith"]["source"]["path"] = "resources/fixtures/arith_tset.jsonl"
    assert fixture_errors(config) == [
        "benchmarks.local_arith.source.path: resources/fixtures/arith_tset.jsonl is not a generated fixture; "
        f"known: {sorted(f.file for f in FIXTURES.values())}"]


def test_only_the_named_fixtures_are_written(tmp_path):
    written = write_local_fixtures(tmp_path, 0, names=["gsm8k"], gsm8k=5)
    assert list(written) == ["gsm8k"] and [p.name for p in tmp_path.iterdir()] == ["gsm8k.jsonl"]
    assert len(written["gsm8k"].read_text().splitlines()) == 5
    with pytest.raises(ValueError, match=r"unknown fixture\(s\) \['gsm9k'\]"):
        write_local_fixtures(tmp_path, 0, names=["gsm9k"])
