"""write_paper_tables over the shipped config: every table renders, with or without results."""
import warnings
from pathlib import Path

import pytest

from rlvr_repro.report.build import write_paper_tables
from rlvr_repro.report.collect import ReportInputError
from rlvr_repro.report.specs import load_report_config
from report.fixtures import write_p1

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="module")
def config():
    return load_report_config(CONFIG / "tables.yaml", CONFIG / "paper_numbers.yaml")


def test_every_shipped_table_renders_before_any_result_exists(config, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = write_paper_tables([], None, config, tmp_path)
    assert len(paths) == 3 * len(config.tables)
    assert all(p.stat().st_size > 0 for p in paths)
    md = (tmp_path / "ace" / "table1.md").read_text()
    # our cells are missing, the paper's numbers sit next to them, printed with the paper's 1 decimal
    # ours, paper, Δ (ours minus paper: missing while ours is)
    assert ("| Qwen2.5-Math-7B | Base | – | 63.0 | – | – | 76.3 | – | – | 83.2 | – | – | 88.1 | – | – | 91.2 | – "
            "| – | 93.5 | – |") in md
    assert "|  | GRPO | – | 73.4 ± 0.8 | – | – | 79.5 ± 0.7 | – |" in md
    tex = (tmp_path / "egpo" / "table2.tex").read_text()
    assert r"Qwen2.5-Math-1.5B & Base & -- & 23.40 & -- & -- & 19.90 & -- & -- & 58.15 & -- & -- & 33.82 & -- \\" in tex


def test_our_numbers_beside_the_papers(config, tmp_path):
    eval_root = tmp_path / "eval"
    files = []
    for bench, values in (("math500", (0.80, 0.79)), ("aime24", (0.30, 0.40)), ("aime25", (0.20, 0.25)),
                          ("amc23", (0.70, 0.75)), ("olympiadbench", (0.50, 0.55))):
        files.append(write_p1(eval_root, "asymgrpo", "qwen3_4b-math_train-grpo-s0", 300, bench, values[0], n=5))
        files.append(write_p1(eval_root, "asymgrpo", "qwen3_4b-math_train-asymgrpo-s0", 300, bench, values[1], n=5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_paper_tables(files, None, config, tmp_path / "tables", only=["asymgrpo/table2"])
    md = (tmp_path / "tables" / "asymgrpo" / "table2.md").read_text()
    # GRPO Avg = (80 + 30 + 20 + 70 + 50) / 5 = 50.00; AsymGRPO Avg = (79 + 40 + 25 + 75 + 55) / 5 = 54.80
    # each of our cells, the paper's number, and ours minus the paper's (Δ, points)
    assert ("|  | GRPO | **80.00** | 88.20 | -8.20 | 30.00 | 31.00 | -1.00 | 20.00 | 27.33 | -7.33 | 70.00 | 78.25 "
            "| -8.25 | 50.00 | 57.74 | -7.74 | 50.00 | 56.50 | -6.50 |") in md
    assert ("|  | AsymGRPO | 79.00 | 89.33 | -10.33 | **40.00** | 39.33 | +0.67 | **25.00** | 28.67 | -3.67 | "
            "**75.00** | 81.00 | -6.00 | **55.00** | 58.48 | -3.48 | **54.80** | 59.36 | -4.56 |") in md
    assert list((tmp_path / "tables").rglob("*")) and not (tmp_path / "tables" / "ace").exists()


def test_unknown_table_name(config, tmp_path):
    with pytest.raises(ReportInputError, match=r"no table spec named \['ace/table99'\]"):
        write_paper_tables([], None, config, tmp_path, only=["ace/table99"])
