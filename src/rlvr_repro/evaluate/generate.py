"""Sample n responses per benchmark problem with one model load for all benchmarks.

``generate_benchmarks(model_dir, jobs, *, backend, family, protocol, ...)`` writes, for each
``(benchmark_jsonl, out_jsonl)`` job, one generations row per problem (CONTRACTS.md)::

    {id, benchmark, prompt, answer, choices?, n, seed, samples: [{text, n_tokens, finish_reason,
     mean_nll, nll_think?, nll_answer?}]}

Writing as it goes, resuming after a kill, never showing Snakemake a half file:
rows are appended (and fsynced) to ``<out>.partial`` after every chunk of problems; a sidecar
``<out>.partial.meta.json`` records what produced them (model, backend, sampling settings, seed).
A restarted run repairs a torn last line, skips the problems already in the partial file and
appends the rest; a partial file written with different settings is discarded, never mixed.
Only when every problem is done are the rows written to ``<out>`` in benchmark order (atomic
rename) and the partial files removed — the declared output appears complete or not at all.

Determinism: each problem's sampling seed is derived from (seed, benchmark, problem id), and
chunks of problems have fixed boundaries in the benchmark order, so a resumed or sharded run
produces the same samples as an uninterrupted one.

Data parallelism (``resources``: ``gpu``/``gpus`` and ``tensor_parallel_size``): with
``data_parallel_size = gpus // tensor_parallel_size > 1`` the problems are split round-robin over
that many processes (``python -m rlvr_repro.evaluate.generate``), each pinned to its own
``CUDA_VISIBLE_DEVICES`` slice and writing its own resumable shard; the shards are merged.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from rlvr_repro.evaluate.protocols import resolve, validate_protocol
from rlvr_repro.io import dumps_row, read_jsonl, repair_torn_tail, write_json, write_jsonl
from rlvr_repro.prompts import build_messages, render_prompt

BACKENDS = ("hf", "vllm")
DEFAULT_BATCH = {"hf": 1, "vllm": 256}


def problem_seed(base_seed: int, benchmark: str, problem_id: str) -> int:
    """A 31-bit sampling seed for one problem, stable across runs, resumes and shards."""
    digest = hashlib.sha256(f"{int(base_seed)}\x1f{benchmark}\x1f{problem_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def load_benchmark_rows(path: str | Path, limit: int | None = None) -> list[dict]:
    """Normalized benchmark rows (CONTRACTS.md), checked for the fields generation needs."""
    rows = read_jsonl(path)
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        rows = rows[:limit]
    if not rows:
        raise ValueError(f"{path}: no benchmark rows")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        for field in ("id", "problem", "answer", "benchmark"):
            if row.get(field) in (None, ""):
                raise ValueError(f"{path}: row {r} has no {field!r}")
        pid = str(row["id"])
        if pid in seen:
            raise ValueError(f"{path}: row {r} repeats id {pid!r}")
        seen.add(pid)
    names = {row["benchmark"] for row in rows}
    if len(names) != 1:
        raise ValueError(f"{path}: rows mix benchmarks {sorted(names)}")
    return rows


def resolve_parallelism(backend: str, resources: dict | None) -> tuple[int, int]:
    """(tensor_parallel_size, data_parallel_size) from the job's resources.

    GPUs come from ``gpus`` or Snakemake's ``gpu`` resource; tensor parallel size defaults to
    all of them (``tensor_parallel_size`` to use fewer per engine and data-parallel the rest).
    The hf backend is single-process unless ``data_parallel_size`` is given explicitly."""
    res = resources or {}
    if backend == "hf":
        return 1, int(res.get("data_parallel_size", 1))
    gpus = int(res.get("gpus", res.get("gpu", 1)) or 1)
    tp = int(res.get("tensor_parallel_size") or gpus)
    if tp < 1 or gpus % tp:
        raise ValueError(f"resources: {gpus} GPUs cannot be split into engines of tensor_parallel_size={tp}")
    return tp, int(res.get("data_parallel_size", gpus // tp))


def make_backend(backend: str, model_dir: str | Path, *, resources: dict | None = None, seed: int = 0):
    """The generation engine: loads the model once (vLLM or transformers)."""
    res = resources or {}
    if backend == "hf":
        from rlvr_repro.evaluate.hf_backend import HFBackend

        return HFBackend(str(model_dir), dtype=res.get("dtype", "auto"),
                         threads=res.get("threads") or res.get("cpus_per_task"))
    if backend == "vllm":
        from rlvr_repro.evaluate.vllm_backend import VLLMBackend

        tp, _ = resolve_parallelism("vllm", res)
        return VLLMBackend(str(model_dir), tensor_parallel_size=tp, seed=seed,
                           gpu_memory_utilization=res.get("gpu_memory_utilization"),
                           max_model_len=res.get("max_model_len"), dtype=res.get("dtype", "auto"),
                           enforce_eager=bool(res.get("enforce_eager", False)))
    raise ValueError(f"unknown generation backend {backend!r}; expected one of {BACKENDS}")


def _shard_path(out_path: Path, shard: tuple[int, int]) -> Path:
    rank, world = shard
    return out_path if world == 1 else out_path.with_name(f"{out_path.name}.shard{rank}of{world}")


def _read_partial(partial: Path, meta_path: Path, fingerprint: dict) -> dict[str, dict]:
    """Rows already generated by an earlier run with the same settings (id -> row)."""
    if not partial.exists():
        meta_path.unlink(missing_ok=True)
        return {}
    old = json.loads(meta_path.read_text()) if meta_path.exists() else None
    if old != fingerprint:
        warnings.warn(f"{partial}: written with different settings; discarding it and starting over")
        partial.unlink()
        meta_path.unlink(missing_ok=True)
        return {}
    removed = repair_torn_tail(partial)
    if removed:
        warnings.warn(f"{partial}: removed a torn last line ({removed} bytes) left by an interrupted run")
    return {str(row["id"]): row for row in read_jsonl(partial)}


def _generate_one(engine, rows: list[dict], out_path: Path, *, settings: dict, family: str,
                  seed: int, batch_size: int, fingerprint: dict, shard: tuple[int, int],
                  progress: bool) -> dict:
    """Generate one benchmark (or one shard of it) into ``out_path`` with resume."""
    rank, world = shard
    bench = rows[0]["benchmark"]
    target = _shard_path(out_path, shard)
    if target.exists():
        return {"out": str(target), "generated": 0, "resumed": len(rows), "complete": True}
    partial = target.with_name(target.name + ".partial")
    meta_path = target.with_name(target.name + ".partial.meta.json")
    done = _read_partial(partial, meta_path, fingerprint)
    if not partial.exists():
        write_json(meta_path, fingerprint)
    # Fixed chunk boundaries over the whole benchmark (then this shard's problems).
    chunks = [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]
    chunks = [c for j, c in enumerate(chunks) if j % world == rank]
    mine = [row for c in chunks for row in c]
    resumed = sum(str(row["id"]) in done for row in mine)
    generated = 0
    bar = tqdm(total=len(mine), initial=resumed, desc=f"generate {bench}", disable=not progress)
    with open(partial, "a", encoding="utf-8") as fh:
        for chunk in chunks:
            missing = [row for row in chunk if str(row["id"]) not in done]
            if not missing:
                continue
            template = settings.get("prompt_template", "default")
            prompts = [render_prompt(engine.tokenizer, build_messages(row["problem"], family, choices=row.get("choices"),
                                                                      template=template), family)
                       for row in chunk]
            seeds = [problem_seed(seed, bench, str(row["id"])) for row in chunk]
            outputs = engine.generate(prompts, settings, seeds)
            if len(outputs) != len(chunk):
                raise RuntimeError(f"{bench}: backend returned {len(outputs)} results for {len(chunk)} prompts")
            lines = []
            for row, prompt, pseed, samples in zip(chunk, prompts, seeds, outputs):
                if str(row["id"]) in done:
                    continue
                if len(samples) != settings["n"]:
                    raise RuntimeError(f"{bench} id {row['id']}: {len(samples)} samples, expected n={settings['n']}")
                record = {"id": str(row["id"]), "benchmark": bench, "prompt": prompt,
                          "answer": row["answer"], "n": settings["n"], "seed": pseed, "samples": samples}
                if row.get("choices"):
                    record["choices"] = row["choices"]
                lines.append(dumps_row(record) + "\n")
                done[str(row["id"])] = record
            fh.write("".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
            generated += len(lines)
            bar.update(len(lines))
    bar.close()
    ordered = [done[str(row["id"])] for row in mine]
    write_jsonl(target, ordered)
    partial.unlink()
    meta_path.unlink(missing_ok=True)
    return {"out": str(target), "generated": generated, "resumed": resumed, "complete": True}


def merge_shards(out_path: str | Path, rows: list[dict], world: int) -> None:
    """Merge shard files into ``out_path`` in benchmark order, then delete them."""
    out_path = Path(out_path)
    by_id: dict[str, dict] = {}
    shard_files = [_shard_path(out_path, (r, world)) for r in range(world)]
    for path in shard_files:
        if not path.exists():
            raise RuntimeError(f"data-parallel shard {path} is missing; rerun to resume it")
        by_id.update((str(row["id"]), row) for row in read_jsonl(path))
    missing = [str(row["id"]) for row in rows if str(row["id"]) not in by_id]
    if missing:
        raise RuntimeError(f"{out_path}: shards lack problems {missing[:5]}")
    write_jsonl(out_path, [by_id[str(row["id"])] for row in rows])
    for path in shard_files:
        path.unlink()


def generate_benchmarks(model_dir: str | Path, jobs: Sequence[tuple[str | Path, str | Path]], *,
                        backend: str, family: str, protocol: dict, seed: int | None = None,
                        model: str | None = None, resources: dict | None = None, limit: int | None = None,
                        batch_size: int | None = None, shard: tuple[int, int] | None = None,
                        engine: Any = None, progress: bool = True) -> list[dict]:
    """Generate every job's benchmark with one engine. Returns one summary dict per job.

    ``protocol`` is a protocol mapping (validated here; ``name`` optional); each benchmark's
    settings come from :func:`rlvr_repro.evaluate.protocols.resolve` for ``family`` and the configured
    ``model`` name (a protocol's ``max_tokens_by_model``; None = by family only). ``seed``
    defaults to the protocol's seed. ``limit`` keeps the first problems of each benchmark.
    ``engine`` injects a ready backend (tests); otherwise one is built from ``backend``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown generation backend {backend!r}; expected one of {BACKENDS}")
    protocol = validate_protocol(protocol.get("name", "protocol"), protocol)
    seed = int(protocol.get("seed", 0) if seed is None else seed)
    batch = int(batch_size or DEFAULT_BATCH[backend])
    jobs = [(Path(b), Path(o)) for b, o in jobs]
    loaded = [load_benchmark_rows(b, limit) for b, _ in jobs]
    settings = [resolve(protocol, rows[0]["benchmark"], family, model) for rows in loaded]
    fingerprints = [{"model": str(Path(model_dir).resolve()), "backend": backend, "family": family,
                     "settings": s, "seed": seed, "batch_size": batch, "limit": limit}
                    for s in settings]

    _, dp = resolve_parallelism(backend, resources)
    if shard is None and dp > 1 and engine is None:
        return _run_data_parallel(model_dir, jobs, loaded, backend=backend, family=family,
                                  protocol=protocol, seed=seed, model=model, resources=resources,
                                  limit=limit, batch=batch, world=dp)
    shard = shard or (0, 1)
    pending = [k for k, (_, out) in enumerate(jobs) if not _shard_path(out, shard).exists()]
    own_engine = engine is None and bool(pending)
    if own_engine:
        engine = make_backend(backend, model_dir, resources=resources, seed=seed)
    try:
        return [_generate_one(engine, rows, out, settings=s, family=family, seed=seed,
                              batch_size=batch, fingerprint=fp, shard=shard, progress=progress)
                for (_, out), rows, s, fp in zip(jobs, loaded, settings, fingerprints)]
    finally:
        if own_engine:
            engine.close()


def _visible_devices(world: int, tp: int) -> list[str | None]:
    """CUDA_VISIBLE_DEVICES for each data-parallel rank: consecutive slices of ``tp`` GPUs."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    devices = env.split(",") if env else [str(i) for i in range(world * tp)]
    if len(devices) < world * tp:
        return [None] * world
    return [",".join(devices[r * tp:(r + 1) * tp]) for r in range(world)]


def _run_data_parallel(model_dir, jobs, loaded, *, backend, family, protocol, seed, model, resources,
                       limit, batch, world) -> list[dict]:
    """One process per data-parallel rank (each resumable), then merge the shards."""
    tp, _ = resolve_parallelism(backend, resources)
    shard_resources = dict(resources or {}, data_parallel_size=1,
                           **({"gpus": tp, "tensor_parallel_size": tp} if backend == "vllm" else {}))
    procs = []
    for rank, devices in enumerate(_visible_devices(world, tp)):
        spec = {"model_dir": str(model_dir), "jobs": [[str(b), str(o)] for b, o in jobs],
                "backend": backend, "family": family, "protocol": protocol, "seed": seed,
                "model": model, "resources": shard_resources, "limit": limit, "batch_size": batch,
                "shard": [rank, world]}
        env = dict(os.environ)
        if devices is not None and backend == "vllm":
            env["CUDA_VISIBLE_DEVICES"] = devices
        procs.append(subprocess.Popen([sys.executable, "-m", "rlvr_repro.evaluate.generate"],
                                      stdin=subprocess.PIPE, env=env))
        procs[-1].stdin.write(json.dumps(spec).encode())
        procs[-1].stdin.close()
    failed = [rank for rank, p in enumerate(procs) if p.wait() != 0]
    if failed:
        raise RuntimeError(f"data-parallel generation ranks {failed} failed; rerun to resume them")
    summaries = []
    for (_, out), rows in zip(jobs, loaded):
        merge_shards(out, rows, world)
        summaries.append({"out": str(out), "complete": True, "data_parallel_size": world})
    return summaries


def main() -> None:
    """Shard worker: ``python -m rlvr_repro.evaluate.generate`` with a JSON spec on stdin."""
    spec = json.loads(sys.stdin.read())
    generate_benchmarks(spec["model_dir"], [tuple(j) for j in spec["jobs"]], backend=spec["backend"],
                        family=spec["family"], protocol=spec["protocol"], seed=spec["seed"],
                        model=spec.get("model"), resources=spec["resources"], limit=spec["limit"],
                        batch_size=spec["batch_size"], shard=tuple(spec["shard"]))


if __name__ == "__main__":
    main()
