"""ACE figures: Fig. 2 Pass@k curves, Fig. 3 overconfidence over training, Fig. 4 early-training entropy.

* fig2 (§5.2): Pass@k against k on MATH-500 and AIME 2025 (protocol ``ace``), every method at its
  run's last evaluated step on that benchmark, seeds averaged, in %; the base model dashed. The paper
  introduces Fig. 2 with the Qwen2.5-Math-7B findings (first row); the rows below are the same plot
  for the other two models of Tables 1-2.
* fig3 (§5.3): the overconfident-error fraction (%) and the mean overconfidence magnitude of the
  incorrect rollouts against step, GRPO vs ACE-GRPO on the two Qwen models (footnote 1 omits Llama),
  from the ``confidence_shift`` of the ``diagnostics.json`` cells of protocol ``ace_analysis`` on
  ``HELDOUT`` (§5.3's "held-out set", read as §5.4's held-out DAPO-Math-17K prompts; 32 rollouts,
  every 25 steps; the shift against the initial policy). Seeds averaged.
* fig4 (§5.4): the average per-token policy entropy (Eq. 16) on held-out DAPO-Math-17K prompts over
  the first 20 steps, GRPO vs ACE-GRPO on the two Qwen models. Read from the held-out diagnostics
  pass: ``diagnostics.json`` cells of protocol ``ENTROPY_PROTOCOL`` on ``HELDOUT`` whose document carries
  ``{"token_entropy": {"mean": <Eq. 16 over the cell's responses>, ...}}`` at steps 0-20 (step 0 =
  the base model's cell ``base-{model}``, shared by both methods). Not the training batch's entropy:
  that is measured on the prompts being trained on (the paper measures held-out prompts).
"""

from __future__ import annotations

from .common import Drawn, diagnostic_curve, finish, new_figure, step_axis
from .inputs import FigureInputs

MODELS = ("qwen25_math_7b", "qwen3_8b_base", "llama31_8b_instruct")
ANALYSIS_MODELS = ("qwen25_math_7b", "qwen3_8b_base")  # footnote 1: Llama omitted from §5.3-5.4
METHODS = ("base", "grpo", "dapo", "ace_grpo", "ace_dapo")
PAIR = ("grpo", "ace_grpo")
BENCHMARKS = ("math500", "aime25")
HELDOUT = "dapo17k_heldout"        # the held-out DAPO-Math-17K prompts of §5.3-5.4 (config/datasets.yaml)
ENTROPY_PROTOCOL = "ace_entropy"   # the held-out DAPO entropy pass of §5.4 (steps <= 20)
ENTROPY_KEY = ("token_entropy", "mean")
ENTROPY_STEPS = 20


def fig2(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(len(MODELS), len(BENCHMARKS), "ACE Fig. 2: Pass@k (protocol ace, last checkpoint)")
    m = inp.metrics
    m = m[(m.protocol == "ace") & m.metric.str.fullmatch(r"pass@\d+") & (m.subset == "all")]
    m = m.assign(k=m.metric.str.slice(5).astype(int))
    m = m[m.step == m.groupby(["subject", "benchmark"]).step.transform("max")]
    for r, model in enumerate(MODELS):
        for c, bench in enumerate(BENCHMARKS):
            ax, panel = axes[r, c], f"{model}/{bench}"
            ax.set_title(f"{inp.model(model)} · {inp.labels.benchmarks.get(bench, bench)}", fontsize=9)
            cell = m[(m.model == model) & (m.benchmark == bench)]
            absent = []
            for method in METHODS:
                lines = cell[cell.method == method]
                if lines.empty:
                    absent.append((method, inp.method(method)))
                    continue
                curve = lines.groupby("k").value.mean() * 100.0
                drawn.curve(ax, panel, curve.index, curve.values, method=method, label=inp.method(method),
                            series="pass@k", source="metrics.json protocol ace, last step", model=model,
                            n_runs=max(1, lines.run_id.nunique()), style="--" if method == "base" else "-",
                            steps=False)
            if not cell.empty:
                ax.set_xscale("log", base=2)
                ks = sorted(cell.k.unique())
                ax.set_xticks(ks, [str(k) for k in ks])
            drawn.missing(ax, panel, absent, model=model, why="no ace metrics")
            ax.set_xlabel("k", fontsize=8)
            ax.set_ylabel("pass@k (%)", fontsize=8)
            finish(ax)
    return drawn


def _shift(key: str):
    return lambda doc: (doc.get("confidence_shift") or {}).get(key)


def fig3(inp: FigureInputs) -> Drawn:
    panels = (("oef", "overconfident error fraction (%)", 100.0),
              ("mean_overconfidence", "mean overconfidence magnitude", 1.0))
    drawn, axes = new_figure(len(ANALYSIS_MODELS), len(panels),
                             "ACE Fig. 3: overconfidence of incorrect rollouts (held-out DAPO-Math-17K prompts, "
                             "32 rollouts)")
    for r, model in enumerate(ANALYSIS_MODELS):
        for c, (key, ylabel, scale) in enumerate(panels):
            ax, panel = axes[r, c], f"{model}/{key}"
            step_axis(ax, ylabel, inp.model(model))
            absent = []
            for method in PAIR:
                curve, n = diagnostic_curve(inp.diagnostics, _shift(key), protocol="ace_analysis", model=model,
                                            method=method, benchmark=HELDOUT)
                if curve.empty:
                    absent.append((method, inp.method(method)))
                    continue
                drawn.curve(ax, panel, curve.index, curve.values * scale, method=method, label=inp.method(method),
                            series=key, source=f"diagnostics.json protocol ace_analysis ({HELDOUT})", model=model,
                            dataset="dapo17k", n_runs=n)
            drawn.missing(ax, panel, absent, model=model, why="experiment ace_analysis (protocol ace_analysis)")
            finish(ax)
    return drawn


def _token_entropy(doc):
    outer, inner = ENTROPY_KEY
    return (doc.get(outer) or {}).get(inner)


def fig4(inp: FigureInputs) -> Drawn:
    drawn, axes = new_figure(1, len(ANALYSIS_MODELS),
                             f"ACE Fig. 4: per-token policy entropy on held-out DAPO prompts, first {ENTROPY_STEPS} steps")
    source = f"diagnostics.json protocol {ENTROPY_PROTOCOL} ({HELDOUT}, {'.'.join(ENTROPY_KEY)})"
    for c, model in enumerate(ANALYSIS_MODELS):
        ax = axes[0, c]
        step_axis(ax, "token entropy (nats)", inp.model(model))
        absent = []
        for method in PAIR:
            curve, n = diagnostic_curve(inp.diagnostics, _token_entropy, protocol=ENTROPY_PROTOCOL, model=model,
                                        method=method, max_step=ENTROPY_STEPS, with_base=True, benchmark=HELDOUT)
            if curve.empty:
                absent.append((method, inp.method(method)))
                continue
            drawn.curve(ax, model, curve.index, curve.values, method=method, label=inp.method(method),
                        series="token entropy", source=source, model=model, dataset="dapo17k", n_runs=n)
        drawn.missing(ax, model, absent, model=model,
                      why=f"the held-out entropy pass: protocol {ENTROPY_PROTOCOL}, steps <= {ENTROPY_STEPS}")
        finish(ax)
    return drawn


FIGURES = {"fig2": fig2, "fig3": fig3, "fig4": fig4}
