"""The train-key table is the only list of train keys: everything else is derived from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rlvr_repro.config import load_config, schema_errors
from rlvr_repro.integrations.verl import throughput
from rlvr_repro.integrations.verl.overrides import OWNED_KEYS, verl_override_items
from rlvr_repro.train.keys import BY_NAME, TRAIN_KEYS, keys, render_markdown, train_schema
from rlvr_repro.train.settings import TrainSettings

ROOT = Path(__file__).resolve().parents[2]


def test_reference_page_is_generated_from_the_table():
    page = (ROOT / "config/train_keys.md").read_text()
    assert page == render_markdown(), "regenerate: python -m rlvr_repro.train.keys > config/train_keys.md"
    for k in TRAIN_KEYS:
        assert f"| {k.name} |" in page


def test_local_settings_have_a_field_per_local_key():
    assert {f.name for f in dataclasses.fields(TrainSettings)} == set(keys(local=True))
    assert TrainSettings.from_dict({"total_steps": 2, "prompts_per_step": 4, "group_size": 2, "lr": 1e-6,
                                    "ppo_epochs": 2.0}).ppo_epochs == 2  # integral floats become ints
    assert set(keys(local=False)) == {"backend", "gpu_memory_utilization", "tensor_parallel_size", "nnodes",
                                      "gpus_per_node", *throughput.KEYS, "gpu_memory_gb", "verl_overrides"}


def test_throughput_keys_are_the_derived_ones():
    assert throughput.KEYS == ("use_dynamic_bsz", "ppo_max_token_len_per_gpu", "log_prob_max_token_len_per_gpu",
                               "ulysses_sequence_parallel_size", "param_offload", "optimizer_offload")


def test_every_verl_key_of_the_table_is_owned():
    assert OWNED_KEYS["actor_rollout_ref.actor.optim.lr"] == "train.lr"
    assert OWNED_KEYS["trainer.n_gpus_per_node"] == "train.gpus_per_node"
    assert OWNED_KEYS["algorithm.filter_groups.max_num_gen_batches"] == "train.max_gen_batches"
    try:
        verl_override_items({"actor_rollout_ref.rollout.n": 4})
    except ValueError as e:
        assert "is set by train.group_size" in str(e)
    else:
        raise AssertionError("a verl key of a train key must be refused in verl_overrides")


def test_schema_states_the_layers_and_the_required_keys():
    schema = train_schema()
    assert schema["required"] == ["backend", "total_steps", "save_freq", "prompts_per_step", "group_size", "lr",
                                  "max_response_length"]
    assert "backend" not in schema["$defs"]["partial"]["properties"]
    config = load_config("local.yaml")
    config["experiments"]["local"]["train"] = {"backend": "verl"}
    config["methods"]["grpo"]["train"] = {"lr": 0}
    errors = schema_errors(config)
    assert any(e.startswith("experiments.local.train: Additional properties") and "'backend'" in e for e in errors)
    assert any(e.startswith("methods.grpo.train.lr: 0 is less than or equal to the minimum of 0") for e in errors)
    del config["train"]["save_freq"]
    assert "train: 'save_freq' is a required property" in schema_errors(config)
