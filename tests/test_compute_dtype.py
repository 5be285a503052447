"""dtype `auto` is decided by a probe of this processor, not by the checkpoint; explicit dtypes pass through."""

import pytest
import torch

from rlvr_repro.compute_dtype import cpu_bf16_flags, matmul_seconds, resolve_dtype


def test_explicit_dtypes_pass_through_and_bad_names_fail():
    assert resolve_dtype("float32").dtype == torch.float32
    assert resolve_dtype("bfloat16").dtype == torch.bfloat16
    with pytest.raises(ValueError, match="dtype must be one of"):
        resolve_dtype("float16")


def test_auto_probes_both_dtypes_and_says_why():
    choice = resolve_dtype("auto", hidden=64, inner=128, rows=64)
    assert choice.dtype in (torch.float32, torch.bfloat16)
    assert "fp32" in choice.reason and "bf16" in choice.reason and "flags" in choice.reason
    assert choice.name in ("float32", "bfloat16")
    assert matmul_seconds(torch.float32, 8, 8, 8, reps=2) > 0


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile\n")
    assert cpu_bf16_flags(info) == ["avx512_bf16", "amx_tile"]
    info.write_text("processor: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert cpu_bf16_flags(info) == []
    assert cpu_bf16_flags(tmp_path / "missing") == []
