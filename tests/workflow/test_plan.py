"""The run matrix: run ids, merged training settings, checkpoint schedules, evaluation cells."""
import pytest

from rlvr_repro.plan import ConfigError, Plan, checkpoint_steps, run_id


def small_config(**over):
    cfg = {
        "active_experiments": ["a"],
        "models": {"m1": {"path": "/x", "family": "generic"}, "m2": {"path": "/y", "family": "qwen_math"}},
        "datasets": {"d": {"decontaminate_against": ["b1", "b2"]}},
        "benchmarks": {"b1": {}, "b2": {}},
        "methods": {"grpo": {"estimator": "grpo", "params": {}},
                    "dapo": {"estimator": "grpo", "params": {}, "train": {"clip_ratio_high": 0.28}}},
        "protocols": {"p": {"benchmarks": ["b1", "b2"]}},
        "train": {"backend": "local", "total_steps": 10, "save_freq": 4, "clip_ratio_high": 0.2, "lr": 1e-6},
        "eval": {"steps": "all"},
        "experiments": {"a": {"models": ["m1", "m2"], "datasets": ["d"], "methods": ["grpo", "dapo"],
                              "seeds": [0, 1], "protocol": "p",
                              "train": {"lr": 2e-6}, "train_per_model": {"m2": {"lr": 3e-6}}}},
    }
    cfg.update(over)
    return cfg


def test_checkpoint_steps_follow_verl_rule():
    # every save_freq steps, plus the last step when it is not a multiple
    assert checkpoint_steps({"total_steps": 10, "save_freq": 4}) == [4, 8, 10]
    assert checkpoint_steps({"total_steps": 8, "save_freq": 4}) == [4, 8]
    assert checkpoint_steps({"total_steps": 3, "save_freq": 5}) == [3]
    with pytest.raises(ConfigError):
        checkpoint_steps({"total_steps": 0, "save_freq": 1})


def test_matrix_and_priority_of_training_settings():
    plan = Plan(small_config())
    assert len(plan.runs) == 2 * 1 * 2 * 2
    r = plan.runs[run_id("m2", "d", "dapo", 1)]
    # defaults < experiment < per-model < method preset
    assert r.train["lr"] == 3e-6 and r.train["clip_ratio_high"] == 0.28
    assert plan.runs[run_id("m1", "d", "grpo", 0)].train["lr"] == 2e-6
    assert "/" not in r.run_id and r.run_id == "m2-d-dapo-s1"


def test_eval_cells_include_base_model_once_per_model():
    plan = Plan(small_config())
    targets = plan.metrics_targets()
    base = [t for t in targets if "/base-" in t]
    assert sorted(base) == sorted(f"results/eval/p/base-{m}/step_0/{b}/metrics.json"
                                  for m in ("m1", "m2") for b in ("b1", "b2"))
    # 8 runs x 3 checkpoints x 2 benchmarks + 2 base models x 2 benchmarks
    assert len(targets) == 8 * 3 * 2 + 4
    # one score.json per checkpoint (the report rules' inputs): 8 runs x 3 checkpoints + 2 base models
    scores = plan.score_targets()
    assert len(scores) == len(set(scores)) == 8 * 3 + 2
    assert "results/eval/p/base-m1/step_0/score.json" in scores
    assert "results/eval/p/m1-d-grpo-s0/step_10/score.json" in scores


def test_eval_steps_last_and_explicit():
    cfg = small_config(eval={"steps": "last"})
    plan = Plan(cfg)
    assert plan.eval_steps(next(iter(plan.runs.values()))) == [10]
    cfg["eval"] = {"steps": [5]}
    with pytest.raises(ConfigError, match="not checkpoint steps"):
        Plan(cfg).eval_steps(next(iter(Plan(cfg).runs.values())))


def test_family_specific_training_files():
    plan = Plan(small_config())
    spec = plan.run_spec(run_id("m2", "d", "grpo", 0))
    assert spec["dataset"]["train_files"] == "results/data/d/qwen_math/train.parquet"
    spec = plan.run_spec(run_id("m1", "d", "grpo", 0))
    assert spec["dataset"]["train_files"] == "results/data/d/train.parquet"
    assert plan.dataset_families() == [("d", "qwen_math")]


@pytest.mark.parametrize("mutate, message", [
    (lambda c: c["experiments"]["a"]["models"].append("nope"), "experiments.a.models: unknown model 'nope'"),
    (lambda c: c["experiments"]["a"]["methods"].append("nope"), "unknown method preset 'nope'"),
    (lambda c: c.update(active_experiments=["zzz"]), "active_experiments: unknown experiment 'zzz'"),
    (lambda c: c["protocols"]["p"]["benchmarks"].append("b9"), "unknown benchmark 'b9'"),
    (lambda c: c["experiments"]["a"]["train_per_model"].update(m9={}), "train_per_model.m9"),
    (lambda c: c["models"].update({"Bad-Name": {"path": "/z"}}) or c["experiments"]["a"]["models"].append("Bad-Name"),
     "must match"),
])
def test_bad_references_name_the_key(mutate, message):
    cfg = small_config()
    mutate(cfg)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        Plan(cfg)


def test_shared_run_trained_once_but_conflicts_are_reported():
    cfg = small_config(active_experiments=["a", "b"])
    cfg["experiments"]["b"] = dict(cfg["experiments"]["a"], seeds=[0])
    plan = Plan(cfg)
    assert plan.runs[run_id("m1", "d", "grpo", 0)].experiments == ["a", "b"]
    cfg["experiments"]["b"] = dict(cfg["experiments"]["a"], seeds=[0], train={"lr": 9e-6})
    with pytest.raises(ConfigError, match="different training settings \\(lr\\)"):
        Plan(cfg)


def test_methods_by_model_replaces_the_method_list_per_model():
    cfg = small_config()
    cfg["experiments"]["a"]["methods_by_model"] = {"m2": ["dapo"]}
    plan = Plan(cfg)
    assert sorted(plan.runs) == ["m1-d-dapo-s0", "m1-d-dapo-s1", "m1-d-grpo-s0", "m1-d-grpo-s1",
                                 "m2-d-dapo-s0", "m2-d-dapo-s1"]
    cfg["experiments"]["a"]["methods_by_model"] = {"m9": ["dapo"]}
    with pytest.raises(ConfigError, match="methods_by_model.m9: not one of this experiment's models"):
        Plan(cfg)
    cfg["experiments"]["a"]["methods_by_model"] = {"m2": ["nope"]}
    with pytest.raises(ConfigError, match="unknown method preset 'nope'"):
        Plan(cfg)


def test_save_freq_merges_by_gcd_and_each_protocol_evaluates_its_own_schedule():
    cfg = small_config(active_experiments=["a", "b"])
    cfg["train"].update(total_steps=12, save_freq=6)
    cfg["protocols"]["q"] = {"benchmarks": ["b1"]}
    cfg["experiments"]["b"] = dict(cfg["experiments"]["a"], seeds=[0], protocol="q", train={"lr": 2e-6, "save_freq": 4})
    plan = Plan(cfg)
    run = plan.runs[run_id("m1", "d", "grpo", 0)]
    assert run.experiments == ["a", "b"] and run.train["save_freq"] == 2    # gcd(6, 4): both schedules exist
    assert run.steps == [2, 4, 6, 8, 10, 12]
    assert plan.eval_steps(run, "p") == [6, 12] and plan.eval_steps(run, "q") == [4, 8, 12]
    assert plan.runs[run_id("m1", "d", "grpo", 1)].train["save_freq"] == 6  # only experiment a asks for it
    cells = {(p, st) for p, subj, st, _ in plan.eval_cells() if subj == run.run_id}
    assert cells == {("p", 6), ("p", 12), ("q", 4), ("q", 8), ("q", 12)}


def test_protocol_eval_every_needs_matching_checkpoints():
    cfg = small_config()
    cfg["train"].update(total_steps=12, save_freq=3)
    cfg["protocols"]["p"]["eval_every"] = 6
    plan = Plan(cfg)
    assert plan.eval_steps(next(iter(plan.runs.values())), "p") == [6, 12]
    cfg["protocols"]["p"]["eval_every"] = 4
    with pytest.raises(ConfigError, match=r"protocols.p.eval_every: 4 needs checkpoints at \[4, 8\]"):
        Plan(cfg)


def test_every_evaluated_benchmark_must_be_in_the_datasets_reference_set():
    cfg = small_config()
    assert Plan(cfg).decontamination_set("d") == ["b1", "b2"]
    cfg["datasets"]["d"] = {"decontaminate_against": ["b1"]}
    with pytest.raises(ConfigError, match=r"datasets.d.decontaminate_against: run m1-d-grpo-s0 .* evaluated on \['b2'\]"):
        Plan(cfg)
    cfg["datasets"]["d"] = {"decontaminate_against": ["b1"], "params": {"decontaminate": "off"}}
    Plan(cfg)  # nothing is removed, nothing to cover
    cfg["datasets"]["d"] = {"decontaminate_against": ["b1", "b7"]}
    with pytest.raises(ConfigError, match="decontaminate_against: unknown benchmark 'b7'"):
        Plan(cfg)


def test_train_per_method_wins_over_the_preset_in_its_experiment_only():
    cfg = small_config(active_experiments=["a", "b"])
    cfg["experiments"]["a"]["train_per_method"] = {"dapo": {"clip_ratio_high": 0.25}}
    cfg["experiments"]["b"] = dict(cfg["experiments"]["a"], models=["m1"], seeds=[7], train_per_model={},
                                   train_per_method={})
    plan = Plan(cfg)
    # defaults < experiment < per-model < preset (0.28) < experiment's per-method (0.25)
    assert plan.runs[run_id("m2", "d", "dapo", 0)].train["clip_ratio_high"] == 0.25
    assert plan.runs[run_id("m1", "d", "dapo", 7)].train["clip_ratio_high"] == 0.28  # experiment b: the preset's
    assert plan.runs[run_id("m2", "d", "grpo", 0)].train["clip_ratio_high"] == 0.2
    cfg["experiments"]["a"]["train_per_method"] = {"egpo": {}}
    with pytest.raises(ConfigError, match="train_per_method.egpo: not one of this experiment's methods"):
        Plan(cfg)


def test_analysis_passes_follow_the_experiment_they_analyse():
    cfg = small_config()
    cfg["protocols"]["q"] = {"benchmarks": ["b1"]}
    cfg["experiments"]["fig"] = dict(cfg["experiments"]["a"], methods=["grpo"], seeds=[0], protocol="q",
                                     analysis_of="a")
    assert list(Plan(cfg).experiments) == ["a", "fig"]  # active with a, by default
    assert list(Plan({**cfg, "analysis_passes": False}).experiments) == ["a"]  # one line turns them off
    assert list(Plan({**cfg, "active_experiments": ["fig"]}).experiments) == ["fig"]  # still usable alone
    cfg["experiments"]["fig"]["analysis_of"] = "zzz"
    with pytest.raises(ConfigError, match="experiments.fig.analysis_of: unknown experiment 'zzz'"):
        Plan(cfg)


def test_required_experiments_must_be_active():
    cfg = small_config(active_experiments=["a", "b"])
    cfg["experiments"]["b"] = dict(cfg["experiments"]["a"], seeds=[3], requires=["c"])
    cfg["experiments"]["c"] = dict(cfg["experiments"]["a"], seeds=[4])
    with pytest.raises(ConfigError, match="experiments.b.requires: experiment 'c' must be active with 'b'"):
        Plan(cfg)
    cfg["active_experiments"] = ["a", "b", "c"]
    assert set(Plan(cfg).experiments) == {"a", "b", "c"}


def test_eval_until_keeps_the_early_checkpoints_only():
    cfg = small_config()
    cfg["train"].update(total_steps=40, save_freq=5)
    cfg["protocols"]["p"].update(eval_every=5, eval_until=20)  # ACE §5.4: the first 20 steps
    plan = Plan(cfg)
    assert plan.eval_steps(next(iter(plan.runs.values())), "p") == [5, 10, 15, 20]  # not the last step (40)
    cfg["protocols"]["p"].pop("eval_every")
    cfg["train"].update(save_freq=10)
    assert Plan(cfg).eval_steps(next(iter(Plan(cfg).runs.values())), "p") == [10, 20]


def test_heldout_benchmark_must_really_be_held_out():
    cfg = small_config()
    cfg["benchmarks"]["h"] = {"heldout_of": "d", "loader": "heldout",
                              "source": {"path": "results/data/d/val.parquet"}}
    cfg["protocols"]["p"]["benchmarks"].append("h")  # not in d's decontaminate_against: held out by construction
    with pytest.raises(ConfigError, match="benchmarks.h.heldout_of: datasets.d.params.val_holdout must be true"):
        Plan(cfg)
    cfg["datasets"]["d"]["params"] = {"val_holdout": True}
    assert "h" in Plan(cfg).benchmarks("p")
    cfg["benchmarks"]["h"]["source"] = {"path": "results/data/other/val.parquet"}
    with pytest.raises(ConfigError, match=r"the source must be \{path: results/data/d/val.parquet\}"):
        Plan(cfg)


def test_packed_checkpoints_form_parts_of_one_allocation():
    cfg = small_config(eval={"steps": "all", "checkpoints_per_allocation": {"p": 2}})
    plan = Plan(cfg)
    rid = run_id("m1", "d", "grpo", 0)                        # evaluated at 4, 8, 10
    assert [plan.eval_part("p", rid, s) for s in (4, 8, 10)] == [0, 0, 1]
    assert plan.eval_group_name("p", rid, 4) == plan.eval_group_name("p", rid, 8) == f"eval_p_{rid}_part0"
    assert plan.eval_group_name("p", rid, 10) == f"eval_p_{rid}_part1"
    assert plan.eval_group_name("p", "base-m1", 0) == "eval_p_base-m1_step0"  # the base model is never packed
    assert plan.eval_part_steps("p", rid, 0) == [4, 8] and plan.eval_part_steps("p", rid, 1) == [10]
    # the marker waits for every checkpoint's score.json (after all its metrics) and, at the last step,
    # the diagnostics of both benchmarks
    assert sorted(plan.eval_part_inputs("p", rid, 1)) == [
        f"results/eval/p/{rid}/step_10/b1/diagnostics.json", f"results/eval/p/{rid}/step_10/b2/diagnostics.json",
        f"results/eval/p/{rid}/step_10/score.json"]
    assert plan.eval_part_inputs("p", rid, 0) == [f"results/eval/p/{rid}/step_4/score.json",
                                                  f"results/eval/p/{rid}/step_8/score.json"]
    assert sorted(plan.eval_part_targets()) == sorted(
        f"results/eval/p/{r}/part_{i}.done" for r in plan.runs for i in (0, 1))
    # unpacked protocols keep one allocation per checkpoint and no markers
    plain = Plan(small_config())
    assert plain.eval_group_name("p", rid, 8) == f"eval_p_{rid}_step8" and plain.eval_part_targets() == []
    with pytest.raises(ConfigError, match="checkpoints_per_allocation.p: must be an int >= 1"):
        Plan(small_config(eval={"checkpoints_per_allocation": {"p": 0}})).eval_part("p", rid, 4)
