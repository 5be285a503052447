"""The estimator registry: declarations, derived tables, parameter validation that names the key."""

from __future__ import annotations

import jsonschema
import pytest

from rlvr_repro.advantages import ESTIMATORS, PARAMS, REQUIRES, Param, methods_schema, register, validate_params
from rlvr_repro.advantages.registry import REGISTRY


def test_tables_agree():
    assert set(ESTIMATORS) == set(PARAMS) == set(REQUIRES)
    assert {"grpo", "drgrpo", "reinforce", "ace", "lens", "egpo", "edge_grpo", "asymgrpo"} <= set(ESTIMATORS)
    assert REQUIRES["ace"] == ("old_log_probs", "ref_log_probs")
    assert REQUIRES["lens"] == REQUIRES["egpo"] == ("old_log_probs",)
    assert REQUIRES["edge_grpo"] == ("token_entropy",)  # EDGE-GRPO's Shannon entropy (EGPO §1, §5)
    assert REQUIRES["grpo"] == REQUIRES["asymgrpo"] == ()


def test_defaults_come_from_the_function_signature():
    assert validate_params("ace", {}) == {"alpha": 1.0, "modulation": "softplus", "eps": 1e-6}
    assert validate_params("lens", {"neg_weight": 1})["neg_weight"] == 1.0
    assert PARAMS["egpo"]["w_min"].default == 0.8 and PARAMS["egpo"]["w_max"].default == 2.0  # EGPO's authors' configs
    assert PARAMS["asymgrpo"]["beta_pos"].default == 0.9 and PARAMS["asymgrpo"]["beta_neg"].default == 0.4
    for key in ("w_min", "w_max", "clamp", "renorm", "nsr", "nsr_uniform"):
        assert key in PARAMS["egpo"]
    assert {"neg_weight", "mode", "d_imp"} <= set(PARAMS["lens"])


@pytest.mark.parametrize("estimator,params,message", [
    ("ace", {"alpah": 1.0}, r"unknown parameter\(s\) \['alpah'\] for estimator 'ace'"),
    ("ace", {"alpha": "1"}, r"ace.params.alpha: '1' is not of type 'number'"),
    ("ace", {"alpha": True}, r"ace.params.alpha: True is not of type 'number'"),
    ("ace", {"alpha": -1}, r"ace.params.alpha: -1 is less than the minimum of 0.0"),
    ("lens", {"mode": "negative"}, r"lens.params.mode: 'negative' is not one of"),
    ("egpo", {"nsr": "yes"}, r"egpo.params.nsr: 'yes' is not of type 'boolean'"),
    ("egpo", {"w_min": 1.5}, r"egpo.params.w_min: 1.5 is greater than the maximum of 1.0"),
    ("egpo", {"w_min": 0.9, "w_max": 1.0, "clamp": "symmetric"}, None),
    ("asymgrpo", {"beta_pos": float("nan")}, r"asymgrpo.params.beta_pos: must be finite"),
    ("nope", {}, r"unknown advantage estimator 'nope'"),
])
def test_bad_params_name_the_key(estimator, params, message):
    if message is None:
        assert validate_params(estimator, params)["w_min"] == 0.9
        return
    with pytest.raises(ValueError, match=message):
        validate_params(estimator, params)


def test_egpo_bounds_meet_at_one():
    # w_min <= 1 <= w_max (the schema's bounds) is EGPO's w_min <= w_max: the border case is allowed
    assert validate_params("egpo", {"w_min": 1.0, "w_max": 1.0})["w_max"] == 1.0
    with pytest.raises(ValueError, match=r"egpo.params.w_max: 0.9 is less than the minimum of 1.0"):
        validate_params("egpo", {"w_min": 0.5, "w_max": 0.9})


def test_schema_validates_params_per_estimator():
    schema = methods_schema()
    ok = {"x": {"estimator": "ace", "params": {"alpha": 0.5}, "paper": "ace", "description": "d"}}
    jsonschema.validate(ok, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"x": {**ok["x"], "params": {"beta_pos": 0.5}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"x": {**ok["x"], "paper": "unknown_paper"}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"Bad-Name": {"estimator": "grpo", "paper": "baseline", "description": "d"}}, schema)
    assert schema["additionalProperties"]["properties"]["paper"]["enum"] == ["ace", "asymgrpo", "baseline", "egpo", "lens"]


@pytest.fixture
def scratch_registry():
    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)


def test_register_checks_the_declaration_against_the_signature(scratch_registry):
    def est(batch, *, a: float = 1.0):
        return batch

    with pytest.raises(TypeError, match=r"keyword arguments \['a'\] differ from the declared params \['b'\]"):
        register("t1", paper="baseline", params={"b": Param("float", "b")})(est)

    def no_default(batch, *, a):
        return batch

    with pytest.raises(TypeError, match=r"parameters \['a'\] need a default"):
        register("t2", paper="baseline", params={"a": Param("float", "a")})(no_default)
    with pytest.raises(TypeError, match="is not one of"):
        register("t3", paper="baseline", params={"a": Param("float", "a")}, requires=("entropies",))(est)
    with pytest.raises(ValueError, match="already taken by rlvr_repro.advantages.grpo.grpo"):
        register("grpo", paper="baseline", params={"a": Param("float", "a")})(est)


def test_a_registered_estimator_shows_in_every_derived_table(scratch_registry):
    @register("t_new", paper="t_paper", requires=("old_log_probs",), params={"a": Param("float", "a", minimum=0.0)})
    def t_new(batch, *, a: float = 0.5):
        return batch.rewards * a

    assert ESTIMATORS["t_new"] is t_new and REQUIRES["t_new"] == ("old_log_probs",)
    assert validate_params("t_new", {}) == {"a": 0.5}
    schema = methods_schema()
    assert "t_new" in schema["additionalProperties"]["properties"]["estimator"]["enum"]
    assert "t_paper" in schema["additionalProperties"]["properties"]["paper"]["enum"]


def test_needs_reference_one_rule_for_trainers_and_cost():
    """pi_ref with a KL loss, when asked (need_ref), and for an estimator reading ref_log_probs (ACE)."""
    from rlvr_repro.advantages import needs_reference

    assert not needs_reference("grpo") and not needs_reference("egpo") and not needs_reference("lens")
    assert needs_reference("grpo", use_kl_loss=True) and needs_reference("drgrpo", need_ref=True)
    assert needs_reference("ace") and needs_reference("ace", use_kl_loss=False, need_ref=False)
