"""Every leaderboard method, as the trainer wires it: its train keys reach verl's loss, it gets the reference
model exactly when it needs one, its estimator reads the log-probs of the right policy, and one real
``train_step`` moves the policy the way its advantages say. A wrong sign or a swapped input anywhere
between the config and the loss fails here, even though each formula passes its own unit tests.

The tiny random model makes each step take well under a second; the methods come from the leaderboard
config itself (config/local.yaml + config/leaderboard.yaml), so a preset edit is tested as it will run.
"""

from __future__ import annotations

import copy
import zlib

import pytest
import torch

from rlvr_repro.advantages import REQUIRES, compute_advantages
from rlvr_repro.config import load_config
from rlvr_repro.train import local
from rlvr_repro.train.local import build_trainer, train_step
from rlvr_repro.train.logprobs import batched_response_log_probs, batched_response_stats
from rlvr_repro.train.rewards import overlong_penalty
from rlvr_repro.train.settings import parse_run_spec

CONFIG = load_config("local.yaml", "leaderboard.yaml")
LEADERBOARD = CONFIG["experiments"]["leaderboard"]["methods"]
FAMILIES = {"grpo", "drgrpo", "reinforce", "dapo", "grpo_clip_higher", "grpo_entreg", "edge_grpo", "ace_grpo",
            "lens", "egpo", "asymgrpo"}


def parity_reward(data_sources, solutions, ground_truths):
    """Deterministic 0/1 scores that mix every group of the tiny model's random texts."""
    return [float(zlib.crc32(s.encode()) % 2) for s in solutions]


def zero_reward(data_sources, solutions, ground_truths):
    return [0.0] * len(solutions)


def trainer(make_spec, method: str, reward_fn, **train):
    """A trainer for leaderboard preset ``method`` on the tiny model: the preset's own estimator, params
    and train keys (as the leaderboard config resolves them), the tiny model's scale around them."""
    preset = CONFIG["methods"][method]
    keys = {"lr": 1e-4, "group_size": 4, "prompts_per_step": 2, "micro_batch_size": 8, "max_gen_batches": 4,
            **(preset.get("train") or {}), **train}
    spec = make_spec(estimator=preset["estimator"], params=preset.get("params") or {}, **keys)
    return build_trainer(parse_run_spec(spec), reward_fn=reward_fn, dtype="float32")


class Step:
    """One ``train_step`` with what it fed the estimator and the policy before and after."""

    def __init__(self, t, step: int, monkeypatch):
        seen = {}
        collect, estimate = local.collect_rollouts, local.compute_advantages

        def collect_spy(*args, **kwargs):
            seen["batch"], seen["generated"] = out = collect(*args, **kwargs)
            return out

        def estimate_spy(name, **kwargs):
            seen["kwargs"] = kwargs
            seen["advantages"] = out = estimate(name, **kwargs)
            return out

        monkeypatch.setattr(local, "collect_rollouts", collect_spy)
        monkeypatch.setattr(local, "compute_advantages", estimate_spy)
        self.before = copy.deepcopy(t.model)
        self.record = train_step(t, step)
        monkeypatch.undo()
        self.t, self.batch, self.generated = t, seen["batch"], seen["generated"]
        self.kwargs, self.advantages = seen.get("kwargs"), seen.get("advantages")
        self.inputs, self.width = self.batch.model_inputs(), self.batch.response_ids.shape[1]
        self.mask = self.batch.response_mask

    def log_probs(self, model) -> torch.Tensor:
        return batched_response_log_probs(model, self.inputs, self.width, temperature=1.0, micro_batch_size=64)

    def moved(self) -> torch.Tensor:
        """Per response: Σ_t [log pi_after - log pi_before] over its tokens (the sum a token-level loss weighs)."""
        return ((self.log_probs(self.t.model) - self.log_probs(self.before)) * self.mask).sum(-1)

    def response_advantages(self) -> torch.Tensor:
        return (self.advantages * self.mask).sum(-1) / self.mask.sum(-1).clamp(min=1)


def test_the_leaderboard_trains_every_family_once_under_one_recipe():
    """The config `make leaderboard` runs is valid, trains each family once, and every run shares the
    recipe: only keys a method preset sets differ between runs."""
    from rlvr_repro.config import validate_config

    plan = validate_config(CONFIG)
    assert set(LEADERBOARD) == FAMILIES and len(LEADERBOARD) == len(FAMILIES)
    assert sorted(r.method for r in plan.runs.values()) == sorted(FAMILIES)
    assert CONFIG["methods"]["asymgrpo"]["params"] == {"beta_pos": 0.9, "beta_neg": 0.4, "flip": "none"}
    own = {k for m in FAMILIES for k in (CONFIG["methods"][m].get("train") or {})}
    for key in set(CONFIG["train"]) - own:
        assert len({repr(r.train.get(key)) for r in plan.runs.values()}) == 1, key
    assert plan.benchmarks() == ["local_arith", "local_words", "local_hard"]
    assert CONFIG["protocols"]["local"]["max_tokens"] == CONFIG["train"]["max_response_length"]
    assert CONFIG["methods"]["dapo"]["train"]["overlong_buffer_len"] < CONFIG["train"]["max_response_length"]


def test_the_recipe_makes_clip_higher_matter():
    """With one on-policy mini-batch and one epoch every PPO ratio is exactly 1, the clip never acts,
    and GRPO with clip-higher (or DAPO's) would be GRPO bit for bit: the recipe updates more than once
    per batch."""
    train = CONFIG["train"]
    mini = train.get("ppo_mini_batch_size") or train["prompts_per_step"]
    assert train["prompts_per_step"] // mini * train.get("ppo_epochs", 1) >= 2


@pytest.mark.parametrize("method", sorted(FAMILIES))
def test_train_keys_and_reference_model_reach_the_loss(make_spec, method):
    t = trainer(make_spec, method, parity_reward)
    preset = CONFIG["methods"][method]
    train = preset.get("train") or {}
    cfg = t.actor_config
    assert cfg.clip_ratio_high == train.get("clip_ratio_high", 0.2) and cfg.clip_ratio_low == 0.2
    assert cfg.loss_agg_mode == train.get("loss_agg_mode", "token-mean")
    assert cfg.entropy_coeff == train.get("entropy_coeff", 0.0)
    assert not cfg.use_kl_loss
    assert t.settings.dynamic_sampling == (method == "dapo")
    assert (t.settings.overlong_buffer_len > 0) == (method == "dapo")
    needs_ref = "ref_log_probs" in REQUIRES[preset["estimator"]]
    assert (t.ref_model is not None) == needs_ref == (method == "ace_grpo")
    if method == "drgrpo":  # Dr.GRPO's constant normaliser: the generation budget, not the batch's width
        assert cfg.loss_scale_factor == t.settings.max_response_length


@pytest.mark.parametrize("method", sorted(FAMILIES))
def test_one_step_follows_the_advantages_and_reads_the_right_log_probs(make_spec, monkeypatch, method):
    """Step 1: the update raises the surrogate Σ_i A_i Σ_t Δlog pi (first order of Adam's first, sign-like
    step) and rewarded responses gain log-probability on unrewarded ones. Step 2 (policy != reference):
    the estimator got the sampling policy's log-probs, the frozen reference's, and the shaped rewards."""
    t = trainer(make_spec, method, parity_reward)
    first = Step(t, 1, monkeypatch)
    moved, adv = first.moved(), first.response_advantages()
    assert float((adv * moved).sum()) > 0, (adv, moved)
    correct = first.batch.scores > 0.5
    groups = correct.view(-1, 4)
    mixed = ((groups.any(1) & ~groups.all(1)).repeat_interleave(4))
    assert mixed.any()
    assert moved[mixed & correct].mean() > moved[mixed & ~correct].mean()

    second = Step(t, 2, monkeypatch)
    kw = second.kwargs
    old, entropy = batched_response_stats(second.before, second.inputs, second.width, temperature=1.0,
                                          micro_batch_size=64, with_entropy=True)
    torch.testing.assert_close(kw["old_log_probs"], old, atol=1e-5, rtol=0)
    if t.ref_model is not None:
        ref = second.log_probs(t.ref_model)
        torch.testing.assert_close(kw["ref_log_probs"], ref, atol=1e-5, rtol=0)
        assert (ref - old).abs().max() > 1e-4  # one update later the two policies differ: a swap would show
    else:
        assert kw["ref_log_probs"] is None
    s = t.settings
    shaped = second.batch.scores + overlong_penalty(second.batch.response_lengths, max_response_length=s.max_response_length,
                                                    buffer_len=s.overlong_buffer_len,
                                                    penalty_factor=s.overlong_penalty_factor)
    torch.testing.assert_close(kw["rewards"], shaped)
    expected = compute_advantages(t.spec.estimator, rewards=shaped, index=list(second.batch.uids),
                                  response_mask=second.mask, old_log_probs=old,
                                  ref_log_probs=kw["ref_log_probs"], token_entropy=kw.get("token_entropy"),
                                  **t.spec.params)
    torch.testing.assert_close(second.advantages, expected, atol=1e-4, rtol=1e-4)
    if "token_entropy" in REQUIRES[t.spec.estimator]:  # EDGE-GRPO: the sampling policy's Shannon entropy
        torch.testing.assert_close(kw["token_entropy"] * second.mask, entropy * second.mask, atol=1e-4, rtol=0)
    else:
        assert kw.get("token_entropy") is None
    # the logged true entropy is the sampling policy's, and the non-zero-advantage share counts responses
    n_tokens = float(second.mask.sum())
    assert second.record["entropy"] == pytest.approx(float((entropy * second.mask).sum()) / n_tokens, rel=1e-4)
    n_generated = sum(b.n_rows for b in second.generated)
    nonzero = int((second.advantages != 0).any(-1).sum())
    assert second.record["frac_nonzero_adv"] == pytest.approx(nonzero / n_generated)


def test_dapo_trains_only_on_mixed_groups_and_sees_the_overlong_penalty(make_spec, monkeypatch):
    t = trainer(make_spec, "dapo", parity_reward, max_response_length=8)
    step = Step(t, 1, monkeypatch)
    groups = (step.batch.scores > 0.5).view(-1, 4)
    assert (groups.any(1) & ~groups.all(1)).all()  # dynamic sampling: every kept group is mixed
    assert step.batch.n_groups == 2 and step.record["n_groups_kept"] == 2
    long = step.batch.response_lengths > 8 - 4  # inside DAPO's buffer: punished
    assert long.any(), "the random tiny model should ramble into the buffer"
    assert (step.kwargs["rewards"][long] < step.batch.scores[long]).all()
    assert (step.kwargs["rewards"][~long] == step.batch.scores[~long]).all()


def test_drgrpo_loss_is_the_token_sum_over_the_constant_budget(make_spec, monkeypatch):
    """Dr.GRPO (Liu et al. 2025): at ratio 1 (the update's first forward) the policy loss is
    -(1/B) Σ_i A_i |o_i| / L_max with A_i = r_i - mean_g r (no std): the constant L_max reached the loss,
    not the batch's padded width and not the token count."""
    t = trainer(make_spec, "drgrpo", parity_reward)
    step = Step(t, 1, monkeypatch)
    adv = step.response_advantages()
    scores = step.batch.scores.view(-1, 4)
    torch.testing.assert_close(adv, (scores - scores.mean(1, keepdim=True)).flatten().to(adv.dtype), atol=1e-6, rtol=0)
    rows, budget = step.batch.n_rows, t.settings.max_response_length
    expected = -float((adv * step.mask.sum(-1)).sum()) / rows / budget
    assert step.record["pg_loss"] == pytest.approx(expected, abs=1e-6)


def test_reinforce_and_asymgrpo_channels_reach_the_loss(make_spec, monkeypatch):
    """REINFORCE: A = 2r - 1. AsymGRPO (0.9, 0.4), eq. 8: correct ((1-p)/p)^0.9, incorrect -(p/(1-p))^0.4."""
    for method in ("reinforce", "asymgrpo"):
        t = trainer(make_spec, method, parity_reward)
        step = Step(t, 1, monkeypatch)
        adv = step.response_advantages().double()
        r = step.batch.scores.double()
        if method == "reinforce":
            torch.testing.assert_close(adv, 2 * r - 1, atol=1e-6, rtol=0)
            continue
        p = r.view(-1, 4).mean(1, keepdim=True).expand(-1, 4).flatten()
        pos = torch.where(p > 0, ((1 - p) / p.clamp(min=1e-9)) ** 0.9, 0.0)
        neg = torch.where(p < 1, -(p / (1 - p).clamp(min=1e-9)) ** 0.4, 0.0)
        torch.testing.assert_close(adv, torch.where(r > 0.5, pos, neg), atol=1e-5, rtol=0)


def test_all_negative_groups_grpo_stands_still_egpo_nsr_pushes_down_lens_ranks_by_confidence(make_spec, monkeypatch):
    """Every response wrong: GRPO's (and AsymGRPO's) advantage collapses to 0 and nothing moves; EGPO's
    NSR (eq. 13) gives every response a negative advantage and the step lowers the sampled responses'
    log-probability; LENS (§5.1) de-means the calibrated rewards, so the most confident wrong response
    gets the most negative advantage and loses the most against the least confident one."""
    for method in ("grpo", "asymgrpo"):
        step = Step(trainer(make_spec, method, zero_reward), 1, monkeypatch)
        assert step.record["grad_norm"] == 0.0 and step.record["frac_nonzero_adv"] == 0.0
        assert float(step.moved().abs().max()) == 0.0

    egpo = Step(trainer(make_spec, "egpo", zero_reward), 1, monkeypatch)
    adv = egpo.response_advantages()
    assert (adv < 0).all() and egpo.record["frac_nonzero_adv"] == 1.0
    assert float((adv.abs() * egpo.moved()).sum()) < 0  # the sampled responses became less likely

    lens = Step(trainer(make_spec, "lens", zero_reward), 1, monkeypatch)
    adv, moved = lens.response_advantages().double(), lens.moved().double()
    pibar = ((lens.kwargs["old_log_probs"] * lens.mask).sum(-1) / lens.mask.sum(-1)).exp().double()
    for g in range(lens.batch.n_groups):
        rows = slice(4 * g, 4 * g + 4)
        assert abs(float(adv[rows].sum())) < 1e-6  # de-meaned within the group
        hi, lo = int(pibar[rows].argmax()), int(pibar[rows].argmin())
        assert adv[rows][hi] < adv[rows][lo]
    assert float((adv * moved).sum()) > 0


def test_the_entropy_bonus_raises_the_entropy_and_only_when_asked(make_spec, monkeypatch):
    """GRPO w/ entropy regularisation: loss = pg - lambda * entropy. With every reward equal (advantage 0)
    the bonus is the only gradient: one step must raise the policy's token entropy; without it nothing moves."""
    t = trainer(make_spec, "grpo_entreg", zero_reward, entropy_coeff=0.5, lr=1e-3)
    step = Step(t, 1, monkeypatch)
    assert step.record["entropy_loss"] is not None and step.record["grad_norm"] > 0
    _, before = batched_response_stats(step.before, step.inputs, step.width, temperature=1.0, micro_batch_size=64,
                                       with_entropy=True)
    _, after = batched_response_stats(t.model, step.inputs, step.width, temperature=1.0, micro_batch_size=64,
                                      with_entropy=True)
    assert float((after * step.mask).sum()) > float((before * step.mask).sum())
    plain = Step(trainer(make_spec, "grpo", zero_reward), 1, monkeypatch)
    assert plain.record["entropy_loss"] is None and plain.record["grad_norm"] == 0.0
    assert plain.record["entropy"] is not None  # logged whether or not the loss uses it


def test_clip_higher_changes_the_off_policy_mini_batch(make_spec, monkeypatch):
    """With two mini-batches per step the second one is off-policy (ratio != 1). Same seed, same samples:
    GRPO and GRPO w/ clip-higher (0.28) take the same first mini-batch and differ on the second where a
    ratio passes 1.2, so the clip range reached the loss."""
    def run(method):
        t = trainer(make_spec, method, parity_reward, ppo_mini_batch_size=1, lr=3e-2)
        step = Step(t, 1, monkeypatch)
        return step.record, [p.detach().clone() for p in t.model.parameters()]

    (grpo, w_grpo), (higher, w_higher) = run("grpo"), run("grpo_clip_higher")
    assert grpo["reward_mean"] == higher["reward_mean"]
    assert grpo["clip_frac"] > 0  # the second mini-batch's ratios left [0.8, 1.2]
    assert any(not torch.equal(a, b) for a, b in zip(w_grpo, w_higher))
