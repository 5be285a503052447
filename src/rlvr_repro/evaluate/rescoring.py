"""Re-scoring generated samples under a model by teacher forcing: the mean log-prob of each sample
(:func:`score_logprobs`) or the sum of its tokens' Shannon entropies (:func:`score_token_entropy`).

The evaluation diagnostics (``confidence.py``) read these numbers: ACE §5.3's confidence shift is the
policy's minus the reference model's mean log-prob of each incorrect sample; ACE §5.4's eq. 16 is the
evaluated policy's token entropy over its own samples. Tokens scored: the
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


def _score_chunk(model, chunk: list[tuple[list[int], list[list[int]]]], pad: int, stat: str = "logprob") -> list[list]:
    """Mean log-prob (``stat="logprob"``) or (sum of token entropies, n tokens) (``stat="entropy"``) of every
    response of several problems in one forward: prompts left-padded and prefilled once per problem
    (:mod:`rlvr_repro.prefix_cache`), responses right-padded, and the vocabulary softmax taken only at
    the positions that predict response tokens."""
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
    log_softmax = torch.log_softmax(logits, dim=-1)
    if stat == "entropy":
        per_token = -(log_softmax.exp() * log_softmax).sum(-1)  # H_t = -sum_v pi(v) log pi(v)
    else:
        per_token = log_softmax.gather(-1, ids[:, lp:].unsqueeze(-1)).squeeze(-1)
    values, k = [], 0
    for _, rs in chunk:
        row = []
        for r in rs:
            if stat == "entropy":
                row.append((float(per_token[k, :len(r)].sum()), len(r)))
            else:
                row.append(float(per_token[k, :len(r)].mean()) if r else None)
            k += 1
        values.append(row)
    return values


def _load_scorer(model_dir: str | Path, dtype: str, threads: int | None):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(int(threads))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=getattr(torch, dtype)).eval()
    eos = model.generation_config.eos_token_id
    eos = (eos[0] if isinstance(eos, (list, tuple)) else eos) if eos is not None else tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    return model, tokenizer, eos, pad


@torch.no_grad()
def score_token_entropy(model_dir: str | Path, gen_rows: Sequence[dict] | str | Path, *, dtype: str = "float32",
                        threads: int | None = None, progress: bool = True, max_rows: int = 16
                        ) -> list[list[tuple[float, int]]]:
    """ACE eq. 16's ingredients for every sample: (sum over its tokens of H_t, number of tokens) under the
    model in ``model_dir``, the tokens being the response re-tokenized (+ EOS when it stopped on it), as
    :func:`score_logprobs` scores them (:func:`rlvr_repro.evaluate.confidence.token_entropy` reduces them).
    ``max_rows`` samples per forward: the [rows x tokens x vocab] softmax is the memory bound."""
    if isinstance(gen_rows, (str, Path)):
        gen_rows = read_jsonl(gen_rows)
    model, tokenizer, eos, pad = _load_scorer(model_dir, dtype, threads)
    encoded = [_encode_row(tokenizer, row, eos) for row in gen_rows]
    return _score_encoded(model, encoded, pad, max_rows, desc=f"entropy under {Path(model_dir).name}",
                          progress=progress, stat="entropy")


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
    if isinstance(gen_rows, (str, Path)):
        gen_rows = read_jsonl(gen_rows)
    model, tokenizer, eos, pad = _load_scorer(model_dir, dtype, threads)
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


def _score_encoded(model, encoded: list, pad: int, max_rows: int, *, desc: str, progress: bool,
                   stat: str = "logprob") -> list[list]:
    """Encoded rows scored in chunks of whole problems of at most ``max_rows`` samples."""
    out: list[list] = []
    chunk: list = []
    bar = tqdm(total=len(encoded), desc=desc, disable=not progress)
    for item in encoded + [None]:
        if chunk and (item is None or sum(len(rs) for _, rs in chunk) + len(item[1]) > max_rows):
            out += _score_chunk(model, chunk, pad, stat)
            bar.update(len(chunk))
            chunk = []
        if item is not None:
            chunk.append(item)
    bar.close()
    return out
