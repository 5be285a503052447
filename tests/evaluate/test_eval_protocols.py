"""Protocols: the papers' k-lists, sample counts and sampling settings, and validation errors."""

import copy
from pathlib import Path

import jsonschema
import pytest
import yaml

from rlvr_repro.evaluate.protocols import (
    ProtocolError, default_k_list, resolve, validate_protocol)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "protocols.yaml"
SCHEMA = ROOT / "workflow" / "schemas" / "protocols.schema.yaml"


@pytest.fixture(scope="module")
def protocols():
    return {name: validate_protocol(name, spec) for name, spec in yaml.safe_load(CONFIG.read_text())["protocols"].items()}


def test_ace_protocol(protocols):
    # ACE §5.1: T 0.7, top-p 0.95, Pass@1..32 on MATH-500 and AIME 2025; n = 128 samples (Table 5).
    for bench in ("math500", "aime25"):
        r = resolve(protocols["ace"], bench, "qwen_math")
        assert (r["temperature"], r["top_p"], r["n"], r["k_list"]) == (0.7, 0.95, 128, [1, 2, 4, 8, 16, 32])
        assert r["prompt_template"] == "default"
    assert protocols["ace"]["benchmarks"] == ["math500", "aime25"]
    assert resolve(protocols["ace"], "math500", "qwen3")["max_tokens"] == 8192


def test_lens_protocol(protocols):
    # LENS §6: T 1.0, top-p 1.0, Pass@k for k in {1,2,4,8,16}, 16 generations, MATH test.
    r = resolve(protocols["lens"], "math", "llama31")
    assert (r["temperature"], r["top_p"], r["n"], r["k_list"]) == (1.0, 1.0, 16, [1, 2, 4, 8, 16])
    assert r["max_tokens"] == 4096 and protocols["lens"]["benchmarks"] == ["math"]


def test_egpo_protocol(protocols):
    # EGPO §4.1: 8 trials, mean pass@1, 3,072 tokens (Qwen2.5-Math) / 16,384 (R1-Distill).
    p = protocols["egpo"]
    assert p["benchmarks"] == ["math500", "aime24", "minerva", "gsm8k", "mmlu_stem"]
    for bench in p["benchmarks"]:
        r = resolve(p, bench, "qwen_math")
        assert (r["n"], r["trials"], r["k_list"], r["max_tokens"]) == (8, 8, [1], 3072)
        assert resolve(p, bench, "r1_distill")["max_tokens"] == 16384
        # §4.1 "evalscope with default templates": evalscope's prompt templates (rlvr_repro.prompts)
        assert r["prompt_template"] == "evalscope"


def test_asymgrpo_protocol(protocols):
    # AsymGRPO §4.2: T 0.4, Avg@5 MATH-500/OlympiadBench, Avg@10 AIME24/AIME25/AMC23.
    p = protocols["asymgrpo"]
    expected = {"math500": 5, "olympiadbench": 5, "aime24": 10, "aime25": 10, "amc23": 10}
    assert {b: resolve(p, b, "qwen3")["n"] for b in p["benchmarks"]} == expected
    assert all(resolve(p, b, "qwen3")["temperature"] == 0.4 for b in p["benchmarks"])
    assert resolve(p, "math500", "qwen_math")["max_tokens"] == 2560
    # Qwen2.5-7B shares the qwen_math family with Qwen2.5-Math-1.5B but trains at 4,096 tokens (App. H)
    assert resolve(p, "math500", "qwen_math", "qwen25_7b")["max_tokens"] == 4096
    assert resolve(p, "math500", "qwen_math", "qwen25_math_1_5b")["max_tokens"] == 2560


def test_asymgrpo_appg_protocol(protocols):
    # AsymGRPO App. G (§3 analysis): greedy decoding, evaluation every 10 steps, EMA 0.7 on the curves.
    p = protocols["asymgrpo_appg"]
    assert p["benchmarks"] == protocols["asymgrpo"]["benchmarks"]
    for bench in p["benchmarks"]:
        r = resolve(p, bench, "qwen3")
        assert (r["temperature"], r["n"], r["k_list"]) == (0.0, 1, [1])
    assert (p["eval_every"], p["curve_ema"]) == (10, 0.7)
    assert resolve(p, "aime24", "qwen_math", "qwen25_math_1_5b")["max_tokens"] == 2560
    assert protocols["asymgrpo"]["eval_every"] is None and protocols["asymgrpo"]["curve_ema"] is None


def test_local_protocol_is_small(protocols):
    r = resolve(protocols["local"], "math500", "generic")
    assert r["n"] <= 4 and r["max_tokens"] <= 64


def test_config_validates_against_schema(protocols):
    schema = yaml.safe_load(SCHEMA.read_text())
    doc = yaml.safe_load(CONFIG.read_text())
    jsonschema.validate(doc["protocols"], schema)
    bad = copy.deepcopy(doc["protocols"])
    bad["ace"]["temprature"] = 0.7
    with pytest.raises(jsonschema.ValidationError, match="temprature"):
        jsonschema.validate(bad, schema)


def test_default_k_list():
    assert default_k_list(1) == [1]
    assert default_k_list(16) == [1, 2, 4, 8, 16]
    assert default_k_list(10) == [1, 2, 4, 8, 10]
    spec = {"temperature": 1.0, "n": 6, "max_tokens": 10, "benchmarks": ["gsm8k"]}
    assert resolve(validate_protocol("p", spec), "gsm8k", "generic")["k_list"] == [1, 2, 4, 6]


BASE = {"temperature": 1.0, "n": 4, "max_tokens": 32, "benchmarks": ["gsm8k"]}


@pytest.mark.parametrize("change, message", [
    ({"temprature": 1.0}, r"protocols.p: unknown key\(s\) \['temprature'\]"),
    ({"top_p": 1.5}, r"protocols.p.top_p: must be in \(0, 1\]"),
    ({"temperature": -1}, r"protocols.p.temperature"),
    ({"n": 0}, r"protocols.p.n: must be an int >= 1"),
    ({"k_list": [1, 8]}, r"k_list \[1, 8\] has k > n=4"),
    ({"trials": 5}, r"trials=5 > n=4"),
    ({"benchmarks": ["GSM 8k"]}, r"'GSM 8k' is not a benchmark name"),
    ({"max_tokens": {"qwen_math": 10}}, r"no entry for family 'qwen3' and no 'default'"),
    ({"max_tokens": {"default": 10, "qwen4": 3}}, r"max_tokens.qwen4: not a model family"),
    ({"overrides": {"aime24": {"n": 2}}}, r"overrides.aime24: not in this protocol's benchmarks"),
    ({"overrides": {"gsm8k": {"nn": 2}}}, r"overrides.gsm8k: unknown key"),
    ({"max_tokens_by_model": {"qwen25_7b": 0}}, r"max_tokens_by_model.qwen25_7b: must be an int >= 1"),
    ({"prompt_template": "lighteval"}, r"prompt_template: must be one of \['default', 'evalscope'\]"),
    ({"grader": "qwen25_math"}, r"grader: must be one of \['evalscope', 'math_verify', 'strict_answer'\]"),
    ({"eval_every": 0}, r"eval_every: must be null or an int >= 1"),
    ({"curve_ema": 1.0}, r"curve_ema: must be null or a number in \[0, 1\)"),
])
def test_validation_errors_name_the_key(change, message):
    with pytest.raises(ProtocolError, match=message):
        validate_protocol("p", {**BASE, **change})


def test_validation_is_idempotent_and_accepts_config_benchmark_names():
    p = validate_protocol("local", {**BASE, "benchmarks": ["local_math500", "local_gsm8k"]})
    assert validate_protocol("local", p) == p
    assert resolve(p, "local_gsm8k", "generic")["n"] == 4


def test_missing_key_and_unknown_family():
    with pytest.raises(ProtocolError, match="missing required key 'n'"):
        validate_protocol("p", {k: v for k, v in BASE.items() if k != "n"})
    p = validate_protocol("p", BASE)
    with pytest.raises(ProtocolError, match="unknown model family 'gpt'"):
        resolve(p, "gsm8k", "gpt")
    with pytest.raises(ProtocolError, match="not in"):
        resolve(p, "aime24", "generic")


def test_a_bad_protocol_is_named():
    with pytest.raises(ProtocolError, match=r"protocols.x.top_k"):
        validate_protocol("x", {"temperature": 1.0, "n": 2, "max_tokens": 8, "benchmarks": ["gsm8k"], "top_k": -5})


def test_each_protocol_names_the_grader_of_its_papers_harness(protocols):
    """EGPO evaluated with evalscope; LENS names Math-Verify; ACE "a rule-based math verifier";
    AsymGRPO names none: the strict default. The report prints each protocol's grader."""
    from rlvr_repro.report.provenance import protocol_graders

    raw = yaml.safe_load(CONFIG.read_text())["protocols"]
    assert all("grader" in spec for spec in raw.values())
    assert {name: p["grader"] for name, p in protocols.items()} == {
        "ace": "math_verify", "ace_analysis": "math_verify", "ace_entropy": "math_verify", "lens": "math_verify", "egpo": "evalscope",
        "asymgrpo": "math_verify", "asymgrpo_appg": "math_verify", "local": "strict_answer"}
    assert validate_protocol("p", BASE)["grader"] == "math_verify"       # not named: the strict default
    lines = protocol_graders(raw)
    assert lines["grader egpo"].startswith("evalscope: evalscope v1.4.2")
    assert lines["grader lens"].startswith("math_verify: math-verify 0.9.0")
    assert protocol_graders({"x": {}}) == {"grader x": lines["grader lens"]}
