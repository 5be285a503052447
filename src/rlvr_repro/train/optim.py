"""AdamW on fp32 master weights, verl's warm-up schedule, gradient clipping.

Why master weights: on a CPU with bf16 instructions the fastest way to run SmolLM2 is bf16 (the compute
dtype is chosen per machine, :mod:`rlvr_repro.compute_dtype`), but an AdamW step of size ~lr=1e-6
on a bf16 weight (8 significant bits) is rounded away. So the model computes in its compute dtype and the
optimizer owns fp32 copies: gradients are added into the fp32 copies after every micro-batch, the step
happens in fp32, and the result is copied back into the model (classic mixed precision). A model that is
already fp32 is updated in place, with no copies.

The schedule is verl's ``get_constant_schedule_with_warmup`` (linear warm-up from 0 over ``warmup_steps``,
then constant; stepped once per training step), and a step whose gradient norm is not finite is skipped,
as verl's FSDP engine does.
"""

from __future__ import annotations

import torch
from verl.utils.torch_functional import get_constant_schedule_with_warmup


class MasterWeights:
    """fp32 parameters the optimizer updates, mirrored into a (possibly lower-precision) model."""

    def __init__(self, model: torch.nn.Module):
        self.names, self.model_params = [], []
        for name, p in model.named_parameters():  # tied weights appear once
            if p.requires_grad:
                self.names.append(name)
                self.model_params.append(p)
        self.separate = any(p.dtype != torch.float32 for p in self.model_params)
        if self.separate:
            self.params = [torch.nn.Parameter(p.detach().float().clone()) for p in self.model_params]
        else:
            self.params = self.model_params

    def collect_grads(self) -> None:
        """Add the model's fresh gradients into the fp32 copies and clear them (after each backward)."""
        if not self.separate:
            return
        for master, p in zip(self.params, self.model_params):
            if p.grad is None:
                continue
            if master.grad is None:
                master.grad = p.grad.float()
            else:
                master.grad.add_(p.grad)
            p.grad = None

    @torch.no_grad()
    def push_to_model(self) -> None:
        """Copy the updated fp32 values into the model (a no-op for an fp32 model)."""
        if self.separate:
            for master, p in zip(self.params, self.model_params):
                p.copy_(master)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().clone() for n, p in zip(self.names, self.params)}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = sorted(set(self.names) - set(state))
        if missing:
            raise KeyError(f"master weights in the trainer state lack parameters {missing[:5]}")
        for n, p in zip(self.names, self.params):
            p.copy_(state[n])
        self.push_to_model()


def build_optimizer(master: MasterWeights, *, lr: float, weight_decay: float, warmup_steps: int):
    """AdamW with verl's defaults (betas 0.9/0.999) and verl's constant-with-warm-up schedule."""
    optimizer = torch.optim.AdamW(master.params, lr=lr, betas=(0.9, 0.999), weight_decay=weight_decay)
    scheduler = get_constant_schedule_with_warmup(optimizer, num_warmup_steps=warmup_steps)
    return optimizer, scheduler


def clip_and_step(master: MasterWeights, optimizer: torch.optim.Optimizer, grad_clip: float) -> float:
    """Clip the global gradient norm, step (skipped if the norm is not finite), zero the gradients.

    Returns the pre-clip gradient norm."""
    grad_norm = torch.nn.utils.clip_grad_norm_(master.params, max_norm=grad_clip)
    if torch.isfinite(grad_norm):
        optimizer.step()
        master.push_to_model()
    optimizer.zero_grad(set_to_none=True)
    return float(grad_norm)
