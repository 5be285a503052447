"""Re-scoring generated samples under a model: the mean log-prob of each sample by teacher forcing.

The evaluation diagnostics (``diagnostics.py``) compare these numbers: ACE §5.3's confidence shift is
the policy's minus the reference model's mean log-prob of each incorrect sample. Tokens scored: the
response text re-tokenized (as verl re-tokenizes responses for the old and reference log-probs), plus
the end-of-sequence token when the sample stopped on it, after the row's rendered prompt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from tqdm import tqdm

from rlvr_repro.io import read_jsonl
from rlvr_repro.prefix_cache import forward_tail_logits


def _encode_row(tokenizer, row: dict, eos: int) -> tuple[list[int], list[list[int]]]:
    """A generations row as token ids: the rendered prompt, and each sample's re-tokenized text
    (+ the end-of-sequence token when the sample stopped on it)."""
    prompt_ids = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
    responses = []
    for sample in row["samples"]:
        ids = tokenizer(sample["text"], add_special_tokens=False)["input_ids"]
        responses.append(ids + [eos] if sample.get("finish_reason") == "stop" else ids)
    return prompt_ids, responses


def _score_chunk(model, chunk: list[tuple[list[int], list[list[int]]]], pad: int) -> list[list[float | None]]:
    """Mean log-prob of every response of several problems in one forward: prompts left-padded and
    prefilled once per problem (:mod:`rlvr_repro.prefix_cache`), responses right-padded, and the
    vocabulary softmax taken only at the positions that predict response tokens."""
    prompts = [p for p, rs in chunk for _ in rs]
    responses = [r for _, rs in chunk for r in rs]
    if not responses:
        return [[] for _ in chunk]
    lp, lr = max(len(p) for p in prompts), max(1, max(len(r) for r in responses))
    ids = torch.full((len(prompts), lp + lr), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, (p, r) in enumerate(zip(prompts, responses)):
        ids[i, lp - len(p):lp] = torch.tensor(p)
        mask[i, lp - len(p):lp] = 1
        if r:
            ids[i, lp:lp + len(r)] = torch.tensor(r)
            mask[i, lp:lp + len(r)] = 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    logits = forward_tail_logits(model, ids, mask, pos, lp - 1, lr + 1)
    logits = logits[:, :lr].float()  # the last prompt position and each response position predict the next token
    logp = torch.log_softmax(logits, dim=-1).gather(-1, ids[:, lp:].unsqueeze(-1)).squeeze(-1)
    values, k = [], 0
    for _, rs in chunk:
        row = []
        for r in rs:
            row.append(float(logp[k, :len(r)].mean()) if r else None)
            k += 1
        values.append(row)
    return values


@torch.no_grad()
def score_logprobs(model_dir: str | Path, gen_rows: Sequence[dict] | str | Path, *,
                   dtype: str = "float32", threads: int | None = None, progress: bool = True,
                   max_rows: int = 128, only: Sequence[Sequence[bool]] | None = None
                   ) -> list[list[float | None]]:
    """Mean per-token log-prob of every sample under the model in ``model_dir`` (teacher forcing).

    Tokens scored: the response text re-tokenized (as verl re-tokenizes responses for the old
    and reference log-probs), plus the end-of-sequence token when the sample stopped on it, after
    the row's rendered prompt. Returns one list per row (one value per sample; None for a
    sample with no tokens). Scoring the evaluated checkpoint itself reproduces the generation's
    ``-mean_nll`` wherever the re-tokenization round-trips. Problems are scored together, up to
    ``max_rows`` samples per forward. ``only`` (per row, per sample) limits the work to the samples
    a diagnostic reads (ACE's shift: the incorrect ones); the others come back as None. fp32 by
    default: the diagnostic compares small differences of log-probs, so it does not trade precision
    for speed.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if isinstance(gen_rows, (str, Path)):
        gen_rows = read_jsonl(gen_rows)
    if threads:
        torch.set_num_threads(int(threads))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).eval()
    eos = model.generation_config.eos_token_id
    eos = (eos[0] if isinstance(eos, (list, tuple)) else eos) if eos is not None else tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    if only is not None and len(only) != len(gen_rows):
        raise ValueError(f"score_logprobs: `only` has {len(only)} rows for {len(gen_rows)} generations rows")
    encoded = []
    for k, row in enumerate(gen_rows):
        keep = None if only is None else list(only[k])
        if keep is not None:
            row = {**row, "samples": [smp for smp, wanted in zip(row["samples"], keep) if wanted]}
        encoded.append((_encode_row(tokenizer, row, eos), keep))
    scored = _score_encoded(model, [e for e, _ in encoded], pad, max_rows,
                            desc=f"scoring under {Path(model_dir).name}", progress=progress)
    out: list[list[float | None]] = []
    for values, (_, keep) in zip(scored, encoded):
        if keep is None:
            out.append(values)
        else:
            it = iter(values)
            out.append([next(it) if wanted else None for wanted in keep])
    return out


def _score_encoded(model, encoded: list, pad: int, max_rows: int, *, desc: str, progress: bool
                   ) -> list[list[float | None]]:
    """Encoded rows scored in chunks of whole problems of at most ``max_rows`` samples."""
    out: list[list[float | None]] = []
    chunk: list = []
    bar = tqdm(total=len(encoded), desc=desc, disable=not progress)
    for item in encoded + [None]:
        if chunk and (item is None or sum(len(rs) for _, rs in chunk) + len(item[1]) > max_rows):
            out += _score_chunk(model, chunk, pad)
            bar.update(len(chunk))
            chunk = []
        if item is not None:
            chunk.append(item)
    bar.close()
    return out
