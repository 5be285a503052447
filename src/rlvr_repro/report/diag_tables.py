"""The papers' diagnostic tables, built from training logs and evaluation diagnostics (not from
metrics.json, so they are not ``tables.yaml`` specs): ``results/tables/{paper}/{name}.{md,tex,csv}``.

* asymgrpo/table1 -- AsymGRPO Table 1: kappa_B x 10^3, the mean over training steps 1-20 of the
  per-step ``diag/asym_kappa`` (rlvr_repro.advantages.diagnostics.asym_kappa, App. E), per model.
  The paper does not say which run it measured; Prop. 1's reference point is REINFORCE, so we read
  the model's REINFORCE run (``reinforce``, else ``asym_reinforce``) and, where a model has none
  (Qwen2.5-7B trains only GRPO and AsymGRPO), its GRPO run. The table names the run it read.
* egpo/table3 -- EGPO Table 3: ROC-AUC of thinking entropy (inside ``<think>``) and answer entropy
  for predicting incorrectness, base R1-Distill models. §4.5: "we sample 1,000 problems and generate 8
  rollouts per problem": 1,000 problems drawn (seed 0, without replacement; our choice: uniformly from
  every problem of the ``egpo`` protocol's benchmarks, which the paper does not name) with all their
  rollouts (the protocol's 8 trials). Rollouts without both segments (no ``</think>``, or nothing after
  it) have no TE/AE: they are counted in the table (``no split``), not dropped silently. Ours beside
  the paper's reference values, and the difference.

Both tables print the paper's number beside ours with the difference; a paper number that did not
survive our copy is "n/a", never 0; a cell without our result is "–".
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from rlvr_repro.evaluate.diagnostics import roc_auc
from rlvr_repro.io import write_text
from rlvr_repro.report.figures.inputs import FigureInputs
from rlvr_repro.report.writers import MISSING, latex_escape

COUNT_COLUMNS = ("steps", "n", "problems", "rollouts", "no split")
KAPPA_STEPS = 20
KAPPA_RUNS = ("reinforce", "asym_reinforce", "grpo")  # preference order (module docstring)


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


TABLE3_PROBLEMS = 1000  # EGPO §4.5 "we sample 1,000 problems and generate 8 rollouts per problem"
TABLE3_SEED = 0         # our choice


def table3_sample(inp: FigureInputs, model: str) -> dict:
    """The base model's rollouts of ``TABLE3_PROBLEMS`` problems drawn from its ``egpo`` diagnostics
    (every benchmark; a problem = (benchmark, id)): ``problems`` drawn, ``rollouts`` of them, and
    ``think``/``answer``/``wrong`` arrays over the rollouts that have both segments; ``no_split`` counts
    the others (no ``</think>``, or nothing after it)."""
    d = inp.diagnostics
    d = d[(d.protocol == "egpo") & (d.model == model) & (d.method == "base")] if len(d) else d
    by_problem: dict[tuple[str, str], list] = {}
    for bench, doc in zip(d.benchmark, d.doc):
        s = doc.get("samples") or {}
        ids = s.get("problem")
        if ids is None:
            raise ValueError(f"egpo diagnostics of {model} on {bench} have no per-sample problem ids (re-run the "
                             "diagnostics stage): EGPO Table 3 samples problems")
        for i, pid in enumerate(ids):
            by_problem.setdefault((bench, pid), []).append(
                (bool(s["correct"][i]), s["nll_think"][i], s["nll_answer"][i]))
    keys = sorted(by_problem)
    if len(keys) > TABLE3_PROBLEMS:
        pick = np.random.default_rng(TABLE3_SEED).choice(len(keys), TABLE3_PROBLEMS, replace=False)
        keys = [keys[i] for i in sorted(pick)]
    rollouts = [r for k in keys for r in by_problem[k]]
    both = [r for r in rollouts if r[1] is not None and r[2] is not None]
    return {"problems": len(keys), "rollouts": len(rollouts), "no_split": len(rollouts) - len(both),
            "think": np.asarray([r[1] for r in both], dtype=float),
            "answer": np.asarray([r[2] for r in both], dtype=float),
            "wrong": np.asarray([not r[0] for r in both], dtype=bool)}


def auc_rows(inp: FigureInputs) -> list[dict]:
    refs = inp.references.get("egpo/table3")
    rows = []
    for model in ("r1_distill_qwen_1_5b", "r1_distill_qwen_7b"):
        s = table3_sample(inp, model)
        row = {"model": inp.model(model), "problems": s["problems"], "rollouts": s["rollouts"],
               "no split": s["no_split"], "n": int(s["wrong"].size)}
        for key, quantity, short in (("think", "auc_thinking_entropy", "TE"),
                                     ("answer", "auc_answer_entropy", "AE")):
            ours = roc_auc(s[key], s["wrong"]) if s["wrong"].size else None
            ref = _paper(refs, model=model, quantity=quantity)
            paper = None if ref is None else ref.value
            row.update({f"{short} ours": ours, f"{short} paper": paper,
                        f"{short} diff": None if ours is None or paper is None else ours - paper})
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
          "|" + "|".join("---:" if c in digits or c in COUNT_COLUMNS else "---" for c in cols) + "|"]
    md += ["| " + " | ".join(x.replace("|", "\\|") for x in b) + " |" for b in body]
    md += ["", note, ""]
    tex = [f"% generated by rlvr_repro.report.diag_tables ({paper}/{name}); do not edit", r"\begin{table}[t]",
           r"\centering", r"\caption{" + latex_escape(caption) + "}",
           r"\begin{tabular}{" + "".join("r" if c in digits or c in COUNT_COLUMNS else "l" for c in cols) + "}",
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
            f"predicting an incorrect rollout; base models, protocol `egpo`: {TABLE3_PROBLEMS:,} problems drawn "
            f"(seed {TABLE3_SEED}) from its benchmarks with all their rollouts (EGPO §4.5); `no split`: rollouts "
            "without </think> or without an answer after it, which have no TE/AE; n: the rollouts scored. "
            "diff = ours - paper; n/a: the paper's number is unavailable in our copy.")
    digits = {k: 3 for k in ("TE ours", "TE paper", "TE diff", "AE ours", "AE paper", "AE diff")}
    return _render("egpo", "table3", "Thinking vs answer entropy: AUC for incorrectness", auc_rows(inp),
                   digits, note, out_dir)


DIAG_TABLES = {"asymgrpo": {"table1": write_asymgrpo_table1}, "egpo": {"table3": write_egpo_table3}}


def diag_table_targets(papers: Iterable[str], root: str = "results/tables") -> list[str]:
    return [f"{root}/{p}/{n}.{ext}" for p in papers for n in DIAG_TABLES.get(p, {}) for ext in ("md", "tex", "csv")]


def write_diag_tables(inp: FigureInputs, papers: Iterable[str], out_dir: Path) -> list[Path]:
    out = []
    for paper in papers:
        for write in DIAG_TABLES.get(paper, {}).values():
            out += write(inp, out_dir)
    return out
