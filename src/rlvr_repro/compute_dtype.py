"""Which dtype to compute in: chosen by what the processor does fast, not by the checkpoint's dtype.

SmolLM2's checkpoint is bf16, but bf16 is only fast on CPUs with bf16 instructions (AVX-512 BF16,
AMX). Measured with 2 threads on two machines of the same kind: on an AMD EPYC with ``avx512_bf16``
a forward + backward ran 2.3x faster in bf16 than in fp32; on an Intel Xeon with AVX-512 but no
``avx512_bf16`` / AMX, bf16 was 3.1x *slower*. So ``auto`` times one matmul of the model's own shape
in both dtypes (well under a second) and takes the faster; on a GPU it is bf16 where supported.
The trainer and the transformers generation backend both call :func:`resolve_model_dtype` and log
the reason, so a run log says what it computed in and why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

NAMES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
CHOICES = ("auto", *NAMES)
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")


@dataclass(frozen=True)
class DtypeChoice:
    dtype: torch.dtype
    reason: str

    @property
    def name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def cpu_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The bf16-related instruction-set flags the kernel reports (empty where it reports none)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return [f for f in BF16_FLAGS if f in flags]
    except OSError:
        pass
    return []


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


def resolve_dtype(requested: str, *, device: str = "cpu", hidden: int = 576, inner: int = 1536,
                  rows: int = 512) -> DtypeChoice:
    """``float32`` / ``bfloat16`` as given; ``auto`` by device: a GPU computes in bf16 where it
    supports it, a CPU in whichever of fp32 / bf16 ran the probe matmul faster (bf16 must win by
    10 %: its rounding is a cost, so a tie goes to fp32)."""
    if requested not in CHOICES:
        raise ValueError(f"dtype must be one of {CHOICES}, got {requested!r}")
    if requested != "auto":
        return DtypeChoice(NAMES[requested], "requested")
    if device.startswith("cuda"):
        if torch.cuda.is_bf16_supported():
            return DtypeChoice(torch.bfloat16, "auto: GPU with bf16 support")
        return DtypeChoice(torch.float32, "auto: GPU without bf16 support")
    fp32 = matmul_seconds(torch.float32, rows, hidden, inner)
    bf16 = matmul_seconds(torch.bfloat16, rows, hidden, inner)
    flags = ", ".join(cpu_bf16_flags()) or "none"
    pick = torch.bfloat16 if bf16 < 0.9 * fp32 else torch.float32
    return DtypeChoice(pick, f"auto: probe matmul [{rows}x{hidden}]@[{hidden}x{inner}] fp32 {fp32 * 1e3:.2f} ms, "
                             f"bf16 {bf16 * 1e3:.2f} ms; CPU bf16 flags: {flags}")


def resolve_model_dtype(requested: str, model_dir, *, device: str = "cpu") -> DtypeChoice:
    """:func:`resolve_dtype` with the probe shaped like the model in ``model_dir`` (its hidden and MLP
    sizes from config.json); the trainer and the transformers generation backend both call this."""
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model_dir)
    return resolve_dtype(requested, device=device, hidden=getattr(cfg, "hidden_size", 576),
                         inner=getattr(cfg, "intermediate_size", 1536))
