"""eval_share: the part of one evaluation allocation a job takes (rlvr_repro.eval_alloc), hand values."""
import pytest

from rlvr_repro.eval_alloc import FULL, resources, share

GEN = {"gpu": 1, "cpus_per_task": 16, "mem_mb": 128000}   # config.yaml resources.generate


def test_share_is_the_largest_fraction_in_thousandths():
    assert share(GEN, GEN) == FULL == 1000
    # a grade job of config.yaml (5 benchmarks side by side): 3 of 16 CPUs = 187.5 -> 188; 16 of 128 GB = 125
    assert share({"cpus_per_task": 3, "mem_mb": 16000}, GEN) == 188
    # five such grades fit one allocation (940), six do not
    assert 5 * 188 <= FULL < 6 * 188
    # diagnostics: half the CPUs and memory, and the GPU (eval_gpus), so five metrics jobs fit beside them
    diag = resources({"gpu": 1, "cpus_per_task": 8, "mem_mb": 64000}, GEN)
    assert (diag["eval_gpus"], diag["eval_share"]) == (1, 500)
    assert resources({"cpus_per_task": 1, "mem_mb": 12800}, GEN)["eval_share"] == 100
    assert share({}, GEN) == 1 and share({"cpus_per_task": 64}, GEN) == 1000   # at least 1, at most FULL


def test_resources_refuse_what_the_allocation_lacks():
    with pytest.raises(ValueError, match="gpu=2, more than the evaluation allocation"):
        resources({"gpu": 2}, GEN)
    with pytest.raises(ValueError, match="mem_mb=10.*resources.generate"):
        share({"mem_mb": 10}, {"cpus_per_task": 16})
