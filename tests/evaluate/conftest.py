"""Shared fixtures for the evaluation tests: the real benchmark files (read-only, never copied)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "../shared/benchmarks"


@pytest.fixture(scope="session")
def real_rows():
    """``real_rows(name)`` -> rows of shared/benchmarks/<name>/test.jsonl; skips when absent."""
    cache: dict[str, list[dict]] = {}

    def load(name: str) -> list[dict]:
        path = BENCH_DIR / name / "test.jsonl"
        if not path.exists():
            pytest.skip(f"real benchmark file {path} not available")
        if name not in cache:
            with open(path, encoding="utf-8") as fh:
                cache[name] = [json.loads(line) for line in fh if line.strip()]
        return cache[name]

    return load
