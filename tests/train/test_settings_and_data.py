"""Train keys and training data: bad input raises naming the key, file or row; the sampler is seeded."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from transformers import AutoTokenizer

from rlvr_repro.plan import checkpoint_steps
from rlvr_repro.train.prompts_data import PromptSampler, load_prompts
from rlvr_repro.train.settings import TrainConfigError, TrainSettings, parse_run_spec

from .conftest import write_train_parquet

BASE = {"total_steps": 5, "prompts_per_step": 4, "group_size": 2, "lr": 1e-6}


def test_defaults_are_verls_and_verl_only_keys_are_accepted():
    s = TrainSettings.from_dict({**BASE, "backend": "local", "nnodes": 1, "gpus_per_node": 8,
                                 "gpu_memory_utilization": 0.7, "tensor_parallel_size": 1})
    assert (s.clip_ratio_low, s.clip_ratio_high, s.clip_ratio_c, s.loss_agg_mode) == (0.2, 0.2, 3.0, "token-mean")
    assert (s.kl_coef, s.kl_loss_type, s.weight_decay, s.mini_batch_prompts) == (0.001, "low_var_kl", 0.01, 4)


@pytest.mark.parametrize("total,freq", [(5, 2), (4, 2), (3, 10), (1, 1), (7, 3)])
def test_save_schedule_matches_the_workflow(total, freq):
    s = TrainSettings.from_dict({**BASE, "total_steps": total, "save_freq": freq})
    assert s.save_steps() == checkpoint_steps({"total_steps": total, "save_freq": freq})


@pytest.mark.parametrize("train,match", [
    ({"lr_rate": 1e-6}, r"unknown train key\(s\) \['lr_rate'\]"),
    ({"lr": None}, r"missing required train key\(s\) \['lr'\]"),
    ({"group_size": 2.5}, "train.group_size: 2.5 is not of type 'integer'"),
    ({"use_kl_loss": "yes"}, "train.use_kl_loss: 'yes' is not of type 'boolean'"),
    ({"lr": "fast"}, "train.lr: 'fast' is not of type 'number'"),
    ({"loss_agg_mode": "token-avg"}, "train.loss_agg_mode: 'token-avg' is not one of"),
    ({"kl_loss_type": "k9"}, "train.kl_loss_type: 'k9' is not one of"),
    ({"ppo_mini_batch_size": 3}, "train.ppo_mini_batch_size = 3: must divide prompts_per_step"),
    ({"clip_ratio_c": 1.0}, "train.clip_ratio_c: 1.0 is less than or equal to the minimum of 1"),
    ({"clip_ratio_low": 1.0}, "train.clip_ratio_low: 1.0 is greater than or equal to the maximum of 1"),
    ({"temperature": 0}, "train.temperature: 0 is less than or equal to the minimum of 0"),
    ({"top_p": 1.5}, "train.top_p: 1.5 is greater than the maximum of 1"),
    ({"ppo_epochs": None}, "train.ppo_epochs: None is not of type 'integer'"),
    ({"overlong_buffer_len": 600, "max_response_length": 512}, "train.overlong_buffer_len = 600: must be <= max"),
    ({"total_steps": 0}, "train.total_steps: 0 is less than the minimum of 1"),
])
def test_bad_train_keys_are_named(train, match):
    with pytest.raises(TrainConfigError, match=match):
        TrainSettings.from_dict({**BASE, **train})


def test_run_spec_errors_name_the_field(make_spec):
    spec = make_spec()
    spec["model"].pop("path")
    with pytest.raises(TrainConfigError, match=r"run_spec\['model'\]\['path'\] is missing"):
        parse_run_spec(spec)
    spec = make_spec()
    spec["backend"] = "verl"
    with pytest.raises(TrainConfigError, match="only the 'local' backend"):
        parse_run_spec(spec)
    spec = make_spec()
    spec["dataset"]["train_files"] = [spec["dataset"]["train_files"]] * 2
    assert len(parse_run_spec(spec).train_files) == 2


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_load_prompts_renders_with_the_chat_template(tok, train_parquet):
    records = load_prompts(str(train_parquet), tok, "generic", max_prompt_length=64)
    assert len(records) == 6 and records[0].ground_truth == "5" and records[0].data_source == "arith"
    text = tok.decode(list(records[0].token_ids))
    assert text.startswith("<|user|>What is 4 + 1?") and text.endswith("<|assistant|>")
    assert records[1].origin.endswith("train.parquet:1")
    # two files: rows in file order
    assert len(load_prompts([train_parquet, train_parquet], tok, "generic", 64)) == 12


def test_load_prompts_errors_name_file_and_row(tok, tmp_path):
    with pytest.raises(TrainConfigError, match=r"2 prompt\(s\) longer than train.max_prompt_length=10: .*long.parquet:0 \(1\d tokens\)"):
        load_prompts(write_train_parquet(tmp_path / "long.parquet", answers=(5, 6)), tok, "generic", 10)
    pq.write_table(pa.table({"prompt": [[{"role": "user", "content": "q"}]], "data_source": ["x"]}), tmp_path / "a.parquet")
    with pytest.raises(TrainConfigError, match=r"a.parquet: missing column\(s\) \['reward_model'\]"):
        load_prompts(tmp_path / "a.parquet", tok, "generic", 64)
    pq.write_table(pa.table({"prompt": [[{"role": "user", "content": "q"}], [{"role": "user", "content": "r"}]],
                             "data_source": ["x", "x"],
                             "reward_model": [{"style": "rule", "ground_truth": "1"},
                                              {"style": "rule", "ground_truth": ""}]}), tmp_path / "b.parquet")
    with pytest.raises(TrainConfigError, match=r"b.parquet: row 1: reward_model.ground_truth is empty"):
        load_prompts(tmp_path / "b.parquet", tok, "generic", 64)
    with pytest.raises(TrainConfigError, match="training file not found"):
        load_prompts(tmp_path / "missing.parquet", tok, "generic", 64)


def test_sampler_epochs_are_seeded_permutations():
    s = PromptSampler(5, seed=3)
    first = s.take(5)
    assert sorted(first) == [0, 1, 2, 3, 4]
    second = s.take(3) + s.take(2)  # crossing nothing: exactly the second epoch
    assert sorted(second) == [0, 1, 2, 3, 4] and s.epoch == 1
    wrap = PromptSampler(5, seed=3)
    assert wrap.take(7) == first + second[:2]  # wraps into the next epoch mid-call
    resumed = PromptSampler.from_state(wrap.state_dict(), 5, 3)
    assert resumed.take(3) == second[2:]
    assert PromptSampler(5, seed=4).take(5) != first or PromptSampler(5, seed=5).take(5) != first
    with pytest.raises(TrainConfigError, match="sampler saw 5 rows"):
        PromptSampler.from_state(wrap.state_dict(), 6, 3)
