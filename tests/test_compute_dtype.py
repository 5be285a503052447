"""dtype `auto` is decided by the CPU flags the kernel reports (deterministic per machine); a timing probe
only where it reports none; explicit dtypes pass through."""

import pytest
import torch

from rlvr_repro import compute_dtype
from rlvr_repro.compute_dtype import cpu_bf16_flags, cpu_flags, matmul_seconds, resolve_dtype

X86_BF16 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2 avx512f avx512_bf16 sha_ni\n"
X86_AMX = "processor\t: 0\nflags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n"
X86_AVX512 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512bw avx512_vnni\n"
X86_AVX2 = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma\n"
ARM_BF16 = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd sve bf16 i8mm\n"
ARM_PLAIN = "processor\t: 0\nFeatures\t: fp asimd evtstrm crc32\n"


def _cpuinfo(tmp_path, text):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    return path


def test_explicit_dtypes_pass_through_and_bad_names_fail():
    assert resolve_dtype("float32").dtype == torch.float32
    assert resolve_dtype("bfloat16").dtype == torch.bfloat16
    assert resolve_dtype("bfloat16").reason == "requested"
    with pytest.raises(ValueError, match="dtype must be one of"):
        resolve_dtype("float16")


@pytest.mark.parametrize("text,expected,flag", [
    (X86_BF16, torch.bfloat16, "avx512_bf16"),   # AMD EPYC (Zen 4): bf16 2.3x faster
    (X86_AMX, torch.bfloat16, "amx_bf16"),       # Intel Sapphire Rapids
    (X86_AVX512, torch.float32, None),           # Intel Xeon with AVX-512 but no bf16: bf16 3.1x slower
    (X86_AVX2, torch.float32, None),             # AMD EPYC (Zen 2)
    (ARM_BF16, torch.bfloat16, "bf16"),
    (ARM_PLAIN, torch.float32, None),
])
def test_auto_follows_the_cpu_flags_without_timing_anything(tmp_path, monkeypatch, text, expected, flag):
    def no_probe(*args, **kwargs):
        raise AssertionError("a machine whose kernel reports flags must not be timed")

    monkeypatch.setattr(compute_dtype, "matmul_seconds", no_probe)
    choice = resolve_dtype("auto", cpuinfo=_cpuinfo(tmp_path, text))
    assert choice.dtype == expected
    assert "CPU flags" in choice.reason and (flag is None or flag in choice.reason)


def test_auto_probes_only_where_the_kernel_reports_no_flags(tmp_path, monkeypatch):
    timings = {torch.float32: 1.0, torch.bfloat16: 0.5}
    monkeypatch.setattr(compute_dtype, "matmul_seconds", lambda dtype, *a, **k: timings[dtype])
    missing = tmp_path / "missing"
    choice = resolve_dtype("auto", cpuinfo=missing)
    assert choice.dtype == torch.bfloat16 and "no CPU flags" in choice.reason and "bf16 500.00 ms" in choice.reason
    timings[torch.bfloat16] = 0.95  # bf16 must win by 10 %: a near tie goes to fp32
    assert resolve_dtype("auto", cpuinfo=missing).dtype == torch.float32
    no_flag_line = _cpuinfo(tmp_path, "processor\t: 0\nmodel name\t: something\n")
    assert resolve_dtype("auto", cpuinfo=no_flag_line).dtype == torch.float32
    assert matmul_seconds(torch.float32, 8, 8, 8, reps=2) > 0


def test_auto_on_this_machine_is_the_same_every_time():
    first = resolve_dtype("auto")
    assert all(resolve_dtype("auto") == first for _ in range(3))


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    assert cpu_bf16_flags(_cpuinfo(tmp_path, X86_AMX)) == ["amx_bf16"]
    assert cpu_bf16_flags(_cpuinfo(tmp_path, X86_BF16)) == ["avx512_bf16"]
    assert cpu_bf16_flags(_cpuinfo(tmp_path, X86_AVX2)) == []
    assert "avx2" in cpu_flags(_cpuinfo(tmp_path, X86_AVX2))
    assert cpu_flags(tmp_path / "missing") is None
    assert cpu_bf16_flags(tmp_path / "missing") == []
