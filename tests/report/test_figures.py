"""Golden figure tests: the synthetic world of tests/report/figure_world.py (its docstring states every
formula) goes through the real readers and builders; each test asserts the numbers a figure plots (the
CSV beside its PNG) against values worked out by hand below, never against the code's own helpers."""
import math

import pandas as pd
import pytest

from rlvr_repro.report.diag_tables import DIAG_TABLES, diag_table_targets, write_diag_tables
from rlvr_repro.report.figures import PAPER_FIGURES, FigureInputs, figure_targets, write_figures
from rlvr_repro.report.targets import DIAG_TABLE_NAMES, FIGURE_NAMES
from report import figure_world

PAPERS = ("ace", "lens", "egpo", "asymgrpo")
S7, S3 = math.sqrt(7.0), math.sqrt(3.0)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    inp = figure_world.build(root)
    out = root / "out"
    written = write_figures(inp, PAPERS, out / "plots") + write_diag_tables(inp, PAPERS, out / "tables")
    return inp, out, written


def _csv(world, paper, fig):
    frame = pd.read_csv(world[1] / "plots" / paper / f"{fig}.csv")
    return frame[frame.series != "missing"], frame[frame.series == "missing"]


def _ys(frame, **where) -> list[float]:
    sel = frame
    for key, value in where.items():
        sel = sel[sel[key] == value]
    return list(sel.sort_values("x").y)


def _xy(frame, **where) -> dict:
    sel = frame
    for key, value in where.items():
        sel = sel[sel[key] == value]
    return {round(x, 6): y for x, y in zip(sel.x, sel.y)}


def test_every_figure_and_table_is_written(world):
    _, out, written = world
    want = figure_targets(PAPERS, str(out / "plots")) + diag_table_targets(PAPERS, str(out / "tables"))
    assert sorted(map(str, written)) == sorted(want)
    assert {p: sorted(f) for p, f in PAPER_FIGURES.items()} == {
        "ace": ["fig2", "fig3", "fig4"], "lens": ["fig2", "fig5", "fig6"],
        "egpo": ["fig3", "fig5", "fig6", "fig7", "fig8", "fig9", "figA4"],
        "asymgrpo": ["fig1", "fig2", "fig3", "fig4"]}
    # the light name tables Snakemake plans with name exactly what the builders draw
    assert {p: tuple(f) for p, f in PAPER_FIGURES.items()} == FIGURE_NAMES
    assert {p: tuple(t) for p, t in DIAG_TABLES.items()} == DIAG_TABLE_NAMES
    for path in written:
        if str(path).endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


# ------------------------------------------------------------------------------------------------ ACE
def test_ace_fig2_reads_each_runs_last_checkpoint_seeds_averaged_in_percent(world):
    rows, missing = _csv(world, "ace", "fig2")
    assert missing.empty
    # qwen3_8b_base (mi 1), aime25 (bi 1), ace_grpo (i 2), k 4: base 0.10+0.04+0.10+0.05 = 0.29;
    # step 160: 0.29+0.10+0.02 = 0.41 (s0), 0.43 (s1) -> 42.0 %  (step 80 would give 34.0)
    cell = dict(panel="qwen3_8b_base/aime25", method="ace_grpo")
    assert _xy(rows, **cell)[4.0] == pytest.approx(42.0)
    assert rows[(rows.panel == cell["panel"]) & (rows.method == "ace_grpo")].n_runs.iloc[0] == 2
    # qwen25_math_7b, math500, grpo (i 0), k 32: base 0.42; + 0.10 + 0.01 (mean seed) -> 53.0 %
    assert _xy(rows, panel="qwen25_math_7b/math500", method="grpo")[32.0] == pytest.approx(53.0)
    # ace_dapo (i 3) on llama (mi 2), math500, k 1: base 0.31 -> 0.31+0.10+0.03+0.01 = 45.0 %
    assert _xy(rows, panel="llama31_8b_instruct/math500", method="ace_dapo")[1.0] == pytest.approx(45.0)
    # the base model: llama, aime25, k 32: 0.10+0.32+0.20+0.05 = 67.0 %
    assert _xy(rows, panel="llama31_8b_instruct/aime25", method="base")[32.0] == pytest.approx(67.0)
    assert sorted(_xy(rows, panel="qwen3_8b_base/math500", method="dapo")) == [1, 2, 4, 8, 16, 32]
    assert set(rows.method) == {"base", "grpo", "dapo", "ace_grpo", "ace_dapo"}


def test_ace_fig3_overconfidence_per_step_seeds_averaged(world):
    rows, missing = _csv(world, "ace", "fig3")
    assert missing.empty and set(rows.model) == {"qwen25_math_7b", "qwen3_8b_base"}  # footnote 1: no Llama
    # OEF, qwen3_8b_base (mi 1), grpo, step 50: 0.20+0.10+0.05 = 0.35, 0.37 -> 36.0 %
    oef = _xy(rows, panel="qwen3_8b_base/oef", method="grpo")
    assert sorted(oef) == [25, 50, 75] and oef[50] == pytest.approx(36.0)
    # ace_grpo, qwen25_math_7b, step 75: 0.20+0.15-0.10 = 0.25, 0.27 -> 26.0 %
    assert _xy(rows, panel="qwen25_math_7b/oef", method="ace_grpo")[75] == pytest.approx(26.0)
    # mean overconfidence (not in %): grpo, qwen25_math_7b, step 25: 0.075, 0.085 -> 0.08
    assert _xy(rows, panel="qwen25_math_7b/mean_overconfidence", method="grpo")[25] == pytest.approx(0.08)
    # ace_grpo step 75: 0.05+0.075-0.02 = 0.105, 0.115 -> 0.11
    assert _xy(rows, panel="qwen3_8b_base/mean_overconfidence", method="ace_grpo")[75] == pytest.approx(0.11)
    # the held-out DAPO prompts only (the math500 decoy at step 50 would give oef 90 %)
    assert set(rows.source) == {"diagnostics.json protocol ace_analysis (dapo17k_heldout)"}


def test_ace_fig4_held_out_entropy_first_20_steps_from_the_diagnostics_pass(world):
    rows, missing = _csv(world, "ace", "fig4")
    assert missing.empty and set(rows.model) == {"qwen25_math_7b", "qwen3_8b_base"}
    # qwen25_math_7b (H0 1.0), grpo: step 0 = the base cell 1.0; step 20: 1.0-0.6 = 0.40, 0.41 -> 0.405
    grpo = _xy(rows, panel="qwen25_math_7b", method="grpo")
    assert sorted(grpo) == [0, 5, 10, 15, 20]  # step 25 is past §5.4's 20 steps
    assert grpo[0] == pytest.approx(1.0) and grpo[20] == pytest.approx(0.405)
    # qwen3_8b_base (H0 1.1), ace_grpo, step 10: 1.1-0.1 = 1.0, 1.01 -> 1.005 (the training log says 1.9x)
    ace = _xy(rows, panel="qwen3_8b_base", method="ace_grpo")
    assert ace[0] == pytest.approx(1.1) and ace[10] == pytest.approx(1.005)


def test_ace_fig4_names_the_missing_held_out_pass(world):
    inp, _, _ = world
    from rlvr_repro.report.figures import ace

    bare = FigureInputs(inp.metrics, inp.logs, inp.diagnostics[inp.diagnostics.protocol != "ace_entropy"])
    drawn = ace.fig4(bare)
    rows = pd.DataFrame(drawn.rows)
    assert list(rows.series) == ["missing"] * 4 and set(rows.method) == {"grpo", "ace_grpo"}
    assert all("protocol ace_entropy" in s for s in rows.source)
    assert any("missing: grpo, ace_grpo" in t.get_text() for ax in drawn.fig.axes for t in ax.texts)


# ----------------------------------------------------------------------------------------------- LENS
def test_lens_fig2_paper_panel_is_llama_on_numina_with_the_stated_levels(world):
    rows, missing = _csv(world, "lens", "fig2")
    assert missing.empty
    paper = rows[(rows.panel == "paper") & (rows.series == "frac_none_solved")]
    assert set(zip(paper.model, paper.dataset)) == {("llama31_8b_instruct", "lens_math_numina")}
    # Llama (mi 0) on Numina, one seed: step 1: 0.50-0.001+0.05 = 54.9 %; step 40: 51.0 %
    curve = _xy(paper)
    assert curve[1] == pytest.approx(54.9) and curve[40] == pytest.approx(51.0) and len(curve) == 40
    refs = rows[(rows.panel == "paper") & rows.series.str.startswith("paper:")]
    assert sorted(refs.y) == [35.0, 45.0]
    other = rows[rows.panel == "other"]
    assert set(zip(other.model, other.dataset)) == {("llama31_8b_instruct", "lens_math_dapo"),
                                                    ("qwen25_3b", "lens_math_dapo"), ("qwen25_3b", "lens_math_numina")}
    # Qwen2.5-3B (mi 1) on MATH + DAPO, seeds 0/1, step 10: 0.50-0.01+0.02 = 0.51, 0.52 -> 51.5 %
    assert _xy(other, model="qwen25_3b", dataset="lens_math_dapo")[10] == pytest.approx(51.5)


def test_lens_fig5_math_dapo_two_seeds_both_subsets(world):
    rows, missing = _csv(world, "lens", "fig5")
    assert missing.empty and set(rows.dataset) == {"lens_math_dapo"}
    # qwen25_3b (mi 1), lens, step 100: 0.30+0.05+0.05+0.10 = 0.50, 0.51 -> 50.5 %; Levels 4-5: 35.5 %
    full = _xy(rows, panel="qwen25_3b/all", method="lens")
    hard = _xy(rows, panel="qwen25_3b/level4-5", method="lens")
    assert full[100] == pytest.approx(50.5) and hard[100] == pytest.approx(35.5)
    # step 0 is the base model: 30.0 % on MATH, 15.0 % on Levels 4-5
    assert full[0] == pytest.approx(30.0) and hard[0] == pytest.approx(15.0)
    # llama, grpo, step 300: 0.30+0.15 = 0.45, 0.46 -> 45.5 %, two runs
    sel = rows[(rows.panel == "llama31_8b_instruct/all") & (rows.method == "grpo")]
    assert _xy(sel)[300] == pytest.approx(45.5) and set(sel.n_runs) == {2}
    assert sorted(full) == [0, 100, 200, 300]


def test_lens_fig6_reads_the_numina_runs(world):
    rows, missing = _csv(world, "lens", "fig6")
    assert missing.empty and set(rows.dataset) == {"lens_math_numina"}
    # llama (mi 0), grpo, step 300, one seed: 0.30+0.15+0.03 = 48.0 % (MATH + DAPO would give 45.5)
    sel = rows[(rows.panel == "llama31_8b_instruct/all") & (rows.method == "grpo")]
    assert _xy(sel)[300] == pytest.approx(48.0) and set(sel.n_runs) == {1}
    # qwen25_3b, lens, Levels 4-5, step 200: 0.30+0.10+0.05+0.10+0.03-0.15 = 43.0 %
    assert _xy(rows, panel="qwen25_3b/level4-5", method="lens")[200] == pytest.approx(43.0)


# ----------------------------------------------------------------------------------------------- EGPO
def test_egpo_fig3_last_checkpoint_correct_vs_incorrect(world):
    rows, missing = _csv(world, "egpo", "fig3")
    assert missing.empty and len(set(rows.panel)) == 20  # 4 models x (base + 4 methods)
    # qwen25_math_7b (mi 1), egpo (i 3), step 770, seeds pooled: correct 0.20+0.03+0.1-0.05 (+0.01) = 0.29,
    # incorrect 0.60+0.06+0.1+0.05 (+0.01) = 0.82, gap 0.53  (step 385: 0.34 / 0.72)
    panel = rows[rows.panel == "qwen25_math_7b/egpo"]
    assert _ys(panel, series="mean correct") == [pytest.approx(0.29)]
    assert _ys(panel, series="mean incorrect") == [pytest.approx(0.82)]
    assert _ys(panel, series="mean gap (incorrect - correct)") == [pytest.approx(0.53)]
    # the base model of Qwen2.5-Math-1.5B: every correct sample 0.5, every incorrect 0.4 (reversed):
    # 30 bins over [0.4, 0.5], width 1/300; each class in one bin with density 300
    base = rows[rows.panel == "qwen25_math_1_5b/base"]
    inc, cor = base[base.series == "density incorrect"], base[base.series == "density correct"]
    assert inc.y.iloc[0] == pytest.approx(300.0) and inc.y.iloc[1:].sum() == 0
    assert cor.y.iloc[-1] == pytest.approx(300.0) and cor.y.iloc[:-1].sum() == 0
    assert inc.x.iloc[0] == pytest.approx(0.4 + 1 / 600)
    assert _ys(base, series="mean gap (incorrect - correct)") == [pytest.approx(-0.1)]
    # 20 + 12 = 32 samples per class pair of base cells: 12 correct, 20 incorrect
    assert set(base[base.series == "mean correct"].n_runs) == {12}


def test_egpo_table3_on_the_sample_with_the_drop_count(world):
    t = pd.read_csv(world[1] / "tables" / "egpo" / "table3.csv")
    r7 = t[t.model == "DeepSeek-R1-Distill-Qwen-7B"].iloc[0]
    # 16 correct at TE 0.3; 14 incorrect with TE: ten 0.5, four 0.2 -> P(TE_inc > TE_cor) = 10/14
    assert r7["TE ours"] == pytest.approx(10 / 14)
    # AE: twelve 0.5, two 0.1 -> 12/14
    assert r7["AE ours"] == pytest.approx(12 / 14)
    assert r7["AE paper"] == 0.738 and r7["AE diff"] == pytest.approx(12 / 14 - 0.738)
    assert (r7["problems"], r7["n"], r7["no split"]) == (4, 30, 2)
    assert r7["sample"] == "gsm8k 2, math500 2"
    r1 = t[t.model == "DeepSeek-R1-Distill-Qwen-1.5B"].iloc[0]
    # TE: seven 0.5, seven 0.2 -> 7/14; AE: thirteen 0.5, one 0.1 -> 13/14
    assert r1["TE ours"] == pytest.approx(0.5) and r1["AE ours"] == pytest.approx(13 / 14)
    assert r1["TE paper"] == 0.745
    md = (world[1] / "tables" / "egpo" / "table3.md").read_text()
    assert "0.714" in md and "0.857" in md and "no split" in md


def test_egpo_think_sample_draws_1000_problems(world):
    inp, _, _ = world
    from rlvr_repro.report.figures.egpo import think_sample

    d = inp.diagnostics
    cell = d[(d.model == "r1_distill_qwen_7b") & (d.method == "base") & (d.benchmark == "math500")].iloc[0]
    rows = []
    for i in range(520):  # 520 cells x 2 problems = 1,040 problems > 1,000
        rows.append({**cell.to_dict(), "benchmark": f"b{i:03d}", "subject": "base-r1_distill_qwen_7b"})
    big = FigureInputs(inp.metrics, inp.logs, pd.DataFrame(rows), protocols=inp.protocols)
    sample = think_sample(big, "r1_distill_qwen_7b")
    assert sample.problems == 1000 and sum(sample.by_benchmark.values()) == 1000
    assert sample.n + sample.no_split == 8000
    again = think_sample(big, "r1_distill_qwen_7b")
    assert again.by_benchmark == sample.by_benchmark  # a fixed seed


def test_egpo_think_sample_checks_the_problem_ids(world):
    """A problem is n = 8 consecutive samples; the samples' problem ids must agree (here: 4 per problem)."""
    inp, _, _ = world
    from rlvr_repro.report.collect import ReportInputError
    from rlvr_repro.report.figures.egpo import think_sample

    d = inp.diagnostics
    cell = d[(d.model == "r1_distill_qwen_7b") & (d.method == "base") & (d.benchmark == "math500")].iloc[0]
    samples = {**cell.doc["samples"], "problem": [str(i // 4) for i in range(16)]}
    bad = FigureInputs(inp.metrics, inp.logs, pd.DataFrame([{**cell.to_dict(), "doc": {"samples": samples}}]),
                       protocols=inp.protocols)
    with pytest.raises(ReportInputError, match="problem ids do not come in runs of the egpo protocol's n = 8"):
        think_sample(bad, "r1_distill_qwen_7b")


def test_egpo_fig5_roc_predicts_incorrectness(world):
    rows, missing = _csv(world, "egpo", "fig5")
    assert missing.empty
    # TE (7B): thresholds 0.5 (ten incorrect), 0.3 (sixteen correct), 0.2 (four incorrect)
    te = rows[(rows.panel == "r1_distill_qwen_7b") & (rows.series == "roc nll_think")]
    assert list(te.x) == [0, 0, 1, 1] and list(te.y) == pytest.approx([0, 10 / 14, 10 / 14, 1])
    # AE (1.5B): thirteen incorrect at 0.5, sixteen correct at 0.3, one incorrect at 0.1
    ae = rows[(rows.panel == "r1_distill_qwen_1_5b") & (rows.series == "roc nll_answer")]
    assert list(ae.x) == [0, 0, 1, 1] and list(ae.y) == pytest.approx([0, 13 / 14, 13 / 14, 1])


def _scott_kde(values, x):
    """Gaussian KDE, bandwidth = sample std (ddof 1) x n^(-1/5) (Scott's rule), written out here."""
    n = len(values)
    mean = sum(values) / n
    bw = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) * n ** -0.2
    return sum(math.exp(-0.5 * ((x - v) / bw) ** 2) for v in values) / (n * bw * math.sqrt(2 * math.pi))


def test_egpo_fig6_fig8_kde_of_thinking_and_answer_entropy(world):
    rows, missing = _csv(world, "egpo", "fig8")
    assert missing.empty and set(rows.model) == {"r1_distill_qwen_7b"}
    think = rows[(rows.panel == "nll_think") & (rows.series == "kde incorrect")]
    inc_te = [0.5] * 10 + [0.2] * 4  # std 0.140642, bw 0.082962
    for x, y in list(zip(think.x, think.y))[::20]:
        assert y == pytest.approx(_scott_kde(inc_te, x), rel=1e-6)
    # at the grid point next to 0.5 the density is about 10 / (14 x 0.082962 x sqrt(2 pi)) = 3.43
    assert think.y.max() == pytest.approx(3.43, abs=0.05)
    answer = rows[(rows.panel == "nll_answer") & (rows.series == "kde incorrect")]
    inc_ae = [0.5] * 12 + [0.1] * 2
    x, y = answer.x.iloc[100], answer.y.iloc[100]
    assert y == pytest.approx(_scott_kde(inc_ae, x), rel=1e-6)
    six, _ = _csv(world, "egpo", "fig6")
    assert set(six.model) == {"r1_distill_qwen_1_5b"}
    te15 = six[(six.panel == "nll_think") & (six.series == "kde incorrect")]
    x, y = te15.x.iloc[50], te15.y.iloc[50]
    assert y == pytest.approx(_scott_kde([0.5] * 7 + [0.2] * 7, x), rel=1e-6)


def test_egpo_fig7_fig9_answer_length_against_answer_entropy(world):
    rows, missing = _csv(world, "egpo", "fig9")
    assert missing.empty and set(rows.model) == {"r1_distill_qwen_7b"}
    cor, inc = rows[rows.series == "correct"], rows[rows.series == "incorrect"]
    assert set(zip(cor.x, cor.y)) == {(100.0, 0.3)} and len(cor) == 16
    assert sorted(zip(inc.x, inc.y)) == [(200.0, 0.1)] * 2 + [(200.0, 0.5)] * 12
    seven, _ = _csv(world, "egpo", "fig7")
    inc7 = seven[seven.series == "incorrect"]
    assert sorted(inc7.y) == [0.1] + [0.5] * 13


def test_egpo_a4_thinking_against_answer_entropy(world):
    rows, missing = _csv(world, "egpo", "figA4")
    assert missing.empty
    inc = rows[(rows.panel == "r1_distill_qwen_7b") & (rows.series == "incorrect")]
    pairs = sorted(zip(inc.x, inc.y))
    assert pairs == [(0.2, 0.1)] * 2 + [(0.2, 0.5)] * 2 + [(0.5, 0.5)] * 10
    inc15 = rows[(rows.panel == "r1_distill_qwen_1_5b") & (rows.series == "incorrect")]
    assert sorted(zip(inc15.x, inc15.y)) == [(0.2, 0.1)] + [(0.2, 0.5)] * 6 + [(0.5, 0.5)] * 7
    cor = rows[(rows.panel == "r1_distill_qwen_7b") & (rows.series == "correct")]
    assert set(zip(cor.x, cor.y)) == {(0.3, 0.3)} and len(cor) == 16


# ------------------------------------------------------------------------------------------- AsymGRPO
def test_asymgrpo_fig1_advantage_family_and_flipped_channels(world):
    rows, missing = _csv(world, "asymgrpo", "fig1")
    assert missing.empty
    pos = lambda beta: _xy(rows, panel="pos", series=f"beta={beta}")  # noqa: E731
    neg = lambda beta: _xy(rows, panel="neg", series=f"beta={beta}")  # noqa: E731
    # Eq. 5 at p = 0.25: ((1-p)/p)^0.5 = sqrt(3); (p/(1-p))^0.5 = 1/sqrt(3); beta 0.05: 3^0.05 = 1.0564673
    assert pos(0.5)[0.25] == pytest.approx(S3) and neg(0.5)[0.25] == pytest.approx(1 / S3)
    assert pos(0.05)[0.25] == pytest.approx(1.0564673)
    # beta 0.75 at p = 0.2: 4^0.75 = 2.8284271 and 0.25^0.75 = 0.3535534; beta 0 is REINFORCE: 1 everywhere
    assert pos(0.75)[0.2] == pytest.approx(2.8284271) and neg(0.75)[0.2] == pytest.approx(0.3535534)
    assert set(pos(0).values()) == {1.0} and min(pos(0.5)) == pytest.approx(0.05) and max(pos(0.5)) == 0.95
    # EntDecrease (App. C, G = 8): A~pos(p) = sqrt(p/(1-p)) for p <= 7/8; at p = 1: 2 sqrt(7) - sqrt(3)
    flip = _xy(rows, panel="pos", method="asym_ent_decrease")
    assert sorted(flip) == pytest.approx([k / 8 for k in range(1, 9)])
    assert flip[0.25] == pytest.approx(1 / S3) and flip[0.875] == pytest.approx(S7)
    assert flip[1.0] == pytest.approx(2 * S7 - S3)
    # EntIncrease: |A~neg(p)| = sqrt((1-p)/p) for p >= 1/8; at p = 0: 2 sqrt(7) - sqrt(3)
    flip = _xy(rows, panel="neg", method="asym_ent_increase")
    assert sorted(flip) == pytest.approx([k / 8 for k in range(0, 8)])
    assert flip[0.75] == pytest.approx(1 / S3) and flip[0.125] == pytest.approx(S7)
    assert flip[0.0] == pytest.approx(2 * S7 - S3)


def test_asymgrpo_fig2_channel_isolation_app_g_accuracy_with_ema(world):
    rows, missing = _csv(world, "asymgrpo", "fig2")
    acc = rows[(rows.panel == "qwen3_4b/accuracy") & (rows.method == "asym_pos_only")]
    assert set(acc.source) == {"metrics.json protocol asymgrpo_appg"}
    # Pos-Only on Qwen3-4B (j 2), seeds 0/1: base 20 %; step 10: 0.20+0.03+0.02 (+0.01) = 26 %; 29 %; 32 %
    assert _ys(acc, series="avg accuracy") == pytest.approx([20.0, 26.0, 29.0, 32.0])
    # EMA 0.7 (App. G): s1 = 0.7*20 + 0.3*26 = 21.8; s2 = 0.7*21.8 + 0.3*29 = 23.96; s3 = 26.372
    assert _ys(acc, series="avg accuracy ema 0.7") == pytest.approx([20.0, 21.8, 23.96, 26.372])
    # (a) entropy from the training log: Neg-Only on Qwen2.5-Math-1.5B (j 3), step 10: 2.0-0.1+0.3 = 2.2
    assert _xy(rows, panel="qwen25_math_1_5b/entropy", method="asym_neg_only")[10] == pytest.approx(2.2)
    # (c) in %: none-solved step 40 (mi 0, seed 0): 0.50-0.04 = 46 %; all-solved step 40: 40 %
    assert _xy(rows, panel="qwen3_4b/frac_none_solved", method="asym_reinforce")[40] == pytest.approx(46.0)
    assert _xy(rows, panel="qwen3_4b/frac_all_solved", method="asym_reinforce")[40] == pytest.approx(40.0)
    # (d): Pos-Only (j 2) on Qwen2.5-Math-1.5B, step 30: 0.03+0.02 = 0.05
    assert _xy(rows, panel="qwen25_math_1_5b/logprob_gain_correct", method="asym_pos_only")[30] == pytest.approx(0.05)
    # per model its own entropy-regularised REINFORCE (lambda 0.002 / 0.005)
    assert "asym_reinforce_entreg" in set(rows[rows.model == "qwen25_math_1_5b"].method)
    assert "asym_reinforce_entreg_qwen3" in set(rows[rows.model == "qwen3_4b"].method)
    assert "asym_reinforce_entreg" not in set(rows[rows.model == "qwen3_4b"].method)
    # the opt-in beta_neg = 0.75 run exists for Qwen2.5-Math-1.5B only: named missing on every Qwen3-4B panel
    assert set(missing.method) == {"asym_neg_only_b075"} and set(missing.model) == {"qwen3_4b"}
    assert len(missing) == 5  # (a), (b), (c) twice, (d)
    assert "asym_neg_only_b075" in set(rows[rows.model == "qwen25_math_1_5b"].method)


def test_asymgrpo_accuracy_panel_falls_back_by_coverage_and_names_the_rest(world):
    inp, _, _ = world
    from rlvr_repro.report.figures import asymgrpo

    m = inp.metrics
    # the opt-in run alone has App. G cells (and only those, as experiment asymgrpo_neg075 evaluates it):
    # Table 2's protocol covers more of the panel's methods and wins; the opt-in run is named missing
    keep = (((m.protocol != "asymgrpo_appg") | m.method.isin(["asym_neg_only_b075", "base"]))
            & ~((m.protocol == "asymgrpo") & (m.method == "asym_neg_only_b075")))
    drawn = asymgrpo.fig2(FigureInputs(m[keep], inp.logs, inp.diagnostics, protocols=inp.protocols))
    rows = pd.DataFrame(drawn.rows)
    acc = rows[rows.panel == "qwen25_math_1_5b/accuracy"]
    assert set(acc[acc.series != "missing"].source) == {"metrics.json protocol asymgrpo"}
    assert set(acc[acc.series == "missing"].method) == {"asym_neg_only_b075"}
    # Neg-Only (j 3) under Table 2's protocol, step 100: 0.30+0.10+0.03 = 43 %; no EMA there
    neg = acc[(acc.method == "asym_neg_only") & (acc.series == "avg accuracy")]
    assert _xy(neg) == pytest.approx({0: 30.0, 50: 38.0, 100: 43.0})
    assert asymgrpo.accuracy_protocol(inp, "qwen25_math_1_5b", asymgrpo.CHANNEL["qwen25_math_1_5b"]) == "asymgrpo_appg"


def test_asymgrpo_fig3_flip_test_against_the_closed_form_grpo_point(world):
    rows, missing = _csv(world, "asymgrpo", "fig3")
    assert missing.empty
    assert set(rows.method) == {"asym_p05_n05", "asym_ent_decrease", "asym_ent_increase"}  # not the grpo preset
    # Qwen3-4B: asym_p05_n05 is j 4: App. G step 20: 0.20+0.06+0.04 = 30 %; EntIncrease (j 6) step 30: 35 %
    acc = rows[rows.panel == "qwen3_4b/accuracy"]
    assert _ys(acc, method="asym_p05_n05", series="avg accuracy") == pytest.approx([20.0, 27.0, 30.0, 33.0])
    assert _ys(acc, method="asym_ent_increase", series="avg accuracy")[-1] == pytest.approx(35.0)
    # entropy, Qwen2.5-Math-1.5B, EntDecrease (j 6), step 1: 2.0-0.01+0.6 = 2.59
    assert _xy(rows, panel="qwen25_math_1_5b/entropy", method="asym_ent_decrease")[1] == pytest.approx(2.59)


def test_asymgrpo_fig4_table2_dynamics_and_the_beta_grid(world):
    rows, missing = _csv(world, "asymgrpo", "fig4")
    assert missing.empty
    acc = rows[rows.panel == "qwen3_4b/accuracy"]
    assert set(acc.source) == {"metrics.json protocol asymgrpo"} and set(acc.series) == {"avg accuracy"}  # no EMA
    # REINFORCE (j 8), seeds 0/1, step 100: 0.30+0.10+0.08+0.01 = 49 %; base 30 %
    assert _xy(acc, method="reinforce") == pytest.approx({0: 30.0, 50: 44.0, 100: 49.0})
    # (a) reward, GRPO (j 7), step 20: 0.40+0.07 = 0.47
    assert _xy(rows, panel="qwen3_4b/reward_mean", method="grpo")[20] == pytest.approx(0.47)
    # (d) grid at the last step (100): asym_p05_n03 (j 13) 0.30+0.10+0.13 = 53 %; asym_p09_n05 (j 14) 54 %;
    # asymgrpo (j 12) 52 %; asym_p05_n05 (j 4, the flip test's GRPO point, also on the grid) 44 %
    grid = rows[rows.panel == "grid"]
    assert {(m, x, s): y for m, x, s, y in zip(grid.method, grid.x, grid.series, grid.y)} == pytest.approx(
        {("asym_p05_n03", 0.5, "beta_neg=0.3"): 53.0, ("asym_p09_n05", 0.9, "beta_neg=0.5"): 54.0,
         ("asymgrpo", 0.9, "beta_neg=0.4"): 52.0, ("asym_p05_n05", 0.5, "beta_neg=0.5"): 44.0})


def test_two_point_curves_are_points_and_one_colour_per_method(world):
    inp, _, _ = world
    from rlvr_repro.report.figures import asymgrpo
    from rlvr_repro.report.style import METHOD_COLORS

    drawn = asymgrpo.fig4(inp)
    acc_ax = drawn.fig.axes[2]
    lines = {line.get_label(): line for line in acc_ax.lines}
    # Dr.GRPO was evaluated at step 100 only: base + last step = two points, drawn without a line
    assert lines["Dr.GRPO"].get_linestyle() == "None" and lines["Dr.GRPO"].get_marker() == "o"
    assert lines["GRPO"].get_linestyle() == "-"
    labels = inp.labels.methods
    by_label = sorted(((labels.get(m, m), m) for m in METHOD_COLORS), key=lambda t: -len(t[0]))
    seen = 0
    for paper, figures in PAPER_FIGURES.items():
        for build in figures.values():
            for ax in build(inp).fig.axes:
                for line in ax.lines:
                    label = line.get_label()
                    match = next((m for name, m in by_label if label.startswith(name)), None)
                    if match is None or label.startswith("_"):
                        continue
                    assert line.get_color() == METHOD_COLORS[match], (paper, label)
                    seen += 1
    assert seen > 100


def _axis(fig, exact: bool = False, **want):
    """The one axes whose title / ylabel contain (``exact``: are) the given texts."""
    found = [ax for ax in fig.axes if all(text == getattr(ax, f"get_{what}")() if exact else
                                          text in getattr(ax, f"get_{what}")() for what, text in want.items())]
    assert len(found) == 1, want
    return found[0]


def _line(ax, label: str) -> dict:
    (line,) = [ln for ln in ax.lines if ln.get_label().startswith(label)]
    return {round(float(x), 6): float(y) for x, y in zip(line.get_xdata(), line.get_ydata())}


def test_the_image_labels_each_panel_and_line_with_what_it_plots(world):
    """The CSV alone cannot see a title or legend on the wrong data: read the image's own axes."""
    inp, _, _ = world
    from rlvr_repro.report.figures import ace, asymgrpo, egpo, lens

    ax = _axis(lens.fig5(inp).fig, title="Qwen-2.5-3B-Base · MATH Levels 4-5")
    assert _line(ax, "LENS")[100] == pytest.approx(35.5) and _line(ax, "GRPO")[0] == pytest.approx(15.0)
    ax = _axis(lens.fig6(inp).fig, exact=True, title="Llama-3.1-8B-Instruct · MATH")
    assert _line(ax, "GRPO")[300] == pytest.approx(48.0)
    fig = ace.fig3(inp).fig
    assert "held-out DAPO-Math-17K prompts" in fig._suptitle.get_text() and "MATH-500" not in fig._suptitle.get_text()
    ax = _axis(fig, title="Qwen3-8B-Base", ylabel="overconfident error fraction (%)")
    assert _line(ax, "GRPO")[50] == pytest.approx(36.0)
    ax = _axis(ace.fig4(inp).fig, title="Qwen2.5-Math-7B")
    assert _line(ax, "GRPO")[20] == pytest.approx(0.405) and _line(ax, "ACE-GRPO")[0] == pytest.approx(1.0)
    ax = _axis(egpo.fig5(inp).fig, title="DeepSeek-R1-Distill-Qwen-7B")
    (te,) = [ln for ln in ax.lines if ln.get_label().startswith("thinking entropy (AUC 0.714)")]
    assert list(te.get_ydata()) == pytest.approx([0, 10 / 14, 10 / 14, 1])
    ax = _axis(egpo.FIGURES["fig8"](inp).fig, title="thinking entropy")
    assert max(_line(ax, "incorrect").values()) == pytest.approx(3.43, abs=0.05)
    fig = asymgrpo.fig2(inp).fig
    ax = _axis(fig, title="Qwen2.5-Math-1.5B", ylabel="(a) policy entropy")
    assert _line(ax, "Neg-Only Modulation")[10] == pytest.approx(2.2)
    ax = _axis(fig, title="Qwen3-4B (asymgrpo_appg)", ylabel="EMA 0.7")
    assert _line(ax, "Pos-Only Modulation")[30] == pytest.approx(26.372)
    ax = _axis(fig, title="Qwen2.5-Math-1.5B", ylabel="(d) log-prob gain")
    assert _line(ax, "Pos-Only Modulation")[30] == pytest.approx(0.05)
    ax = _axis(asymgrpo.fig1(inp).fig, title="(a) successful")
    assert _line(ax, "β = 0.5 (GRPO)")[0.25] == pytest.approx(S3) and _line(ax, "EntDecrease")[1.0] == pytest.approx(2 * S7 - S3)


def test_kappa_table_reads_the_reinforce_run_first_20_steps(world):
    t = pd.read_csv(world[1] / "tables" / "asymgrpo" / "table1.csv")
    # steps 1-20 of seed 0: 1 + step % 3 is 2 (7 steps), 3 (7 steps), 1 (6 steps): 41 / 20 = 2.05 (x 1e-3 x 1e3)
    q3 = t[t.model == "Qwen3-4B"].iloc[0]
    assert q3.run == "qwen3_4b-math_train-reinforce-s0" and q3.steps == 20
    assert q3.ours == pytest.approx(2.05) and q3.paper == 1.91 and q3["diff"] == pytest.approx(0.14)
    assert t[t.model == "Qwen2.5-Math-1.5B"].run.item() == "qwen25_math_1_5b-math_train-asym_reinforce-s0"
    r7 = t[t.model == "Qwen2.5-7B-Base"].iloc[0]
    assert r7.run == "qwen25_7b-math_train-grpo-s0" and r7.ours == pytest.approx(2.05)  # no REINFORCE run
    md = (world[1] / "tables" / "asymgrpo" / "table1.md").read_text()
    assert "REINFORCE" in md and "1.91" in md and "2.05" in md


def test_missing_results_still_give_honest_files(tmp_path):
    inp = FigureInputs.read([], {}, [])
    written = write_figures(inp, ["ace"], tmp_path) + write_diag_tables(inp, ["egpo"], tmp_path)
    assert len(written) == 2 * 3 + 3
    ace3 = pd.read_csv(tmp_path / "ace" / "fig3.csv")
    assert set(ace3.series) == {"missing"} and set(ace3.method) == {"grpo", "ace_grpo"} and len(ace3) == 8
    assert "–" in (tmp_path / "egpo" / "table3.md").read_text()
    for paper, figures in PAPER_FIGURES.items():  # every panel of every figure names what it lacks
        for name, build in figures.items():
            rows = pd.DataFrame(build(inp).rows)
            if (paper, name) == ("asymgrpo", "fig1"):
                assert len(rows) and (rows.series != "missing").all()  # analytic: needs no runs
            else:
                assert len(rows) and set(rows.series) == {"missing"} and rows.y.isna().all(), (paper, name)
