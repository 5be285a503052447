"""The local learning task: train / held-out disjoint by arithmetic fact, checked again by the builder's
MinHash decontamination, in the real source schemas through the real loaders."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest

from rlvr_repro.data import arith_task as at
from rlvr_repro.data.build import build_benchmark, build_dataset, write_local_fixtures


def _facts(rows, key="problem"):
    """Canonical facts of "What is a op b?" rows."""
    out = set()
    for r in rows:
        a, op, b = r[key].removeprefix("What is ").removesuffix("?").split()
        out.add(at.canonical_key(op, int(a), int(b)))
    return out


def test_the_problem_space_and_canonical_keys():
    easy = at.easy_problems()
    assert len(easy) == 100 + 55 + 81 and len(set(easy)) == len(easy)
    assert at.canonical_key("+", 4, 3) == at.canonical_key("+", 3, 4) == ("+", 3, 4)
    assert at.canonical_key("*", 9, 2) == ("*", 2, 9)
    assert at.canonical_key("-", 7, 3) == ("-", 7, 3)  # not commutative
    assert len(at.hard_problems()) == 900 and all(a >= 10 > b for _, a, b in at.hard_problems())


def test_split_keeps_each_fact_on_one_side():
    train, held = at.split_by_key(at.easy_problems(), 120, random.Random(0))
    assert len(train) + len(held) == 236 and len(held) >= 120
    keys_train = {at.canonical_key(*p) for p in train}
    keys_held = {at.canonical_key(*p) for p in held}
    assert not keys_train & keys_held
    with pytest.raises(ValueError, match="only 236 exist"):
        at.split_by_key(at.easy_problems(), 237, random.Random(0))


def test_rows_are_exact_and_deterministic():
    a = at.arith_task_rows(0, n_test=120, n_words=40, n_hard=100, n_hard_train=20)
    assert a == at.arith_task_rows(0, n_test=120, n_words=40, n_hard=100, n_hard_train=20)
    assert a != at.arith_task_rows(1, n_test=120, n_words=40, n_hard=100, n_hard_train=20)
    for r in a["arith_test"] + a["arith_hard"]:  # the gold answer is the computed one
        assert int(r["answer"]) == eval(r["problem"].removeprefix("What is ").removesuffix("?"))  # noqa: S307
        assert f"\\boxed{{{r['answer']}}}" in r["solution"]
    assert len(a["arith_test"]) >= 120 and len(a["arith_words"]) == 40 and len(a["arith_hard"]) == 100
    assert all(r["answer"].endswith(f"#### {eval(r['answer'].split('<<')[1].split('=')[0])}")  # noqa: S307
               for r in a["arith_words"])
    # train: every easy fact that is not held out, plus the requested hard ones, none of them held out
    train = _facts(a["arith_train"])
    assert not train & _facts(a["arith_test"]) and not train & _facts(a["arith_hard"])
    assert sum(1 for r in a["arith_train"] if r["level"] == "Level 2") == 20
    assert len(a["arith_train"]) == 236 - len(a["arith_test"]) + 20
    with pytest.raises(ValueError, match="word problems"):
        at.arith_task_rows(0, n_test=120, n_words=500, n_hard=100, n_hard_train=0)


def _build(root, train_rows):
    fx = write_local_fixtures(root / "fixtures", seed=0)
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in train_rows))
    bench = {}
    for name, loader in (("arith_test", "math500"), ("arith_words", "gsm8k"), ("arith_hard", "math500")):
        bench[name] = root / "benchmarks" / f"{name}.jsonl"
        build_benchmark(loader, {"source": {"path": str(fx[name])}}, bench[name], progress=False)
    spec = {"builder": "math_train", "sources": {"main": {"path": str(root / "train.jsonl")}},
            "params": {"val_size": 8, "decontaminate": "drop", "near_dedup": True}}
    return fx, bench, build_dataset("local_arith", spec, root / "data", decontam=bench, progress=False)


def test_builder_decontamination_finds_nothing_in_the_real_split_and_catches_a_planted_copy(tmp_path):
    fx = write_local_fixtures(tmp_path / "probe", seed=0)
    train_rows = [json.loads(line) for line in fx["arith_train"].read_text().splitlines()]
    held = json.loads(fx["arith_test"].read_text().splitlines()[0])
    _, bench, manifest = _build(tmp_path / "clean", train_rows)
    stages = {s["stage"]: s for s in manifest["stages"]}
    assert stages["decontaminated"]["rows"] == len(train_rows)  # disjoint by construction: nothing to drop
    planted = train_rows + [{"problem": held["problem"], "level": "Level 1", "type": "Arithmetic",
                             "solution": held["solution"]}]
    _, _, manifest = _build(tmp_path / "planted", planted)
    stages = {s["stage"]: s for s in manifest["stages"]}
    assert stages["decontaminated"]["rows"] == len(train_rows)  # the planted held-out problem is removed
    assert sum(stages["decontaminated"]["drops"].values()) == 1
    problems = {r["problem"] for r in pq.read_table(tmp_path / "planted" / "data" / "train.parquet")
                .column("extra_info").to_pylist()}
    assert held["problem"] not in problems
