"""Training-set builders on hand-written rows in the real source schemas."""

import json

import pyarrow.parquet as pq
import pytest

from rlvr_repro.data.build import build_dataset
from rlvr_repro.data.dapo import TEMPLATE_PREFIX, TEMPLATE_SUFFIX, strip_dapo_template
from rlvr_repro.data.errors import DataError
from rlvr_repro.data.manifest import Manifest, RowAccountingError
from rlvr_repro.data.openr1 import largest_remainder

from .rows import PROBLEMS, dapo_row, math_row, numina_row, openr1_row, write_jsonl, write_rows_parquet


def _stages(manifest):
    return {s["stage"]: s for s in manifest["stages"]}


def _train_rows(out_dir, split="train"):
    return pq.read_table(out_dir / f"{split}.parquet").to_pylist()


# ------------------------------------------------------------------------------------------------
# MATH train

def test_math_train_answers_levels_and_drops(tmp_path):
    rows = [math_row(PROBLEMS[0], "2"), math_row(PROBLEMS[1], r"\frac{1}{2}", level="Level ?"),
            {"problem": PROBLEMS[2], "level": "Level 3", "type": "Geometry", "solution": "no box"},
            math_row("   ", "1")]
    spec = {"builder": "math_train", "sources": {"math": {"path": str(write_jsonl(tmp_path / "m.jsonl", rows))}},
            "params": {"val_size": 1, "decontaminate": "off"}}
    m = build_dataset("math_train", spec, tmp_path / "out", progress=False)
    st = _stages(m)
    assert st["math:parsed"]["rows"] == 2
    assert st["math:parsed"]["drops"] == {"no_boxed_answer": 1, "empty_problem": 1}
    assert m["notes"]["math:level_unknown"] == 1
    train = _train_rows(tmp_path / "out")
    assert [r["reward_model"] for r in train] == [{"style": "rule", "ground_truth": "2"},
                                                  {"style": "rule", "ground_truth": r"\frac{1}{2}"}]
    assert [r["extra_info"]["level"] for r in train] == [2, None]
    assert train[0]["data_source"] == "math_train" and train[0]["ability"] == "math"
    assert train[0]["prompt"][0]["role"] == "user" and PROBLEMS[0] in train[0]["prompt"][0]["content"]
    assert train[0]["extra_info"]["problem"] == PROBLEMS[0] and train[0]["extra_info"]["split"] == "train"
    assert m["outputs"]["val.parquet"]["rows"] == 1 and m["outputs"]["train.parquet"]["rows"] == 2  # val stays in train


@pytest.mark.parametrize("bad, field", [
    ({"problem": "p", "level": "Level 1", "type": "Algebra"}, "solution"),
    ({"problem": "p", "level": "Level 1", "type": "Algebra", "solution": 3}, "solution"),
    ({"problem": "p", "level": "L1", "type": "Algebra", "solution": r"\boxed{1}"}, "level"),
])
def test_math_train_bad_rows_are_named(tmp_path, bad, field):
    path = write_jsonl(tmp_path / "m.jsonl", [math_row("ok", "1"), bad])
    spec = {"builder": "math_train", "sources": {"math": {"path": str(path)}}, "params": {"decontaminate": "off"}}
    with pytest.raises(DataError, match=rf"dataset 'mt', row 1, field '{field}'"):
        build_dataset("mt", spec, tmp_path / "out", progress=False)


def test_math_train_flags_contamination_without_dropping(tmp_path, benchmark_jsonl):
    path = write_jsonl(tmp_path / "m.jsonl", [math_row(p, "1") for p in PROBLEMS])
    # a single source may carry any name (config/local.yaml calls it `main`)
    spec = {"builder": "math_train", "sources": {"main": {"path": str(path)}}, "params": {"val_size": 2}}
    m = build_dataset("math_train", spec, tmp_path / "out",
                      decontam={"math500": benchmark_jsonl("math500", [PROBLEMS[3]])}, progress=False)
    assert m["notes"]["decontamination"]["matches"] == {"contaminated:math500": 1}
    assert m["outputs"]["train.parquet"]["rows"] == len(PROBLEMS)


# ------------------------------------------------------------------------------------------------
# DAPO

def test_strip_dapo_template():
    assert strip_dapo_template(TEMPLATE_PREFIX + "What is $1+1$?" + TEMPLATE_SUFFIX) == "What is $1+1$?"
    squeezed = TEMPLATE_PREFIX.replace("\n\n", "\n") + "Find x." + TEMPLATE_SUFFIX.replace("\n\n", " ")
    assert strip_dapo_template(squeezed) == "Find x."
    assert strip_dapo_template("What is 1+1?") is None
    assert strip_dapo_template(TEMPLATE_PREFIX + "   " + TEMPLATE_SUFFIX) is None


def test_dapo_dedups_repeated_prompts_and_decontaminates(tmp_path, benchmark_jsonl):
    rows = []
    for k in range(3):                                   # each prompt 3x, like the original's ~100x
        rows += [dapo_row(PROBLEMS[0], "34", "a"), dapo_row(PROBLEMS[1], "8", "b"), dapo_row(PROBLEMS[2], "5", "c")]
    rows.append(dapo_row(PROBLEMS[1], "9", "b2"))        # same prompt, different answer: noted, first kept
    rows.append({**dapo_row(PROBLEMS[3], "1", "d"), "prompt": [{"content": PROBLEMS[3], "role": "user"}]})
    rows.append(dapo_row(PROBLEMS[4], "", "e"))
    spec = {"builder": "dapo", "sources": {"dapo": {"path": str(write_rows_parquet(tmp_path / "d.parquet", rows))}},
            "params": {"val_size": 1}}
    bench = benchmark_jsonl("aime24", [PROBLEMS[2].replace("exactly", "exactly ")])   # re-spaced copy
    m = build_dataset("dapo17k", spec, tmp_path / "out", decontam={"aime24": bench}, progress=False)
    st = _stages(m)
    assert st["dapo:loaded"]["rows"] == 12
    assert st["dapo:unwrapped"]["drops"] == {"template_not_found": 1, "empty_answer": 1}
    assert (st["dapo:unique_prompts"]["rows_in"], st["dapo:unique_prompts"]["rows"]) == (10, 3)
    assert m["notes"]["dapo:duplicate_rows_with_a_different_answer"] == 1
    assert st["decontaminated"]["drops"] == {"contaminated:aime24": 1}
    train = _train_rows(tmp_path / "out")
    assert [r["extra_info"]["problem"] for r in train] == PROBLEMS[:2]
    assert [r["reward_model"]["ground_truth"] for r in train] == ["34", "8"]
    assert all("Answer:" not in r["prompt"][-1]["content"] for r in train)
    assert train[0]["data_source"] == "math_dapo" and train[0]["extra_info"]["source_id"] == "dapo/a"


def test_dapo_wrong_types_are_named(tmp_path):
    row = dapo_row("p", "1", "a")
    row["reward_model"] = {"ground_truth": 34, "style": "rule"}
    spec = {"builder": "dapo", "sources": {"dapo": {"path": str(write_rows_parquet(tmp_path / "d.parquet", [row]))}},
            "params": {"decontaminate": "off"}}
    with pytest.raises(DataError, match=r"dataset 'dapo17k', row 0, field 'ground_truth': expected str, got int"):
        build_dataset("dapo17k", spec, tmp_path / "out", progress=False)


# ------------------------------------------------------------------------------------------------
# Mixes (LENS)

def test_lens_mix_subsamples_exactly_and_dedups_across_components(tmp_path):
    math_path = write_jsonl(tmp_path / "m.jsonl", [math_row(p, "1") for p in PROBLEMS[:3]])
    dapo_rows = [dapo_row(f"{p} Variant {k}.", "2", f"{k}") for k, p in enumerate(PROBLEMS * 2)]
    dapo_rows.append(dapo_row(PROBLEMS[0], "1", "dup-of-math"))
    spec = {"builder": "mix", "seed": 7,
            "sources": {"math": {"path": str(math_path)},
                        "dapo": {"path": str(write_rows_parquet(tmp_path / "d.parquet", dapo_rows))}},
            "params": {"components": {"math": {"kind": "math_train"}, "dapo": {"kind": "dapo", "size": 13}},
                       "decontaminate": "off", "val_size": 4}}
    m = build_dataset("lens_math_dapo", spec, tmp_path / "out", progress=False)
    st = _stages(m)
    assert (st["dapo:subset"]["rows_in"], st["dapo:subset"]["rows"]) == (13, 13)   # all 13 clean rows
    assert st["mixed"]["drops"] == {"duplicate_across_components": 1}                # the DAPO copy of a MATH row
    train = _train_rows(tmp_path / "out")
    assert [r["extra_info"]["component"] for r in train].count("math") == 3
    assert {r["data_source"] for r in train} == {"math_train", "math_dapo"}
    spec["params"]["components"]["dapo"]["size"] = 5
    m = build_dataset("lens_math_dapo", spec, tmp_path / "out5", progress=False)
    assert _stages(m)["dapo:subset"]["rows"] == 5 and m["outputs"]["train.parquet"]["rows"] == 8


def test_numina_component_filters_sentinels_and_validity(tmp_path):
    rows = [numina_row(PROBLEMS[0], "12"), numina_row(PROBLEMS[1], "proof"), numina_row(PROBLEMS[2], "notfound"),
            numina_row(PROBLEMS[3], "3", valid="No"), numina_row(PROBLEMS[4], "4", solution_valid="Incomplete"),
            numina_row(PROBLEMS[5], "5", synthetic=True), numina_row("Find x and y.", "1, 2")]
    spec = {"builder": "mix",
            "sources": {"numina": {"path": str(write_rows_parquet(tmp_path / "n.parquet", rows))}},
            "params": {"components": {"numina": {"kind": "numina", "params": {"include_synthetic": False,
                                                                               "require_single_value": True}}},
                       "decontaminate": "off", "val_size": 1}}
    m = build_dataset("lens_math_numina", spec, tmp_path / "out", progress=False)
    assert _stages(m)["numina:filtered"]["drops"] == {
        "answer_is_proof": 1, "answer_not_found": 1, "problem_not_valid": 1, "solution_not_valid": 1,
        "synthetic": 1, "multi_value_answer": 1}
    assert [r["reward_model"]["ground_truth"] for r in _train_rows(tmp_path / "out")] == ["12"]


@pytest.mark.parametrize("components, field", [
    ({"x": {"kind": "dapoo"}}, "params.components.x.kind"),
    ({"x": {"kind": "dapo", "size": 0}}, "params.components.x.size"),
    ({"x": {"kind": "dapo", "sise": 3}}, "params.components.x.sise"),
])
def test_mix_component_errors(tmp_path, components, field):
    spec = {"builder": "mix", "sources": {"x": {"path": "unused"}}, "params": {"components": components}}
    with pytest.raises(DataError, match=rf"field '{field}'"):
        build_dataset("mix", spec, tmp_path / "out", progress=False)


# ------------------------------------------------------------------------------------------------
# OpenR1 Stable-10k (EGPO App. A.2)

def _openr1_spec(tmp_path, default_rows, extended_rows, **params):
    return {"builder": "openr1_stable", "seed": 0,
            "sources": {"default": {"path": str(write_rows_parquet(tmp_path / "def.parquet", default_rows))},
                        "extended": {"path": str(write_rows_parquet(tmp_path / "ext.parquet", extended_rows))}},
            "params": {"tokenizer": None, "decontaminate": "off", "near_dedup": False, **params}}


def test_openr1_candidate_filters_count_every_reason(tmp_path):
    long_problem = "word " * 80
    default = [
        openr1_row(PROBLEMS[0], "5", [True, False], uuid="ok"),
        openr1_row("  ", "5", [True, True], uuid="empty-problem"),
        openr1_row(PROBLEMS[1], "", [True, True], uuid="empty-answer"),
        openr1_row(PROBLEMS[2], "2, 3", [True, True], uuid="multi"),
        openr1_row(PROBLEMS[3], "7", [True], uuid="one-gen"),
        openr1_row(PROBLEMS[4], "9", [False, False], uuid="mismatch", boxes=["1", "2"], solution_box="10"),
        openr1_row(long_problem, "9", [True, True], uuid="long-problem"),
        openr1_row(PROBLEMS[5], "9", [True, True], uuid="long-response", gen_text="step " * 60),
        openr1_row(PROBLEMS[5] + " Again.", "4", [False, False], uuid="incorrect-but-solution-matches",
                   boxes=["1", "2"]),
    ]
    spec = _openr1_spec(tmp_path, default, [openr1_row("Extended problem.", "3", [True, True], uuid="e")],
                        max_problem_tokens=60, max_response_tokens=50, pool_size=4, val_size=0,
                        final_prompt_max_tokens=1000)
    m = build_dataset("openr1", spec, tmp_path / "out", progress=False)
    st = _stages(m)
    assert st["default:candidates"]["drops"] == {
        "empty_problem": 1, "empty_answer": 1, "multi_value_answer": 1, "too_few_generations": 1,
        "boxed_mismatch": 1, "problem_too_long": 1, "response_too_long": 1}
    train = _train_rows(tmp_path / "out")
    assert sorted(r["extra_info"]["source_id"] for r in train) == [
        "default/incorrect-but-solution-matches", "default/ok", "extended/e"]
    buckets = {r["extra_info"]["source_id"]: r["extra_info"]["bucket"] for r in train}
    assert buckets == {"default/ok": "mixed", "default/incorrect-but-solution-matches": "entirely_incorrect",
                       "extended/e": "entirely_correct"}
    assert m["notes"]["tokenizer"]["tokenizer"].startswith("whitespace")
    assert m["notes"]["pool_shortfall"] == 1


@pytest.mark.parametrize("rule, kept", [
    # EGPO's authors: the reference solution when its box matches, else the first matching R1 trace
    ("solution_first", ["default/short-solution", "default/short-trace"]),
    # the shortest R1 trace: every trace here is as long as the others of its row
    ("shortest", ["default/short-trace"]),
])
def test_openr1_response_length_rules(tmp_path, rule, kept):
    long_trace = "step " * 60                      # > 50 whitespace tokens
    default = [
        openr1_row(PROBLEMS[0], "5", [True, True], uuid="short-solution", gen_text=long_trace),
        openr1_row(PROBLEMS[1], "6", [True, True], uuid="long-trace", gen_text=long_trace, solution_box="60"),
        openr1_row(PROBLEMS[2], "7", [True, True], uuid="short-trace", solution_box="70"),
    ]
    spec = _openr1_spec(tmp_path, default, [], subsets={"default": 1.0}, max_response_tokens=50,
                        response_length_rule=rule, pool_size=3, val_size=0, final_prompt_max_tokens=1000)
    m = build_dataset("openr1", spec, tmp_path / "out", progress=False)
    assert sorted(r["extra_info"]["source_id"] for r in _train_rows(tmp_path / "out")) == kept
    assert _stages(m)["default:candidates"]["drops"] == {"response_too_long": 3 - len(kept)}


def test_openr1_rows_without_or_with_empty_generations(tmp_path):
    none = openr1_row(PROBLEMS[0], "5", [], uuid="no-gens")
    empty = openr1_row(PROBLEMS[1], "5", [False, False], uuid="empty-gens")
    empty["generations"] = ["", ""]                     # zero-length responses; the solution's box matches
    spec = _openr1_spec(tmp_path, [none, empty], [], min_generations=0, pool_size=2, val_size=0,
                        subsets={"default": 1.0})
    m = build_dataset("openr1", spec, tmp_path / "out", progress=False)
    assert _stages(m)["default:candidates"]["drops"] == {"no_generations": 1}
    assert [r["extra_info"]["bucket"] for r in _train_rows(tmp_path / "out")] == ["entirely_incorrect"]


def test_largest_remainder_targets():
    # pool 10,000; default 0.85 x (mixed 0.6, correct 0.4) = 5100, 3400; extended 0.15 x ... = 900, 600
    cells = {("d", "m"): 0.85 * 0.6, ("d", "c"): 0.85 * 0.4, ("e", "m"): 0.15 * 0.6, ("e", "c"): 0.15 * 0.4}
    assert largest_remainder(10_000, cells) == {("d", "m"): 5100, ("d", "c"): 3400, ("e", "m"): 900, ("e", "c"): 600}
    # pool 7: raw 3.57, 2.38, 0.63, 0.42 -> floors 3, 2, 0, 0 (5); the two largest remainders (.63, .57) get +1
    assert largest_remainder(7, cells) == {("d", "m"): 4, ("d", "c"): 2, ("e", "m"): 1, ("e", "c"): 0}


def _bucketed_rows(prefix: str, n_mixed: int, n_correct: int, n_wrong: int):
    rows = []
    for k in range(n_mixed + n_correct + n_wrong):
        correct = [True, False] if k < n_mixed else [True, True] if k < n_mixed + n_correct else [False, False]
        rows.append(openr1_row(f"{prefix} problem number {k}: compute {k} + {k * 7} squared.", str(k), correct,
                               uuid=f"{prefix}{k}", boxes=[str(k), str(k)]))
    return rows


def test_openr1_pool_ratios_val_split_and_shortfall_fill(tmp_path):
    default = _bucketed_rows("d", n_mixed=30, n_correct=30, n_wrong=10)
    extended = _bucketed_rows("e", n_mixed=2, n_correct=10, n_wrong=5)
    spec = _openr1_spec(tmp_path, default, extended, pool_size=40, val_size=4)
    m = build_dataset("openr1", spec, tmp_path / "out", progress=False)
    cells = m["notes"]["pool_cells"]
    # targets (largest remainder of 40 x ratios): d/mixed 20.4 -> 20, d/correct 13.6 -> 14, e/mixed 3.6 -> 4,
    # e/correct 2.4 -> 2, entirely_incorrect 0
    assert {k: v["target"] for k, v in cells.items()} == {
        "default/mixed": 20, "default/entirely_correct": 14, "default/entirely_incorrect": 0,
        "extended/mixed": 4, "extended/entirely_correct": 2, "extended/entirely_incorrect": 0}
    assert cells["extended/mixed"]["taken"] == 2                  # only 2 exist ...
    assert sum(c["filled"] for k, c in cells.items() if k.startswith("extended")) == 2   # ... filled in extended
    st = _stages(m)
    assert st["pool"]["rows"] == 40 and st["train"]["rows"] == 36 and st["val"]["rows"] == 4
    train, val = _train_rows(tmp_path / "out"), _train_rows(tmp_path / "out", "val")
    assert not {r["extra_info"]["source_id"] for r in train} & {r["extra_info"]["source_id"] for r in val}
    assert sum(r["extra_info"]["subset"] == "extended" for r in train + val) == 6


def test_openr1_decontamination_and_near_dedup(tmp_path, benchmark_jsonl):
    default = [openr1_row(p, "1", [True, False], uuid=str(k)) for k, p in enumerate(PROBLEMS)]
    default.append(openr1_row(PROBLEMS[0].replace("meters wide", "meters  wide"), "1", [True, False], uuid="dup"))
    spec = _openr1_spec(tmp_path, default, [openr1_row("Another one entirely.", "2", [True, True], uuid="x")],
                        pool_size=10, val_size=0, decontaminate="drop", near_dedup=True)
    bench = {"math500": benchmark_jsonl("math500", [PROBLEMS[1]]), "aime24": benchmark_jsonl("aime24", [PROBLEMS[2]])}
    m = build_dataset("openr1", spec, tmp_path / "out", decontam=bench, progress=False)
    st = _stages(m)
    assert st["decontaminated"]["drops"] == {"contaminated:aime24": 1, "contaminated:math500": 1}
    assert st["near_dedup"]["drops"] == {"near_duplicate": 1}
    assert m["notes"]["minhash"]["bands"] == 21 and m["notes"]["minhash"]["rows"] == 6
    assert set(m["notes"]["decontamination_sets"]) == {"aime24", "math500"}


def test_openr1_final_prompt_filter(tmp_path):
    rows = _bucketed_rows("d", 6, 0, 0)
    rows[2]["problem"] = "long " * 30 + rows[2]["problem"]
    spec = _openr1_spec(tmp_path, rows, [], pool_size=6, val_size=0, final_prompt_max_tokens=30,
                        subsets={"default": 1.0}, max_problem_tokens=100)
    m = build_dataset("openr1", spec, tmp_path / "out", progress=False)
    assert _stages(m)["train:prompt_filter"]["drops"] == {"prompt_too_long": 1}
    assert m["outputs"]["train.parquet"]["rows"] == 5


@pytest.mark.parametrize("params, field", [
    ({"tokenizer": "REQUIRED"}, "params.tokenizer"),
    ({"subsets": {"default": 0.5, "extended": 0.4}}, "params.subsets"),
    ({"buckets": {"mixed": 1.0, "hard": 0.0}}, "params.buckets"),
    ({"pool_sise": 3}, "params.pool_sise"),
    ({"minhash": {"treshold": 0.7}}, "params.minhash.treshold"),
])
def test_openr1_param_errors_name_the_key(tmp_path, params, field):
    spec = _openr1_spec(tmp_path, [openr1_row("p", "1", [True, True], uuid="a")], [], **params)
    if params.get("tokenizer") == "REQUIRED":
        del spec["params"]["tokenizer"]
    with pytest.raises(DataError, match=rf"field '{field}'"):
        build_dataset("openr1", spec, tmp_path / "out", progress=False)


def test_openr1_mismatched_correctness_list_is_named(tmp_path):
    row = openr1_row("p", "1", [True, True], uuid="a")
    row["correctness_math_verify"] = [True]
    with pytest.raises(DataError, match=r"row 0, field 'correctness_math_verify': 1 labels for 2 generations"):
        build_dataset("openr1", _openr1_spec(tmp_path, [row], []), tmp_path / "out", progress=False)


# ------------------------------------------------------------------------------------------------
# Common: spec checks, decontamination input, determinism, row accounting.

def test_dataset_spec_errors(tmp_path):
    with pytest.raises(DataError, match="builder must be one of"):
        build_dataset("x", {"builder": "nope", "sources": {"a": {"path": "p"}}}, tmp_path)
    with pytest.raises(DataError, match=r"unknown key\(s\) \['sed'\]"):
        build_dataset("x", {"builder": "dapo", "sources": {"a": {"path": "p"}}, "sed": 1}, tmp_path)
    with pytest.raises(DataError, match=r"field 'sources.dapo': missing source 'dapo'"):
        build_dataset("x", {"builder": "dapo", "sources": {"a": {"path": "p"}, "b": {"path": "q"}},
                            "params": {"decontaminate": "off"}}, tmp_path)
    path = write_jsonl(tmp_path / "m.jsonl", [math_row("p", "1")])
    with pytest.raises(DataError, match="no benchmark files were given"):
        build_dataset("x", {"builder": "math_train", "sources": {"math": {"path": str(path)}},
                            "params": {"decontaminate": "drop"}}, tmp_path / "o", progress=False)


def test_same_inputs_and_seed_give_identical_bytes(tmp_path, benchmark_jsonl):
    default = _bucketed_rows("d", 20, 20, 5)
    spec = _openr1_spec(tmp_path, default, _bucketed_rows("e", 5, 5, 0), pool_size=30, val_size=3,
                        decontaminate="drop", near_dedup=True)
    bench = {"math500": benchmark_jsonl("math500", [PROBLEMS[0]])}
    a = build_dataset("openr1", spec, tmp_path / "a", decontam=bench, progress=False)
    b = build_dataset("openr1", spec, tmp_path / "b", decontam=bench, progress=False)
    for name in ("train.parquet", "val.parquet", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert a["content_hash"] == b["content_hash"]
    c = build_dataset("openr1", {**spec, "seed": 1}, tmp_path / "c", decontam=bench, progress=False)
    assert c["content_hash"] != a["content_hash"]
    assert json.loads((tmp_path / "a" / "manifest.json").read_text()) == a


def test_manifest_refuses_rows_that_do_not_add_up():
    m = Manifest("d", "b", seed=0, params={})
    m.stage("ok", 8, rows_in=10, drops={"x": 2})
    with pytest.raises(RowAccountingError, match="went from 10 to 7 rows but recorded 2 drops"):
        m.stage("bad", 7, rows_in=10, drops={"x": 2})
