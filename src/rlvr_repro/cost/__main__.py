"""``python -m rlvr_repro.cost``: what a config costs before it is queued (see rlvr_repro.cost).

    python -m rlvr_repro.cost                              the default config, results/ of the cwd
    python -m rlvr_repro.cost --configfile my.yaml --experiments ace lens --per-run
    python -m rlvr_repro.cost --no-dry-run                 skip Snakemake (seconds instead of a minute)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rlvr_repro.config import load_config, validate_config
from rlvr_repro.plan import analysis_experiment_names

from .estimate import Assumptions
from .submissions import REPO, dry_run
from .summary import summarize


def _fmt_h(h: float) -> str:
    return f"{h:,.0f}" if h >= 10 else f"{h:.1f}"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render(result: dict, *, assumptions: Assumptions, submissions_note: str | None, per_run: bool) -> str:
    head = ["experiment", "runs", "done", "running", "ckpts on disk", "eval cells on disk", "train GPU-h",
            "to go", "eval GPU-h to go", "jobs", "Slurm subm.", "local"]
    rows = [head]
    for name, r in [*result["experiments"].items(), ("TOTAL (shared once)", result["total"])]:
        sub = r.get("submissions")
        rows.append([name, str(r["runs"]), str(r["done"]), str(r["running"]),
                     f"{r['checkpoints_on_disk']}/{r['checkpoints']}", f"{r['cells_on_disk']}/{r['cells']}",
                     _fmt_h(r["train_gpu_hours"]), _fmt_h(r["train_gpu_hours_to_go"]),
                     ("?" if not r["eval_gpu_hours_to_go"] else _fmt_h(r["eval_gpu_hours_to_go"]) + "+?")
                     if r["benchmarks_not_built"] else _fmt_h(r["eval_gpu_hours_to_go"]),
                     str(sub["jobs"]) if sub else "-", str(sub["submissions"]) if sub else "-",
                     str(sub["local"]) if sub else "-"])
    out = [_table(rows), "", f"GPU-hours ({assumptions.describe()}).",
           f"train: {result['total']['measured_runs']} of {result['total']['runs']} runs from measured step times; "
           f"eval: {result['total']['eval_checkpoints_measured']} of {result['total']['eval_checkpoints_to_go']} "
           "checkpoints to go from Snakemake's timings of finished generate jobs (logs/benchmarks/generate/)."]
    if result["total"]["benchmarks_not_built"]:
        out.append(f"eval GPU-h '?': benchmarks not built yet ({', '.join(result['total']['benchmarks_not_built'])}); "
                   "their sizes are read from results/benchmarks/ (`snakemake data`).")
    if submissions_note:
        out.append(submissions_note)
    extra = result.get("analysis_passes")
    if extra:
        sub = extra.get("submissions")
        out.append(f"analysis passes ({', '.join(extra['experiments'])}; `analysis_passes: true`): "
                   f"+{extra['checkpoints']} checkpoints saved, +{extra['cells']} evaluation cells, "
                   + (f"+{_fmt_h(extra['eval_gpu_hours_to_go'])}" if not result["total"]["benchmarks_not_built"]
                      else "+?") + " eval GPU-h to go"
                   + (f", +{sub} Slurm submissions" if sub is not None else "")
                   + "; `analysis_passes: false` (a --configfile line) removes them.")
    by_rule = (result["total"].get("submissions") or {}).get("by_rule")
    if by_rule:
        out += ["", "Slurm submissions by rule (all experiments): "
                + ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items(), key=lambda kv: -kv[1]))]
    if per_run:
        rrows = [["run", "status", "steps logged", "GPUs", "ckpts", "train GPU-h", "to go", "source"]]
        for rid, r in result["runs"].items():
            rrows.append([rid, r["status"], f"{r['logged_steps']}/{r['total_steps']}", str(r["gpus"]),
                          f"{r['checkpoints_on_disk']}/{r['checkpoints']}", _fmt_h(r["train_gpu_hours"]),
                          _fmt_h(r["train_gpu_hours_to_go"]), r["source"]])
        out += ["", _table(rrows)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    d = Assumptions()
    ap = argparse.ArgumentParser(prog="python -m rlvr_repro.cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", nargs="*", default=[], help="extra config files, as for snakemake")
    ap.add_argument("--directory", default=".", help="working directory holding results/ (default: .)")
    ap.add_argument("--experiments", nargs="*", help="only these experiments (default: active_experiments)")
    ap.add_argument("--profile", default=str(REPO / "profiles" / "slurm"),
                    help="Snakemake profile of the dry run (default: profiles/slurm); 'none' for none")
    ap.add_argument("--no-dry-run", action="store_true", help="skip the Snakemake dry run (no submission counts)")
    ap.add_argument("--per-run", action="store_true", help="also list every run")
    ap.add_argument("--json", help="also write the numbers to this JSON file")
    ap.add_argument("--prompt-tokens", type=int, default=d.prompt_tokens)
    ap.add_argument("--response-fill", type=float, default=d.response_fill)
    ap.add_argument("--gen-tflops", type=float, default=d.gen_tflops)
    ap.add_argument("--train-tflops", type=float, default=d.train_tflops)
    ap.add_argument("--dynamic-sampling-rollouts", type=float, default=d.dynamic_sampling_rollouts)
    args = ap.parse_args(argv)
    a = Assumptions(args.prompt_tokens, args.response_fill, args.gen_tflops, args.train_tflops,
                    args.dynamic_sampling_rollouts)
    config = load_config(*args.configfile)
    if args.experiments:
        config["active_experiments"] = list(args.experiments)
    plan = validate_config(config)
    workdir = Path(args.directory)
    result = summarize(plan, workdir, a)
    analysis = analysis_experiment_names(config)
    if analysis:  # what the figures' analysis passes add: the same config without them
        without = summarize(validate_config({**config, "analysis_passes": False}), workdir, a)["total"]
        result["analysis_passes"] = {
            "experiments": analysis, "submissions": None,
            **{k: result["total"][k] - without[k] for k in ("checkpoints", "cells", "eval_gpu_hours_to_go")}}
    note = None
    if not args.no_dry_run:
        profile = None if args.profile == "none" else args.profile
        names = list(plan.experiments)
        kwargs = {"workdir": workdir, "configfiles": args.configfile, "profile": profile}
        with ThreadPoolExecutor(max_workers=max(1, min(4, (os.cpu_count() or 2) // 2))) as pool:
            # one experiment's share: without the analysis passes its own runs would pull in
            per = {e: pool.submit(dry_run, experiments=[e], analysis_passes=False, **kwargs) for e in names}
            total = per[names[0]] if len(names) == 1 else pool.submit(dry_run, experiments=names,
                                                                      analysis_passes=False, **kwargs)
            base = pool.submit(dry_run, experiments=[n for n in names if n not in analysis],
                               analysis_passes=False, **kwargs) if analysis else None
            for e, fut in [*per.items(), ("TOTAL", total)]:
                s = fut.result()
                row = result["total"] if e == "TOTAL" else result["experiments"][e]
                row["submissions"] = {"jobs": s.n_jobs, "submissions": s.n_submissions, "local": s.n_local,
                                      "by_rule": dict(s.submitted) | dict(s.groups)}
            if base is not None:
                result["analysis_passes"]["submissions"] = (result["total"]["submissions"]["submissions"]
                                                            - base.result().n_submissions)
        note = (f"jobs / Slurm subm. / local: Snakemake's own dry run (`snakemake -n all"
                f"{' --profile ' + os.path.relpath(profile) if profile else ''} --config active_experiments=[<experiment>]`), "
                "i.e. what is still to do given results/ on disk; one submission per group job, localrules run on "
                "the login node.")
    print(render(result, assumptions=a, submissions_note=note, per_run=args.per_run))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
