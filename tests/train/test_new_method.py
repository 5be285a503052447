"""A new method is one module and one preset: a toy estimator declared in a temporary module, a preset
and an experiment line in a temporary config file, planned like the workflow plans, mapped to verl
overrides, and trained for two steps by the real local trainer. No file of the repository is edited."""

from __future__ import annotations

import importlib
import json
import textwrap

import pytest
import torch
from safetensors.torch import load_file

from rlvr_repro.advantages import ESTIMATORS, REQUIRES, methods_schema
from rlvr_repro.advantages.registry import REGISTRY
from rlvr_repro.config import load_config, validate_config
from rlvr_repro.integrations.verl.overrides import build_overrides
from rlvr_repro.train.local import train_local

from .conftest import contains_answer

# The whole method: its module ...
TOY_MODULE = '''
"""Toy estimator: a signed reward, A_i = scale * (2 r_i - 1) (REINFORCE with baseline 0.5, scaled)."""
from rlvr_repro.advantages import Param, register

CALLS = []


@register("toy_signed", paper="toy", params={"scale": Param("float", "size of the signed reward", minimum=0.0)})
def toy_signed(batch, *, scale: float = 1.0):
    CALLS.append(batch.n)
    return scale * (2.0 * batch.rewards - 1.0)
'''
# ... and its preset, with the experiment line that runs it (a --configfile on top of config/local.yaml)
TOY_CONFIG = """
methods:
  toy:
    estimator: toy_signed
    params: {scale: 0.5}
    paper: toy
    description: "signed reward, scaled"
experiments:
  local: {methods: [toy]}
"""


@pytest.fixture
def toy_module(tmp_path, monkeypatch):
    (tmp_path / "toy_estimator.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("toy_estimator")
    REGISTRY.pop("toy_signed", None)
    monkeypatch.delitem(__import__("sys").modules, "toy_estimator")


def test_a_toy_estimator_is_planned_and_trained(toy_module, tmp_path, tiny_model_dir, train_parquet):
    assert ESTIMATORS["toy_signed"] is toy_module.toy_signed and REQUIRES["toy_signed"] == ()
    assert "toy" in methods_schema()["additionalProperties"]["properties"]["paper"]["enum"]

    # plan: the config validation and run matrix the Snakefile uses
    (tmp_path / "toy.yaml").write_text(TOY_CONFIG)
    plan = validate_config(load_config("local.yaml", tmp_path / "toy.yaml"))
    assert list(plan.runs) == ["smollm2_135m-local_arith-toy-s0"]
    spec = plan.run_spec("smollm2_135m-local_arith-toy-s0")
    assert spec["method"] == {"name": "toy", "estimator": "toy_signed", "params": {"scale": 0.5}}

    # the cluster backend's mapping: our estimator under its verl name, its parameter, no reference policy
    verl_spec = {**spec, "model": {**spec["model"], "path": "/m", "params_b": 0.135}}
    overrides = build_overrides(verl_spec, reward_path="/r.py")
    assert "algorithm.adv_estimator=rlvr_toy_signed" in overrides and "+algorithm.rlvr.scale=0.5" in overrides
    assert "actor_rollout_ref.actor.use_kl_loss=false" in overrides

    # two real local steps (tiny model: the planned SmolLM2 recipe, made small)
    spec["model"]["path"] = str(tiny_model_dir)
    spec["dataset"]["train_files"] = str(train_parquet)
    spec["train"].update(total_steps=2, save_freq=2, prompts_per_step=2, group_size=4, ppo_mini_batch_size=2,
                         micro_batch_size=4, max_response_length=8, lr=1e-3)
    final = train_local(spec, tmp_path / "run", reward_fn=contains_answer, progress=False, dtype="float32")
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    assert toy_module.CALLS == [8, 8]  # the trainer called the toy estimator once per step, on 2 x 4 responses
    # every response has a nonzero toy advantage (+-0.5), so the update moves the weights
    before = load_file(tiny_model_dir / "model.safetensors")
    after = load_file(final / "model.safetensors")
    assert any(not torch.equal(before[k], after[k].to(before[k].dtype)) for k in before)
