"""Which dtype to compute in: chosen by the processor's instruction set, not by the checkpoint's dtype.

SmolLM2's checkpoint is bf16, but bf16 is only fast on CPUs with bf16 matrix instructions. Measured
with 2 threads: on an AMD EPYC with ``avx512_bf16`` a forward + backward ran 2.3x faster in bf16 than
in fp32; on an Intel Xeon with AVX-512 but no ``avx512_bf16`` / AMX, bf16 was 3.1x *slower*; on an
AMD EPYC with AVX2 only it was slower too (benchmarks/bench_local_step.py prints the ratio).

``auto`` therefore decides by the CPU flags the kernel reports, the same way every time on one
machine: bf16 where they include a bf16 matrix instruction (x86 ``avx512_bf16`` / ``amx_bf16``, Arm
``bf16``), fp32 where the kernel lists the flags and none of those is among them. Only where the
kernel reports no flags at all (no ``/proc/cpuinfo``: macOS, some containers) does it time one
matmul of the model's shape in both dtypes and take the faster. A timing decides differently under
load: two processes of one run (data-parallel generation, a resumed job) could then compute in
different dtypes, which is why it is the last resort, and why its reason says so.

The trainer and the transformers generation backend both call :func:`resolve_model_dtype` and log
the reason, so a run log says what it computed in and why. On a GPU ``auto`` is bf16 where supported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

NAMES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
CHOICES = ("auto", *NAMES)
# The instruction-set flags that make bf16 matmuls fast: x86 AVX-512 BF16 and AMX-BF16; Arm's BF16
# extension (FEAT_BF16, "bf16" in /proc/cpuinfo's Features line; not measured here: our reading).
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")
CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class DtypeChoice:
    dtype: torch.dtype
    reason: str

    @property
    def name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str] | None:
    """The CPU feature flags the kernel reports (x86 ``flags``, Arm ``Features``); None where it reports
    none (no readable cpuinfo, or no such line)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None


def cpu_bf16_flags(cpuinfo: Path = CPUINFO) -> list[str]:
    """The bf16 matrix-instruction flags among :func:`cpu_flags` (empty where there are none)."""
    flags = cpu_flags(cpuinfo) or frozenset()
    return [f for f in BF16_FLAGS if f in flags]


def matmul_seconds(dtype: torch.dtype, rows: int, hidden: int, inner: int, reps: int = 5) -> float:
    """Best-of-``reps`` seconds of one ``[rows, hidden] @ [hidden, inner]`` product (after a warm-up)."""
    a, b = torch.randn(rows, hidden, dtype=dtype), torch.randn(hidden, inner, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return best


def _probe(rows: int, hidden: int, inner: int) -> DtypeChoice:
    """The fallback where the kernel reports no CPU flags: the faster of fp32 / bf16 on one matmul
    (bf16 must win by 10 %: its rounding is a cost, so a tie goes to fp32)."""
    fp32 = matmul_seconds(torch.float32, rows, hidden, inner)
    bf16 = matmul_seconds(torch.bfloat16, rows, hidden, inner)
    pick = torch.bfloat16 if bf16 < 0.9 * fp32 else torch.float32
    return DtypeChoice(pick, f"auto: the kernel reports no CPU flags, so a timing decided (it may differ "
                             f"under load): matmul [{rows}x{hidden}]@[{hidden}x{inner}] fp32 {fp32 * 1e3:.2f} ms, "
                             f"bf16 {bf16 * 1e3:.2f} ms")


def resolve_dtype(requested: str, *, device: str = "cpu", hidden: int = 576, inner: int = 1536,
                  rows: int = 512, cpuinfo: Path = CPUINFO) -> DtypeChoice:
    """``float32`` / ``bfloat16`` as given; ``auto`` by device: a GPU computes in bf16 where it supports
    it; a CPU in bf16 iff the kernel's CPU flags include a bf16 matrix instruction (``BF16_FLAGS``),
    and only where it reports no flags at all by a timing probe (see the module docstring)."""
    if requested not in CHOICES:
        raise ValueError(f"dtype must be one of {CHOICES}, got {requested!r}")
    if requested != "auto":
        return DtypeChoice(NAMES[requested], "requested")
    if device.startswith("cuda"):
        if torch.cuda.is_bf16_supported():
            return DtypeChoice(torch.bfloat16, "auto: GPU with bf16 support")
        return DtypeChoice(torch.float32, "auto: GPU without bf16 support")
    flags = cpu_flags(cpuinfo)
    if flags is None:
        return _probe(rows, hidden, inner)
    found = [f for f in BF16_FLAGS if f in flags]
    if found:
        return DtypeChoice(torch.bfloat16, f"auto: CPU flags include {', '.join(found)}")
    return DtypeChoice(torch.float32, f"auto: CPU flags include none of {', '.join(BF16_FLAGS)}")


def resolve_model_dtype(requested: str, model_dir, *, device: str = "cpu") -> DtypeChoice:
    """:func:`resolve_dtype` with the fallback probe shaped like the model in ``model_dir`` (its hidden
    and MLP sizes from config.json); the trainer and the transformers generation backend both call this."""
    if requested != "auto" or device.startswith("cuda") or cpu_flags() is not None:
        return resolve_dtype(requested, device=device)
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model_dir)
    return resolve_dtype(requested, device=device, hidden=getattr(cfg, "hidden_size", 576),
                         inner=getattr(cfg, "intermediate_size", 1536))
