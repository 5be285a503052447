"""EGPO Table 3 (§4.5): "we sample 1,000 problems and generate 8 rollouts per problem" -- the problems
drawn, every rollout of them kept, rollouts without a </think> split counted, AUCs by hand."""
from __future__ import annotations

import pandas as pd
import pytest

from rlvr_repro.report.diag_tables import TABLE3_PROBLEMS, auc_rows, table3_sample
from rlvr_repro.report.figures.inputs import DIAG_COLUMNS, FigureInputs


def _inputs(cells):
    """cells: (benchmark, samples dict) of the base R1-Distill-1.5B under protocol egpo."""
    rows = [{"protocol": "egpo", "subject": "base-r1_distill_qwen_1_5b", "model": "r1_distill_qwen_1_5b",
             "dataset": None, "method": "base", "seed": None, "step": 0, "benchmark": b, "doc": {"samples": s},
             "source": f"{b}.json"} for b, s in cells]
    return FigureInputs(metrics=pd.DataFrame(), logs=pd.DataFrame(), diagnostics=pd.DataFrame(rows, columns=DIAG_COLUMNS))


def _cell(problems, rollouts):
    """Per problem: rollouts as (correct, nll_think, nll_answer)."""
    s = {"problem": [], "correct": [], "nll_think": [], "nll_answer": []}
    for pid in problems:
        for ok, think, answer in rollouts:
            s["problem"].append(pid)
            s["correct"].append(ok)
            s["nll_think"].append(think)
            s["nll_answer"].append(answer)
    return s


def test_small_pool_hand_worked_auc_and_unsplit_rollouts_counted():
    # 2 problems x 3 rollouts: (correct, TE, AE). The third rollout of each has no </think>: counted, not scored.
    # scored: correct (TE .2, AE .1), wrong (TE .3, AE .9) per problem -> wrong ranks above correct in both
    #   TE: wrong {.3, .3} vs correct {.2, .2}: AUC 1;  AE: wrong {.9,.9} vs correct {.1,.1}: AUC 1
    # make TE imperfect: problem b's correct rollout has TE .4 -> pairs (wrong, correct): (.3,.2) (.3,.4) x 2
    #   -> 2 of 4 ranked right: AUC 0.5
    a = _cell(["a"], [(True, 0.2, 0.1), (False, 0.3, 0.9), (False, None, None)])
    b = _cell(["b"], [(True, 0.4, 0.1), (False, 0.3, 0.9), (True, 0.5, None)])
    inp = _inputs([("math500", a), ("aime24", b)])
    s = table3_sample(inp, "r1_distill_qwen_1_5b")
    assert (s["problems"], s["rollouts"], s["no_split"], s["wrong"].size) == (2, 6, 2, 4)
    row = auc_rows(inp)[0]
    assert (row["problems"], row["rollouts"], row["no split"], row["n"]) == (2, 6, 2, 4)
    assert row["TE ours"] == pytest.approx(0.5) and row["AE ours"] == pytest.approx(1.0)
    assert auc_rows(inp)[1]["n"] == 0 and auc_rows(inp)[1]["TE ours"] is None  # the 7B has no cells here


def test_a_larger_pool_is_sampled_down_to_1000_problems():
    # 1,200 problems over two benchmarks (the same id on both is two problems), 2 rollouts each: one split
    # correct (TE 1, AE 2) and one without </think>. Whatever 1,000 are drawn: 2,000 rollouts, 1,000 unsplit.
    cells = []
    for k, bench in enumerate(("gsm8k", "mmlu_stem")):
        cell = {"problem": [], "correct": [], "nll_think": [], "nll_answer": []}
        for i in range(600):  # TE identifies the problem: 0..599 on gsm8k, 1000..1599 on mmlu_stem
            for ok, think, answer in ((True, 1000.0 * k + i, 2.0), (False, None, None)):
                cell["problem"].append(str(i))
                cell["correct"].append(ok)
                cell["nll_think"].append(think)
                cell["nll_answer"].append(answer)
        cells.append((bench, cell))
    inp = _inputs(cells)
    s = table3_sample(inp, "r1_distill_qwen_1_5b")
    assert TABLE3_PROBLEMS == 1000
    assert (s["problems"], s["rollouts"], s["no_split"]) == (1000, 2000, 1000)
    assert not s["wrong"].any()  # only correct rollouts have a split: no AUC
    assert auc_rows(inp)[0]["TE ours"] is None
    assert len(set(s["think"].tolist())) == 1000  # 1,000 distinct problems, each with its one split rollout
    # the draw is seeded: the same 1,000 every time
    again = table3_sample(inp, "r1_distill_qwen_1_5b")
    assert sorted(again["think"].tolist()) == sorted(s["think"].tolist())


def test_diagnostics_without_problem_ids_are_refused_by_name():
    cell = _cell(["a"], [(True, 0.2, 0.1)])
    cell.pop("problem")
    with pytest.raises(ValueError, match="r1_distill_qwen_1_5b on math500 have no per-sample problem ids"):
        table3_sample(_inputs([("math500", cell)]), "r1_distill_qwen_1_5b")
