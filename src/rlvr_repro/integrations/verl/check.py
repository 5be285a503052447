"""The login-node check of the planned verl runs, before any training job is queued.

A typo in a verl key would otherwise surface when the job starts, after hours in the queue. The
workflow's local rule ``check_verl`` runs :func:`run_check` once per *distinct override set*: runs
that differ only in run id, seed, dataset or model paths build the same overrides up to those values,
so they share one check (LENS: two datasets x two seeds of one model and method make one set). Each
check composes verl's Hydra config, runs verl's ``validate_config`` and our checks
(``overrides.check_overrides``), checks the ``train.verl_overrides`` key names
(``overrides.check_verl_override_keys``), and writes a small marker ``results/checks/verl/{set}.json``
that the set's training jobs take as input. One job costs ~8 s on the login node (importing verl and
Hydra's first compose); ``python -m rlvr_repro.integrations.verl.check`` checks all sets in one
process (~0.4 s each after the first).

The set id hashes what the overrides are built from (train keys, estimator and parameters, model size),
so changing a run's settings gives it a new set: a new marker and a new check. A marker, once written,
must not change, because Snakemake 9 handles a re-run producer badly: without ``ancient`` a re-run check
would restart every finished run of its set; with ``ancient`` (as here) it restarts none, but drops the
runs still waiting on it from that invocation (they start on the next). So the rule has no params (the
script rebuilds its set from the config; a new run joining a set does not re-run the check), and
``results/checks/`` must not be deleted while its runs' results are kept (a missing marker is rebuilt
and restarts the runs of its set). A check reflects the code it ran with: after changing how overrides
are derived, re-check every set with the command below.

    python -m rlvr_repro.integrations.verl.check [--configfile extra.yaml ...]   check every set now
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from .overrides import build_overrides

MARKER_DIR = "results/checks/verl"
# What a check composes in place of a run's own names and paths (verl does not open them at compose time).
PLACEHOLDER_RUN = "check"
PLACEHOLDER_DIR = "/rlvr-check"


def check_id(spec: Mapping[str, Any]) -> str:
    """12 hex digits of the inputs that determine a run's overrides apart from names, paths and seed."""
    key = {"train": spec["train"], "estimator": spec["method"]["estimator"],
           "params": spec["method"].get("params") or {}, "params_b": spec["model"].get("params_b")}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]


def check_overrides_of(spec: Mapping[str, Any]) -> list[str]:
    """The run's overrides with its run id, seed, model and data paths replaced by placeholders."""
    spec = copy.deepcopy(dict(spec))
    spec["run_id"], spec["seed"] = PLACEHOLDER_RUN, 0
    spec["model"] = {**spec["model"], "path": f"{PLACEHOLDER_DIR}/model"}
    spec["dataset"] = {**spec["dataset"], "train_files": f"{PLACEHOLDER_DIR}/train.parquet",
                       "val_files": f"{PLACEHOLDER_DIR}/val.parquet"}
    return build_overrides(spec, run_dir=f"{PLACEHOLDER_DIR}/run", reward_path=f"{PLACEHOLDER_DIR}/reward.py")


def override_sets(plan) -> dict[str, dict[str, Any]]:
    """{set id: {"overrides", "verl_overrides", "runs"}} for the plan's runs (all verl runs of a plan
    built with ``train.backend: verl``). Building the overrides here is pure Python (no verl import), so
    a bad value fails at workflow start-up with the run named."""
    sets: dict[str, dict[str, Any]] = {}
    for rid in plan.runs:
        spec = plan.run_spec(rid)
        cid = check_id(spec)
        if cid not in sets:
            sets[cid] = {"overrides": check_overrides_of(spec),
                         "verl_overrides": dict(spec["train"].get("verl_overrides") or {}), "runs": []}
        sets[cid]["runs"].append(rid)
    return sets


def marker(cid: str) -> str:
    return f"{MARKER_DIR}/{cid}.json"


def run_check(overrides: list[str], verl_overrides: Mapping[str, Any], runs: list[str]) -> dict[str, Any]:
    """Check one override set; raise ValueError naming its runs and the problem, else return the
    marker's content (what was checked, against which verl, and verl's view of the run)."""
    import warnings

    warnings.filterwarnings("ignore", module="verl")
    os.environ.setdefault("VERL_LOGGING_LEVEL", "ERROR")
    from .overrides import check_overrides, check_verl_override_keys

    shown = ", ".join(runs[:3]) + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")
    start = time.monotonic()
    try:
        check_verl_override_keys(verl_overrides)
        info = check_overrides(list(overrides))
    except ValueError as e:
        raise ValueError(f"verl config check failed for run(s) {shown}: {e}") from None
    import verl

    return {"verl_version": getattr(verl, "__version__", "?"), "runs": list(runs), "overrides": list(overrides),
            "adv_estimator": info["adv_estimator"], "use_reference_policy": info["use_reference_policy"],
            "lints": info["lints"], "seconds": round(time.monotonic() - start, 2)}


def main(argv: list[str] | None = None) -> int:
    """Check every override set of the merged config (config/*.yaml + --configfile ...) in one process."""
    import argparse

    from rlvr_repro.config import load_config, validate_config

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configfile", nargs="*", default=[], help="extra config files, as for snakemake")
    args = ap.parse_args(argv)
    plan = validate_config(load_config(*args.configfile))
    failed = 0
    for cid, s in override_sets(plan).items():
        try:
            res = run_check(**s)
            print(f"ok    {cid}  {len(s['runs'])} run(s)  {res['seconds']:.1f} s")
        except ValueError as e:
            failed += 1
            print(f"FAIL  {cid}  {e}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
