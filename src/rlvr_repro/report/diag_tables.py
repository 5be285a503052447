"""The papers' diagnostic tables, built from training logs and evaluation diagnostics (not from
metrics.json, so they are not ``tables.yaml`` specs): ``results/tables/{paper}/{name}.{md,tex,csv}``.

* asymgrpo/table1 -- AsymGRPO Table 1: kappa_B x 10^3, the mean over training steps 1-20 of the
  per-step ``diag/asym_kappa`` (rlvr_repro.advantages.batch_stats.asym_kappa, App. E), per model.
  The paper does not say which run it measured; Prop. 1's reference point is REINFORCE, so we read
  the model's REINFORCE run (``reinforce``, else ``asym_reinforce``) and, where a model has none
  (Qwen2.5-7B trains only GRPO and AsymGRPO), its GRPO run. The table names the run it read.
* egpo/table3 -- EGPO Table 3: ROC-AUC of thinking entropy (inside ``<think>``) and answer entropy
  for predicting incorrectness, base R1-Distill models, on the paper's sample size: 1,000 problems x
  8 rollouts ("we sample 1,000 problems and generate 8 rollouts per problem"), drawn with a fixed seed
  from the ``egpo`` protocol's benchmark problems (rlvr_repro.report.figures.egpo.think_sample, the
  sample of Figs. 5-9 too). The table names the sample's composition per benchmark and counts the
  rollouts without ``</think>`` (no thinking/answer split: left out). Ours beside the paper's
  reference values, and the difference.

Both tables print the paper's number beside ours with the difference; a paper number that did not
survive our copy is "n/a", never 0; a cell without our result is "–".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from rlvr_repro.evaluate.confidence import roc_auc
from rlvr_repro.io import write_text
from rlvr_repro.report.figures.egpo import think_sample
from rlvr_repro.report.figures.inputs import FigureInputs
from rlvr_repro.report.targets import diag_table_targets  # noqa: F401 - the names (report.smk)
from rlvr_repro.report.writers import MISSING, latex_escape

KAPPA_STEPS = 20
KAPPA_RUNS = ("reinforce", "asym_reinforce", "grpo")  # preference order (module docstring)
COUNTS = ("steps", "n", "problems", "no split")


def _fmt(value, digits: int) -> str:
    return MISSING if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _paper(refs, **match):
    for v in getattr(refs, "values", ()):
        if all(getattr(v, k) == want for k, want in match.items()):
            return v
    return None


def kappa_rows(inp: FigureInputs) -> list[dict]:
    refs = inp.references.get("asymgrpo/table1")
    models = [v.model for v in getattr(refs, "values", ())] or ["qwen25_math_1_5b", "qwen3_4b", "qwen25_7b"]
    rows = []
    logs = inp.logs
    for model in models:
        run, value, n_steps = None, None, 0
        for method in KAPPA_RUNS:
            sel = logs[(logs.model == model) & (logs.method == method)] if len(logs) else logs
            if not len(sel) or "kappa" not in sel.columns:
                continue
            sel = sel[(sel.step <= KAPPA_STEPS) & sel.kappa.notna()]
            if sel.empty:
                continue
            run = sorted(sel.run_id.unique())[0]  # the first seed: one run, as the paper's single number
            one = sel[sel.run_id == run]
            value, n_steps = float(one.kappa.mean()) * 1e3, int(len(one))
            break
        ref = _paper(refs, model=model)
        paper = None if ref is None else ref.value
        rows.append({"model": inp.model(model), "run": run or MISSING, "steps": n_steps,
                     "ours": value, "paper": paper,
                     "diff": None if value is None or paper is None else value - paper})
    return rows


def auc_rows(inp: FigureInputs) -> list[dict]:
    refs = inp.references.get("egpo/table3")
    rows = []
    for model in ("r1_distill_qwen_1_5b", "r1_distill_qwen_7b"):
        sample = think_sample(inp, model)
        s = sample.cols
        row = {"model": inp.model(model), "problems": sample.problems, "n": sample.n, "no split": sample.no_split}
        for key, quantity, short in (("nll_think", "auc_thinking_entropy", "TE"),
                                     ("nll_answer", "auc_answer_entropy", "AE")):
            ours = roc_auc(s[key], ~s["correct"]) if s else None
            ref = _paper(refs, model=model, quantity=quantity)
            paper = None if ref is None else ref.value
            row.update({f"{short} ours": ours, f"{short} paper": paper,
                        f"{short} diff": None if ours is None or paper is None else ours - paper})
        row["sample"] = ", ".join(f"{b} {k}" for b, k in sample.by_benchmark.items()) or MISSING
        rows.append(row)
    return rows


def _render(paper: str, name: str, caption: str, rows: list[dict], digits: dict[str, int], note: str,
            out_dir: Path) -> list[Path]:
    cols = list(rows[0]) if rows else []
    def cell(col, v):
        if col in digits:
            return "n/a" if v is None and "paper" in col else _fmt(v, digits[col])
        return str(v)
    body = [[cell(c, r[c]) for c in cols] for r in rows]
    md = [f"**{paper} / {name}**: {caption}", "", "| " + " | ".join(cols) + " |",
          "|" + "|".join("---:" if c in digits or c in COUNTS else "---" for c in cols) + "|"]
    md += ["| " + " | ".join(x.replace("|", "\\|") for x in b) + " |" for b in body]
    md += ["", note, ""]
    tex = [f"% generated by rlvr_repro.report.diag_tables ({paper}/{name}); do not edit", r"\begin{table}[t]",
           r"\centering", r"\caption{" + latex_escape(caption) + "}",
           r"\begin{tabular}{" + "".join("r" if c in digits or c in COUNTS else "l" for c in cols) + "}",
           r"\toprule", " & ".join(latex_escape(c) for c in cols) + r" \\", r"\midrule"]
    tex += [" & ".join(latex_escape(x) for x in b) + r" \\" for b in body]
    tex += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    stem = Path(out_dir) / paper / name
    csv = pd.DataFrame(rows, columns=cols).to_csv(index=False, lineterminator="\n")
    return [write_text(stem.with_suffix(".md"), "\n".join(md)), write_text(stem.with_suffix(".tex"), "\n".join(tex)),
            write_text(stem.with_suffix(".csv"), csv)]


def write_asymgrpo_table1(inp: FigureInputs, out_dir: Path) -> list[Path]:
    note = ("κ_B (App. E) from the per-step training diagnostic `diag/asym_kappa`, mean over steps 1-"
            f"{KAPPA_STEPS}, x 10^3. Run read: the model's REINFORCE run (Prop. 1's reference point; "
            "`reinforce`, else `asym_reinforce`), else its GRPO run; `steps` = steps with a value (a step "
            "without mixed groups has none). diff = ours - paper; n/a: the paper's number is unavailable.")
    return _render("asymgrpo", "table1", "κ_B ×10³ averaged over the first 20 training steps",
                   kappa_rows(inp), {"ours": 2, "paper": 2, "diff": 2}, note, out_dir)


def write_egpo_table3(inp: FigureInputs, out_dir: Path) -> list[Path]:
    note = ("AUC of thinking entropy (TE, mean NLL inside <think>) and answer entropy (AE, after </think>) for "
            "predicting an incorrect rollout; base models, protocol `egpo`. Sample: up to 1,000 problems (the "
            "paper's size) drawn with a fixed seed from the protocol's benchmarks (composition in `sample`), "
            "every rollout of them with both segments (n); `no split`: rollouts without </think>, left out. "
            "diff = ours - paper; n/a: the paper's number is unavailable in our copy.")
    digits = {k: 3 for k in ("TE ours", "TE paper", "TE diff", "AE ours", "AE paper", "AE diff")}
    return _render("egpo", "table3", "Thinking vs answer entropy: AUC for incorrectness", auc_rows(inp),
                   digits, note, out_dir)


DIAG_TABLES = {"asymgrpo": {"table1": write_asymgrpo_table1}, "egpo": {"table3": write_egpo_table3}}


def write_diag_tables(inp: FigureInputs, papers: Iterable[str], out_dir: Path) -> list[Path]:
    out = []
    for paper in papers:
        for write in DIAG_TABLES.get(paper, {}).values():
            out += write(inp, out_dir)
    return out
