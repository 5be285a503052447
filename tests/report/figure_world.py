"""Synthetic inputs for the golden figure tests (tests/report/test_figures.py): every figure's series,
several evaluated steps, several seeds, both backends' log names, with values chosen so each plotted
number can be worked out by hand. The formulas below are the ones the tests' hand-worked numbers
come from; each test states its arithmetic.

Values (p = a fraction; steps and seeds as listed):
* ACE pass@k, model index mi (qwen25_math_7b 0, qwen3_8b_base 1, llama 2), benchmark index bi (math500 0,
  aime25 1), method index i (grpo 0, dapo 1, ace_grpo 2, ace_dapo 3):
  base = 0.10 + 0.01 k + 0.10 mi + 0.05 bi; run = base + (0.02 at step 80 | 0.10 at step 160) + 0.01 i + 0.02 seed.
* ACE ace_analysis (dapo17k_heldout, steps 25/50/75, seeds 0/1): oef = 0.20 + 0.002 step + 0.02 seed + 0.05 mi - 0.10 [ace_grpo];
  mean_overconfidence = 0.05 + 0.001 step + 0.01 seed - 0.02 [ace_grpo].
* ACE ace_entropy (dapo17k_heldout, steps 5..25 by 5, seeds 0/1; base at step 0 = 1.0 + 0.1 mi): token_entropy.mean
  = grpo H0 - 0.03 step + 0.01 seed, ace_grpo H0 - 0.01 step + 0.01 seed (sample_mean = mean + 0.5). Training logs
  carry a different `entropy` (the training batch). Decoy cells of both protocols on math500 (oef 0.9, entropy 9.0)
  must not be read: the figures read the held-out prompts.
* LENS metrics (math, steps 100/200/300; model index 0 llama, 1 qwen25_3b): all = 0.30 + 0.0005 step + 0.01 seed
  + 0.05 [lens] + 0.10 mi + 0.03 [numina]; level4-5 = all - 0.15; base all = 0.20 + 0.1 mi, level4-5 = all / 2.
* Training logs (steps 1..40): frac_none_solved = 0.50 - 0.001 step + 0.01 seed + 0.05 [numina] + 0.02 mi;
  frac_all_solved = 0.01 step; entropy = 2.0 - 0.01 step + 0.1 j + 0.01 seed (j: the run's index in its list);
  entropy_proxy (local runs only) = 9.0; reward_mean = 0.02 step + 0.01 j; diag/logprob_gain_correct = 0.001 step + 0.01 j;
  diag/asym_kappa = 0.001 (1 + step % 3) + 0.0001 seed for steps <= 20, 0.05 after.
* AsymGRPO avg accuracy (mean over the five benchmarks; per-benchmark offsets 0, +0.02, -0.02, +0.04, -0.04 sum
  to 0): asymgrpo_appg (steps 10/20/30, base 0.20) = 0.20 + 0.003 step + 0.01 j + 0.02 seed; asymgrpo (steps
  50/100, base 0.30) = 0.30 + 0.001 step + 0.01 j + 0.02 seed (drgrpo on Qwen3-4B evaluated at step 100 only;
  Pos-Only on Qwen3-4B has a step 40 with two App. G benchmarks of five, 0.9 each: not yet a curve point).
* EGPO samples: see _egpo_cells / _think_cells.
"""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from rlvr_repro.config import CONFIG_DIR, load_config
from rlvr_repro.report.figures import FigureInputs
from rlvr_repro.report.specs import parse_report_config
from report.fixtures import metrics_record, write_metrics

ACE_MODELS = ("qwen25_math_7b", "qwen3_8b_base", "llama31_8b_instruct")
ACE_METHODS = ("grpo", "dapo", "ace_grpo", "ace_dapo")
KS = (1, 2, 4, 8, 16, 32)
LENS_MODELS = ("llama31_8b_instruct", "qwen25_3b")
ASYM_BENCH = ("math500", "olympiadbench", "aime24", "aime25", "amc23")
BENCH_OFFSET = (0.0, 0.02, -0.02, 0.04, -0.04)
ASYM_RUNS = {  # model -> [(method, seeds)], j = index in the list
    "qwen25_math_1_5b": [("asym_reinforce", (0,)), ("asym_reinforce_entreg", (0,)), ("asym_pos_only", (0, 1)),
                         ("asym_neg_only", (0,)), ("asym_neg_only_b075", (0,)), ("asym_p05_n05", (0,)),
                         ("asym_ent_decrease", (0,)), ("asym_ent_increase", (0,)), ("grpo", (0,))],
    "qwen3_4b": [("asym_reinforce", (0,)), ("asym_reinforce_entreg_qwen3", (0,)), ("asym_pos_only", (0, 1)),
                 ("asym_neg_only", (0,)), ("asym_p05_n05", (0,)), ("asym_ent_decrease", (0,)),
                 ("asym_ent_increase", (0,)), ("grpo", (0, 1)), ("reinforce", (0, 1)), ("grpo_entreg", (0,)),
                 ("grpo_clip_higher", (0,)), ("drgrpo", (0,)), ("asymgrpo", (0,)), ("asym_p05_n03", (0,)),
                 ("asym_p09_n05", (0,))],
    "qwen25_7b": [("grpo", (0,)), ("asymgrpo", (0,))],
}
EGPO_MODELS = ("qwen25_math_1_5b", "qwen25_math_7b", "r1_distill_qwen_1_5b", "r1_distill_qwen_7b")
EGPO_METHODS = ("grpo", "dapo", "edge_grpo", "egpo")


class World:
    def __init__(self, root: Path):
        self.ev, self.runs = root / "eval", root / "runs"
        self.metrics, self.logs, self.diags = [], {}, []
        self._verl = False

    def metric(self, protocol, subject, step, bench, **kw):
        self.metrics.append(write_metrics(self.ev, metrics_record(protocol, subject, step, bench, **kw)))

    def diag(self, protocol, subject, step, bench, doc):
        path = self.ev / protocol / subject / f"step_{step}" / bench / "diagnostics.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
        self.diags.append(path)

    def log(self, run, *, j=0, seed=0, mi=0, numina=False, steps=40):
        """A training log, alternating verl's and the local trainer's key names run by run."""
        self._verl = not self._verl
        path = self.runs / run / "train_log.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for step in range(1, steps + 1):
            none = 0.50 - 0.001 * step + 0.01 * seed + 0.05 * numina + 0.02 * mi
            rec = {"step": step, "reward_mean": 0.02 * step + 0.01 * j, "response_length_mean": 100.0 + step,
                   "entropy": 2.0 - 0.01 * step + 0.1 * j + 0.01 * seed,
                   "diag/logprob_gain_correct": 0.001 * step + 0.01 * j,
                   "diag/asym_kappa": 0.001 * (1 + step % 3) + 0.0001 * seed if step <= 20 else 0.05}
            if self._verl:
                rec.update({"diag/frac_none_solved": none, "diag/frac_all_solved": 0.01 * step,
                            "verl/response_length/clip_ratio": 0.05})
            else:
                rec.update({"frac_all_incorrect": none, "frac_all_correct": 0.01 * step, "truncated_frac": 0.05,
                            "entropy_proxy": 9.0})
            lines.append(json.dumps(rec))
        path.write_text("\n".join(lines) + "\n")
        self.logs[run] = path


def token_entropy(mean: float) -> dict:
    """A diagnostics.json ``token_entropy`` block (evaluate.confidence.token_entropy) whose token-weighted
    ``mean`` is ``mean``; its per-sample mean differs (+0.5), so a figure reading the wrong one shows."""
    return {"mean": mean, "sample_mean": mean + 0.5, "n_tokens": 1000, "n_samples": 1024, "n_missing": 0}


def _ace(w: World):
    for mi, model in enumerate(ACE_MODELS):
        for bi, bench in enumerate(("math500", "aime25")):
            base = {k: 0.10 + 0.01 * k + 0.10 * mi + 0.05 * bi for k in KS}
            w.metric("ace", f"base-{model}", 0, bench, n=128, pass_at_k=base)
            for i, method in enumerate(ACE_METHODS):
                for seed in (0, 1):
                    for step, gain in ((80, 0.02), (160, 0.10)):
                        w.metric("ace", f"{model}-dapo17k-{method}-s{seed}", step, bench, n=128,
                                 pass_at_k={k: v + gain + 0.01 * i + 0.02 * seed for k, v in base.items()})
        w.diag("ace_entropy", f"base-{model}", 0, "dapo17k_heldout", {"token_entropy": token_entropy(1.0 + 0.1 * mi)})
        for i, method in enumerate(ACE_METHODS):
            for seed in (0, 1):
                run = f"{model}-dapo17k-{method}-s{seed}"
                w.log(run, j=i, seed=seed)
                if method not in ("grpo", "ace_grpo"):
                    continue
                ace = method == "ace_grpo"
                for step in (25, 50, 75):
                    shift = {"oef": 0.20 + 0.002 * step + 0.02 * seed + 0.05 * mi - 0.10 * ace,
                             "mean_overconfidence": 0.05 + 0.001 * step + 0.01 * seed - 0.02 * ace}
                    w.diag("ace_analysis", run, step, "dapo17k_heldout", {"confidence_shift": shift})
                # decoys: the same protocols on another benchmark, which Figs. 3-4 must not read
                w.diag("ace_analysis", run, 50, "math500", {"confidence_shift": {"oef": 0.9, "mean_overconfidence": 0.9}})
                w.diag("ace_entropy", run, 10, "math500", {"token_entropy": token_entropy(9.0)})
                for step in (5, 10, 15, 20, 25):
                    h = 1.0 + 0.1 * mi - (0.01 if ace else 0.03) * step + 0.01 * seed
                    w.diag("ace_entropy", run, step, "dapo17k_heldout", {"token_entropy": token_entropy(h)})


def _lens(w: World):
    for mi, model in enumerate(LENS_MODELS):
        base = 0.20 + 0.1 * mi
        w.metric("lens", f"base-{model}", 0, "math", n=16, pass_at_k={1: base},
                 subsets={"level4-5": {"n_problems": 5, "pass_at_k": {"1": base / 2}, "avg_at_n": base / 2}})
        for dataset, seeds in (("lens_math_dapo", (0, 1)), ("lens_math_numina", (0,))):
            numina = dataset == "lens_math_numina"
            for j, method in enumerate(("grpo", "lens")):
                for seed in seeds:
                    run = f"{model}-{dataset}-{method}-s{seed}"
                    w.log(run, j=j, seed=seed, mi=mi, numina=numina)
                    for step in (100, 200, 300):
                        p = 0.30 + 0.0005 * step + 0.01 * seed + 0.05 * (method == "lens") + 0.10 * mi + 0.03 * numina
                        sub = {"level4-5": {"n_problems": 5, "pass_at_k": {"1": p - 0.15}, "avg_at_n": p - 0.15}}
                        w.metric("lens", run, step, "math", n=16, pass_at_k={1: p}, subsets=sub)


def _asym(w: World):
    for model, runs in ASYM_RUNS.items():
        for b, bench in enumerate(ASYM_BENCH):
            w.metric("asymgrpo", f"base-{model}", 0, bench, pass_at_k={1: 0.30 + BENCH_OFFSET[b]})
            w.metric("asymgrpo_appg", f"base-{model}", 0, bench, n=1, pass_at_k={1: 0.20 + BENCH_OFFSET[b]})
        for j, (method, seeds) in enumerate(runs):
            for seed in seeds:
                run = f"{model}-math_train-{method}-s{seed}"
                w.log(run, j=j, seed=seed)
                for b, bench in enumerate(ASYM_BENCH):
                    steps = (100,) if (model, method) == ("qwen3_4b", "drgrpo") else (50, 100)
                    for step in steps:
                        p = 0.30 + 0.001 * step + 0.01 * j + 0.02 * seed + BENCH_OFFSET[b]
                        w.metric("asymgrpo", run, step, bench, pass_at_k={1: p})
                    if model != "qwen25_7b":
                        for step in (10, 20, 30):
                            p = 0.20 + 0.003 * step + 0.01 * j + 0.02 * seed + BENCH_OFFSET[b]
                            w.metric("asymgrpo_appg", run, step, bench, n=1, pass_at_k={1: p})
                if model == "qwen3_4b" and method == "asym_pos_only":  # a checkpoint still being evaluated:
                    for bench in ASYM_BENCH[:2]:                        # two benchmarks of five at step 40
                        w.metric("asymgrpo_appg", run, 40, bench, n=1, pass_at_k={1: 0.9})


def egpo_cell(correct_value: float, incorrect_value: float) -> dict:
    """16 samples (two problems of 8): 6 correct (value ``correct_value``), 10 incorrect."""
    correct = ([True] * 3 + [False] * 5) * 2
    return {"samples": {"problem": ["0"] * 8 + ["1"] * 8, "correct": correct, "mean_nll": [correct_value if c else incorrect_value for c in correct],
                        "nll_think": [None] * 16, "nll_answer": [None] * 16, "n_answer_tokens": [None] * 16}}


# The base R1-Distill sample (Table 3, Figs. 5-9, A.4 (ii)): per model two cells (math500, gsm8k) of two
# problems x 8 rollouts; 16 correct rollouts at (TE, AE) = (0.3, 0.3), answer length 100; 14 incorrect
# with a split at the (TE, AE) pairs below, answer length 200; 2 incorrect without </think>.
THINK_INCORRECT = {
    "r1_distill_qwen_7b": [(0.5, 0.5)] * 10 + [(0.2, 0.5)] * 2 + [(0.2, 0.1)] * 2,
    "r1_distill_qwen_1_5b": [(0.5, 0.5)] * 7 + [(0.2, 0.5)] * 6 + [(0.2, 0.1)] * 1,
}


def _think_cells(model: str) -> list[dict]:
    incorrect = list(THINK_INCORRECT[model]) + [(None, None)] * 2
    cells = []
    for _ in range(2):
        problem, correct, think, answer, length = [], [], [], [], []
        for pid in range(2):
            for r in range(8):
                ok = r < 4
                problem.append(str(pid))
                te, ae = (0.3, 0.3) if ok else incorrect.pop(0)
                correct.append(ok)
                think.append(te)
                answer.append(ae)
                length.append(None if te is None else (100 if ok else 200))
        cells.append({"samples": {"problem": problem, "correct": correct, "mean_nll": [0.4] * 16, "nll_think": think,
                                  "nll_answer": answer, "n_answer_tokens": length}})
    return cells


def _egpo(w: World):
    for mi, model in enumerate(EGPO_MODELS):
        think = model.startswith("r1")
        cells = _think_cells(model) if think else [egpo_cell(0.5, 0.4)] * 2
        for bench, doc in zip(("math500", "gsm8k"), cells):
            if think:  # the base panel of Fig. 3 then reads mean_nll 0.4 for every sample
                doc["samples"]["mean_nll"] = [0.5 if c else 0.4 for c in doc["samples"]["correct"]]
            w.diag("egpo", f"base-{model}", 0, bench, doc)
        for i, method in enumerate(EGPO_METHODS):
            for seed in (0, 1):
                for step, late in ((385, 0.0), (770, 1.0)):
                    c = 0.20 + 0.01 * i + 0.02 * seed + 0.1 * mi - 0.05 * late
                    inc = 0.60 + 0.02 * i + 0.02 * seed + 0.1 * mi + 0.05 * late
                    for bench in ("math500", "gsm8k"):
                        w.diag("egpo", f"{model}-openr1_stable10k-{method}-s{seed}", step, bench, egpo_cell(c, inc))


def build(root: Path) -> FigureInputs:
    w = World(root)
    _ace(w)
    _lens(w)
    _asym(w)
    _egpo(w)
    cfg = load_config()
    numbers = yaml.safe_load((CONFIG_DIR / "paper_numbers.yaml").read_text())
    report = parse_report_config([], numbers["labels"], None, numbers["reference_values"])
    return FigureInputs.read(w.metrics, w.logs, w.diags, protocols=cfg["protocols"], methods=cfg["methods"],
                             labels=report.labels, references=report.reference_values)
