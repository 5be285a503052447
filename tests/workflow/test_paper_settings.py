"""The shipped config resolves to the run matrix and the settings the papers' text states.

Everything goes through the project's real resolution code (rlvr_repro.config.load_config +
validate_config -> rlvr_repro.plan.Plan, rlvr_repro.evaluate.protocols.resolve), so a config edit that
changes a paper setting fails here with the setting named.
"""
from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rlvr_repro.config import load_config, validate_config
from rlvr_repro.evaluate.protocols import resolve, validate_protocol
from rlvr_repro.plan import run_id

REPO = Path(__file__).resolve().parents[2]
OPT_IN = ("asymgrpo_beta_grid", "asymgrpo_neg075")                 # train new runs: off by default
ANALYSIS = ("ace_analysis", "ace_entropy", "asymgrpo_appg")         # the figures' passes: on by default


@pytest.fixture(scope="module")
def plan():
    return validate_config(load_config())


@pytest.fixture(scope="module")
def plan_without_analysis():
    return validate_config({**load_config(), "analysis_passes": False})


def _plan_with(*extra):
    cfg = load_config()
    cfg["active_experiments"] = cfg["active_experiments"] + list(extra)
    return validate_config(cfg)


def test_default_matrix_run_counts(plan):
    # 12 ACE + 5 ACE ablation (grpo/ace_grpo shared) + 14 LENS + 16 EGPO + 6 EGPO ablation (egpo shared)
    # + 9 AsymGRPO + 4 backbones + 10 §3 analysis (Pos-/Neg-Only on Qwen3-4B shared with asymgrpo) + 2 entreg = 78
    first = collections.Counter(r.experiments[0] for r in plan.runs.values())
    assert dict(first) == {"ace": 12, "ace_ablation": 5, "lens": 8, "lens_numina": 4, "lens_ablation": 2,
                           "egpo": 16, "egpo_ablation": 6, "asymgrpo": 9, "asymgrpo_backbones": 4,
                           "asymgrpo_analysis": 10, "asymgrpo_entreg_1_5b": 1, "asymgrpo_entreg_qwen3": 1}
    assert len(plan.runs) == 78
    assert not set(OPT_IN) & set(plan.experiments)  # opt-in experiments are off by default
    assert set(ANALYSIS) <= set(plan.experiments)   # the figures' passes are on, and train nothing new


def test_analysis_passes_are_one_line_away(plan, plan_without_analysis):
    assert set(plan.runs) == set(plan_without_analysis.runs)
    assert set(plan.experiments) - set(plan_without_analysis.experiments) == set(ANALYSIS)
    # without them the runs save on their own papers' schedules
    r = plan_without_analysis.runs[run_id("qwen3_8b_base", "dapo17k", "grpo", 0)]
    assert r.train["save_freq"] == 20 and plan.runs[r.run_id].train["save_freq"] == 5
    # Neg-Only at 0.75 is drawn against the App. G curves: it refuses to run without them
    cfg = {**load_config(), "analysis_passes": False}
    cfg["active_experiments"] = cfg["active_experiments"] + ["asymgrpo_neg075"]
    with pytest.raises(ValueError, match="experiment 'asymgrpo_appg' must be active with 'asymgrpo_neg075'"):
        validate_config(cfg)


def test_lens_matrix_is_the_papers_14_runs(plan):
    lens = {rid: r for rid, r in plan.runs.items() if set(r.experiments) & {"lens", "lens_numina", "lens_ablation"}}
    models, methods = ("llama31_8b_instruct", "qwen25_3b"), ("grpo", "lens")
    expected = {run_id(m, "lens_math_dapo", x, s) for m in models for x in methods for s in (0, 1)}   # §6: 2 seeds
    expected |= {run_id(m, "lens_math_numina", x, 0) for m in models for x in methods}               # App. E: 1 run
    expected |= {run_id("llama31_8b_instruct", "lens_math_numina", x, 0)                              # App. D.2
                 for x in ("lens_mixed_only", "lens_negative_only")}
    assert set(lens) == expected and len(lens) == 14
    for rid, r in lens.items():
        t = r.train
        assert t["loss_agg_mode"] == "seq-mean-token-mean", rid          # eq. 3
        assert t["total_steps"] == 1500, rid                              # §6 / App. A: > 1,500 steps
        assert (t["prompts_per_step"], t["ppo_mini_batch_size"], t["group_size"]) == (128, 32, 16), rid
        assert (t["max_response_length"], t["use_kl_loss"], t["clip_ratio_low"], t["clip_ratio_high"]) == \
            (4096, False, 0.2, 0.2), rid
        assert t["lr"] == {"llama31_8b_instruct": 3e-7, "qwen25_3b": 1e-6}[r.model], rid
        assert plan.run_spec(rid)["method"]["params"].get("d_imp") in (None, "pibar"), rid


def test_ace_losses_kl_and_evaluation(plan):
    ace = [r for r in plan.runs.values() if set(r.experiments) & {"ace", "ace_ablation"}]
    assert len(ace) == 17
    for r in ace:
        dapo_like = r.method in ("dapo", "ace_dapo")
        # §5.1: GRPO / ACE-GRPO = standard GRPO (symmetric clip, KL 0.001); DAPO / ACE-DAPO token-level, no KL
        assert r.train["loss_agg_mode"] == ("token-mean" if dapo_like else "seq-mean-token-mean"), r.run_id
        assert r.train["use_kl_loss"] is (not dapo_like), r.run_id
        assert r.train["clip_ratio_high"] == (0.28 if dapo_like else 0.2), r.run_id
        assert r.train["kl_coef"] == 0.001
    protocol = plan.protocol("ace")
    assert all(resolve(protocol, b, "qwen_math")["n"] == 128 for b in protocol["benchmarks"])  # Table 5


def test_evaluation_length_is_each_models_training_length(plan):
    """Every paper protocol evaluates a model at the max response length it was trained with; in
    particular Qwen2.5-7B (qwen_math family, trained at 4,096) is no longer cut at the family's 2,560."""
    for cfg_plan in (plan, _plan_with(*OPT_IN)):
        for r in cfg_plan.runs.values():
            for exp in r.experiments:
                p = validate_protocol(cfg_plan.experiments[exp]["protocol"],
                                      cfg_plan.protocol(cfg_plan.experiments[exp]["protocol"]))
                for b in p["benchmarks"]:
                    got = resolve(p, b, cfg_plan.family(r.model), r.model)["max_tokens"]
                    assert got == r.train["max_response_length"], (r.run_id, p["name"], b)
    assert plan.runs[run_id("qwen25_7b", "math_train", "asymgrpo", 0)].train["max_response_length"] == 4096


def test_egpo_protocol_uses_evalscope_templates(plan):
    p = validate_protocol("egpo", plan.protocol("egpo"))
    assert {resolve(p, b, "r1_distill")["prompt_template"] for b in p["benchmarks"]} == {"evalscope"}
    for other in ("ace", "lens", "asymgrpo"):
        assert validate_protocol(other, plan.protocol(other))["prompt_template"] == "default"


@pytest.mark.parametrize("experiment, new_runs", [
    ("asymgrpo_beta_grid", {run_id("qwen3_4b", "math_train", m, 0) for m in
                            ("asym_p05_n03", "asym_p05_n04", "asym_p07_n03", "asym_p07_n04",
                             "asym_p07_n05", "asym_p09_n03", "asym_p09_n05")}),   # (0.5, 0.5): §3's flip reference
    ("asymgrpo_neg075", {run_id(m, "math_train", "asym_neg_only_b075", 0) for m in ("qwen25_math_1_5b", "qwen3_4b")}),
    ("asymgrpo_appg", set()),
    ("ace_analysis", set()),
    ("ace_entropy", set()),
])
def test_opt_in_experiment_is_one_line_away(plan_without_analysis, experiment, new_runs):
    plan = plan_without_analysis
    with_passes = experiment in ANALYSIS or experiment == "asymgrpo_neg075"  # neg075 requires asymgrpo_appg
    opted = validate_config({**load_config(), "analysis_passes": with_passes,
                             "active_experiments": load_config()["active_experiments"] + [experiment]})
    assert set(opted.runs) - set(plan.runs) == new_runs
    assert set(plan.runs) <= set(opted.runs)
    exp_runs = {rid for rid, r in opted.runs.items() if experiment in r.experiments}
    methods = {opted.runs[rid].method for rid in exp_runs}
    if experiment == "asymgrpo_beta_grid":
        grid = {(opted.config["methods"][m]["params"]["beta_pos"], opted.config["methods"][m]["params"]["beta_neg"])
                for m in methods}
        assert {(0.9, 0.4), (0.9, 0.5)} <= grid and len(grid) == 9
        assert opted.runs[run_id("qwen3_4b", "math_train", "asymgrpo", 0)].experiments == ["asymgrpo", experiment]
        assert opted.runs[run_id("qwen3_4b", "math_train", "asym_p05_n05", 0)].experiments == [
            "asymgrpo_analysis", experiment]
    if experiment == "asymgrpo_neg075":
        assert {(opted.config["methods"][m]["params"]["beta_pos"], opted.config["methods"][m]["params"]["beta_neg"])
                for m in methods} == {(0.0, 0.75)}
    if experiment in ("asymgrpo_neg075", "asymgrpo_appg"):
        assert opted.experiments[experiment]["protocol"] == "asymgrpo_appg"
        for rid in exp_runs:
            r = opted.runs[rid]
            assert opted.eval_steps(r, "asymgrpo_appg") == list(range(10, 301, 10)), rid   # App. G: every 10
            if "asymgrpo" in {opted.experiments[e]["protocol"] for e in r.experiments}:
                assert opted.eval_steps(r, "asymgrpo") == [50, 100, 150, 200, 250, 300], rid
    if experiment == "ace_analysis":  # ACE §5.3: GRPO vs ACE-GRPO on the two Qwen models, every 25 steps, 32 rollouts
        assert {(opted.runs[r].model, opted.runs[r].method) for r in exp_runs} == {
            (m, x) for m in ("qwen25_math_7b", "qwen3_8b_base") for x in ("grpo", "ace_grpo")}
        assert opted.protocol("ace_analysis")["n"] == 32
        for rid in exp_runs:
            r = opted.runs[rid]
            total = r.train["total_steps"]
            every25 = list(range(25, total + 1, 25))
            assert opted.eval_steps(r, "ace_analysis") == every25 + ([total] if every25[-1] != total else [])
            assert opted.eval_steps(r, "ace") == plan.eval_steps(plan.runs[rid], "ace")  # ACE's own schedule kept
            assert len([t for t in opted.diagnostics_targets("ace_analysis") if f"/{rid}/" in t]) == len(
                opted.eval_steps(r, "ace_analysis"))  # OEF at every evaluated step
    if experiment == "ace_entropy":  # ACE §5.4: held-out DAPO prompts, the first 20 steps, the policy's entropy
        assert {(opted.runs[r].model, opted.runs[r].method) for r in exp_runs} == {
            (m, x) for m in ("qwen25_math_7b", "qwen3_8b_base") for x in ("grpo", "ace_grpo")}
        p = opted.protocol("ace_entropy")
        assert p["benchmarks"] == ["dapo17k_heldout"] and p["token_entropy"] and p["eval_until"] == 20
        assert opted.config["benchmarks"]["dapo17k_heldout"]["heldout_of"] == "dapo17k"
        assert opted.config["datasets"]["dapo17k"]["params"]["val_holdout"]  # really held out of training
        for rid in exp_runs:
            r = opted.runs[rid]
            assert opted.eval_steps(r, "ace_entropy") == [5, 10, 15, 20], rid
            assert opted.eval_steps(r, "ace") == plan.eval_steps(plan.runs[rid], "ace")  # ACE's own schedule kept
            assert sorted(t for t in opted.diagnostics_targets("ace_entropy") if f"/{rid}/" in t) == sorted(
                f"results/eval/ace_entropy/{rid}/step_{s}/dapo17k_heldout/diagnostics.json" for s in (5, 10, 15, 20))
        for m in ("qwen25_math_7b", "qwen3_8b_base"):  # step 0: the base model, measured the same way
            assert f"results/eval/ace_entropy/base-{m}/step_0/dapo17k_heldout/diagnostics.json" in \
                opted.diagnostics_targets("ace_entropy")
    if experiment == "asymgrpo_appg":  # every §3 run of Fig. 2 / Fig. 3, including entropy regularisation
        assert len(exp_runs) == 14
        assert {"asym_reinforce_entreg", "asym_reinforce_entreg_qwen3", "asym_ent_decrease"} <= methods
        # Fig. 3's GRPO is the closed form (0.5, 0.5) (l. 136-139), not the `grpo` preset (Table 2's runs)
        assert "asym_p05_n05" in methods and "grpo" not in methods


def test_flip_test_reference_is_grpo_in_closed_form(plan):
    """AsymGRPO §3.2 (l. 136-139) flips GRPO's (0.5, 0.5) point of Eq. 5: Fig. 3 compares against that run,
    trained with the other §3 runs on both models and evaluated under App. G's protocol."""
    for model in ("qwen25_math_1_5b", "qwen3_4b"):
        ref = plan.runs[run_id(model, "math_train", "asym_p05_n05", 0)]
        flip = plan.runs[run_id(model, "math_train", "asym_ent_decrease", 0)]
        assert ref.experiments == ["asymgrpo_analysis", "asymgrpo_appg"]
        assert plan.config["methods"]["asym_p05_n05"] == {**plan.config["methods"]["asym_p05_n05"],
                                                           "estimator": "asymgrpo",
                                                           "params": {"beta_pos": 0.5, "beta_neg": 0.5}}
        assert ref.train == flip.train  # same §3 training setup as the flipped runs
        assert "asymgrpo_appg" not in plan.runs[run_id(model, "math_train", "grpo", 0)].experiments


def test_asymgrpo_appg_protocol_is_greedy_with_ema(plan):
    p = validate_protocol("asymgrpo_appg", plan.protocol("asymgrpo_appg"))
    assert all(resolve(p, b, "qwen3")["temperature"] == 0.0 and resolve(p, b, "qwen3")["n"] == 1
               for b in p["benchmarks"])
    assert (p["eval_every"], p["curve_ema"]) == (10, 0.7)


def test_decontamination_set_does_not_depend_on_active_experiments():
    full = validate_config(load_config())
    sets = {d: full.decontamination_set(d) for d in full.config["datasets"]}
    assert sets["lens_math_dapo"] == ["math"] and sets["dapo17k"] == ["math500", "aime25"]
    for active in (["lens"], ["asymgrpo"], ["egpo", "lens", "ace"], ["asymgrpo", *OPT_IN, "asymgrpo_appg"]):
        cfg = load_config()
        cfg["active_experiments"] = active
        plan = validate_config(cfg)
        assert {d: plan.decontamination_set(d) for d in cfg["datasets"]} == sets, active


def test_dataset_builder_uses_only_its_reference_set(tmp_path):
    """build_dataset reads exactly decontaminate_against, whatever benchmark files it is handed."""
    from rlvr_repro.data.build import build_benchmark, build_dataset, write_local_fixtures

    fx = write_local_fixtures(tmp_path / "fx", seed=0, math_train=40, math500=10, gsm8k=10, mmlu_stem=10)
    bench = {}
    for name in ("math500", "gsm8k"):
        bench[name] = tmp_path / f"{name}.jsonl"
        build_benchmark(name, {"source": {"path": str(fx[name])}}, bench[name], progress=False)
    spec = {"builder": "math_train", "sources": {"math": {"path": str(fx["math_train"])}},
            "params": {"val_size": 4}, "decontaminate_against": ["math500"]}
    m = build_dataset("mt", spec, tmp_path / "out", decontam=bench, progress=False)
    assert sorted(m["notes"]["decontamination_sets"]) == ["math500"]
    from rlvr_repro.data.errors import DataError
    with pytest.raises(DataError, match=r"decontaminate_against lists \['aime24'\]"):
        build_dataset("mt", {**spec, "decontaminate_against": ["aime24"]}, tmp_path / "o2", decontam=bench,
                      progress=False)


def test_snakemake_plans_the_opt_in_experiments_and_the_datasets_own_references(tmp_path):
    """`snakemake -n` with every opt-in experiment switched on plans their evaluation under the App. G
    protocol; the LENS mix's build job takes only the MATH test set as reference, even with EGPO active."""
    extra = tmp_path / "optin.yaml"
    extra.write_text(yaml.safe_dump({"active_experiments": ["lens", "egpo", *OPT_IN, "asymgrpo_appg"]}))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "all", "--configfile", str(extra)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "rule generate_asymgrpo_appg:" in out
    references = {}
    for job in out.split("rule build_dataset:")[1:]:
        body = []
        for line in job.splitlines()[1:]:
            if not line.startswith("    "):
                break
            body.append(line.strip().split(": ", 1))
        lines = dict(kv for kv in body if len(kv) == 2)
        dataset = lines["wildcards"].split("dataset=")[1]
        references[dataset] = [i for i in lines["input"].split(", ") if i.startswith("results/benchmarks/")]
    assert references["lens_math_dapo"] == ["results/benchmarks/math.jsonl"]
    plan = validate_config(load_config())
    assert references == {d: [f"results/benchmarks/{b}.jsonl" for b in plan.decontamination_set(d)]
                          for d in references}


def test_lens_dapo_component_is_every_unique_prompt(plan):
    """LENS App. D.1's "random subset of 17,500 samples from DAPO" exceeds DAPO's ~17.4k unique prompts:
    the mix takes all of them (size null), and says so in its description."""
    spec = plan.config["datasets"]["lens_math_dapo"]
    assert spec["params"]["components"] == {"math": {"kind": "math_train"}, "dapo": {"kind": "dapo", "size": None}}
    assert "every unique DAPO-Math-17k prompt" in spec["description"]


def test_egpo_settings_are_the_authors_where_the_text_lost_them(plan):
    """EGPO §4.1 / A.2 values lost from the text, from the authors' configs (Zzzzyear/test_verl@4656be8)."""
    egpo = {rid: r for rid, r in plan.runs.items() if set(r.experiments) & {"egpo", "egpo_ablation"}}
    assert len(egpo) == 22
    for rid, r in egpo.items():
        t = r.train
        assert (t["group_size"], t["prompts_per_step"], t["ppo_mini_batch_size"], t["lr"], t["total_steps"]) == \
            (16, 64, 64, 1e-6, 770), rid
        if r.method == "dapo":  # "follow the default configuration in verl": no overlong shaping
            assert t["overlong_buffer_len"] == 0 and t["dynamic_sampling"] and t["clip_ratio_high"] == 0.28, rid
    for m in ("qwen25_math_7b", "qwen3_8b_base", "llama31_8b_instruct"):  # ACE's DAPO keeps it
        assert plan.runs[run_id(m, "dapo17k", "dapo", 0)].train["overlong_buffer_len"] == 512
    methods = plan.config["methods"]
    assert (methods["egpo"]["params"]["w_min"], methods["egpo"]["params"]["w_max"]) == (0.8, 2.0)
    assert methods["egpo_no_nsr"]["params"]["nsr"] is False and "egpo_no_nsr" not in {r.method for r in plan.runs.values()}
    data = plan.config["datasets"]["openr1_stable10k"]["params"]
    assert (data["max_problem_tokens"], data["final_prompt_max_tokens"], data["max_response_tokens"]) == (4096, 1024, 4096)
    assert (data["min_generations"], data["response_length_rule"]) == (2, "solution_first")


def test_lens_step_is_a_verl_step_of_128_prompts(plan):
    """LENS App. D.1: a gradient update = 32 questions x 16; a verl training step = 128 questions = 4 updates."""
    lens = plan.config["experiments"]["lens"]["train"]
    assert (lens["prompts_per_step"], lens["ppo_mini_batch_size"], lens["group_size"], lens["total_steps"]) == \
        (128, 32, 16, 1500)
