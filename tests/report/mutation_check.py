"""Semantic mutations of the figure and table code that the golden tests must catch.

Run from the repository root (minutes: one pytest run per mutation):

    python tests/report/mutation_check.py            # all
    python tests/report/mutation_check.py M03 M20    # some

Each mutation replaces one exact snippet of one source file (it must occur once), runs the report
tests that read that code with ``-x``, records the first failing test, and restores the file. A
mutation that no test catches is a hole in tests/report/test_figures.py. Not collected by pytest.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIG = "src/rlvr_repro/report/figures/"
TESTS = ["tests/report/test_figures.py"]
PLOT_TESTS = ["tests/report/test_plots_html.py", "tests/report/test_figures.py"]

# id, what a reader of the papers would call wrong, file, snippet, replacement
MUTATIONS = [
    ("M01", "ACE Fig. 2 reads the first checkpoint", FIG + "ace.py",
     'm.groupby(["subject", "benchmark"]).step.transform("max")', 'm.groupby(["subject", "benchmark"]).step.transform("min")'),
    ("M02", "ACE Fig. 2 drops the x100", FIG + "ace.py",
     'curve = lines.groupby("k").value.mean() * 100.0', 'curve = lines.groupby("k").value.mean()'),
    ("M03", "ACE Fig. 3 OEF not in %", FIG + "ace.py",
     '("oef", "overconfident error fraction (%)", 100.0)', '("oef", "overconfident error fraction (%)", 1.0)'),
    ("M04", "ACE Fig. 3 GRPO and ACE-GRPO swapped", FIG + "ace.py",
     'protocol="ace_analysis", model=model,\n                                            method=method, benchmark=HELDOUT)',
     'protocol="ace_analysis", model=model,\n                                            method=PAIR[1 - PAIR.index(method)], benchmark=HELDOUT)'),
    ("M05", "ACE Fig. 4 beyond the first 20 steps", FIG + "ace.py", "ENTROPY_STEPS = 20", "ENTROPY_STEPS = 25"),
    ("M06", "ACE Fig. 4 without the initial (base) entropy", FIG + "ace.py",
     "max_step=ENTROPY_STEPS, with_base=True", "max_step=ENTROPY_STEPS, with_base=False"),
    ("M07", "ACE Fig. 4 reads the training batch's entropy protocol name", FIG + "ace.py",
     'ENTROPY_PROTOCOL = "ace_entropy"', 'ENTROPY_PROTOCOL = "ace_analysis"'),
    ("M08", "LENS Fig. 6 reads MATH + DAPO instead of Numina", FIG + "lens.py",
     'return _accuracy(inp, "lens_math_numina"', 'return _accuracy(inp, "lens_math_dapo"'),
    ("M09", "LENS Figs. 5/6 MATH and Levels 4-5 swapped", FIG + "lens.py",
     'SUBSETS = (("all", "MATH"), ("level4-5", "MATH Levels 4-5"))',
     'SUBSETS = (("level4-5", "MATH"), ("all", "MATH Levels 4-5"))'),
    ("M10", "LENS Fig. 2 paper panel on MATH + DAPO", FIG + "lens.py",
     'PAPER_RUN = ("llama31_8b_instruct", "lens_math_numina")', 'PAPER_RUN = ("llama31_8b_instruct", "lens_math_dapo")'),
    ("M11", "LENS Fig. 2 plots all-solved groups", FIG + "lens.py",
     'log_curve(inp.logs, "frac_none_solved"', 'log_curve(inp.logs, "frac_all_solved"'),
    ("M12", "EGPO correct and incorrect swapped", FIG + "egpo.py",
     "return ((CORRECT, correct), (INCORRECT, ~correct))", "return ((CORRECT, ~correct), (INCORRECT, correct))"),
    ("M13", "EGPO Fig. 3 reads the first diagnosed checkpoint", FIG + "egpo.py",
     'd = d[d.step == d.groupby("subject").step.transform("max")]',
     'd = d[d.step == d.groupby("subject").step.transform("min")]'),
    ("M14", "EGPO Fig. 5 ROC predicts correctness", FIG + "egpo.py",
     'fpr, tpr = roc_curve(s[key], ~s["correct"])', 'fpr, tpr = roc_curve(s[key], s["correct"])'),
    ("M15", "EGPO KDE with the population std", FIG + "egpo.py",
     "float(values.std(ddof=1))", "float(values.std(ddof=0))"),
    ("M16", "EGPO Figs. 7/9 axes swapped", FIG + "egpo.py",
     '"n_answer_tokens", "nll_answer")', '"nll_answer", "n_answer_tokens")'),
    ("M17", "EGPO A.4 (ii) axes swapped", FIG + "egpo.py",
     'sample.cols, "nll_think", "nll_answer")', 'sample.cols, "nll_answer", "nll_think")'),
    ("M18", "EGPO Table 3 sample of 100 problems", FIG + "egpo.py",
     "SAMPLE_PROBLEMS = 1000", "SAMPLE_PROBLEMS = 100"),
    ("M19", "EGPO Table 3 TE reads the answer entropy", "src/rlvr_repro/report/diag_tables.py",
     '(("nll_think", "auc_thinking_entropy", "TE")', '(("nll_answer", "auc_thinking_entropy", "TE")'),
    ("M20", "AsymGRPO EMA with alpha and 1 - alpha swapped", FIG + "common.py",
     "out[i] = alpha * out[i - 1] + (1 - alpha) * x[i]", "out[i] = (1 - alpha) * out[i - 1] + alpha * x[i]"),
    ("M21", "AsymGRPO Fig. 3 against the grpo preset", FIG + "asymgrpo.py",
     'FLIP_REFERENCE = "asym_p05_n05"', 'FLIP_REFERENCE = "grpo"'),
    ("M22", "AsymGRPO Fig. 1 channels swapped", FIG + "asymgrpo.py",
     "return ((1.0 - p) / p) ** beta, (p / (1.0 - p)) ** beta", "return (p / (1.0 - p)) ** beta, ((1.0 - p) / p) ** beta"),
    ("M23", "AsymGRPO Fig. 4(d) grid at the first step", FIG + "asymgrpo.py",
     "float(curve.iloc[-1])", "float(curve.iloc[0])"),
    ("M24", "AsymGRPO Fig. 2(c) not in %", FIG + "asymgrpo.py",
     '"frac_none_solved", "(c) groups (%)", scale=100.0', '"frac_none_solved", "(c) groups (%)", scale=1.0'),
    ("M25", "AsymGRPO App. G protocol loses ties to Table 2's", FIG + "asymgrpo.py",
     "covered.get(TABLE2_PROTOCOL, 0) > covered.get(APPG, 0)", "covered.get(TABLE2_PROTOCOL, 0) >= covered.get(APPG, 0)"),
    ("M26", "AsymGRPO Fig. 1 flipped channel from EntIncrease in (a)", FIG + "asymgrpo.py",
     'out["pos"][pos_k, 0]', 'out["neg"][pos_k, 0]'),
    ("M27", "AsymGRPO Table 1 over steps 1-19", "src/rlvr_repro/report/diag_tables.py",
     "sel[(sel.step <= KAPPA_STEPS)", "sel[(sel.step < KAPPA_STEPS)"),
    ("M28", "AsymGRPO Table 1 without the x 10^3", "src/rlvr_repro/report/diag_tables.py",
     "float(one.kappa.mean()) * 1e3", "float(one.kappa.mean())"),
    ("M29", "accuracy curves without the base model at step 0", FIG + "common.py",
     "if with_base and base.benchmark.nunique() == need", "if False and base.benchmark.nunique() == need"),
    ("M30", "accuracy curves: max over seeds", FIG + "common.py",
     'curve = per.groupby(level="step").mean() * 100.0', 'curve = per.groupby(level="step").max() * 100.0'),
    ("M31", "training-log curves: sum over seeds", FIG + "common.py",
     'return sel.groupby("step")[quantity].mean()', 'return sel.groupby("step")[quantity].sum()'),
    ("M32", "diagnostic curves: last seed instead of the mean", FIG + "common.py",
     'curve = runs.groupby(["subject", "step"]).v.mean().groupby(level="step").mean()',
     'curve = runs.groupby(["subject", "step"]).v.mean().groupby(level="step").last()'),
    ("M33", "two-point step curves drawn as lines", "src/rlvr_repro/report/plots.py",
     "if steps and len(xs) <= POINTS_ONLY:", "if steps and len(xs) < POINTS_ONLY:"),
    ("M34", "local accuracy plot coloured by dataset", "src/rlvr_repro/report/plots.py",
     "draw_series(ax, curve.index, curve.values, color=method_color(method),\n                        label=_method_label",
     "draw_series(ax, curve.index, curve.values, color=method_color(str(dataset)),\n                        label=_method_label"),
    ("M35", "the NLL proxy read as entropy", "src/rlvr_repro/report/trainkeys.py",
     '"entropy": ("entropy",),', '"entropy": ("entropy", "entropy_proxy"),'),
    ("M36", "LENS Fig. 2 drops the x100", FIG + "lens.py",
     "drawn.curve(ax, panel, curve.index, curve.values * 100.0,", "drawn.curve(ax, panel, curve.index, curve.values,"),
    ("M37", "EGPO Fig. 3 gap as correct - incorrect", FIG + "egpo.py",
     'gap = means["incorrect"] - means["correct"]', 'gap = means["correct"] - means["incorrect"]'),
    ("M38", "AsymGRPO Fig. 2 on Qwen3-4B with the 1.5B's entropy regularisation", FIG + "asymgrpo.py",
     '"qwen3_4b": ("asym_reinforce", "asym_reinforce_entreg_qwen3",', '"qwen3_4b": ("asym_reinforce", "asym_reinforce_entreg",'),
    ("M39", "AsymGRPO Table 1 reads the last seed", "src/rlvr_repro/report/diag_tables.py",
     "run = sorted(sel.run_id.unique())[0]", "run = sorted(sel.run_id.unique())[-1]"),
    ("M40", "accuracy curves with partly evaluated checkpoints", FIG + "common.py",
     'per = per[per["count"] == need]["mean"]', 'per = per["mean"]'),
    ("M41", "EGPO thinking and answer entropy labels swapped", FIG + "egpo.py",
     'THINK, ANSWER = ("nll_think", "thinking entropy"), ("nll_answer", "answer entropy")',
     'THINK, ANSWER = ("nll_think", "answer entropy"), ("nll_answer", "thinking entropy")'),
    ("M42", "ACE Fig. 3 panels' y labels swapped", FIG + "ace.py",
     'panels = (("oef", "overconfident error fraction (%)", 100.0),\n              ("mean_overconfidence", "mean overconfidence magnitude", 1.0))',
     'panels = (("oef", "mean overconfidence magnitude", 100.0),\n              ("mean_overconfidence", "overconfident error fraction (%)", 1.0))'),
    ("M43", "LENS Figs. 5/6 legend names GRPO and LENS swapped", FIG + "lens.py",
     'label=f"{inp.method(method)} ({n} run', """label=f"{inp.method({'grpo': 'lens', 'lens': 'grpo'}[method])} ({n} run"""),
    ("M44", "ACE Figs. 3-4 read every benchmark of their protocols, not the held-out DAPO prompts", FIG + "ace.py",
     'HELDOUT = "dapo17k_heldout"', "HELDOUT = None"),
]


def run(mutation) -> tuple[str, str]:
    mid, _, rel, old, new = mutation
    path = REPO / rel
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        return mid, f"SNIPPET NOT FOUND ONCE ({text.count(old)}x) in {rel}"
    tests = TESTS if rel.startswith(FIG) or rel.endswith("diag_tables.py") else PLOT_TESTS
    try:
        path.write_text(text.replace(old, new), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:cacheprovider"],
                              cwd=REPO, capture_output=True, text=True)
    finally:
        path.write_text(text, encoding="utf-8")
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
    if proc.returncode == 0:
        return mid, "NOT CAUGHT"
    if failed and "::" in failed[0]:
        return mid, f"caught by {failed[0]}"
    return mid, f"INVALID MUTATION (the module no longer imports: {failed[:1] or proc.returncode})"


def main(argv: list[str]) -> int:
    chosen = [m for m in MUTATIONS if not argv or m[0] in argv]
    holes = 0
    for mutation in chosen:
        mid, verdict = run(mutation)
        holes += not verdict.startswith("caught")  # an invalid mutation counts as a hole: fix its snippet
        print(f"{mid} {mutation[1]}: {verdict}", flush=True)
    print(f"{len(chosen) - holes}/{len(chosen)} mutations caught")
    return 1 if holes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
