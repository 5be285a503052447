"""Live tracking, offline: a local run with W&B (offline) and TensorBoard on; the event files and
W&B's offline run files are read back. verl's side: the overrides and environment it is given."""
import json
from pathlib import Path

import pytest
import yaml

from rlvr_repro.tracking import LocalTracker, verl_tracking
from rlvr_repro.train.local import train_local

from .conftest import contains_answer


def _tracking(tmp_path):
    return {"wandb": {"enabled": True, "mode": "offline", "project": "rlvr-test", "dir": str(tmp_path / "wb")},
            "tensorboard": {"enabled": True, "dir": str(tmp_path / "tb")}}


def test_local_run_writes_tensorboard_and_wandb_offline(make_spec, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for var in ("WANDB_MODE", "WANDB_DIR", "WANDB_API_KEY", "WANDB_CONFIG_PATHS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    spec = make_spec(total_steps=3, save_freq=3)
    tracker = LocalTracker(_tracking(tmp_path), spec, tmp_path / "run")
    try:
        train_local(spec, tmp_path / "run", reward_fn=contains_answer, progress=False, on_step=tracker.log)
    finally:
        tracker.close()
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]

    # TensorBoard: one event dir named by the run id, every numeric log field per step
    (events,) = (tmp_path / "tb" / spec["run_id"]).glob("events.out.tfevents.*")
    acc = EventAccumulator(str(events.parent))
    acc.Reload()
    rewards = acc.Scalars("reward_mean")
    assert [e.step for e in rewards] == [1, 2, 3]
    assert [e.value for e in rewards] == pytest.approx([r["reward_mean"] for r in log])
    assert "run_spec" in json.dumps(acc.Tags())

    # W&B offline: one run, named by the run id, the spec as its config, every step's values
    (run_dir,) = (tmp_path / "wb" / "wandb").glob("offline-run-*")
    run = _read_offline_run(run_dir)
    assert run["exited"] and run["name"] == spec["run_id"]
    assert run["config"]["run_spec"]["run_id"] == spec["run_id"]
    assert run["config"]["run_spec"]["train"]["total_steps"] == 3
    assert [h["_step"] for h in run["history"]] == [1, 2, 3]
    assert [h["reward_mean"] for h in run["history"]] == pytest.approx([r["reward_mean"] for r in log])


def _read_offline_run(run_dir: Path) -> dict:
    """Name, config and history rows from W&B's offline transaction log (``run-*.wandb``)."""
    from wandb.proto import wandb_internal_pb2

    import time

    (path,) = run_dir.glob("run-*.wandb")
    records = []
    for _ in range(60):  # wandb-core may still be writing after finish() returns: wait for the exit record
        records = list(_leveldb_records(path.read_bytes()))
        if records and _kind(records[-1]) == "exit":
            break
        time.sleep(0.5)
    out = {"name": None, "config": {}, "history": [], "exited": bool(records) and _kind(records[-1]) == "exit"}
    for data in records:
        rec = wandb_internal_pb2.Record()
        rec.ParseFromString(data)
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            out["name"] = rec.run.display_name
            out["config"].update({i.key: json.loads(i.value_json) for i in rec.run.config.update})
        elif kind == "config":
            out["config"].update({i.key: json.loads(i.value_json) for i in rec.config.update})
        elif kind == "history":
            out["history"].append({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in rec.history.item})
    return out


def _kind(data: bytes) -> str:
    from wandb.proto import wandb_internal_pb2

    rec = wandb_internal_pb2.Record()
    rec.ParseFromString(data)
    return rec.WhichOneof("record_type")


def _leveldb_records(raw: bytes):
    """Records of W&B's LevelDB-style log: a 7-byte file header (":W&B", magic, version), then 32 KiB
    blocks of chunks, each a 7-byte header (crc32, length, type: 1 full, 2 first, 3 middle, 4 last)."""
    import struct

    assert raw[:4] == b":W&B", raw[:8]
    pos, block, pending = 7, 32768, b""
    while pos + 7 <= len(raw):
        left = block - pos % block
        if left < 7:  # block trailer padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", raw[pos:pos + 7])
        chunk = raw[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            break
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            yield pending
            pending = b""


def test_disabled_tracking_is_inactive_and_verl_gets_only_console_and_file(tmp_path):
    assert not LocalTracker({}, {"run_id": "r"}, tmp_path).active
    overrides, env = verl_tracking({"wandb": {"enabled": False}}, {"run_id": "r"}, tmp_path)
    assert overrides == ["trainer.logger=[console,file]"] and env == {}


def test_verl_gets_loggers_run_spec_and_event_dir(tmp_path):
    spec = {"run_id": "m-d-grpo-s0", "method": {"name": "grpo"}, "train": {"lr": 1e-6}}
    overrides, env = verl_tracking(_tracking(tmp_path), spec, tmp_path / "run")
    assert overrides == ["trainer.logger=[console,file,wandb,tensorboard]", "trainer.project_name=rlvr-test"]
    assert env["WANDB_MODE"] == "offline" and env["WANDB_DIR"] == str((tmp_path / "wb").resolve())
    assert env["TENSORBOARD_DIR"] == str((tmp_path / "tb").resolve() / "m-d-grpo-s0")
    assert yaml.safe_load(Path(env["WANDB_CONFIG_PATHS"]).read_text()) == {"run_spec": spec}
