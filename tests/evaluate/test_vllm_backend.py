"""The vLLM engine's per-device arguments (no vLLM needed): the memory share per device type and
chunked prefill off on CPU, where vLLM's seeded-request rewind needs a generator offset that CPU
generators lack (vllm_backend.engine_kwargs)."""

import copy

import pytest

from rlvr_repro.config import load_config, schema_errors
from rlvr_repro.evaluate.generate import make_backend
from rlvr_repro.evaluate.vllm_backend import engine_kwargs, memory_utilization


def test_memory_share_per_device_with_a_safe_cpu_default():
    assert memory_utilization(None, "cpu") == 0.15
    assert memory_utilization(None, "cuda") == 0.85
    assert memory_utilization({"cuda": 0.9, "cpu": 0.2}, "cpu") == 0.2
    assert memory_utilization({"cuda": 0.9, "cpu": 0.2}, "cuda") == 0.9
    assert memory_utilization(0.5, "cpu") == 0.5  # one number: every device
    assert memory_utilization(1, "cuda") == 1.0


@pytest.mark.parametrize("value, match", [({"cuda": 0.9}, "no entry for vLLM device 'cpu'"),
                                          (0.0, r"in \(0, 1\]"), ({"cpu": 1.5}, r"in \(0, 1\]")])
def test_memory_share_errors_name_the_problem(value, match):
    with pytest.raises(ValueError, match=match):
        memory_utilization(value, "cpu")


def test_cpu_engine_prefills_whole_prompts_and_gpu_keeps_vllms_chunking():
    cpu = engine_kwargs("/m", device="cpu", seed=3, gpu_memory_utilization={"cuda": 0.9, "cpu": 0.2})
    assert cpu == {"model": "/m", "tensor_parallel_size": 1, "enable_prefix_caching": True, "seed": 3,
                   "dtype": "auto", "gpu_memory_utilization": 0.2, "enable_chunked_prefill": False}
    gpu = engine_kwargs("/m", device="cuda", tensor_parallel_size=4, max_model_len=4096,
                        gpu_memory_utilization={"cuda": 0.9, "cpu": 0.2})
    assert gpu == {"model": "/m", "tensor_parallel_size": 4, "enable_prefix_caching": True, "seed": 0,
                   "dtype": "auto", "gpu_memory_utilization": 0.9, "max_model_len": 4096}


def test_config_sets_the_share_per_device_and_the_schema_checks_it():
    config = load_config()
    assert config["eval"]["gpu_memory_utilization"] == {"cuda": 0.85, "cpu": 0.15}
    assert not [e for e in schema_errors(config) if e.startswith("eval")]
    for bad in (1.5, {"cpu": 0}, {}):
        broken = copy.deepcopy(config)
        broken["eval"]["gpu_memory_utilization"] = bad
        assert any(e.startswith("eval.gpu_memory_utilization") for e in schema_errors(broken)), bad


def test_make_backend_passes_the_configured_share_to_the_engine(monkeypatch):
    seen = {}

    class FakeVLLMBackend:
        def __init__(self, model_dir, **kwargs):
            seen.update(kwargs)

    monkeypatch.setattr("rlvr_repro.evaluate.vllm_backend.VLLMBackend", FakeVLLMBackend)
    make_backend("vllm", "/m", resources={"gpu": 2, "gpu_memory_utilization": {"cuda": 0.7, "cpu": 0.1}})
    assert seen["gpu_memory_utilization"] == {"cuda": 0.7, "cpu": 0.1}
    assert seen["tensor_parallel_size"] == 2
    make_backend("vllm", "/m", resources={})
    assert seen["gpu_memory_utilization"] is None  # the backend's per-device default
