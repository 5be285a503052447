"""End-to-end runs of train_local on the tiny model: checkpoints, log fields, KL on/off, resume, dynamic sampling."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from rlvr_repro.train import checkpoint as ckpt
from rlvr_repro.train.local import train_local
from rlvr_repro.train.trainlog import TrainLog

from .conftest import contains_answer

CONTRACT_FIELDS = ("step", "time_s", "lr", "loss", "reward_mean", "response_length_mean", "entropy", "entropy_proxy",
                   "frac_all_correct", "frac_all_incorrect", "clip_frac", "kl", "grad_norm", "n_groups_kept",
                   "frac_nonzero_adv", "timing/cpu_s")


def _log(out_dir):
    return TrainLog(out_dir).records()


def test_checkpoints_at_configured_steps_and_log_fields(make_spec, tmp_path):
    out = tmp_path / "run"
    final = train_local(make_spec(total_steps=3, save_freq=2), out, reward_fn=contains_answer, progress=False)
    assert final == out / "checkpoints" / "step_3"
    assert sorted(ckpt.complete_checkpoints(out)) == [2, 3]  # every save_freq steps + the last step
    for step in (2, 3):
        d = out / "checkpoints" / f"step_{step}"
        assert json.loads((d / "DONE").read_text()) == {"step": step}
        assert not (d / ckpt.STATE_FILE).exists()  # finished run: no resumable state left behind
        assert (d / "model.safetensors").exists() and (d / "tokenizer.json").exists()
        AutoModelForCausalLM.from_pretrained(d)  # a plain HF directory
    assert not list((out / "checkpoints").glob(".step_*"))
    records = _log(out)
    assert [r["step"] for r in records] == [1, 2, 3]
    for r in records:
        for key in CONTRACT_FIELDS:
            assert key in r, key
        assert r["kl"] is None  # no reference model without a KL term
        assert any(k.startswith("diag/") for k in r)
        for k, v in r.items():
            assert not (isinstance(v, float) and not math.isfinite(v)), k
    # the two checkpoints differ: training moved the weights
    w2 = load_file(out / "checkpoints/step_2/model.safetensors")
    w3 = load_file(out / "checkpoints/step_3/model.safetensors")
    assert any(not torch.equal(w2[k], w3[k]) for k in w2)


def _strip_times(records):
    return [{k: v for k, v in r.items() if not (k.startswith("timing/") or k in ("time_s", "elapsed_s"))}
            for r in records]


class Interrupt(RuntimeError):
    pass


def interrupting(after_calls: int):
    """A verifier that dies on its (after_calls + 1)-th call, like a killed job."""
    calls = {"n": 0}

    def reward(data_sources, solutions, ground_truths):
        calls["n"] += 1
        if calls["n"] > after_calls:
            raise Interrupt("killed")
        return contains_answer(data_sources, solutions, ground_truths)

    return reward


def test_resume_continues_from_the_last_checkpoint(make_spec, tmp_path):
    spec = make_spec(total_steps=4, save_freq=2, use_kl_loss=True)
    straight = tmp_path / "straight"
    train_local(spec, straight, reward_fn=contains_answer, progress=False, dtype="float32")

    resumed = tmp_path / "resumed"
    with pytest.raises(Interrupt):  # dies during step 4, after step 2's checkpoint and step 3's log line
        train_local(spec, resumed, reward_fn=interrupting(3), progress=False, dtype="float32")
    assert [r["step"] for r in _log(resumed)] == [1, 2, 3]
    assert sorted(ckpt.complete_checkpoints(resumed)) == [2]
    assert (resumed / "checkpoints/step_2" / ckpt.STATE_FILE).exists()
    (resumed / "checkpoints/step_2/DONE").unlink()  # Snakemake deletes a failed job's outputs
    (resumed / "checkpoints/.step_4.tmp-x").mkdir()  # a half-written checkpoint

    calls = {"n": 0}

    def counting(*args):
        calls["n"] += 1
        return contains_answer(*args)

    train_local(spec, resumed, reward_fn=counting, progress=False)  # auto: keeps the dtype the run logged
    assert calls["n"] == 2  # steps 3 and 4 only: resumed, not restarted
    assert {r["compute_dtype"] for r in _log(resumed)} == {"float32"}
    assert (resumed / "checkpoints/step_2/DONE").exists()
    assert not list((resumed / "checkpoints").glob(".step_*"))
    # the resumed run is the uninterrupted run: same samples, same updates, same log
    assert _strip_times(_log(resumed)) == _strip_times(_log(straight))
    for step in (2, 4):
        a = load_file(straight / f"checkpoints/step_{step}/model.safetensors")
        b = load_file(resumed / f"checkpoints/step_{step}/model.safetensors")
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert _log(resumed)[-1]["elapsed_s"] > _log(resumed)[1]["elapsed_s"]


def test_finished_run_is_not_retrained(make_spec, tmp_path):
    spec = make_spec(total_steps=2, save_freq=2)
    out = tmp_path / "run"
    train_local(spec, out, reward_fn=contains_answer, progress=False)
    before = (out / "train_log.jsonl").read_text()
    train_local(spec, out, reward_fn=interrupting(0), progress=False)  # would raise if it sampled anything
    assert (out / "train_log.jsonl").read_text() == before


def _snakemake_made_dirs(out, steps):
    """What Snakemake does before a training job: the parent dirs of its declared outputs, empty."""
    for step in steps:
        (out / "checkpoints" / f"step_{step}").mkdir(parents=True, exist_ok=True)


def test_empty_checkpoint_dirs_are_not_checkpoints(make_spec, tmp_path, caplog):
    """A fresh run in the dirs Snakemake pre-creates: no false "no resumable state" warning."""
    from rlvr_repro.train import checkpoint as ckpt

    out = tmp_path / "run"
    _snakemake_made_dirs(out, (1, 2))
    assert ckpt.complete_checkpoints(out) == {}
    with caplog.at_level("WARNING"):
        train_local(make_spec(total_steps=2, save_freq=1), out, reward_fn=contains_answer, progress=False)
    assert "no resumable state" not in caplog.text
    assert sorted(ckpt.complete_checkpoints(out)) == [1, 2]


def test_a_lost_final_checkpoint_is_rebuilt_not_faked(make_spec, tmp_path):
    """The defect of issue 10: killed while saving the last checkpoint, the log has every step but
    step_N/ is gone; Snakemake recreates it empty. The rerun must not call that finished and write
    DONE into an empty directory: it trains again and saves a real model."""
    import shutil

    spec = make_spec(total_steps=2, save_freq=1)
    out = tmp_path / "run"
    train_local(spec, out, reward_fn=contains_answer, progress=False)
    shutil.rmtree(out / "checkpoints" / "step_2")
    _snakemake_made_dirs(out, (2,))
    final = train_local(spec, out, reward_fn=contains_answer, progress=False)
    assert (final / "config.json").is_file() and (final / "model.safetensors").is_file()
    assert (final / "DONE").is_file()


def test_resume_refuses_a_changed_spec(make_spec, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Interrupt):
        train_local(make_spec(total_steps=3, save_freq=1), out, reward_fn=interrupting(1), progress=False)
    with pytest.raises(Exception, match=r"run spec changed .*train\.lr"):
        train_local(make_spec(total_steps=3, save_freq=1, lr=5e-3), out, reward_fn=contains_answer, progress=False)


@pytest.mark.parametrize("estimator,train,has_ref", [
    ("grpo", {}, False),
    ("grpo", {"use_kl_loss": True}, True),
    ("grpo", {"need_ref": True}, True),
    ("ace", {}, True),  # ACE's confidence needs the reference policy
])
def test_reference_model_only_when_needed(make_spec, tmp_path, estimator, train, has_ref):
    out = tmp_path / "run"
    train_local(make_spec(estimator=estimator, total_steps=2, save_freq=2, **train), out,
                reward_fn=contains_answer, progress=False)
    records = _log(out)
    if not has_ref:
        assert all(r["kl"] is None and r["kl_loss"] is None for r in records)
        assert not any(k.startswith("diag/ace_") for k in records[0])
    else:
        assert records[0]["kl"] == 0.0  # step 1: the policy is still the reference
        assert records[1]["kl"] > 0.0
        assert "diag/ace_conf_shift_incorrect_mean" in records[0] or "diag/n_incorrect" in records[0]
        assert (records[0]["kl_loss"] is not None) == bool(train.get("use_kl_loss"))


def test_dynamic_sampling_drops_uniform_groups_and_refills(make_spec, tmp_path):
    """First rollout: every group all-wrong (dropped); second: mixed groups fill the batch."""
    calls = {"n": 0}

    def reward(data_sources, solutions, ground_truths):
        calls["n"] += 1
        if calls["n"] == 1:
            return [0.0] * len(solutions)
        return [float(i % 2) for i in range(len(solutions))]

    out = tmp_path / "run"
    train_local(make_spec(total_steps=1, dynamic_sampling=True, max_gen_batches=3), out, reward_fn=reward,
                progress=False)
    (r,) = _log(out)
    assert (r["n_gen_batches"], r["n_groups_generated"], r["n_groups_kept"]) == (2, 4, 2)
    assert r["frac_all_incorrect"] == 0.5 and r["reward_mean"] == 0.25  # over everything generated
    assert r["diag/frac_mixed"] == 1.0  # the training batch holds only mixed groups
    assert r["loss"] is not None


def test_dynamic_sampling_with_nothing_kept_skips_the_update(make_spec, tmp_path):
    out = tmp_path / "run"
    train_local(make_spec(total_steps=2, save_freq=2, dynamic_sampling=True, max_gen_batches=2), out,
                reward_fn=lambda d, s, g: [0.0] * len(s), progress=False)
    records = _log(out)
    assert [r["n_gen_batches"] for r in records] == [2, 2]
    assert all(r["n_groups_kept"] == 0 and r["loss"] is None and r["grad_norm"] is None for r in records)
    a = load_file(out / "checkpoints/step_2/model.safetensors")
    b = AutoModelForCausalLM.from_pretrained(make_spec()["model"]["path"]).state_dict()
    # no update happened: the checkpoint is the fp32 original in the compute dtype `auto` chose (bf16 on
    # CPUs with bf16 instructions, where the original's rounding is all that may differ)
    assert {str(t.dtype) for t in a.values()} == {"torch." + records[0]["compute_dtype"]}
    assert all(torch.equal(a[k], b[k].to(a[k].dtype)) for k in a)


def test_overlong_shaping_reaches_the_rewards(make_spec, tmp_path):
    out = tmp_path / "run"
    # the random tiny model rarely stops, so most responses hit max_response_length (8) -> penalty -1 * 0.5
    train_local(make_spec(total_steps=1, overlong_buffer_len=4, overlong_penalty_factor=0.5), out,
                reward_fn=contains_answer, progress=False)
    (r,) = _log(out)
    assert r["reward_shaped_mean"] == pytest.approx(r["reward_mean"] - 0.5 * r["truncated_frac"], abs=0.13)
    assert r["reward_shaped_mean"] < r["reward_mean"]


def test_bad_estimator_fails_before_sampling(make_spec, tmp_path):
    with pytest.raises(ValueError, match="estimator"):
        train_local(make_spec(estimator="gpro"), tmp_path / "a", reward_fn=interrupting(0), progress=False)
    with pytest.raises(ValueError, match="alpha"):
        train_local(make_spec(estimator="ace", params={"alpha": -1}), tmp_path / "b", reward_fn=interrupting(0),
                    progress=False)


@pytest.mark.parametrize("group_size,reward", [(1, 1.0), (4, 1.0), (4, 0.0)])
def test_degenerate_groups_train_without_nan(make_spec, tmp_path, group_size, reward):
    """One response per prompt, or every group all-correct / all-incorrect: the log stays finite (json
    refuses NaN). All-equal groups of 4 and groups of one (docs/CONTRACTS.md: no baseline) get GRPO advantage 0,
    so nothing moves; with singleton="verl" a group of one keeps verl's convention (mean 0, std 1: the
    advantage is the reward itself)."""
    out = tmp_path / "run"
    train_local(make_spec(total_steps=1, group_size=group_size), out,
                reward_fn=lambda d, s, g: [reward] * len(s), progress=False)
    (r,) = _log(out)
    assert r["frac_all_correct"] == (1.0 if reward else 0.0) and r["frac_all_incorrect"] == (0.0 if reward else 1.0)
    assert r["loss"] == 0.0 and r["grad_norm"] == 0.0
    if group_size == 1:
        verl_out = tmp_path / "verl_convention"
        train_local(make_spec(total_steps=1, group_size=1, params={"singleton": "verl"}), verl_out,
                    reward_fn=lambda d, s, g: [reward] * len(s), progress=False)
        (r,) = _log(verl_out)
        assert r["loss"] == pytest.approx(-reward, abs=1e-5) and r["grad_norm"] > 0  # token-mean of -A * ratio(=1)


def test_logprob_gain_diagnostic_is_opt_in_and_measures_the_update(make_spec, tmp_path):
    """AsymGRPO Fig. 2(d): with logprob_gain_diag the step logs E[log pi_new - log pi_old] over the correct
    rollouts (one extra forward after the update); without it the key is absent."""
    reward = lambda d, s, g: [float(i % 2) for i in range(len(s))]  # noqa: E731  half correct, every group mixed
    on, off = tmp_path / "on", tmp_path / "off"
    train_local(make_spec(total_steps=1, logprob_gain_diag=True, lr=1e-4), on, reward_fn=reward, progress=False)
    train_local(make_spec(total_steps=1, lr=1e-4), off, reward_fn=reward, progress=False)
    (r_on,), (r_off,) = _log(on), _log(off)
    assert "diag/logprob_gain_correct" not in r_off and "timing/logprob_gain_s" not in r_off
    assert r_on["diag/n_correct"] > 0 and "timing/logprob_gain_s" in r_on
    # a policy-gradient step with positive advantages on the correct rollouts raises their log-probs
    assert r_on["diag/logprob_gain_correct"] > 0
    assert r_on["reward_mean"] == r_off["reward_mean"]  # the diagnostic does not change training


@pytest.mark.parametrize("mini_batch", [2, 1])  # one on-policy pass (entropy of the update's forward) / a separate old forward
def test_edge_grpo_gets_the_old_policys_shannon_token_entropy(make_spec, tmp_path, monkeypatch, mini_batch):
    """EDGE-GRPO reads per-token H_t = -sum_v pi_old(v) log pi_old(v) (verl's `entropys`); recomputed here with a
    plain forward of the initial model over the logged sequences (temperature 1, the run's setting)."""
    from rlvr_repro.train import local

    seen = {}
    real = local.compute_advantages

    def spy(name, **kw):
        seen.update(name=name, **kw)
        return real(name, **kw)

    monkeypatch.setattr(local, "compute_advantages", spy)
    spec = make_spec(estimator="edge_grpo", total_steps=1, ppo_mini_batch_size=mini_batch)  # one step: the entropy is read before its update
    model = AutoModelForCausalLM.from_pretrained(spec["model"]["path"]).eval()
    captured = {}
    real_update = local.update_policy

    def capture_inputs(t, batch, inputs, *a, **kw):
        captured.update(inputs=inputs, width=batch.response_ids.shape[1], mask=batch.response_mask)
        return real_update(t, batch, inputs, *a, **kw)

    monkeypatch.setattr(local, "update_policy", capture_inputs)
    train_local(spec, tmp_path / "run", reward_fn=lambda d, s, g: [float(i % 2) for i in range(len(s))],
                progress=False)
    assert seen["name"] == "edge_grpo" and seen["token_entropy"] is not None
    ids, attn = captured["inputs"]["input_ids"], captured["inputs"]["attention_mask"]
    width, mask = captured["width"], captured["mask"].bool()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=attn,
                       position_ids=captured["inputs"]["position_ids"]).logits[:, -width - 1:-1].float()
    logp = torch.log_softmax(logits, dim=-1)
    expected = -(logp.exp() * logp).sum(-1)
    assert torch.allclose(seen["token_entropy"][mask], expected[mask], atol=1e-4)
    assert not torch.allclose(expected[mask], -seen["old_log_probs"][mask], atol=1e-2)  # not the NLL proxy
