"""The CLI with the project's real verifier, and (slow) two real GRPO steps on SmolLM2-135M."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from safetensors.torch import load_file

from rlvr_repro.prompts import build_messages
from rlvr_repro.train.trainlog import TrainLog


def test_cli_trains_with_the_default_verifier(make_spec, tmp_path):
    spec_path = tmp_path / "run.json"
    spec_path.write_text(json.dumps(make_spec(total_steps=1)))
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "rlvr_repro.train.local", "--run-spec", str(spec_path),
                           "--out-dir", str(out), "--threads", "1", "--no-progress"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("step_1")
    (record,) = TrainLog(out).records()
    assert 0.0 <= record["reward_mean"] <= 1.0  # graded by rlvr_repro.reward.score_batch
    assert (out / "checkpoints/step_1/DONE").exists()


def test_cli_reports_a_bad_spec(tmp_path):
    from rlvr_repro.train.local import main
    from rlvr_repro.train.settings import TrainConfigError

    spec_path = tmp_path / "run.json"
    spec_path.write_text(json.dumps({"seed": 0, "backend": "local"}))
    with pytest.raises(TrainConfigError, match=r"run_spec\['dataset'\] is missing"):
        main(["--run-spec", str(spec_path), "--out-dir", str(tmp_path / "run"), "--no-progress"])


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_smollm2_trains_two_grpo_steps_with_the_real_verifier(smol_model_dir, tmp_path):
    from rlvr_repro.train.local import train_local

    rows = [{"data_source": "arith", "prompt": build_messages(f"What is {a} + {b}?", "generic"), "ability": "math",
             "reward_model": {"style": "rule", "ground_truth": str(a + b)}, "extra_info": {"index": i}}
            for i, (a, b) in enumerate([(2, 2), (1, 1), (3, 4), (5, 5), (2, 3), (6, 1)])]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    spec = {"run_id": "smollm2-arith-grpo-s0", "seed": 0, "backend": "local",
            "model": {"name": "smollm2_135m", "family": "generic", "path": str(smol_model_dir)},
            "dataset": {"name": "arith", "train_files": str(tmp_path / "train.parquet")},
            "method": {"name": "grpo", "estimator": "grpo", "params": {}},
            "train": {"total_steps": 2, "save_freq": 1, "prompts_per_step": 3, "group_size": 4, "lr": 1e-5,
                      "max_prompt_length": 256, "max_response_length": 48, "micro_batch_size": 6,
                      "entropy_coeff": 0.001}}  # the entropy bonus guarantees a gradient even if no group is mixed
    out = tmp_path / "run"
    final = train_local(spec, out, progress=False)  # default verifier: rlvr_repro.reward.score_batch
    records = TrainLog(out).records()
    assert [r["step"] for r in records] == [1, 2]
    for r in records:
        assert all(not (isinstance(v, float) and not math.isfinite(v)) for v in r.values())
        assert 0.0 <= r["reward_mean"] <= 1.0 and 0 < r["response_length_mean"] <= 48
        assert r["grad_norm"] > 0 and r["n_groups_kept"] == 3
    base = load_file(smol_model_dir / "model.safetensors")
    trained = load_file(final / "model.safetensors")
    # saved in the compute dtype, which `auto` picked by what this CPU runs faster (logged per step)
    assert {r["compute_dtype"] for r in records} <= {"float32", "bfloat16"}
    assert str(trained[next(iter(trained))].dtype) == "torch." + records[-1]["compute_dtype"]
    assert any(not torch.equal(base[k].to(trained[k].dtype), trained[k]) for k in base)  # moved beyond rounding
    assert (out / "checkpoints/step_1/DONE").exists() and (final / "DONE").exists()
