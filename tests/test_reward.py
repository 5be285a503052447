"""The verifiable reward: verl's custom-reward signature, the local trainer's batch form, and that it
pays nothing to responses designed to game a lenient grader."""

import time

import pytest

from rlvr_repro import reward
from rlvr_repro.evaluate.grading import grade

HANG = r"\boxed{\dfrac{5^{\left(5^{\left(5^{\left(5^5\right)}\right)} - 4\right)} - 5}{16}}"


def test_compute_score_verl_signature_and_fields():
    out = reward.compute_score("math_dapo", "Let me think.\nAnswer: $13$", "13", extra_info={"index": 0})
    assert out == {"score": 1.0, "acc": True, "pred": "13", "timeout": False}
    out = reward.compute_score(data_source="openr1_stable10k", solution_str=r"\boxed{\frac{1}{2}}",
                               ground_truth="0.5", extra_info=None, reward_router_address=None)
    assert out["score"] == 1.0
    out = reward.compute_score("math_dapo", "no idea", "13")
    assert out == {"score": 0.0, "acc": False, "pred": "", "timeout": False}


def test_data_source_selects_grading_mode():
    assert reward.source_mode("gsm8k") == "numeric"
    assert reward.source_mode("openai/gsm8k") == "numeric"
    assert reward.source_mode("mmlu_stem") == "choice"
    assert reward.source_mode("aime24") == "integer"
    assert reward.source_mode("some_new_dataset") == "math"
    # the same response is judged like the evaluation grader judges it
    text = r"so \boxed{C}"
    assert reward.compute_score("mmlu_stem", text, 2)["score"] == float(grade(text, 2, "mmlu_stem")) == 1.0


def test_score_batch_mixed_sources_keeps_order():
    sources = ["math_dapo", "gsm8k", "math_train", "mmlu_stem", "unknown"]
    sols = [r"\boxed{7}", "The answer is 1,234.", r"\boxed{\dfrac{2}{4}}", r"\boxed{B}", "\\boxed{x+1}"]
    golds = ["7", "#### 1234", r"\frac12", 2, "1+x"]
    assert reward.score_batch(sources, sols, golds) == [1.0, 1.0, 1.0, 0.0, 1.0]


def test_score_batch_edge_cases():
    assert reward.score_batch([], [], []) == []
    assert reward.score_batch(["math_dapo"], [""], ["3"]) == [0.0]
    with pytest.raises(ValueError, match="must be equal"):
        reward.score_batch(["a", "b"], ["x"], ["1"])


def test_compute_score_batch_for_verl_batch_manager():
    out = reward.compute_score_batch(data_sources=["math_dapo", "math_dapo"],
                                     solution_strs=[r"\boxed{3}", r"\boxed{4}"],
                                     ground_truths=["3", "3"], extra_infos=[{}, {}])
    assert [o["score"] for o in out] == [1.0, 0.0]


def test_hanging_response_gets_zero_within_the_deadline():
    t0 = time.monotonic()
    out = reward.compute_score("math_dapo", HANG, "5", timeout=2.0)
    assert out["score"] == 0.0 and out["timeout"] is True
    assert time.monotonic() - t0 < 10.0


def test_bad_ground_truth_names_source():
    with pytest.raises(ValueError, match="data_source 'mmlu_stem'"):
        reward.compute_score("mmlu_stem", r"\boxed{A}", "not a letter")


def test_fast_path_needs_no_worker_for_integer_answers(monkeypatch):
    """2,048 DAPO-style integer responses are scored in-process, without any math-verify call."""
    def no_pool(workers):
        raise AssertionError("integer answers must not reach the math-verify worker pool")

    monkeypatch.setattr("rlvr_repro.evaluate.grading.shared_pool", no_pool)
    sols = [f"Let me think step by step.\nAnswer: {k % 50}" if k % 2 else f"so \\boxed{{{k % 50}}}" for k in range(2048)]
    scores = reward.score_batch(["math_dapo"] * 2048, sols, ["7"] * 2048)
    assert sum(scores) == sum(1 for k in range(2048) if k % 50 == 7)


# Each of these would be paid by a lenient grader (last number, "answer is" anywhere, last box only,
# the first number of a list, an unescaped relation); the gold is 7 in every case.
GAMING = [
    "Let me compute. 3 + 4 gives 7",                                 # a number that is merely last
    "I am not sure. It could be 6.\nThe sum is 7",
    "The answer is 7 or 8.",                                         # hedges
    "Either 6 or 7",
    r"\boxed{6} or \boxed{7}",
    r"\boxed{7} \boxed{8}",
    r"\boxed{7 \text{ or } 8}",
    r"\boxed{\pm 7}",
    "7 or 8",
    r"\boxed{6, 7, 8}",                                              # lists
    "6, 7, 8",
    r"\boxed{1}\boxed{2}\boxed{3}\boxed{4}\boxed{5}\boxed{6}\boxed{7}\boxed{8}\boxed{9}",
    r"\boxed{x \neq 7}",                                            # relations
    r"\boxed{x < 7}",
    r"$x \geq 7$",
    "x > 7",
    "The answer is 7 apples, or maybe 8.",
    "Answer: 7\nWait, that is wrong. Let me redo it: 8 is right",   # a retracted answer line
    r"\boxed{8}. Check: 7",                                          # the box is the answer, not the tail
    r"<think>the answer is \boxed{7}</think>The answer is \boxed{8}",
    r"so the answer is \boxed{7",                                    # a truncated box
    r"\boxed{700\%}",
    "seven",
]
PAID = ["7", "7.", "$7$", "The answer is 7.", "Answer: 7", r"\boxed{7}", r"So the final answer is $\boxed{7}$.",
        "Reasoning first.\nThe final answer is 7.", "x = 7", r"\boxed{7}. Check: 3 + 4 = 7, so \boxed{7}"]


def test_responses_designed_to_game_a_lenient_grader_get_zero():
    scores = reward.score_batch(["math_dapo"] * len(GAMING), GAMING, ["7"] * len(GAMING))
    assert dict(zip(GAMING, scores)) == {g: 0.0 for g in GAMING}
    # the evaluation grader (math-verify on the whole text) does pay the first one: the reward's
    # reading is stricter than the evaluation standard, never looser
    assert grade(GAMING[0], "7", "math500") is True


def test_stated_answers_are_paid_under_every_prompt_family():
    """short_answer asks for the bare number, the other families for a box: both forms pay."""
    scores = reward.score_batch(["math_dapo"] * len(PAID), PAID, ["7"] * len(PAID))
    assert dict(zip(PAID, scores)) == {p: 1.0 for p in PAID}
    verl = [reward.compute_score("math_dapo", p, "7")["score"] for p in GAMING[:3] + PAID[:3]]
    assert verl == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]


def test_local_task_rewards_its_bare_answers():
    """The local arithmetic task (data.arith_task): MATH-500-shaped and GSM8K-shaped golds, the
    short_answer model's bare answers."""
    sources = ["arith", "arith", "gsm8k", "math_train", "math_train"]
    sols = ["7", " 12\n", "9", "The answer is 5.", "3 + 4 = 8"]
    golds = ["7", "12", "Tom has 4 + 5 = <<4+5=9>>9 apples.\n#### 9", "5", "7"]
    assert reward.score_batch(sources, sols, golds) == [1.0, 1.0, 1.0, 1.0, 0.0]


def test_verl_loads_compute_score_by_path_and_calls_it_from_a_thread():
    """verl 0.9.1 loads the reward by file path (get_custom_reward_fn) and its reward loop calls
    it from an executor thread: math-verify's SIGALRM would fail there, our worker pool does not."""
    from concurrent.futures import ThreadPoolExecutor

    pytest.importorskip("verl")
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    cfg = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": reward.__file__, "name": "compute_score", "reward_kwargs": {}}}})
    fn = get_custom_reward_fn(cfg)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(fn, data_source="math_dapo", solution_str=s, ground_truth=g, extra_info={})
                   for s, g in [(r"\boxed{x^2+2x+1}", "(x+1)^2"), (r"\boxed{\frac{1}{2}}", "0.5"),
                                (r"\boxed{3}", "4")]]
        assert [f.result()["score"] for f in futures] == [1.0, 1.0, 0.0]
