"""What already exists under a working directory's ``results/``, judged by content.

Snakemake creates the parent directories of a job's declared outputs before the job runs, so an
existing directory (or an empty file) proves nothing: a finished run has a ``train_done.json`` that
parses; a checkpoint has its ``DONE`` marker next to an HF ``config.json`` and weights; a metrics cell
has a ``metrics.json`` that parses to a mapping; a job's timing is a Snakemake ``benchmark:`` file whose
``s`` column parses.
"""

from __future__ import annotations

import json
from pathlib import Path


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_finished(workdir: Path, run_id: str) -> bool:
    return isinstance(_json(Path(workdir) / "results/runs" / run_id / "train_done.json"), dict)


def checkpoint_complete(workdir: Path, run_id: str, step: int) -> bool:
    d = Path(workdir) / "results/runs" / run_id / "checkpoints" / f"step_{step}"
    weights = any(d.glob("*.safetensors")) or any(d.glob("*.bin"))
    return (d / "DONE").is_file() and (d / "config.json").is_file() and weights


def metrics_present(workdir: Path, eval_dir: str) -> bool:
    return isinstance(_json(Path(workdir) / eval_dir / "metrics.json"), dict)


def benchmark_size(workdir: Path, benchmark: str) -> int | None:
    """Rows of the built benchmark file, None before it is built."""
    path = Path(workdir) / "results/benchmarks" / f"{benchmark}.jsonl"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        return sum(1 for line in fh if line.strip())


def benchmark_seconds(workdir: Path, path: str) -> float | None:
    """Wall seconds of a finished job from its Snakemake ``benchmark:`` file (tab-separated, column ``s``;
    the mean over repeated rows), None when the file is absent or unreadable."""
    try:
        lines = [line for line in (Path(workdir) / path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return None
    head = lines[0].split("\t") if lines else []
    if "s" not in head or len(lines) < 2:
        return None
    try:
        values = [float(line.split("\t")[head.index("s")]) for line in lines[1:]]
    except (IndexError, ValueError):
        return None
    return sum(values) / len(values)
