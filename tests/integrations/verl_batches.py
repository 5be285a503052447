"""A verl DataProto like the one compute_advantage sees in a PPO step (groups NOT contiguous)."""

from __future__ import annotations

import numpy as np
import torch


def make_dataproto(seed: int = 0, n_prompts: int = 5, n: int = 4, prompt_len: int = 3, resp_len: int = 7,
                   with_ref: bool = True, with_entropy: bool = True):
    from verl import DataProto

    g = torch.Generator().manual_seed(seed)
    bs = n_prompts * n
    lengths = torch.randint(1, resp_len + 1, (bs,), generator=g)
    lengths[0] = 0  # one zero-length response
    response_mask = (torch.arange(resp_len).unsqueeze(0) < lengths.unsqueeze(1)).float()
    p = torch.rand(n_prompts, generator=g)
    outcome = (torch.rand(bs, generator=g) < p.repeat_interleave(n)).float()
    outcome[:n] = 0.0  # one all-incorrect group
    outcome[n:2 * n] = 1.0  # one all-correct group
    scores = torch.zeros(bs, resp_len)
    scores[torch.arange(bs), (lengths - 1).clamp(min=0)] = outcome  # verl puts the outcome on the last token
    old = -torch.rand(bs, resp_len, generator=g) * 2 * response_mask
    uid = np.array([f"uid-{i // n}" for i in range(bs)], dtype=object)
    perm = torch.randperm(bs, generator=g)  # balance_batch reorders rows: groups are interleaved
    tensors = {
        "prompts": torch.randint(0, 100, (bs, prompt_len), generator=g),
        "responses": torch.randint(0, 100, (bs, resp_len), generator=g),
        "attention_mask": torch.cat([torch.ones(bs, prompt_len), response_mask], dim=1),
        "response_mask": response_mask,
        "token_level_scores": scores,
        "token_level_rewards": scores.clone(),
        "old_log_probs": old,
    }
    if with_ref:
        tensors["ref_log_prob"] = (old + 0.2 * torch.randn(bs, resp_len, generator=g)) * response_mask
    if with_entropy:  # what the plug-in keeps of the old-log-prob forward's entropys
        tensors["rlvr_token_entropy"] = torch.rand(bs, resp_len, generator=g) * 2 * response_mask
    tensors = {k: v[perm] for k, v in tensors.items()}
    return DataProto.from_dict(tensors=tensors, non_tensors={"uid": uid[perm.numpy()]})


def our_inputs(data) -> dict:
    b = data.batch
    out = dict(rewards=b["token_level_rewards"].sum(-1), index=data.non_tensor_batch["uid"],
               response_mask=b["response_mask"], old_log_probs=b["old_log_probs"])
    if "ref_log_prob" in b.keys():
        out["ref_log_probs"] = b["ref_log_prob"]
    if "rlvr_token_entropy" in b.keys():
        out["token_entropy"] = b["rlvr_token_entropy"]
    return out
