"""config/methods.yaml: every preset the papers need exists, validates, and maps to the right estimator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from rlvr_repro.advantages import validate_params
from rlvr_repro.config import load_config, schema_errors

ROOT = Path(__file__).resolve().parents[2]
METHODS = yaml.safe_load((ROOT / "config/methods.yaml").read_text())["methods"]

REQUIRED = ["grpo", "drgrpo", "reinforce", "dapo", "grpo_entreg", "ace_grpo", "ace_dapo", "ace_relu", "lens",
            "lens_mixed_only", "lens_negative_only", "egpo", *[f"egpo_c{i}" for i in range(1, 7)], "edge_grpo",
            "asymgrpo", "asym_reinforce", "asym_pos_only", "asym_neg_only", "asym_symmetric", "asym_ent_decrease",
            "asym_ent_increase", "grpo_clip_higher"]


def _resolved():
    return {name: validate_params(p["estimator"], p.get("params")) for name, p in METHODS.items()}


def test_all_presets_present_and_valid():
    assert set(REQUIRED) <= set(METHODS)
    assert schema_errors(load_config()) == []
    assert set(_resolved()) == set(METHODS)


def test_presets_encode_the_papers():
    r = _resolved()
    assert r["ace_relu"]["modulation"] == "relu" and r["ace_grpo"]["alpha"] == 1.0
    assert METHODS["ace_dapo"]["train"]["clip_ratio_high"] == 0.28 and METHODS["ace_dapo"]["train"]["need_ref"]
    assert METHODS["dapo"]["train"]["dynamic_sampling"] and METHODS["dapo"]["train"]["loss_agg_mode"] == "token-mean"
    assert r["lens_negative_only"]["mode"] == "negative_only" and r["lens"]["neg_weight"] == 0.25
    egpo = {f"egpo_c{i}": r[f"egpo_c{i}"] for i in range(1, 7)}
    assert egpo["egpo_c1"]["clamp"] == "symmetric" and egpo["egpo_c2"]["clamp"] == "neg_only"
    assert egpo["egpo_c3"]["clamp"] == "pos_only" and egpo["egpo_c4"]["nsr_uniform"]
    assert egpo["egpo_c5"]["renorm"] == "after_clamp" and egpo["egpo_c6"]["renorm"] == "before_clamp"
    # EGPO's authors' configs (lambda_min 0.8, lambda_max 2.0, entropy_epsilon 1e-5), in every EGPO preset
    for name in ("egpo", "egpo_no_nsr", *egpo):
        assert (r[name]["w_min"], r[name]["w_max"], r[name]["entropy_eps"]) == (0.8, 2.0, 1e-5), name
    # egpo_no_nsr is egpo without NSR and nothing else
    assert r["egpo"]["nsr"] and not r["egpo_no_nsr"]["nsr"]
    assert {k: v for k, v in r["egpo_no_nsr"].items() if k != "nsr"} == {k: v for k, v in r["egpo"].items() if k != "nsr"}
    # EDGE-GRPO as EGPO's authors ran it: group ratio of the Shannon entropy, weight clamped to [0.5, 2]
    assert r["edge_grpo"] | {} == {**r["edge_grpo"], "entropy_norm": "group", "clip_weight": True, "w_min": 0.5,
                                   "w_max": 2.0}
    assert (r["asymgrpo"]["beta_pos"], r["asymgrpo"]["beta_neg"]) == (0.9, 0.4)
    assert (r["asym_pos_only"]["beta_pos"], r["asym_pos_only"]["beta_neg"]) == (0.5, 0.0)
    assert r["asym_ent_decrease"]["flip"] == "pos" and r["asym_ent_increase"]["flip"] == "neg"
    # every ACE preset asks for the reference policy it needs
    for name, preset in METHODS.items():
        if preset["estimator"] == "ace":
            assert preset["train"]["need_ref"], name


@pytest.mark.parametrize("name,preset,message", [
    ("x", {"estimator": "ace", "params": {"beta": 1}}, r"methods.x.params: Additional properties .*'beta'"),
    ("y", {"estimator": "grpo", "train": {"clip_high": 0.3}}, r"methods.y.train: Additional properties .*'clip_high'"),
    ("z", {"estimator": "grpo", "train": {"lr": -1.0}}, r"methods.z.train.lr: -1.0 is less than or equal to the minimum"),
    ("Bad-Name", {"estimator": "grpo"}, r"methods: 'Bad-Name' does not match"),
    ("w", {"estimator": "grp"}, r"methods.w.estimator: 'grp' is not one of \['grpo'"),
])
def test_bad_presets_are_named(name, preset, message):
    config = load_config()
    config["methods"][name] = {"paper": "baseline", "description": "d", **preset}
    assert any(re.search(message, e) for e in schema_errors(config)), schema_errors(config)
