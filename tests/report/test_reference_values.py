"""Paper numbers outside the results tables (config/paper_numbers.yaml `reference_values`) and row
notes: each number is checked against the paper text, unavailable numbers are null with a reason,
and a printed number that does not add up is flagged and shown under the rendered table."""
import re
import warnings
from pathlib import Path

import pytest
import yaml

from rlvr_repro.report.build import write_paper_tables
from rlvr_repro.report.collect import ReportInputError
from rlvr_repro.report.specs import load_report_config, parse_report_config

REPO = Path(__file__).resolve().parents[2]
PAPERS = REPO / "../shared/papers"
CONFIG = REPO / "config"


@pytest.fixture(scope="module")
def config():
    return load_report_config(CONFIG / "tables.yaml", CONFIG / "paper_numbers.yaml")


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
DOUBLED = re.compile(r"(\d+\.\d+)\1")  # the HTML extraction prints LaTeX numbers twice: "16.2616.26"


def _printed(value: float, text: str) -> bool:
    """``value`` is one of the numbers printed in ``text`` (doubled LaTeX numbers read once)."""
    return any(abs(float(x) - value) < 1e-9 for x in NUMBER.findall(DOUBLED.sub(r"\1", text)))


@pytest.mark.skipif(not PAPERS.is_dir(), reason="shared/papers not available")
def test_every_reference_value_is_on_its_line(config):
    checked = 0
    for key, ref in config.reference_values.items():
        lines = (PAPERS / ref.file).read_text(encoding="utf-8").splitlines()
        for v in ref.values:
            line = lines[v.line - 1].replace("\xa0", " ")
            assert v.paper_row in line, f"{key}: {v.paper_row!r} not on line {v.line}"
            if v.value is not None:
                after = line[line.index(v.paper_row) + len(v.paper_row):]
                assert _printed(v.value, after), f"{key} {v.quantity}: {v.value} not after {v.paper_row!r}"
                checked += 1
    assert checked >= 8
    assert not _printed(16.27, " 16.2616.26") and not _printed(16.0, " 16.2616.26") and _printed(16.26, " 16.2616.26")


def test_pinned_reference_values(config):
    kappa = {v.model: v.value for v in config.reference_values["asymgrpo/table1"].values}
    assert kappa == {"qwen25_math_1_5b": 16.26, "qwen3_4b": 1.91, "qwen25_7b": 6.95}   # x 10^3, first 20 steps
    (grid,) = config.reference_values["asymgrpo/fig4"].values
    assert (dict(grid.params), grid.value, grid.model) == ({"beta_pos": 0.9, "beta_neg": 0.5}, 56.64, "qwen3_4b")
    methods = yaml.safe_load((CONFIG / "methods.yaml").read_text())["methods"]
    assert methods[grid.method]["params"] == {"beta_pos": 0.9, "beta_neg": 0.5}   # the grid preset it belongs to
    auc = {(v.model, v.quantity): v.value for v in config.reference_values["egpo/table3"].values}
    assert auc == {("r1_distill_qwen_1_5b", "auc_thinking_entropy"): 0.745,
                   ("r1_distill_qwen_1_5b", "auc_answer_entropy"): 0.778,
                   ("r1_distill_qwen_7b", "auc_thinking_entropy"): 0.700,
                   ("r1_distill_qwen_7b", "auc_answer_entropy"): 0.738}
    lost = config.reference_values["egpo/fig3"].values
    assert lost and all(v.value is None and v.reason for v in lost)   # unavailable, never 0


def test_null_needs_a_reason_and_keys_are_checked():
    entry = {"source": "s", "file": "f", "values": [{"quantity": "q", "paper_row": "r", "line": 1, "value": None}]}
    with pytest.raises(ReportInputError, match=r"reference_values.egpo/table3.values\[0\]: 'reason' is a required"):
        parse_report_config([], reference_values={"egpo/table3": entry})
    entry["values"][0]["value"] = "0.7"
    with pytest.raises(ReportInputError, match="'0.7' is not of type 'number', 'null'"):
        parse_report_config([], reference_values={"egpo/table3": entry})
    with pytest.raises(ReportInputError, match="reference_values: 'table3' does not match"):
        parse_report_config([], reference_values={"table3": {**entry, "values": []}})


def test_printed_averages_that_do_not_add_up_are_flagged(config):
    """Every paper row whose printed Avg is not the mean of its other columns (beyond rounding) carries a
    note naming both numbers; EGPO Table 2's EGPO row (65.97 printed, 64.99 computed) is the only one."""
    flagged = []
    for key, table in config.paper_numbers.items():
        if not table.columns[-1].startswith("avg/"):
            continue
        for row in table.rows:
            mean = sum(row.values[:-1]) / len(row.values[:-1])
            if abs(mean - row.values[-1]) > 0.006:
                assert row.note and f"{row.values[-1]:.2f}" in row.note and f"{mean:.2f}" in row.note, (key, row)
                flagged.append((key, row.method))
            else:
                assert row.note is None or "Avg" not in row.note, (key, row)
    assert flagged == [("egpo/table2", "egpo")]


def test_flag_is_in_the_rendered_table_notes(config, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_paper_tables([], None, config, tmp_path, only=["egpo/table2", "egpo/table1", "ace/table1"])
    notes = (tmp_path / "egpo" / "table2.md").read_text().strip().splitlines()[-1]
    assert "Paper: Qwen2.5-Math-1.5B / EGPO: the printed Avg. 65.97 is not the mean" in notes and "64.99" in notes
    assert "65.97" not in (tmp_path / "egpo" / "table1.md").read_text().splitlines()[-1]  # row not in Table 1's notes
    ace = (tmp_path / "ace" / "table1.md").read_text().strip().splitlines()[-1]
    assert "standard deviation over training seeds" in ace and "n = 128" in ace
