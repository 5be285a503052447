"""The run matrix: which runs, checkpoints and evaluation cells a config asks for.

The Snakefile is a thin shell around this module, so the matrix logic is plain Python that unit
tests can check without Snakemake. A *run* is one training job, identified by a single path
segment ``{model}-{dataset}-{method}-s{seed}``; an *experiment* (one per paper table family)
is a product ``models × datasets × methods × seeds`` evaluated under one protocol. The same run
requested by two experiments with identical settings is trained once (e.g. a shared GRPO baseline).

Training settings are resolved in one place, lowest to highest priority:
``train`` defaults < ``experiments.<e>.train`` < ``experiments.<e>.train_per_model.<model>``
< ``methods.<preset>.train`` < ``experiments.<e>.train_per_method.<method>``. Method presets win over
the experiment so that, e.g., the DAPO preset's clip-higher and dynamic sampling hold in every
experiment that uses it; ``train_per_method`` is the one exception, for a baseline that one paper ran
differently (EGPO's DAPO without overlong shaping). ``experiments.<e>.methods_by_model`` replaces the
method list for the models it names (the product is then per model). ``experiments.<e>.requires``
names experiments that must be active with it (its figures compare against their runs).

Analysis passes: an experiment with ``analysis_of: <experiment>`` evaluates (some of) that experiment's
runs under a figure's own protocol (ACE Fig. 3 and 4, AsymGRPO's App. G curves) and trains nothing
new. It is active whenever the experiment it analyses is, unless ``analysis_passes: false``
(:func:`active_experiment_names`), so the default ``all`` draws every figure from data.

Checkpoint schedules: ``save_freq`` is I/O, not training dynamics, so two experiments may request
the same run with different ``save_freq``: the run then saves every gcd of them, and each experiment
(hence each protocol) evaluates only the checkpoints of its own schedule. A protocol with
``eval_every: N`` evaluates every N steps (and the last); its experiments must save that often.

Decontamination: a dataset's reference set is its own setting, ``datasets.<d>.decontaminate_against``,
never derived from which experiments are active (so a dataset's content does not change when an
experiment is switched on). Every benchmark a run is evaluated on must be in its dataset's set
(unless the dataset sets ``params.decontaminate: off``).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field

from rlvr_repro.models import params_billions
from rlvr_repro.train.keys import TRAIN_KEYS

RESULTS = "results"
BASE_PREFIX = "base-"
# Snakemake's timing of a checkpoint's generate job (its `benchmark:` file; the cost estimate reads it)
GENERATE_TIMING = "logs/benchmarks/generate/{protocol}/{subject}/step_{step}.tsv"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")


class ConfigError(ValueError):
    """A config problem; the message names the key path."""


def run_id(model: str, dataset: str, method: str, seed: int) -> str:
    return f"{model}-{dataset}-{method}-s{seed}"


def base_subject(model: str) -> str:
    return f"{BASE_PREFIX}{model}"


def checkpoint_steps(train: dict) -> list[int]:
    """Steps at which a run saves a checkpoint: every ``save_freq`` steps and the last step (verl's rule)."""
    total, freq = int(train["total_steps"]), int(train["save_freq"])
    if total < 1 or freq < 1:
        raise ConfigError(f"train.total_steps ({total}) and train.save_freq ({freq}) must be >= 1")
    steps = list(range(freq, total + 1, freq))
    if not steps or steps[-1] != total:
        steps.append(total)
    return steps


@dataclass
class Run:
    run_id: str
    model: str
    dataset: str
    method: str
    seed: int
    train: dict
    experiments: list[str] = field(default_factory=list)
    # experiment -> the checkpoint steps that experiment asked for (its own save_freq)
    schedules: dict[str, list[int]] = field(default_factory=dict)

    @property
    def steps(self) -> list[int]:
        return checkpoint_steps(self.train)


# Mapping-valued train keys (the table's kind "mapping": verl_overrides) merge key by key across the
# levels; every other key is replaced.
MERGED_TRAIN_KEYS = tuple(k.name for k in TRAIN_KEYS if k.kind == "mapping")


def _merged_train(config: dict, exp_name: str, exp: dict, model: str, method: str) -> dict:
    train = copy.deepcopy(config.get("train", {}))
    preset = config["methods"][method]
    for level in (exp.get("train"), (exp.get("train_per_model") or {}).get(model), preset.get("train"),
                  (exp.get("train_per_method") or {}).get(method)):
        for key, value in (level or {}).items():
            if key in MERGED_TRAIN_KEYS and isinstance(value, dict) and isinstance(train.get(key), dict):
                train[key] = {**train[key], **copy.deepcopy(value)}
            else:
                train[key] = copy.deepcopy(value)
    return train


def active_experiment_names(config: dict) -> list[str]:
    """``active_experiments``, then (with ``analysis_passes``, default true) every experiment whose
    ``analysis_of`` is active, in config order."""
    names = list(config.get("active_experiments") or [])
    if config.get("analysis_passes", True):
        for name, exp in (config.get("experiments") or {}).items():
            parent = (exp or {}).get("analysis_of")
            if parent is not None and parent in names and name not in names:
                names.append(name)
    return names


def analysis_experiment_names(config: dict) -> list[str]:
    """The analysis passes :func:`active_experiment_names` adds to ``active_experiments``."""
    explicit = set(config.get("active_experiments") or [])
    return [n for n in active_experiment_names(config) if n not in explicit]


def _require(mapping: dict, key: str, where: str, what: str) -> None:
    if key not in mapping:
        known = ", ".join(sorted(mapping)) or "none"
        raise ConfigError(f"{where}: unknown {what} {key!r} (known: {known})")


class Plan:
    """Everything the Snakefile needs to know about a config, computed once at start-up."""

    def __init__(self, config: dict):
        self.config = config
        self.experiments: dict[str, dict] = {}
        self.runs: dict[str, Run] = {}
        self._build()

    # ---------------------------------------------------------------- construction
    def _build(self) -> None:
        cfg = self.config
        all_exps = cfg.get("experiments") or {}
        for name in cfg.get("active_experiments") or []:
            _require(all_exps, name, "active_experiments", "experiment")
        for name, exp in all_exps.items():
            if exp.get("analysis_of") is not None:
                _require(all_exps, exp["analysis_of"], f"experiments.{name}.analysis_of", "experiment")
        for name in active_experiment_names(cfg):
            self.experiments[name] = all_exps[name]
        for exp_name, exp in self.experiments.items():
            where = f"experiments.{exp_name}"
            _require(cfg.get("protocols") or {}, exp["protocol"], f"{where}.protocol", "protocol")
            for model in exp["models"]:
                _require(cfg.get("models") or {}, model, f"{where}.models", "model")
            for ds in exp["datasets"]:
                _require(cfg.get("datasets") or {}, ds, f"{where}.datasets", "dataset")
            by_model = exp.get("methods_by_model") or {}
            for method in [*exp["methods"], *(m for ms in by_model.values() for m in ms)]:
                _require(cfg.get("methods") or {}, method, f"{where}.methods", "method preset")
            for section in ("train_per_model", "methods_by_model"):
                for key in (exp.get(section) or {}):
                    if key not in exp["models"]:
                        raise ConfigError(f"{where}.{section}.{key}: not one of this experiment's models")
            exp_methods = {*exp["methods"], *(m for ms in by_model.values() for m in ms)}
            for key in (exp.get("train_per_method") or {}):
                if key not in exp_methods:
                    raise ConfigError(f"{where}.train_per_method.{key}: not one of this experiment's methods")
            for other in exp.get("requires") or []:
                _require(all_exps, other, f"{where}.requires", "experiment")
                if other not in self.experiments:
                    raise ConfigError(f"{where}.requires: experiment {other!r} must be active with {exp_name!r} "
                                      f"(add it to active_experiments): {exp_name}'s figures compare against its runs")
            for model in exp["models"]:
                for ds in exp["datasets"]:
                    for method in by_model.get(model, exp["methods"]):
                        for seed in exp["seeds"]:
                            self._add_run(exp_name, exp, model, ds, method, int(seed))
        for bench in self.benchmarks():
            _require(cfg.get("benchmarks") or {}, bench, "protocols.*.benchmarks", "benchmark")
            self._check_heldout(bench)
        for ds in self.datasets():
            self._check_decontamination(ds)
        for run in self.runs.values():
            for p in {self.experiments[e]["protocol"] for e in run.experiments}:
                self.eval_steps(run, p)  # validates eval.steps and the protocols' eval_every early

    def _check_heldout(self, bench: str) -> None:
        """A benchmark that is a dataset's held-out split (``heldout_of``) reads that dataset's val.parquet,
        which must really be held out of training."""
        spec = self.config["benchmarks"][bench]
        ds = spec.get("heldout_of")
        if ds is None:
            return
        where = f"benchmarks.{bench}.heldout_of"
        _require(self.config.get("datasets") or {}, ds, where, "dataset")
        path = (spec.get("source") or {}).get("path")
        if path != self.train_file(ds, "generic", "val") or spec.get("loader") != "heldout":
            raise ConfigError(f"{where}: the source must be {{path: {self.train_file(ds, 'generic', 'val')}}} with "
                              f"loader: heldout (got source {spec.get('source')}, loader {spec.get('loader')!r})")
        if not (self.config["datasets"][ds].get("params") or {}).get("val_holdout"):
            raise ConfigError(f"{where}: datasets.{ds}.params.val_holdout must be true, or the 'held-out' "
                              f"prompts are trained on")

    def _check_decontamination(self, ds: str) -> None:
        where = f"datasets.{ds}.decontaminate_against"
        refs = self.decontamination_set(ds)
        for bench in refs:
            _require(self.config.get("benchmarks") or {}, bench, where, "benchmark")
        if ((self.config["datasets"][ds].get("params") or {}).get("decontaminate")) == "off":
            return
        for run in self.runs.values():
            if run.dataset != ds:
                continue
            for exp in run.experiments:
                missing = [b for b in self.benchmarks(self.experiments[exp]["protocol"]) if b not in refs
                           and self.config["benchmarks"][b].get("heldout_of") != ds]  # held out by construction
                if missing:
                    raise ConfigError(
                        f"{where}: run {run.run_id} (experiment {exp!r}) is evaluated on {missing}, which "
                        f"{ds} is not decontaminated against ({refs}); add them to the list")

    def _add_run(self, exp_name, exp, model, ds, method, seed) -> None:
        for part, label in ((model, "model"), (ds, "dataset"), (method, "method preset")):
            if not NAME_RE.match(part):
                raise ConfigError(f"{label} name {part!r} must match {NAME_RE.pattern} (it becomes part of a run id)")
        rid = run_id(model, ds, method, seed)
        train = _merged_train(self.config, exp_name, exp, model, method)
        checkpoint_steps(train)  # validates total_steps / save_freq early
        schedule = checkpoint_steps(train)
        if rid in self.runs:
            other = self.runs[rid]
            diff = sorted(k for k in set(train) | set(other.train)
                          if k != "save_freq" and train.get(k) != other.train.get(k))
            if diff:
                raise ConfigError(
                    f"run {rid} is requested by experiments {other.experiments[0]!r} and {exp_name!r} with "
                    f"different training settings ({', '.join(diff)}); give one of them its own method preset")
            if exp_name not in other.experiments:
                other.experiments.append(exp_name)
                other.schedules[exp_name] = schedule
            # save every gcd of the requested frequencies: every experiment's checkpoints exist
            other.train["save_freq"] = math.gcd(int(other.train["save_freq"]), int(train["save_freq"]))
            return
        self.runs[rid] = Run(rid, model, ds, method, seed, train, [exp_name], {exp_name: schedule})

    # ---------------------------------------------------------------- queries
    def protocol(self, name: str) -> dict:
        return self.config["protocols"][name]

    def protocols(self) -> list[str]:
        return sorted({e["protocol"] for e in self.experiments.values()})

    def benchmarks(self, protocol: str | None = None) -> list[str]:
        names = [protocol] if protocol else self.protocols()
        out: list[str] = []
        for p in names:
            for b in self.protocol(p)["benchmarks"]:
                if b not in out:
                    out.append(b)
        return out

    def benchmark_format(self, benchmark: str) -> str:
        """The answer format (loader, hence grading mode) of a configured benchmark: its ``loader``, or
        its own name (the config schema requires a loader for names that are not one)."""
        return self.config["benchmarks"][benchmark].get("loader", benchmark)

    def datasets(self) -> list[str]:
        return sorted({r.dataset for r in self.runs.values()})

    def models(self) -> list[str]:
        return sorted({r.model for r in self.runs.values()})

    def family(self, model: str) -> str:
        return self.config["models"][model].get("family", "generic")

    def dataset_families(self) -> list[tuple[str, str]]:
        """(dataset, family) pairs whose per-family parquet is needed (non-generic families only)."""
        return sorted({(r.dataset, self.family(r.model)) for r in self.runs.values()
                       if self.family(r.model) != "generic"})

    def decontamination_set(self, dataset: str) -> list[str]:
        """The benchmarks ``dataset`` is decontaminated against (``datasets.<d>.decontaminate_against``).
        A per-dataset setting, independent of ``active_experiments``."""
        return list(self.config["datasets"][dataset].get("decontaminate_against") or [])

    def protocol_steps(self, run: Run, protocol: str | None = None) -> list[int]:
        """Checkpoint steps evaluated under ``protocol`` (every protocol of the run when None), before
        ``eval.steps`` narrows them: the schedules of the run's experiments that use the protocol, or
        every ``eval_every`` steps (and the last) when the protocol sets it."""
        exps = [e for e in run.experiments if protocol is None or self.experiments[e]["protocol"] == protocol]
        if not exps:
            raise ConfigError(f"run {run.run_id} is not evaluated under protocol {protocol!r}")
        every = self.protocol(protocol).get("eval_every") if protocol else None
        until = self.protocol(protocol).get("eval_until") if protocol else None
        if every:
            total = int(run.train["total_steps"])
            steps = sorted(set(range(every, total + 1, every)) | {total})
            if until:  # only the early phase (ACE §5.4: the first 20 steps), without the run's last step
                steps = [s for s in range(every, min(until, total) + 1, every)]
            for e in exps:
                missing = [s for s in steps if s not in run.schedules[e]]
                if missing:
                    raise ConfigError(
                        f"protocols.{protocol}.eval_every: {every} needs checkpoints at {missing[:5]} of run "
                        f"{run.run_id}, but experiment {e!r} saves at {run.schedules[e][:5]}...; set its "
                        f"train.save_freq to a divisor of {every}")
            return steps
        steps = sorted({s for e in exps for s in run.schedules[e]})
        return [s for s in steps if s <= until] if until else steps

    def eval_steps(self, run: Run, protocol: str | None = None) -> list[int]:
        which = (self.config.get("eval") or {}).get("steps", "all")
        steps = self.protocol_steps(run, protocol)
        if which == "all":
            return steps
        if which == "last":
            return [steps[-1]]
        bad = [s for s in which if s not in steps]
        if bad:
            raise ConfigError(f"eval.steps: {bad} are not checkpoint steps of run {run.run_id} ({steps})")
        return list(which)

    def subjects(self, protocol: str) -> list[str]:
        """Run ids and base-model subjects evaluated under ``protocol``."""
        out: list[str] = []
        for exp in self.experiments.values():
            if exp["protocol"] != protocol:
                continue
            for m in exp["models"]:
                if base_subject(m) not in out:
                    out.append(base_subject(m))
        out += [r.run_id for r in self.runs.values()
                if any(self.experiments[e]["protocol"] == protocol for e in r.experiments)]
        return out

    def subject_model(self, subject: str) -> str:
        if subject.startswith(BASE_PREFIX):
            return subject[len(BASE_PREFIX):]
        return self.runs[subject].model

    # ---------------------------------------------------------------- paths
    @staticmethod
    def train_file(dataset: str, family: str, split: str = "train") -> str:
        if family == "generic":
            return f"{RESULTS}/data/{dataset}/{split}.parquet"
        return f"{RESULTS}/data/{dataset}/{family}/{split}.parquet"

    @staticmethod
    def model_record(model: str) -> str:
        return f"resources/models/{model}/model.json"

    @staticmethod
    def checkpoint(run: str, step: int) -> str:
        return f"{RESULTS}/runs/{run}/checkpoints/step_{step}/DONE"

    @staticmethod
    def eval_dir(protocol: str, subject: str, step: int, benchmark: str) -> str:
        return f"{RESULTS}/eval/{protocol}/{subject}/step_{step}/{benchmark}"

    def run_spec(self, rid: str, model_path: str | None = None) -> dict:
        """The resolved run spec (docs/CONTRACTS.md), written to results/runs/{run}/run.json."""
        run = self.runs[rid]
        family = self.family(run.model)
        preset = self.config["methods"][run.method]
        return {
            "run_id": rid,
            "seed": run.seed,
            "backend": run.train.get("backend", "local"),
            "experiments": list(run.experiments),
            "model": {"name": run.model, "family": family, "path": model_path,
                      "params_b": params_billions(run.model, self.config["models"][run.model])},
            "dataset": {"name": run.dataset, "train_files": self.train_file(run.dataset, family, "train"),
                        "val_files": self.train_file(run.dataset, family, "val")},
            "method": {"name": run.method, "estimator": preset["estimator"],
                       "params": copy.deepcopy(preset.get("params") or {})},
            "train": copy.deepcopy(run.train),
        }

    def eval_cells(self, protocol: str | None = None):
        """(protocol, subject, step, benchmark) of every evaluation cell: base models at step 0,
        runs at their evaluated steps."""
        for p in ([protocol] if protocol else self.protocols()):
            for subject in self.subjects(p):
                steps = [0] if subject.startswith(BASE_PREFIX) else self.eval_steps(self.runs[subject], p)
                for step in steps:
                    for b in self.benchmarks(p):
                        yield p, subject, step, b

    def metrics_targets(self, protocol: str | None = None) -> list[str]:
        return [f"{self.eval_dir(*cell)}/metrics.json" for cell in self.eval_cells(protocol)]

    @staticmethod
    def score_marker(protocol: str, subject: str, step: int) -> str:
        """The sentinel a checkpoint's score job writes after all its grades and metrics, listing them
        (rlvr_repro.evaluate.scoring.run_scoring / read_score)."""
        return f"{RESULTS}/eval/{protocol}/{subject}/step_{step}/score.json"

    def score_targets(self, protocol: str | None = None) -> list[str]:
        """One score.json per evaluated checkpoint (the report rules' input: one file per checkpoint)."""
        return list(dict.fromkeys(self.score_marker(p, subject, step)
                                  for p, subject, step, _ in self.eval_cells(protocol)))

    def diagnostics_which(self, protocol: str) -> str:
        """``protocols.<p>.diagnostics`` when set (ACE's analysis protocol measures every evaluated step),
        else config ``eval.diagnostics``: last (default) | all | none."""
        return self.protocol(protocol).get("diagnostics") or (self.config.get("eval") or {}).get("diagnostics", "last")

    def diagnostics_targets(self, protocol: str | None = None) -> list[str]:
        """diagnostics.json cells, per protocol as ``diagnostics_which`` says."""
        return [f"{self.eval_dir(p, subject, step, b)}/diagnostics.json"
                for p, subject, step, b in self.eval_cells(protocol) if self._has_diagnostics(p, subject, step)]

    def _has_diagnostics(self, protocol: str, subject: str, step: int) -> bool:
        which = self.diagnostics_which(protocol)
        if which == "none":
            return False
        return which == "all" or subject.startswith(BASE_PREFIX) or step == self.runs[subject].steps[-1]

    # ---------------------------------------------------------------- evaluation allocations
    def eval_pack_size(self, protocol: str) -> int:
        """Checkpoints of one run evaluated in one allocation under ``protocol``
        (``eval.checkpoints_per_allocation.<protocol>``, default 1)."""
        size = ((self.config.get("eval") or {}).get("checkpoints_per_allocation") or {}).get(protocol, 1)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"eval.checkpoints_per_allocation.{protocol}: must be an int >= 1, got {size!r}")
        return size

    def eval_part(self, protocol: str, subject: str, step: int) -> int | None:
        """Which allocation ("part") of the run's evaluated checkpoints ``step`` falls in: consecutive
        evaluated steps, ``eval_pack_size`` per part. None when checkpoints are not packed (size 1, or a
        base model, which has only step 0)."""
        size = self.eval_pack_size(protocol)
        if size == 1 or subject.startswith(BASE_PREFIX):
            return None
        steps = self.eval_steps(self.runs[subject], protocol)
        if step not in steps:
            raise ConfigError(f"step {step} is not an evaluated checkpoint of {subject} under {protocol} ({steps})")
        return steps.index(step) // size

    def eval_group_name(self, protocol: str, subject: str, step: int) -> str:
        """The Snakemake group (one Slurm allocation) of a checkpoint's evaluation jobs: one per checkpoint,
        or one per part when the protocol packs checkpoints (the part's marker job connects them)."""
        part = self.eval_part(protocol, subject, step)
        if part is None:
            return f"eval_{protocol}_{subject}_step{step}"
        return f"eval_{protocol}_{subject}_part{part}"

    def eval_part_steps(self, protocol: str, subject: str, part: int) -> list[int]:
        size = self.eval_pack_size(protocol)
        return self.eval_steps(self.runs[subject], protocol)[part * size:(part + 1) * size]

    @staticmethod
    def eval_part_marker(protocol: str, subject: str, part: int) -> str:
        return f"{RESULTS}/eval/{protocol}/{subject}/part_{part}.done"

    def eval_part_inputs(self, protocol: str, subject: str, part: int) -> list[str]:
        """The score.json and every diagnostics.json of the part's checkpoints: what its marker waits for."""
        steps = self.eval_part_steps(protocol, subject, part)
        if not steps:
            raise ConfigError(f"{subject} has no part {part} under protocol {protocol}")
        out = []
        for step in steps:
            out.append(self.score_marker(protocol, subject, step))
            if self._has_diagnostics(protocol, subject, step):
                out += [f"{self.eval_dir(protocol, subject, step, b)}/diagnostics.json" for b in self.benchmarks(protocol)]
        return out

    def eval_part_targets(self) -> list[str]:
        """The part markers of every packed protocol (requested by ``evaluate``, so each part's jobs form
        one connected group, i.e. one allocation)."""
        out = []
        for p in self.protocols():
            size = self.eval_pack_size(p)
            if size == 1:
                continue
            for subject in self.subjects(p):
                if subject.startswith(BASE_PREFIX):
                    continue
                n_parts = -(-len(self.eval_steps(self.runs[subject], p)) // size)
                out += [self.eval_part_marker(p, subject, i) for i in range(n_parts)]
        return out

    def checkpoint_targets(self) -> list[str]:
        return [self.checkpoint(r.run_id, s) for r in self.runs.values() for s in r.steps]
