"""Shared-prompt prefill is the same computation without the repeats: same log-probs, same gradients,
same greedy generations as the unshared call (tiny random Llama, fp32)."""

from __future__ import annotations

import torch

from rlvr_repro.prefix_cache import generate_shared, runs_of_equal_rows
from rlvr_repro.train.logprobs import response_log_probs

from .conftest import build_tiny_model


def _batch(group=3, prompts=3, lp=9, t=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(6, 60, (prompts, lp), generator=g)
    pmask = torch.ones(prompts, lp, dtype=torch.long)
    pmask[1, :4] = 0  # a shorter, left-padded prompt
    prompt[1, :4] = 1
    resp = torch.randint(6, 60, (prompts * group, t), generator=g)
    rmask = torch.ones(prompts * group, t, dtype=torch.long)
    rmask[0, 3:] = 0  # responses of different lengths
    rmask[-1, 1:] = 0
    ids = torch.cat([prompt.repeat_interleave(group, 0), resp], 1)
    mask = torch.cat([pmask.repeat_interleave(group, 0), rmask], 1)
    return ids, mask, (mask.cumsum(-1) - 1).clamp(min=0), t


def test_runs_of_equal_rows():
    ids = torch.tensor([[1, 2], [1, 2], [3, 4], [1, 2]])
    mask = torch.ones_like(ids)
    assert runs_of_equal_rows(ids, mask).tolist() == [0, 0, 1, 2]  # only consecutive rows share
    assert runs_of_equal_rows(ids[:0], mask[:0]).tolist() == []


def test_log_probs_and_gradients_match_the_unshared_forward():
    model = build_tiny_model().eval()
    ids, mask, pos, width = _batch()
    out = {}
    for share in (False, True):
        model.zero_grad()
        lp, ent = response_log_probs(model, ids, mask, pos, width, temperature=0.7, with_entropy=True,
                                     share_prompts=share)
        (lp * mask[:, -width:]).sum().backward()
        out[share] = (lp.detach(), ent.detach(), [p.grad.clone() for p in model.parameters()])
    assert torch.allclose(out[True][0], out[False][0], atol=1e-5)
    assert torch.allclose(out[True][1], out[False][1], atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(out[True][2], out[False][2]))
    assert any(g.abs().sum() > 0 for g in out[True][2])


def test_a_batch_without_repeated_prompts_takes_the_plain_path():
    model = build_tiny_model().eval()
    ids, mask, pos, width = _batch(group=1)
    a, _ = response_log_probs(model, ids, mask, pos, width, temperature=1.0, share_prompts=True)
    b, _ = response_log_probs(model, ids, mask, pos, width, temperature=1.0, share_prompts=False)
    assert torch.equal(a, b)


def test_greedy_generation_matches_plain_generate():
    model = build_tiny_model().eval()
    ids, mask, _, _ = _batch(group=1, prompts=3)
    prompt_ids, prompt_mask = ids[:, :9], mask[:, :9]
    kwargs = dict(max_new_tokens=7, do_sample=False, pad_token_id=1, eos_token_id=[2])
    with torch.inference_mode():
        plain = model.generate(input_ids=prompt_ids.repeat_interleave(4, 0),
                               attention_mask=prompt_mask.repeat_interleave(4, 0), **kwargs)
        shared = generate_shared(model, prompt_ids, prompt_mask, 4, **kwargs)
    assert torch.equal(plain, shared)
