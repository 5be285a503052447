"""Benchmark loaders: hand-written rows in each source's schema, the real shared files, bad input."""

import json

import pytest

from rlvr_repro.data.build import build_benchmark
from rlvr_repro.data.errors import DataError

from .rows import shared_file, write_jsonl

CONTRACT_KEYS = ["id", "problem", "answer", "answer_type", "choices", "level", "subject", "unit", "benchmark",
                 "source", "source_revision"]


def _bench(tmp_path, name, rows, **spec):
    src = write_jsonl(tmp_path / f"{name}_src.jsonl", rows)
    out = tmp_path / f"{name}.jsonl"
    manifest = build_benchmark(name, {"source": {"path": str(src), "revision": "label-1"}, **spec}, out,
                               progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(list(r) == CONTRACT_KEYS for r in rows)
    return rows, manifest


def test_math500_schema(tmp_path):
    rows, m = _bench(tmp_path, "math500", [{"problem": "Convert $(0,3)$ to polar.", "solution": "...",
                                             "answer": r"\left( 3, \frac{\pi}{2} \right)", "subject": "Precalculus",
                                             "level": 2, "unique_id": "test/precalculus/807.json"}])
    assert rows[0]["id"] == "test/precalculus/807.json" and rows[0]["answer_type"] == "tuple"
    assert rows[0]["level"] == 2 and rows[0]["source"] == "local:math500_src.jsonl"
    assert rows[0]["source_revision"] == "label-1" and m["rows"] == 1 and len(m["sha256"]) == 64


def test_full_math_test_levels_and_boxed_answers(tmp_path):
    rows, _ = _bench(tmp_path, "math", [
        {"problem": "p1", "level": "Level 5", "type": "Geometry", "solution": r"... \boxed{2} ... \boxed{\frac{1}{3}}"},
        {"problem": "p2", "level": "Level ?", "type": "Geometry", "solution": r"\boxed{7}"}])
    assert [(r["answer"], r["level"], r["subject"]) for r in rows] == [(r"\frac{1}{3}", 5, "Geometry"),
                                                                     ("7", None, "Geometry")]


def test_aime_answers_are_plain_integers(tmp_path):
    rows, _ = _bench(tmp_path, "aime24", [{"id": 60, "problem": "p", "answer": "025"},
                                          {"id": 61, "problem": "q", "answer": 204}])
    assert [(r["id"], r["answer"], r["answer_type"]) for r in rows] == [("60", "25", "numeric"), ("61", "204", "numeric")]
    with pytest.raises(DataError, match=r"dataset 'aime25', row 0, field 'answer': AIME answer '1/2'"):
        _bench(tmp_path, "aime25", [{"id": "0", "problem": "p", "answer": "1/2"}])


def test_amc23_float_answers_and_url_selection(tmp_path):
    src = [{"id": 0, "problem": "p", "answer": 27.0, "url": ".../2023_AMC_12A_Problems/Problem_1"},
           {"id": 1, "problem": "q", "answer": -1.0, "url": ".../2023_AMC_12B_Problems/Problem_3"},
           {"id": 2, "problem": "r", "answer": 5.0, "url": ".../2022_AMC_12A_Problems/Problem_2"}]
    rows, m = _bench(tmp_path, "amc23", src, select={"url": "2023_AMC"})
    assert [r["answer"] for r in rows] == ["27", "-1"] and m["skipped"] == {"not_selected": 1}
    with pytest.raises(DataError, match=r"field 'select.year'"):
        _bench(tmp_path, "amc23", src, select={"year": "2023"})


def test_olympiadbench_final_answers_units_and_filters(tmp_path):
    base = {"subfield": "Algebra", "context": None, "solution": ["..."], "error": None}
    rows, m = _bench(tmp_path, "olympiadbench", [
        {**base, "id": 1, "question": "q1", "final_answer": [r"$\frac{25}{2}$"], "is_multiple_answer": False,
         "unit": None, "answer_type": "Numerical"},
        {**base, "id": 2, "question": "q2", "final_answer": ["$69$,$84$"], "is_multiple_answer": True,
         "unit": None, "answer_type": "Numerical"},
        {**base, "id": 3, "question": "q3", "final_answer": ["$\\frac{600}{7}$"], "is_multiple_answer": False,
         "unit": "km/h", "answer_type": "Numerical", "context": "Shared context."},
        {**base, "id": 4, "question": "q4", "final_answer": ["1"], "is_multiple_answer": False, "unit": None,
         "answer_type": "Numerical", "language": "Chinese"},
        {**base, "id": 5, "question": "q5", "final_answer": ["1"], "is_multiple_answer": False, "unit": None,
         "answer_type": "Numerical", "modality": "Multimodal"}])
    assert [(r["answer"], r["answer_type"], r["unit"]) for r in rows] == [
        (r"\frac{25}{2}", "numeric", None), ("69, 84", "multi", None), (r"\frac{600}{7}", "numeric", "km/h")]
    assert rows[2]["problem"] == "Shared context.\n\nq3"
    assert m["skipped"] == {"not_english": 1, "not_text_only": 1}


def test_minerva_answer_from_the_box_in_the_solution(tmp_path):
    rows, _ = _bench(tmp_path, "minerva", [{"problem": "p", "solution": r"so $\boxed{4.5e33}$ erg", "type": "8.282J",
                                            "idx": 0}])
    assert rows[0]["answer"] == "4.5e33" and rows[0]["subject"] == "8.282J"
    with pytest.raises(DataError, match=r"row 0, field 'solution': no balanced"):
        _bench(tmp_path, "minerva", [{"problem": "p", "solution": "no box", "type": "x", "idx": 0}])


def test_gsm8k_marker_commas(tmp_path):
    rows, _ = _bench(tmp_path, "gsm8k", [{"question": "q", "answer": "work\n#### 2,125", "idx": 7}])
    assert (rows[0]["id"], rows[0]["answer"]) == ("7", "2125")
    with pytest.raises(DataError, match=r"row 0, field 'answer': no '#### <number>'"):
        _bench(tmp_path, "gsm8k", [{"question": "q", "answer": "no marker", "idx": 0}])


def test_mmlu_stem_int_answer_to_letter(tmp_path):
    rows, _ = _bench(tmp_path, "mmlu_stem", [
        {"question": "q", "type": "college_physics", "choices": ["a", "b", "c", "d"], "answer": 2},
        {"question": "r", "subject": "astronomy", "choices": ["a", "b", "c", "d"], "answer": "(B)"}])
    assert [(r["answer"], r["subject"], r["answer_type"]) for r in rows] == [("C", "college_physics", "choice"),
                                                                             ("B", "astronomy", "choice")]
    assert rows[0]["choices"] == ["a", "b", "c", "d"]
    with pytest.raises(DataError, match=r"row 0, field 'answer': answer index 4 out of range"):
        _bench(tmp_path, "mmlu_stem", [{"question": "q", "type": "x", "choices": ["a", "b", "c", "d"], "answer": 4}])


@pytest.mark.parametrize("row, field", [
    ({"answer": "1", "subject": "s", "level": 1}, "problem"),                         # missing column
    ({"problem": "p", "answer": 1.5, "subject": "s", "level": 1}, "answer"),          # wrong type
    ({"problem": "p", "answer": "1", "subject": "s", "level": "high"}, "level"),      # wrong type
    ({"problem": "   ", "answer": "1", "subject": "s", "level": 1}, "problem"),       # empty
    ({"problem": "p", "answer": " ", "subject": "s", "level": 1}, "answer"),          # empty gold
])
def test_bad_rows_name_benchmark_row_and_field(tmp_path, row, field):
    good = {"problem": "ok", "answer": "1", "subject": "s", "level": 1, "unique_id": "a"}
    with pytest.raises(DataError, match=rf"dataset 'math500', row 1, field '{field}'"):
        _bench(tmp_path, "math500", [good, row])


def test_duplicate_ids_and_unknown_spec_keys(tmp_path):
    row = {"problem": "p", "answer": "1", "subject": "s", "level": 1, "unique_id": "same"}
    with pytest.raises(DataError, match="duplicate id 'same'"):
        _bench(tmp_path, "math500", [row, {**row, "problem": "q"}])
    with pytest.raises(DataError, match=r"unknown key\(s\) \['sorce'\]"):
        build_benchmark("math500", {"sorce": {}}, tmp_path / "x.jsonl")
    with pytest.raises(DataError, match="no loader for 'aime'"):
        build_benchmark("x", {"source": {"path": "x"}, "loader": "aime"}, tmp_path / "x.jsonl")


# ------------------------------------------------------------------------------------------------
# The real files (../shared/benchmarks, the Qwen2.5-Math harness copies): counts and known defects.

REAL = {"math500": ("math500", 500), "aime24": ("aime24", 30), "aime25": ("aime25", 30), "amc23": ("amc23", 40),
        "olympiadbench": ("olympiadbench", 675), "minerva": ("minerva_math", 272), "gsm8k": ("gsm8k", 1319),
        "mmlu_stem": ("mmlu_stem", 3018)}


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_benchmark_files_load_completely(tmp_path, name):
    folder, count = REAL[name]
    src = shared_file(folder, "test.jsonl")
    out = tmp_path / f"{name}.jsonl"
    m = build_benchmark(name, {"source": {"path": str(src)}}, out, progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert m["rows"] == len(rows) == count and m["skipped"] == {}
    assert len({r["id"] for r in rows}) == count
    assert all(r["problem"].strip() and r["answer"].strip() for r in rows)
    assert not any(c in r["problem"] for r in rows for c in "\x0c\x08\x07\x0b")
    checks = {
        "aime24": lambda: "025" not in {r["answer"] for r in rows} and "25" in {r["answer"] for r in rows},
        "aime25": lambda: m["control_char_repairs"] == 7 and "\\frac{m}{n}" in rows[27]["problem"],
        "amc23": lambda: rows[0]["answer"] == "27" and all("." not in r["answer"] for r in rows),
        "gsm8k": lambda: all("," not in r["answer"] for r in rows) and {"-10", "-3"} <= {r["answer"] for r in rows},
        "mmlu_stem": lambda: {r["answer"] for r in rows} == set("ABCD") and all(len(r["choices"]) == 4 for r in rows),
        "olympiadbench": lambda: sum(r["answer_type"] == "multi" for r in rows) == 94
        and sum(r["unit"] is not None for r in rows) == 8 and not any("$" in r["answer"] for r in rows),
        "minerva": lambda: all("\\boxed" not in r["answer"] for r in rows),
        "math500": lambda: all(isinstance(r["level"], int) for r in rows) and rows[0]["answer_type"] == "tuple",
    }
    assert checks[name]()


def test_heldout_split_of_a_training_set_is_a_benchmark(tmp_path):
    """ACE §5.4's held-out DAPO prompts: the val.parquet our builders write, read back as benchmark rows."""
    from rlvr_repro.data.examples import Example
    from rlvr_repro.data.verl_format import write_examples

    val = tmp_path / "val.parquet"
    write_examples([Example("What is 2+2?", "4", "dapo/17", "math_dapo"),
                    Example("Solve x+1=3.", "2", "dapo/99", "math_dapo")], val, split="val")
    out = tmp_path / "heldout.jsonl"
    manifest = build_benchmark("dapo17k_heldout", {"source": {"path": str(val)}, "loader": "heldout",
                                                   "heldout_of": "dapo17k"}, out, progress=False)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["problem"], r["answer"], r["answer_type"]) for r in rows] == [
        ("dapo/17", "What is 2+2?", "4", "numeric"), ("dapo/99", "Solve x+1=3.", "2", "numeric")]
    assert all(list(r) == CONTRACT_KEYS for r in rows) and manifest["rows"] == 2
