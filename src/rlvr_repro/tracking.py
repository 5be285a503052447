"""Live training curves: W&B (online or offline) and TensorBoard for every run, both backends.

Config block (config.yaml ``tracking``)::

    tracking:
      wandb: {enabled: false, mode: offline, project: rlvr-repro, entity: null, dir: results/tracking}
      tensorboard: {enabled: false, dir: results/tracking/tensorboard}

The run name is our run id; the resolved run spec (``run.json``) is the run's config. verl gets the
loggers as ``trainer.logger`` (its ``Tracking`` class opens W&B with ``name=experiment_name`` = the run
id, and TensorBoard at ``$TENSORBOARD_DIR``); the spec reaches W&B's config through
``WANDB_CONFIG_PATHS`` under the key ``run_spec`` (verl passes its own config besides). The local
trainer logs each step's numeric fields through :class:`LocalTracker`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path

import yaml


def _blocks(tracking: dict | None) -> tuple[dict | None, dict | None]:
    tracking = tracking or {}
    wb, tb = tracking.get("wandb") or {}, tracking.get("tensorboard") or {}
    return (wb if wb.get("enabled") else None), (tb if tb.get("enabled") else None)


def tensorboard_dir(tb: dict, run_id: str) -> Path:
    return Path(tb.get("dir") or "results/tracking/tensorboard").resolve() / run_id


def wandb_env(wb: dict, spec: dict, run_dir: Path) -> dict:
    """Environment for a W&B run of ``spec``: mode, directory, entity, the spec as config file."""
    run_dir = Path(run_dir)
    spec_file = run_dir / "wandb_run_spec.yaml"  # WANDB_CONFIG_PATHS reads YAML (PyYAML: JSON's 1e-06 is a string)
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(yaml.safe_dump({"run_spec": json.loads(json.dumps(spec, default=str))}, sort_keys=False))
    wdir = Path(wb.get("dir") or "results/tracking").resolve()
    wdir.mkdir(parents=True, exist_ok=True)
    env = {"WANDB_MODE": str(wb.get("mode", "offline")), "WANDB_DIR": str(wdir),
           "WANDB_CONFIG_PATHS": str(spec_file), "WANDB_RUN_GROUP": str(spec.get("method", {}).get("name", ""))}
    if wb.get("entity"):
        env["WANDB_ENTITY"] = str(wb["entity"])
    return env


def verl_tracking(tracking: dict | None, spec: dict, run_dir: Path) -> tuple[list[str], dict]:
    """(Hydra overrides, environment) that turn on the configured loggers in verl."""
    wb, tb = _blocks(tracking)
    loggers, env = ["console", "file"], {}
    if wb:
        loggers.append("wandb")
        env.update(wandb_env(wb, spec, run_dir))
    if tb:
        loggers.append("tensorboard")
        env["TENSORBOARD_DIR"] = str(tensorboard_dir(tb, spec["run_id"]))
    overrides = [f"trainer.logger=[{','.join(loggers)}]"]
    if wb and wb.get("project"):
        overrides.append(f"trainer.project_name={wb['project']}")
    return overrides, env


def _scalars(record: dict) -> dict:
    return {k: float(v) for k, v in record.items()
            if k != "step" and isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)}


class LocalTracker:
    """The local trainer's loggers; ``log(step, record)`` after every step, ``close()`` at the end."""

    def __init__(self, tracking: dict | None, spec: dict, run_dir: Path):
        wb, tb = _blocks(tracking)
        self.writer = self.wandb_run = None
        if tb:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(tensorboard_dir(tb, spec["run_id"])))
            self.writer.add_text("run_spec", "```json\n" + json.dumps(spec, indent=1, default=str) + "\n```")
        if wb:
            import wandb

            os.environ.update({k: v for k, v in wandb_env(wb, spec, run_dir).items() if k != "WANDB_CONFIG_PATHS"})
            self.wandb_run = wandb.init(project=wb.get("project", "rlvr-repro"), entity=wb.get("entity"),
                                        name=spec["run_id"], group=spec.get("method", {}).get("name"),
                                        config={"run_spec": spec}, mode=wb.get("mode", "offline"),
                                        dir=os.environ["WANDB_DIR"], reinit="create_new")

    @property
    def active(self) -> bool:
        return self.writer is not None or self.wandb_run is not None

    def log(self, step: int, record: dict) -> None:
        values = _scalars(record)
        if self.writer is not None:
            for k, v in values.items():
                self.writer.add_scalar(k, v, step)
            self.writer.flush()
        if self.wandb_run is not None:
            self.wandb_run.log(values, step=step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self.wandb_run is not None:
            self.wandb_run.finish()
