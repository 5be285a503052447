"""The local CPU data end to end: generated fixtures -> real loaders and builders -> verl parquet.

Also the parts that touch other components: render_family (prompts per model family), the config
file against its schema, a real tokenizer, verl's own dataset class, multi-process shingling.
"""

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from rlvr_repro.data import dedup as dd
from rlvr_repro.data.build import build_benchmark, build_dataset, render_family, write_local_fixtures
from rlvr_repro.data.errors import DataError
from rlvr_repro.data.fixtures import BENCH_RANGE, TRAIN_RANGE, math_train_rows
from rlvr_repro.data.tokens import TokenCounter

REPO = Path(__file__).resolve().parents[2]


def local_specs(fx: dict) -> dict:
    """The five training sets on the generated sources (what a local config points at)."""
    p = {k: str(v) for k, v in fx.items()}
    return {
        "math_train": {"builder": "math_train", "sources": {"math": {"path": p["math_train"]}},
                       "params": {"val_size": 8}},
        "dapo17k": {"builder": "dapo", "sources": {"dapo": {"path": p["dapo"]}}, "params": {"val_size": 8}},
        "openr1_stable10k": {"builder": "openr1_stable",
                             "sources": {"default": {"path": p["openr1_default"]},
                                         "extended": {"path": p["openr1_extended"]}},
                             "params": {"tokenizer": None, "pool_size": 100, "val_size": 8}},
        "lens_math_dapo": {"builder": "mix", "sources": {"math": {"path": p["math_train"]}, "dapo": {"path": p["dapo"]}},
                           "params": {"components": {"math": {"kind": "math_train"}, "dapo": {"kind": "dapo", "size": 60}},
                                      "val_size": 8}},
        "lens_math_numina": {"builder": "mix",
                             "sources": {"math": {"path": p["math_train"]}, "numina": {"path": p["numina"]}},
                             "params": {"components": {"math": {"kind": "math_train"},
                                                       "numina": {"kind": "numina", "size": 40}}, "val_size": 8}},
    }


@pytest.fixture(scope="module")
def local_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("local")
    fx = write_local_fixtures(root / "fixtures", seed=0)
    bench = {}
    for name in ("math500", "gsm8k", "mmlu_stem"):
        bench[name] = root / "benchmarks" / f"{name}.jsonl"
        build_benchmark(name, {"source": {"path": str(fx[name])}}, bench[name], progress=False)
    manifests = {name: build_dataset(name, spec, root / "data" / name, decontam=bench, progress=False)
                 for name, spec in local_specs(fx).items()}
    return root, fx, bench, manifests


def test_fixtures_are_deterministic_and_answers_exact(tmp_path):
    a = write_local_fixtures(tmp_path / "a", seed=3, math_train=30, math500=10)
    b = write_local_fixtures(tmp_path / "b", seed=3, math_train=30, math500=10)
    assert all(a[k].read_bytes() == b[k].read_bytes() for k in a)
    c = write_local_fixtures(tmp_path / "c", seed=4, math_train=30, math500=10)
    assert a["math_train"].read_bytes() != c["math_train"].read_bytes()
    for row in math_train_rows(50, seed=0):                      # the boxed answer is the computed one
        lo, hi = TRAIN_RANGE
        expr = row["problem"].replace("What is $", "").replace("$?", "").replace("\\times", "*")
        answer = row["solution"].split("\\boxed{")[1].split("}")[0]
        if row["problem"].startswith("Solve"):
            a_, b_ = [int(t) for t in row["problem"].replace("$", "").replace(".", "").split(": x + ")[1].split(" = ")]
            assert int(answer) == b_ - a_ and lo <= a_ <= hi
        else:
            assert int(answer) == eval(expr)  # noqa: S307 - generated "a op b" text only
    with pytest.raises(ValueError, match="unknown fixture size"):
        write_local_fixtures(tmp_path / "d", seed=0, maths=3)


def test_local_data_flows_through_the_real_builders(local_build):
    _, _, bench, manifests = local_build
    for name, m in manifests.items():
        assert m["outputs"]["train.parquet"]["rows"] > 0 and m["outputs"]["val.parquet"]["rows"] == 8, name
    # benchmark operands (21-60) are disjoint from training operands (1-20): nothing is contaminated
    for m in manifests.values():
        for st in m["stages"]:
            assert not any(k.startswith("contaminated:") for k in st.get("drops", {}))
    dapo = {s["stage"]: s for s in manifests["dapo17k"]["stages"]}
    assert dapo["dapo:unique_prompts"]["drops"] == {"duplicate_prompt": 240}       # 120 prompts x 3 copies
    assert manifests["lens_math_dapo"]["outputs"]["train.parquet"]["rows"] == 200 + 60
    assert BENCH_RANGE[0] > TRAIN_RANGE[1]


def test_render_family_rebuilds_prompts_only(local_build, tmp_path):
    root = local_build[0]
    src = root / "data" / "math_train" / "train.parquet"
    out = render_family(src, "qwen_math", tmp_path / "qwen_math" / "train.parquet")
    a, b = pq.read_table(src), pq.read_table(out)
    for col in ("data_source", "ability", "reward_model", "extra_info"):
        assert a.column(col).equals(b.column(col)), col
    first = b.column("prompt")[0].as_py()
    assert first[0]["role"] == "system" and "\\boxed{}" in first[0]["content"]
    assert first[1] == {"role": "user", "content": a.column("extra_info")[0].as_py()["problem"]}
    again = render_family(src, "qwen_math", tmp_path / "again.parquet")
    assert again.read_bytes() == out.read_bytes()
    with pytest.raises(DataError, match="not a verl training parquet"):
        render_family(_no_prompt_parquet(tmp_path), "qwen_math", tmp_path / "x.parquet")


def _no_prompt_parquet(tmp_path):
    import pyarrow as pa
    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    return path


def test_config_datasets_yaml_matches_its_schema():
    from jsonschema import Draft202012Validator

    from rlvr_repro.config import SCHEMA_DIR, _registry

    config = yaml.safe_load((REPO / "config" / "datasets.yaml").read_text())
    registry = _registry(SCHEMA_DIR)
    for key in ("datasets", "benchmarks"):
        validator = Draft202012Validator({"$ref": f"data.schema.yaml#/$defs/{key}"}, registry=registry)
        assert [e.message for e in validator.iter_errors(config[key])] == []
    config["datasets"]["openr1_stable10k"]["params"]["pool_sise"] = 1
    validator = Draft202012Validator({"$ref": "data.schema.yaml#/$defs/datasets"}, registry=registry)
    errors = [e for e in validator.iter_errors(config["datasets"])]
    assert errors and "pool_sise" in str([e.message for e in errors] + [c.message for e in errors for c in e.context])
    # every paper-scale source pins a commit or says TODO next to "main"
    text = (REPO / "config" / "datasets.yaml").read_text()
    assert all("TODO" in line for line in text.splitlines() if "revision: main" in line)


def test_whitespace_token_counter():
    tc = TokenCounter(None)
    assert tc.count(["a b  c", ""]) == [3, 0]
    assert tc.fits("a " * 5, 10) and not tc.fits("a " * 20, 10)
    assert tc.prompt_lengths(["What is 1 + 1?"], "generic")[0] > 5


@pytest.mark.slow
def test_real_tokenizer_counts_and_chat_template(local_build, tmp_path, smol_model_dir):
    """SmolLM2's real tokenizer and chat template, from the model the project prepares (tests/conftest.py)."""
    SMOL = smol_model_dir
    tc = TokenCounter(str(SMOL))
    n = tc.count(["What is 7 + 5?"])[0]
    assert 4 <= n <= 12
    text = "x" * 5000
    assert tc.fits(text, 10_000) and tc.fits(text, tc.count([text])[0]) and not tc.fits(text, 10)
    generic = tc.prompt_lengths(["What is 7 + 5?"], "generic")[0]
    assert generic > n + 10                              # template + instruction around the problem
    assert tc.describe() == {"tokenizer": str(SMOL), "revision": None}
    # the OpenR1 builder's length filters with the real tokenizer and chat template
    spec = local_specs(local_build[1])["openr1_stable10k"]
    spec["params"].update(tokenizer=str(SMOL), final_prompt_family="generic", final_prompt_max_tokens=60)
    m = build_dataset("openr1_stable10k", spec, tmp_path / "openr1", decontam=local_build[2], progress=False)
    assert m["notes"]["tokenizer"]["tokenizer"] == str(SMOL)
    stages = {s["stage"]: s for s in m["stages"]}
    # the generated problems render to 56-64 tokens with SmolLM2's template: some exceed 60
    assert 0 < stages["train:prompt_filter"]["drops"]["prompt_too_long"] < stages["train:prompt_filter"]["rows_in"]


@pytest.mark.slow
def test_verl_reads_the_parquet(local_build, tmp_path):
    """verl's own RLHFDataset loads our training file (no tokenizer needed without overlong filtering)."""
    pytest.importorskip("verl")
    from omegaconf import OmegaConf
    from verl.utils.dataset.rl_dataset import RLHFDataset

    path = str(local_build[0] / "data" / "openr1_stable10k" / "train.parquet")
    cfg = OmegaConf.create({"filter_overlong_prompts": False, "cache_dir": str(tmp_path / "cache")})
    ds = RLHFDataset(data_files=path, tokenizer=None, config=cfg, processor=None)
    item = ds[0]
    assert len(ds) == pq.read_metadata(path).num_rows
    assert item["reward_model"]["style"] == "rule" and item["raw_prompt"][0]["role"] == "user"
    assert item["extra_info"]["bucket"] in ("mixed", "entirely_correct", "entirely_incorrect")


def test_multiprocess_shingling_gives_the_same_signatures():
    texts = [f"problem {k}: find the sum of {k} and {k * 3} then divide by {k + 1}" for k in range(40)]
    one = dd.shingle(texts, workers=1, chunk_size=10, progress=False)
    two = dd.shingle(texts, workers=2, chunk_size=10, progress=False)
    assert np.array_equal(one.signatures, two.signatures) and np.array_equal(one.hashes, two.hashes)
