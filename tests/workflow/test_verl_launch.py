"""The pieces of the verl backend that run outside verl: metrics conversion, checkpoint discovery, export."""
import json

import pytest

from rlvr_repro.train import verl_launch


def _attempt(path, records, torn=False):
    lines = [json.dumps({"step": s, "data": d}) for s, d in records]
    path.write_text("\n".join(lines) + ("\n{\"step\": 9, \"da" if torn else "\n"))


def test_convert_metrics_merges_attempts_and_maps_names(tmp_path):
    verl_dir = tmp_path / "verl"
    verl_dir.mkdir()
    _attempt(verl_dir / "metrics.1.jsonl", [(1, {"critic/score/mean": 0.1, "actor/pg_clipfrac": 0.0}),
                                            (2, {"critic/score/mean": 0.2})], torn=True)
    # attempt 2 resumed from step 1's checkpoint: its step 2 replaces attempt 1's
    _attempt(verl_dir / "metrics.2.jsonl", [(2, {"critic/score/mean": 0.25, "diag/frac_none_solved": 0.5,
                                                 "perf/throughput": 10.0}), (3, {"critic/score/mean": 0.3})])
    out = tmp_path / "train_log.jsonl"
    assert verl_launch.convert_metrics(verl_dir, out) == 3
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert rows[0] == {"step": 1, "reward_mean": 0.1, "clip_frac": 0.0}
    assert rows[1] == {"step": 2, "reward_mean": 0.25, "diag/frac_none_solved": 0.5, "verl/perf/throughput": 10.0}
    assert verl_launch.attempt_number(verl_dir) == 3


def test_convert_metrics_rejects_a_corrupt_middle_line(tmp_path):
    verl_dir = tmp_path / "verl"
    verl_dir.mkdir()
    (verl_dir / "metrics.1.jsonl").write_text('{"step": 1, "data": {}}\nnot json\n{"step": 2, "data": {}}\n')
    with pytest.raises(ValueError, match=r"metrics.1.jsonl:2"):
        verl_launch.convert_metrics(verl_dir, tmp_path / "log.jsonl")


def test_saved_steps_and_hf_export(tmp_path):
    ckpts = tmp_path / "checkpoints"
    for step in (10, 20, 5):
        hf = ckpts / f"global_step_{step}" / "actor" / "huggingface"
        hf.mkdir(parents=True)
        (hf / "config.json").write_text("{}")
        (hf / "model.safetensors").write_bytes(b"weights")
        (hf / "tokenizer.json").write_text("{}")
    (ckpts / "global_step_30").mkdir()  # no actor dir: an interrupted save
    assert verl_launch.saved_steps(ckpts) == []  # no tracker yet: verl finished no save
    (ckpts / verl_launch.TRACKER_FILE).write_text("20")
    assert verl_launch.saved_steps(ckpts) == [5, 10, 20]
    # killed while saving step 40: its actor dir exists, the tracker still says 20
    (ckpts / "global_step_40" / "actor").mkdir(parents=True)
    assert verl_launch.saved_steps(ckpts) == [5, 10, 20]
    target = tmp_path / "hf" / "step_10"
    target.mkdir(parents=True)  # Snakemake creates the output's parent before the job
    verl_launch.export_hf_checkpoint(ckpts / "global_step_10" / "actor", target)
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert not (tmp_path / "hf" / "step_10.tmp").exists()


def test_run_training_drives_verl_and_checks_the_checkpoints(tmp_path, monkeypatch):
    """The whole verl path around the trainer process, with that process replaced by a stand-in that
    writes what verl writes (metrics file, global_step_N/actor dirs): overrides, environment, Ray
    CPU count, metrics conversion, the checkpoint check."""
    from pathlib import Path

    from rlvr_repro.config import load_config, validate_config

    monkeypatch.delenv("SLURM_JOB_NODELIST", raising=False)
    plan = validate_config(load_config())
    rid = next(r for r in plan.runs if r.startswith("qwen25_math_7b-dapo17k-ace_grpo"))
    spec = plan.run_spec(rid, model_path="/models/qwen")
    calls = []

    def fake_verl(cmd, *, check, env, stdout, stderr, save=True):
        calls.append((cmd, env))
        metrics = Path(env["VERL_FILE_LOGGER_PATH"])
        metrics.write_text(json.dumps({"step": 1, "data": {"critic/score/mean": float("nan")}}) + "\n")
        ckpts = tmp_path / "run" / "verl" / "checkpoints"
        for step in plan.runs[rid].steps if save else plan.runs[rid].steps[:-1]:
            (ckpts / f"global_step_{step}" / "actor").mkdir(parents=True, exist_ok=True)
            (ckpts / verl_launch.TRACKER_FILE).write_text(str(step))  # verl writes it after each save

    summary = verl_launch.run_training(spec, tmp_path / "run", cpus=12, log=None, run=fake_verl)
    (cmd, env), = calls
    assert cmd[1:3] == ["-m", "rlvr_repro.integrations.verl.entry"]
    assert "algorithm.adv_estimator=rlvr_ace" in cmd and "ray_kwargs.ray_init.num_cpus=12" in cmd
    assert env["VERL_USE_EXTERNAL_MODULES"] == "rlvr_repro.integrations.verl.plugin"
    assert summary["saved_steps"] == plan.runs[rid].steps and summary["logged_steps"] == 1
    assert json.loads((tmp_path / "run" / "train_log.jsonl").read_text()) == {"step": 1, "reward_mean": None}
    assert json.loads((tmp_path / "run" / "run.json").read_text())["run_id"] == rid
    # a run whose last checkpoint is missing fails loudly; its metrics go to a second attempt file
    import shutil
    shutil.rmtree(tmp_path / "run" / "verl" / "checkpoints")
    with pytest.raises(RuntimeError, match="without checkpoints for steps"):
        verl_launch.run_training(spec, tmp_path / "run", cpus=12, log=None,
                                 run=lambda *a, **k: fake_verl(*a, **k, save=False))
    assert calls[-1][1]["VERL_FILE_LOGGER_PATH"].endswith("metrics.2.jsonl")
    assert "MLP_CURRENT_CAPACITY_BLOCK_EXPIRATION_TIMESTAMP" not in env  # outside Slurm: no expiration

    # inside a job: verl's ESI timestamp = the job's end time, its margin = save_margin_s; tracking on
    shutil.rmtree(tmp_path / "run" / "verl" / "checkpoints")
    tracking = {"tensorboard": {"enabled": True, "dir": str(tmp_path / "tb")}}
    verl_launch.run_training(spec, tmp_path / "run", cpus=12, log=None, run=fake_verl, end_time=1.8e9,
                             save_margin_s=120, tracking=tracking)
    cmd, env = calls[-1]
    assert env["MLP_CURRENT_CAPACITY_BLOCK_EXPIRATION_TIMESTAMP"] == "1800000000.0"
    assert "trainer.esi_redundant_time=120.0" in cmd and "trainer.resume_mode=auto" in cmd
    assert [c for c in cmd if c.startswith("trainer.logger=")] == ["trainer.logger=[console,file,tensorboard]"]
    assert env["TENSORBOARD_DIR"] == str((tmp_path / "tb").resolve() / rid)


def test_deadline_from_the_job_end_time_and_sigterm():
    from datetime import datetime
    from types import SimpleNamespace

    from rlvr_repro.train import deadline as dl

    end = datetime(2030, 1, 2, 3, 4, 5)
    fake = lambda cmd, **k: SimpleNamespace(returncode=0, stdout=end.isoformat() + "\n")  # noqa: E731
    assert dl.slurm_end_time("42", run=fake) == end.timestamp()
    assert dl.slurm_end_time("42", run=lambda cmd, **k: SimpleNamespace(returncode=0, stdout="N/A\n")) is None
    now = [1000.0]
    d = dl.Deadline(end_time=1100.0, margin_s=60, clock=lambda: now[0])
    assert not d.reached(10.0)          # 100 s left > 60 + 10
    now[0] = 1025.0
    assert not d.reached(5.0)           # 75 s left > 60 + longest step 10
    now[0] = 1031.0
    assert d.reached(1.0) and "69 s left" in d.why()
    d2 = dl.Deadline(end_time=None)
    assert not d2.reached(1e6)
    d2._on_sigterm(15, None)
    assert d2.reached(0.0) and "SIGTERM" in d2.why()


def test_merge_run_checkpoints_redoes_only_what_is_not_merged(tmp_path):
    """One job merges every step of a run; its rerun (Snakemake has deleted the DONE markers) keeps
    steps already merged from the same verl checkpoint, merges a retrained step again, and fails
    for a step verl did not finish, after merging the others."""
    from rlvr_repro.train import verl_merge

    run_dir = tmp_path / "run"
    ckpts = run_dir / "verl" / "checkpoints"
    for step in (5, 10):
        hf = ckpts / f"global_step_{step}" / "actor" / "huggingface"
        hf.mkdir(parents=True)
        (hf / "config.json").write_text("{}")
        (hf / "model.safetensors").write_bytes(b"w%d" % step)
    (ckpts / verl_launch.TRACKER_FILE).write_text("10")
    calls = []

    def export(actor, target, log=None):
        calls.append(actor.parent.name)
        return verl_launch.export_hf_checkpoint(actor, target, log=log)

    assert verl_merge.merge_run_checkpoints(run_dir, [5, 10], export=export) == {5: "merged", 10: "merged"}
    assert (run_dir / "checkpoints/step_10/model.safetensors").read_bytes() == b"w10"
    assert verl_merge.merge_run_checkpoints(run_dir, [5, 10], export=export) == {5: "kept", 10: "kept"}
    assert calls == ["global_step_5", "global_step_10"]
    # step 10 saved again (a retrained run): merged again; an empty step_N/ proves nothing
    actor10 = ckpts / "global_step_10" / "actor"
    (actor10 / "huggingface" / "model.safetensors").write_bytes(b"new")
    import os
    os.utime(actor10, ns=(actor10.stat().st_atime_ns, actor10.stat().st_mtime_ns + 10**9))
    (run_dir / "checkpoints/step_5/model.safetensors").unlink()
    assert verl_merge.merge_run_checkpoints(run_dir, [5, 10], export=export) == {5: "merged", 10: "merged"}
    assert (run_dir / "checkpoints/step_10/model.safetensors").read_bytes() == b"new"
    # step 15 never finished saving (tracker says 10): the others are kept, then it fails naming it
    (ckpts / "global_step_15" / "actor").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"steps \[15\]"):
        verl_merge.merge_run_checkpoints(run_dir, [5, 10, 15], export=export)
    assert len(calls) == 4
