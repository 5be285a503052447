"""The evaluation stages as the Snakemake rules call them.

    generate     GPU (vLLM) or CPU (transformers): model + benchmark files -> generations.jsonl each
    grade        CPU: generations.jsonl -> grades.jsonl (hard-timeout math-verify pool)
    metrics      CPU: grades.jsonl + benchmark rows -> metrics.json (CONTRACTS.md)
    score        grade + metrics of every benchmark of one checkpoint (the rule `score_{protocol}`)
    diagnostics  GPU on clusters (re-scores under policy + reference): entropy / AUC / confidence shift,
                 all benchmarks of a checkpoint with one load of each model

The rule scripts only plumb ``snakemake.input/output/params`` into these; ``python -m
rlvr_repro.evaluate.cli`` exposes the same functions on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from rlvr_repro.evaluate.confidence import _paired  # noqa: I001 - one pairing rule for both modules
from rlvr_repro.evaluate.confidence import (
    confidence_shift, entropy_by_correctness, plot_entropy_distributions, sample_table, think_answer_auc,
    token_entropy)
from rlvr_repro.evaluate.generate import generate_benchmarks
from rlvr_repro.evaluate.grading import DEFAULT_GRADER, DEFAULT_TIMEOUT_S, grade_generations
from rlvr_repro.evaluate.protocols import validate_protocol
from rlvr_repro.evaluate.scoring import run_metrics, run_scoring  # noqa: F401 - the CLI's stages
from rlvr_repro.evaluate.rescoring import score_logprobs, score_token_entropy
from rlvr_repro.io import read_jsonl, write_json


def resolve_model_dir(model: str | Path) -> str:
    """An HF model directory from either the directory itself (a checkpoint) or the
    ``model.json`` record written by the model-preparation rule."""
    path = Path(model)
    if path.is_file() and path.suffix == ".json":
        record = json.loads(path.read_text())
        if "path" not in record:
            raise ValueError(f"{path}: model record has no 'path'")
        return record["path"]
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: not an HF model directory (no config.json) nor a model.json record")
    return str(path)


def run_generation(model: str | Path, benchmark_files: Sequence[str | Path],
                   out_files: Sequence[str | Path], *, protocol_name: str, protocol: dict,
                   family: str, backend: str = "vllm", seed: int | None = None,
                   limit: int | None = None, batch_size: int | None = None,
                   resources: dict | None = None, progress: bool = True) -> list[dict]:
    """Generate every benchmark of one checkpoint with one engine (see generate_benchmarks)."""
    if len(benchmark_files) != len(out_files):
        raise ValueError(f"{len(benchmark_files)} benchmark files for {len(out_files)} outputs")
    spec = validate_protocol(protocol_name, protocol)
    return generate_benchmarks(resolve_model_dir(model), list(zip(benchmark_files, out_files)),
                               backend=backend, family=family, protocol=spec, seed=seed,
                               resources=resources, limit=limit, batch_size=batch_size,
                               progress=progress)


def run_grading(generations: str | Path, out: str | Path, *, grader: str = DEFAULT_GRADER, workers: int = 2,
                timeout: float = DEFAULT_TIMEOUT_S, progress: bool = True) -> dict:
    """Grade one generations file with ``grader`` (returns counts incl. timeouts)."""
    return grade_generations(generations, out, grader=grader, workers=workers, timeout=timeout, progress=progress)


def run_diagnostics(generations: str | Path, grades: str | Path, out: str | Path, *,
                    reference_model: str | Path | None = None, policy_model: str | Path | None = None,
                    plot: str | Path | None = None, title: str = "") -> dict:
    """Diagnostics JSON: EGPO entropy gap (+ histogram PNG), EGPO Table 3 AUCs, and — when a
    reference model is given — ACE's confidence shift of the incorrect responses."""
    (doc,) = run_checkpoint_diagnostics([(generations, grades, out, plot, title)],
                                        reference_model=reference_model, policy_model=policy_model)
    return doc


def run_checkpoint_diagnostics(cells: Sequence[tuple], *, reference_model: str | Path | None = None,
                               policy_model: str | Path | None = None,
                               entropy_model: str | Path | None = None) -> list[dict]:
    """Diagnostics of every benchmark cell of one checkpoint with one load of each model.

    ``cells``: ``(generations, grades, out_json, out_png | None, title)`` per benchmark. The samples of
    all cells are re-scored together (reference, then policy), so a checkpoint costs two model loads
    whatever its number of benchmarks; on a cluster this runs in the checkpoint's GPU allocation
    (workflow/rules/evaluate.smk). ``entropy_model`` (the evaluated model itself: a protocol with
    ``token_entropy: true``) sets each document's ``token_entropy`` (ACE eq. 16 over the cell's samples)."""
    loaded = [(read_jsonl(gen), read_jsonl(gr)) for gen, gr, *_ in cells]
    entropies = None
    if entropy_model is not None:
        entropies = score_token_entropy(resolve_model_dir(entropy_model),
                                        [row for gen_rows, _ in loaded for row in gen_rows])
    ref_all = pol_all = None
    if reference_model is not None:  # ACE's shift reads the incorrect samples only: score just those
        pairs = [pair for gen_rows, grade_rows in loaded for pair in _paired(gen_rows, grade_rows)]
        rows = [row for row, _ in pairs]
        wrong = [[not ok for ok in correct] for _, correct in pairs]
        ref_all = score_logprobs(resolve_model_dir(reference_model), rows, only=wrong)
        pol_all = score_logprobs(resolve_model_dir(policy_model), rows, only=wrong) if policy_model else None
    docs, offset = [], 0
    for (gen_rows, grade_rows), (_, _, out, plot, title) in zip(loaded, cells):
        entropy = entropy_by_correctness(gen_rows, grade_rows)
        doc = {
            "entropy": {k: v for k, v in entropy.items() if k not in ("correct", "incorrect")}
            | {"n_correct": len(entropy["correct"]), "n_incorrect": len(entropy["incorrect"])},
            "think_answer_auc": think_answer_auc(gen_rows, grade_rows),
            "confidence_shift": None,
            "token_entropy": None,
            "samples": sample_table(gen_rows, grade_rows),
        }
        if entropies is not None:
            doc["token_entropy"] = token_entropy(entropies[offset:offset + len(gen_rows)])
        if ref_all is not None:
            span = slice(offset, offset + len(gen_rows))
            shift = confidence_shift(gen_rows, grade_rows, ref_all[span],
                                     pol_all[span] if pol_all is not None else None)
            doc["confidence_shift"] = {k: v for k, v in shift.items() if k != "shifts"}
        offset += len(gen_rows)
        if plot is not None:
            plot_entropy_distributions(entropy, plot, title=title)
        write_json(out, doc)
        docs.append(doc)
    return docs
