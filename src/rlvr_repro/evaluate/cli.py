"""Command line for the evaluation stages (thin: argument parsing only).

    python -m rlvr_repro.evaluate.cli generate --model DIR|model.json --protocols config/protocols.yaml \\
        --protocol ace --family qwen_math --backend vllm --bench b.jsonl:out.jsonl [--bench ...]
    python -m rlvr_repro.evaluate.cli grade GENERATIONS GRADES [--grader evalscope --workers 8 --timeout 5]
    python -m rlvr_repro.evaluate.cli metrics GRADES BENCHMARK OUT --protocols ... --protocol ace \\
        --subject RUN --step 100
    python -m rlvr_repro.evaluate.cli diagnostics GENERATIONS GRADES OUT [--reference-model DIR] [--plot PNG]
"""

from __future__ import annotations

import argparse
import json

import yaml

from rlvr_repro.evaluate import stages


def _protocol(path: str, name: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        protocols = (yaml.safe_load(fh) or {}).get("protocols") or {}
    if name not in protocols:
        raise SystemExit(f"{path}: no protocol {name!r} (have {sorted(protocols)})")
    return protocols[name]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="rlvr_repro.evaluate.cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("generate")
    g.add_argument("--model", required=True)
    g.add_argument("--protocols", default="config/protocols.yaml")
    g.add_argument("--protocol", required=True)
    g.add_argument("--family", required=True)
    g.add_argument("--backend", choices=["hf", "vllm"], default="vllm")
    g.add_argument("--bench", action="append", required=True, help="BENCHMARK_JSONL:OUT_JSONL")
    g.add_argument("--seed", type=int)
    g.add_argument("--limit", type=int)
    g.add_argument("--batch-size", type=int)
    g.add_argument("--resources", type=json.loads, default=None, help="JSON, e.g. '{\"gpus\": 4}'")

    r = sub.add_parser("grade")
    r.add_argument("generations")
    r.add_argument("out")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument("--timeout", type=float, default=5.0)
    r.add_argument("--grader", default="math_verify", help="math_verify (strict default) | evalscope")

    m = sub.add_parser("metrics")
    m.add_argument("grades")
    m.add_argument("benchmark")
    m.add_argument("out")
    m.add_argument("--protocols", default="config/protocols.yaml")
    m.add_argument("--protocol", required=True)
    m.add_argument("--subject", required=True)
    m.add_argument("--step", required=True)

    d = sub.add_parser("diagnostics")
    d.add_argument("generations")
    d.add_argument("grades")
    d.add_argument("out")
    d.add_argument("--reference-model")
    d.add_argument("--policy-model")
    d.add_argument("--plot")

    args = parser.parse_args(argv)
    if args.cmd == "generate":
        pairs = [b.rsplit(":", 1) for b in args.bench]
        if any(len(p) != 2 for p in pairs):
            raise SystemExit("--bench must be BENCHMARK_JSONL:OUT_JSONL")
        result = stages.run_generation(
            args.model, [p[0] for p in pairs], [p[1] for p in pairs], protocol_name=args.protocol,
            protocol=_protocol(args.protocols, args.protocol), family=args.family, backend=args.backend,
            seed=args.seed, limit=args.limit, batch_size=args.batch_size, resources=args.resources)
    elif args.cmd == "grade":
        result = stages.run_grading(args.generations, args.out, grader=args.grader, workers=args.workers,
                                    timeout=args.timeout)
    elif args.cmd == "metrics":
        result = stages.run_metrics(args.grades, args.benchmark, args.out, protocol_name=args.protocol,
                                    protocol=_protocol(args.protocols, args.protocol),
                                    subject=args.subject, step=args.step)
    else:
        result = stages.run_diagnostics(args.generations, args.grades, args.out,
                                        reference_model=args.reference_model,
                                        policy_model=args.policy_model, plot=args.plot)
    print(json.dumps(result, indent=2)[:4000])


if __name__ == "__main__":
    main()
