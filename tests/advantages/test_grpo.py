"""GRPO / Dr.GRPO / REINFORCE: hand-worked values, verl's conventions, edge cases, the dispatcher contract."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlvr_repro.advantages import ESTIMATORS, compute_advantages
from advantages.helpers import random_batch, response_advantages


def _ones(n, t=3):
    return torch.ones(n, t)


def test_grpo_hand_worked_group_of_four():
    # rewards [1, 0, 0, 1]: mean 0.5; unbiased std = sqrt(((.5)^2*4)/3) = sqrt(1/3) = 0.57735
    # A = ±0.5 / (0.57735 + 1e-6) = ±0.866024
    adv = compute_advantages("grpo", rewards=[1.0, 0.0, 0.0, 1.0], index=["a"] * 4, response_mask=_ones(4))
    expected = 0.5 / (math.sqrt(1 / 3) + 1e-6)
    assert torch.allclose(adv[:, 0], torch.tensor([expected, -expected, -expected, expected]), atol=1e-6)


def test_drgrpo_and_reinforce_hand_worked():
    # rewards [1, 0, 0, 0] in one group: Dr.GRPO A = r - 0.25 = [.75, -.25, -.25, -.25]; REINFORCE 2r-1 = [1,-1,-1,-1]
    r = [1.0, 0.0, 0.0, 0.0]
    dr = compute_advantages("drgrpo", rewards=r, index=[7] * 4, response_mask=_ones(4))
    assert torch.allclose(dr[:, 0], torch.tensor([0.75, -0.25, -0.25, -0.25]))
    rf = compute_advantages("reinforce", rewards=r, index=[7] * 4, response_mask=_ones(4))
    assert torch.allclose(rf[:, 0], torch.tensor([1.0, -1.0, -1.0, -1.0]))


@pytest.mark.parametrize("value", [0.0, 1.0, 0.3])
def test_all_equal_groups_get_zero(value):
    # all-correct, all-incorrect and equal non-binary rewards: exactly 0 (no eps blow-up of rounding)
    for name in ("grpo", "drgrpo"):
        adv = compute_advantages(name, rewards=[value] * 5, index=["g"] * 5, response_mask=_ones(5))
        assert torch.equal(adv, torch.zeros(5, 3))


def test_single_response_group_gets_zero_by_contract():
    # docs/CONTRACTS.md: "a group of one response gets 0" -- no group baseline, no contrast
    for name in ("grpo", "drgrpo"):
        adv = compute_advantages(name, rewards=[1.0, 0.0], index=["a", "b"], response_mask=_ones(2))
        assert torch.equal(adv, torch.zeros(2, 3))


def test_single_response_group_verl_convention():
    # singleton="verl": verl uses mean 0, std 1 for a group of one: GRPO A = r/(1+1e-6), Dr.GRPO A = r
    g = compute_advantages("grpo", rewards=[1.0, 0.0], index=["a", "b"], response_mask=_ones(2), singleton="verl")
    assert torch.allclose(g[:, 0], torch.tensor([1 / (1 + 1e-6), 0.0]))
    d = compute_advantages("drgrpo", rewards=[1.0, 0.0], index=["a", "b"], response_mask=_ones(2), singleton="verl")
    assert torch.allclose(d[:, 0], torch.tensor([1.0, 0.0]))


def test_masking_zero_length_and_dtype():
    mask = torch.tensor([[1, 1, 0], [0, 0, 0], [1, 0, 0]], dtype=torch.float32)
    adv = compute_advantages("grpo", rewards=[1.0, 0.0, 0.0], index=["a", "a", "a"], response_mask=mask)
    assert adv.dtype == torch.float32 and adv.shape == (3, 3)
    assert torch.equal(adv[mask == 0], torch.zeros(int((mask == 0).sum())))
    assert torch.isfinite(adv).all()


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_shuffled_group_order_is_equivariant(name):
    b = random_batch(seed=3)
    base = response_advantages(name, **b)
    perm = torch.randperm(len(b["rewards"]), generator=torch.Generator().manual_seed(1))
    shuffled = {k: (v[perm.numpy()] if isinstance(v, np.ndarray) else v[perm]) for k, v in b.items()}
    assert torch.allclose(response_advantages(name, **shuffled), base[perm], atol=1e-12)


@pytest.mark.parametrize("index_kind", ["object_array", "list", "int_tensor", "int_array"])
def test_index_types_agree(index_kind):
    b = random_batch(seed=5)
    ref = response_advantages("grpo", **b)
    codes = {u: i for i, u in enumerate(sorted(set(b["index"])))}
    ints = [codes[u] for u in b["index"]]
    b["index"] = {"object_array": b["index"], "list": list(b["index"]), "int_tensor": torch.tensor(ints),
                  "int_array": np.array(ints)}[index_kind]
    assert torch.allclose(response_advantages("grpo", **b), ref)


def test_bad_inputs_name_the_field_and_row():
    with pytest.raises(ValueError, match="rewards has a non-finite value at row 1"):
        compute_advantages("grpo", rewards=[1.0, float("nan")], index=["a", "a"], response_mask=_ones(2))
    with pytest.raises(ValueError, match="response_mask must be"):
        compute_advantages("grpo", rewards=[1.0, 0.0], index=["a", "a"], response_mask=torch.ones(3, 2))
    with pytest.raises(ValueError, match="response_mask must be 0/1, found another value at row 1, token 2"):
        compute_advantages("grpo", rewards=[1.0, 0.0], index=["a", "a"], response_mask=torch.tensor([[1, 1, 0], [1, 0, 0.5]]))
    with pytest.raises(ValueError, match="response_mask must be 0/1"):
        compute_advantages("grpo", rewards=[1.0, 0.0], index=["a", "a"], response_mask=torch.tensor([[1, 2], [0, 0]]))
    with pytest.raises(ValueError, match="index has 3 entries"):
        compute_advantages("grpo", rewards=[1.0, 0.0], index=["a", "a", "b"], response_mask=_ones(2))
    with pytest.raises(ValueError, match="missing prompt id.*row 1"):
        compute_advantages("grpo", rewards=[1.0, 0.0], index=["a", None], response_mask=_ones(2))
    with pytest.raises(ValueError, match="unknown advantage estimator 'grpoo'"):
        compute_advantages("grpoo", rewards=[1.0], index=["a"], response_mask=_ones(1))
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['alpha'\] for estimator 'grpo'"):
        compute_advantages("grpo", rewards=[1.0], index=["a"], response_mask=_ones(1), alpha=1.0)


def test_random_batches_never_nan():
    for seed in range(10):
        b = random_batch(seed=seed)
        for name in ESTIMATORS:
            assert torch.isfinite(compute_advantages(name, **b)).all()


def test_non_finite_log_probs_inside_mask_are_reported_with_row_and_token():
    b = random_batch(seed=2)
    mask = b["response_mask"]
    row = int(torch.nonzero(mask.sum(-1) > 2)[0])
    b["old_log_probs"][row, 1] = float("nan")
    with pytest.raises(ValueError, match=f"old_log_probs has a non-finite value inside the response mask at row {row}, token 1"):
        compute_advantages("lens", **b)
    # outside the mask anything goes (padding may hold -inf); grpo does not read log-probs at all
    b["old_log_probs"][mask == 0] = -torch.inf
    assert torch.isfinite(compute_advantages("grpo", **b)).all()
