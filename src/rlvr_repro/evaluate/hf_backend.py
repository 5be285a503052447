"""Generation with transformers on CPU (the local DAG and tests; also works on one GPU).

All n samples of a problem come from one ``generate`` call, the prompt prefilled once for all n
(:func:`rlvr_repro.prefix_cache.generate_shared`); several problems can share a call
(``batch_size``) with left padding. The log-prob of every
sampled token is read from the raw logits (``output_logits=True``: before temperature and top-p,
the same distribution vLLM reports by default) to give each sample's mean NLL.

Seeding: torch's generator is seeded with the first problem's seed before each call, so a
chunk of problems always produces the same samples — which is what makes resumed generation
identical to an uninterrupted run (chunk boundaries are fixed by the problem order).
"""

from __future__ import annotations

import logging
import os
from typing import Sequence

import torch

from rlvr_repro.evaluate.samples import THINK_END, make_sample
from rlvr_repro.compute_dtype import resolve_model_dtype
from rlvr_repro.prefix_cache import generate_shared

log = logging.getLogger(__name__)


class HFBackend:
    """``generate(prompts, settings, seeds) -> [[sample, ...] per prompt]``."""

    name = "hf"

    def __init__(self, model_dir: str, *, dtype: str = "auto", threads: int | None = None,
                 device: str | None = None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:  # a cluster resource (cpus_per_task: 16) must not oversubscribe a small machine
            torch.set_num_threads(max(1, min(int(threads), len(os.sched_getaffinity(0)))))
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.dtype = resolve_model_dtype(dtype, model_dir, device=self.device)
        log.info("generation dtype %s (%s)", self.dtype.name, self.dtype.reason)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=self.dtype.dtype)
        self.model.to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos])
        self.think_ids = self.tokenizer.encode(THINK_END, add_special_tokens=False)

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    @torch.no_grad()
    def generate(self, prompts: list[str], settings: dict, seeds: list[int]) -> list[list[dict]]:
        n = int(settings["n"])
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        do_sample = settings["temperature"] > 0
        kwargs = dict(max_new_tokens=int(settings["max_tokens"]), do_sample=do_sample, return_dict_in_generate=True, output_logits=True,
                      pad_token_id=self.tokenizer.pad_token_id, eos_token_id=sorted(self.eos_ids))
        if do_sample:
            kwargs.update(temperature=float(settings["temperature"]), top_p=float(settings["top_p"]),
                          top_k=int(settings["top_k"]) if settings["top_k"] > 0 else None)
        torch.manual_seed(int(seeds[0]))
        out = generate_shared(self.model, enc["input_ids"], enc["attention_mask"], n, **kwargs)
        prompt_len = enc["input_ids"].shape[1]
        generated = out.sequences[:, prompt_len:]                       # [B*n, T]
        # Log-prob of each sampled token under the raw logits, one step at a time (stacking the
        # [B*n, T, V] logits would triple the memory generate already holds).
        logprobs = torch.zeros(generated.shape, dtype=torch.float32)
        for t, step_logits in enumerate(out.logits):
            logprobs[:, t] = torch.log_softmax(step_logits.float(), dim=-1).gather(
                -1, generated[:, t:t + 1]).squeeze(-1).cpu()
        del out
        results: list[list[dict]] = []
        for p in range(len(prompts)):
            samples = []
            for row in range(p * n, (p + 1) * n):
                ids = generated[row].tolist()
                length, reason = len(ids), "length"
                for t, tok in enumerate(ids):
                    if tok in self.eos_ids:
                        length, reason = t + 1, "stop"
                        break
                ids = ids[:length]
                samples.append(make_sample(self._decode(ids), ids, logprobs[row, :length].tolist(),
                                           reason, think_ids=self.think_ids, decode=self._decode))
            results.append(samples)
        return results

    def close(self) -> None:
        self.model = None
