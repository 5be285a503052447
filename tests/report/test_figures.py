"""Golden test: synthetic per-step logs (verl's metric names for some runs, the local trainer's for
others), synthetic metrics.json and diagnostics.json cells go through the real readers and builders
and give every paper figure (PNG + CSV of the plotted numbers) and both diagnostic tables."""
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from rlvr_repro.evaluate.diagnostics import roc_auc
from rlvr_repro.report.diag_tables import diag_table_targets, write_diag_tables
from rlvr_repro.report.figures import FigureInputs, figure_targets, write_figures
from rlvr_repro.report.figures.common import ema
from rlvr_repro.report.specs import parse_report_config
from rlvr_repro.config import CONFIG_DIR, load_config
from report.fixtures import metrics_record, write_metrics

PAPERS = ("ace", "lens", "egpo", "asymgrpo")
ASYM_BENCH = ("math500", "olympiadbench", "aime24", "aime25", "amc23")


def _log(path, steps, *, verl: bool, seed: int):
    """A training log; ``verl`` writes verl_launch's names, else the local trainer's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for step in range(1, steps + 1):
        ent, none, alls = 1.0 / step + 0.01 * seed, 0.5 - 0.01 * step, 0.01 * step
        rec = {"step": step, "reward_mean": 0.02 * step, "response_length_mean": 100.0 + step,
               "diag/asym_kappa": 0.001 * (1 + step % 3), "diag/logprob_gain_correct": 0.01 * step}
        if verl:
            rec.update({"entropy": ent, "diag/frac_none_solved": none, "diag/frac_all_solved": alls,
                        "verl/response_length/clip_ratio": 0.05})
        else:
            rec.update({"entropy_proxy": ent, "frac_all_incorrect": none, "frac_all_correct": alls,
                        "truncated_frac": 0.05})
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n")
    return path


def _samples(rng, n, think: bool):
    correct = rng.random(n) < 0.5
    nll = np.where(correct, 0.3, 0.6) + 0.1 * rng.standard_normal(n)
    out = {"problem": [f"p{i // 8}" for i in range(n)], "correct": correct.tolist(), "mean_nll": nll.tolist(),
           "n_tokens": [100] * n,
           "nll_think": [None] * n, "nll_answer": [None] * n, "n_answer_tokens": [None] * n}
    if think:
        out["nll_think"] = (nll + 0.2 * rng.standard_normal(n)).tolist()
        out["nll_answer"] = (nll + 0.05 * rng.standard_normal(n)).tolist()
        out["n_answer_tokens"] = rng.integers(10, 200, n).tolist()
    return out


def _diag(root, protocol, subject, step, bench, *, samples=None, shift=None):
    path = root / protocol / subject / f"step_{step}" / bench / "diagnostics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"entropy": {}, "think_answer_auc": {}, "confidence_shift": shift,
                                "samples": samples or {"correct": []}}))
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("world")
    ev, runs = root / "eval", root / "runs"
    metrics, logs, diags = [], {}, []
    verl = [False]

    def log(run, steps=40, seed=0):
        verl[0] = not verl[0]  # alternate backends run by run
        logs[run] = _log(runs / run / "train_log.jsonl", steps, verl=verl[0], seed=seed)

    ks = [1, 2, 4, 8, 16, 32]
    for model in ("qwen25_math_7b", "qwen3_8b_base", "llama31_8b_instruct"):
        for bench in ("math500", "aime25"):
            metrics.append(write_metrics(ev, metrics_record("ace", f"base-{model}", 0, bench, n=128,
                                                            pass_at_k={k: 0.1 + 0.01 * k for k in ks})))
        for i, method in enumerate(("grpo", "dapo", "ace_grpo", "ace_dapo")):
            run = f"{model}-dapo17k-{method}-s0"
            log(run)
            for bench in ("math500", "aime25"):
                metrics.append(write_metrics(ev, metrics_record("ace", run, 160, bench, n=128,
                                                                pass_at_k={k: 0.2 + 0.01 * k + 0.01 * i for k in ks})))
            if method in ("grpo", "ace_grpo") and model != "llama31_8b_instruct":
                for step in (25, 50, 75):
                    oef = 0.3 + 0.001 * step - (0.1 if method == "ace_grpo" else 0.0)
                    diags.append(_diag(ev, "ace_analysis", run, step, "math500",
                                       shift={"oef": oef, "mean_overconfidence": 0.05 * oef}))
    for model in ("llama31_8b_instruct", "qwen25_3b"):
        for dataset, seeds in (("lens_math_dapo", (0, 1)), ("lens_math_numina", (0,))):
            for method in ("grpo", "lens"):
                for seed in seeds:
                    run = f"{model}-{dataset}-{method}-s{seed}"
                    log(run, seed=seed)
                    for step in (100, 200):
                        p = 0.3 + 0.0005 * step + 0.01 * seed
                        sub = {"level4-5": {"n_problems": 5, "pass_at_k": {"1": p / 2}, "avg_at_n": p / 2}}
                        metrics.append(write_metrics(ev, metrics_record("lens", run, step, "math", n=16,
                                                                        pass_at_k={1: p}, subsets=sub)))
    rng = np.random.default_rng(0)
    for model in ("qwen25_math_1_5b", "qwen25_math_7b", "r1_distill_qwen_1_5b", "r1_distill_qwen_7b"):
        think = model.startswith("r1")
        for bench in ("math500", "gsm8k"):
            diags.append(_diag(ev, "egpo", f"base-{model}", 0, bench, samples=_samples(rng, 80, think)))
            for method in ("grpo", "dapo", "edge_grpo", "egpo"):
                diags.append(_diag(ev, "egpo", f"{model}-openr1_stable10k-{method}-s0", 770, bench,
                                   samples=_samples(rng, 40, think)))
    asym = {"qwen25_math_1_5b": ("asym_reinforce", "asym_reinforce_entreg", "asym_pos_only", "asym_neg_only", "grpo",
                                 "asym_ent_decrease", "asym_ent_increase"),
            "qwen3_4b": ("asym_reinforce", "asym_reinforce_entreg_qwen3", "asym_pos_only", "asym_neg_only", "grpo",
                         "asym_ent_decrease", "asym_ent_increase", "reinforce", "grpo_entreg", "grpo_clip_higher",
                         "drgrpo", "asymgrpo", "asym_p05_n03", "asym_p09_n05"),
            "qwen25_7b": ("grpo", "asymgrpo")}
    for model, methods in asym.items():
        for bench in ASYM_BENCH:
            metrics.append(write_metrics(ev, metrics_record("asymgrpo", f"base-{model}", 0, bench, pass_at_k={1: 0.2})))
            metrics.append(write_metrics(ev, metrics_record("asymgrpo_appg", f"base-{model}", 0, bench, n=1,
                                                            pass_at_k={1: 0.2})))
        for i, method in enumerate(methods):
            run = f"{model}-math_train-{method}-s0"
            log(run)
            for bench in ASYM_BENCH:
                for step in (50, 100):
                    metrics.append(write_metrics(ev, metrics_record("asymgrpo", run, step, bench,
                                                                    pass_at_k={1: 0.3 + 0.01 * i + 0.001 * step})))
                if model != "qwen25_7b":
                    for step in (10, 20, 30):
                        metrics.append(write_metrics(ev, metrics_record("asymgrpo_appg", run, step, bench, n=1,
                                                                        pass_at_k={1: 0.25 + 0.01 * step})))
    cfg = load_config()
    numbers = yaml.safe_load((CONFIG_DIR / "paper_numbers.yaml").read_text())
    report = parse_report_config([], numbers["labels"], None, numbers["reference_values"])
    inp = FigureInputs.read(metrics, logs, diags, protocols=cfg["protocols"], methods=cfg["methods"],
                            labels=report.labels, references=report.reference_values)
    out = root / "out"
    written = write_figures(inp, PAPERS, out / "plots") + write_diag_tables(inp, PAPERS, out / "tables")
    return inp, out, written, logs


def _csv(out, paper, fig):
    return pd.read_csv(out / "plots" / paper / f"{fig}.csv")


def test_every_figure_and_table_is_written_with_its_numbers(world):
    _, out, written, _ = world
    want = figure_targets(PAPERS, str(out / "plots")) + diag_table_targets(PAPERS, str(out / "tables"))
    assert sorted(map(str, written)) == sorted(want)
    assert len(want) == 2 * 15 + 3 * 2  # 15 figures, 2 tables
    names = {p.split(str(out) + "/", 1)[1] for p in want}
    assert {f"plots/{f}.png" for f in ("ace/fig2", "ace/fig3", "ace/fig4", "lens/fig2", "lens/fig5", "lens/fig6",
                                       "egpo/fig3", "egpo/fig5", "egpo/fig6", "egpo/fig7", "egpo/fig8", "egpo/fig9",
                                       "asymgrpo/fig2", "asymgrpo/fig3", "asymgrpo/fig4")} <= names
    assert {"tables/asymgrpo/table1.md", "tables/egpo/table3.md"} <= names
    for path in written:
        if str(path).endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
        if str(path).endswith(".csv") and "/plots/" in str(path):
            assert len(pd.read_csv(path)) > 0, f"{path}: no plotted numbers"


def test_both_backends_log_names_reach_the_figures(world):
    inp, out, _, logs = world
    lens2 = _csv(out, "lens", "fig2")
    assert set(lens2.model) == {"llama31_8b_instruct", "qwen25_3b"} and set(lens2.dataset) == {"lens_math_dapo",
                                                                                                "lens_math_numina"}
    # step 1 of every GRPO run has frac_none_solved 0.49 whichever key carried it
    assert np.allclose(lens2[lens2.x == 1].y, 49.0)
    backends = {"verl" if "entropy" in pd.read_json(p, lines=True).columns else "local"
                for r, p in logs.items() if "-grpo-" in r and "lens" in r}
    assert backends == {"verl", "local"}
    ace4 = _csv(out, "ace", "fig4")
    assert ace4.x.max() == 20 and set(ace4.method) == {"grpo", "ace_grpo"} and len(set(ace4.model)) == 3


def test_accuracy_curves_average_runs_and_apply_the_protocols_ema(world):
    _, out, _, _ = world
    lens5 = _csv(out, "lens", "fig5")
    row = lens5[(lens5.model == "qwen25_3b") & (lens5.method == "lens") & (lens5.panel == "qwen25_3b/all")
                & (lens5.x == 100)]
    assert row.y.item() == pytest.approx((0.35 + 0.36) / 2 * 100) and row.n_runs.item() == 2
    assert set(lens5.series) == {"avg@n all", "avg@n level4-5"}
    a2 = _csv(out, "asymgrpo", "fig2")
    acc = a2[(a2.panel == "qwen3_4b/accuracy") & (a2.method == "asym_pos_only")]
    raw, smooth = acc[acc.series == "avg accuracy"], acc[acc.series == "avg accuracy ema 0.7"]
    assert list(raw.x) == [0, 10, 20, 30] and (acc.source == "metrics.json protocol asymgrpo_appg").all()
    assert np.allclose(smooth.y, ema(raw.y.to_numpy(), 0.7)) and not np.allclose(smooth.y, raw.y)
    assert {"qwen3_4b/logprob_gain_correct", "qwen3_4b/frac_all_solved", "qwen3_4b/frac_none_solved",
            "qwen3_4b/entropy", "qwen25_math_1_5b/logprob_gain_correct"} <= set(a2.panel)
    grid = _csv(out, "asymgrpo", "fig4")
    grid = grid[grid.panel == "grid"]
    assert set(grid.method) == {"asymgrpo", "asym_p05_n03", "asym_p09_n05"}
    f4 = _csv(out, "asymgrpo", "fig4")
    assert set(f4[f4.panel == "qwen3_4b/accuracy"].source) == {"metrics.json protocol asymgrpo"}  # Table 2's runs
    assert set(_csv(out, "asymgrpo", "fig3").method) == {"grpo", "asym_ent_decrease", "asym_ent_increase"}


def test_ace_overconfidence_comes_from_the_analysis_protocol(world):
    _, out, _, _ = world
    f3 = _csv(out, "ace", "fig3")
    oef = f3[(f3.series == "oef") & (f3.model == "qwen3_8b_base")]
    assert list(oef[oef.method == "grpo"].x) == [25, 50, 75]
    assert oef[(oef.method == "grpo") & (oef.x == 25)].y.item() == pytest.approx(32.5)
    assert "llama31_8b_instruct" not in set(f3.model)
    assert set(_csv(out, "ace", "fig2").method) == {"base", "grpo", "dapo", "ace_grpo", "ace_dapo"}


def test_egpo_roc_and_table3_match_the_pooled_samples(world):
    inp, out, _, _ = world
    d = inp.diagnostics
    docs = d[(d.model == "r1_distill_qwen_7b") & (d.method == "base")].doc
    think = [v for doc in docs for v in doc["samples"]["nll_answer"]]
    wrong = [not c for doc in docs for c in doc["samples"]["correct"]]
    table = pd.read_csv(out / "tables" / "egpo" / "table3.csv")
    row = table[table.model == "DeepSeek-R1-Distill-Qwen-7B"]
    assert row["AE ours"].item() == pytest.approx(roc_auc(think, wrong))
    assert row["AE paper"].item() == 0.738 and row["AE diff"].item() == pytest.approx(row["AE ours"].item() - 0.738)
    assert row.n.item() == 160
    roc = _csv(out, "egpo", "fig5")
    assert set(roc.series) == {"roc nll_think", "roc nll_answer"}
    f3 = _csv(out, "egpo", "fig3")
    assert len({(m, k) for m, k in zip(f3.model, f3.method)}) == 20  # 4 models x (base + 4 methods)
    assert "/ table3" in (out / "tables" / "egpo" / "table3.md").read_text()


def test_kappa_table_reads_the_reinforce_run_first_20_steps(world):
    _, out, _, _ = world
    t = pd.read_csv(out / "tables" / "asymgrpo" / "table1.csv")
    expected = np.mean([0.001 * (1 + s % 3) for s in range(1, 21)]) * 1e3
    q3 = t[t.model == "Qwen3-4B"]
    assert q3.run.item() == "qwen3_4b-math_train-reinforce-s0" and q3.steps.item() == 20
    assert q3.ours.item() == pytest.approx(expected) and q3.paper.item() == 1.91
    assert t[t.model == "Qwen2.5-Math-1.5B"].run.item() == "qwen25_math_1_5b-math_train-asym_reinforce-s0"
    assert t[t.model == "Qwen2.5-7B-Base"].run.item() == "qwen25_7b-math_train-grpo-s0"  # no REINFORCE run
    md = (out / "tables" / "asymgrpo" / "table1.md").read_text()
    assert "REINFORCE" in md and "1.91" in md


def test_missing_results_still_give_honest_files(tmp_path):
    inp = FigureInputs.read([], {}, [])
    written = write_figures(inp, ["ace"], tmp_path) + write_diag_tables(inp, ["egpo"], tmp_path)
    assert len(written) == 9
    assert pd.read_csv(tmp_path / "ace" / "fig3.csv").empty
    assert "–" in (tmp_path / "egpo" / "table3.md").read_text()
