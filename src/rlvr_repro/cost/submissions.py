"""The Slurm submissions a config implies, counted from Snakemake's own dry run.

We ask Snakemake rather than re-deriving the rule structure from the plan, so the count follows the
workflow as it is (rules, ``group:`` / ``--group-components`` from the profile, what already exists on
disk) and cannot drift from it. A dry run prints one block per job (``rule NAME:``) and, where jobs are
grouped, one ``Group job NAME`` header per group job with its member jobs indented below it:

    submissions = group jobs + ungrouped jobs of rules that are not local
    local jobs  = ungrouped jobs of ``localrules`` (they run on the login node)

Group names carry wildcards here (one group per checkpoint: ``eval_ace_<run>_step80``), so group jobs
are counted by the rules they hold (``group[generate_ace+score_ace]``), not by name.

Snakemake's dry run does not say which rules are local, so the ``localrules:`` directives are read
from the workflow files (Snakefile, workflow/rules/*.smk). The parsed job count is checked against
the dry run's own "Job stats" total.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_JOB = re.compile(r"^(?P<indent>\s*)(?:local)?(?:rule|checkpoint) (?P<rule>\w+):\s*$")
_GROUP = re.compile(r"Group job (?P<group>\S+) \(jobs in lexicogr\. order\):")
_TOTAL = re.compile(r"^total\s+(\d+)\s*$")


def local_rules(workflow_dir: Path = REPO) -> set[str]:
    """Rule names listed in ``localrules:`` directives (one line, or indented lines below it)."""
    names: set[str] = set()
    files = [workflow_dir / "Snakefile", *sorted((workflow_dir / "workflow" / "rules").glob("*.smk"))]
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)localrules:(.*)$", line)
            if not m:
                continue
            indent, parts = len(m.group(1)), [m.group(2)]
            for nxt in lines[i + 1:]:
                if not nxt.strip() or len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                parts.append(nxt)
            names |= {n.strip() for n in ",".join(parts).split(",") if n.strip()}
    return names


@dataclass
class Submissions:
    jobs: Counter = field(default_factory=Counter)          # every job, by rule
    submitted: Counter = field(default_factory=Counter)     # ungrouped non-local jobs, by rule
    local: Counter = field(default_factory=Counter)         # ungrouped local jobs, by rule
    groups: Counter = field(default_factory=Counter)        # group jobs, by the rules they hold

    @property
    def n_submissions(self) -> int:
        return sum(self.submitted.values()) + sum(self.groups.values())

    @property
    def n_jobs(self) -> int:
        return sum(self.jobs.values())

    @property
    def n_local(self) -> int:
        return sum(self.local.values())


def parse_dry_run(text: str, local: set[str]) -> Submissions:
    """Count a ``snakemake -n`` listing (see the module docstring)."""
    out, members, total = Submissions(), None, None

    def close_group():
        if members is not None:
            out.groups["group[" + "+".join(sorted(set(members))) + "]"] += 1

    for line in text.splitlines():
        if _GROUP.search(line):
            close_group()
            members = []
            continue
        m = _JOB.match(line)
        if m:
            rule = m.group("rule")
            out.jobs[rule] += 1
            if m.group("indent") and members is not None:
                members.append(rule)  # a member of the group job above
                continue
            close_group()
            members = None
            (out.local if rule in local else out.submitted)[rule] += 1
            continue
        t = _TOTAL.match(line.strip())
        if t and total is None:
            total = int(t.group(1))
    close_group()
    if "Nothing to be done" in text and not out.jobs:
        return out
    if total is None or total != out.n_jobs:
        raise RuntimeError(f"could not read Snakemake's dry run: parsed {out.n_jobs} jobs, its Job stats say "
                           f"{total}; output tail:\n{text[-2000:]}")
    return out


def dry_run(*, workdir: Path, configfiles: list[Path] = (), profile: str | None = None,
            experiments: list[str] | None = None, analysis_passes: bool | None = None,
            targets: tuple[str, ...] = ("all",), timeout: float = 1800) -> Submissions:
    """Run ``snakemake -n`` on this repository's workflow (in ``workdir``) and count its jobs.
    ``experiments`` replaces ``active_experiments`` (``--config``), for one experiment's share;
    ``analysis_passes`` (not None) overrides the config's switch of the figures' analysis passes."""
    cmd = [sys.executable, "-m", "snakemake", *targets, "--dry-run", "--snakefile", str(REPO / "Snakefile"),
           "--directory", str(Path(workdir).resolve())]
    if profile:
        cmd += ["--profile", profile]
    if configfiles:
        cmd += ["--configfile", *[str(Path(c).resolve()) for c in configfiles]]
    overrides = []
    if experiments is not None:
        overrides.append(f"active_experiments=[{','.join(experiments)}]")
    if analysis_passes is not None:
        overrides.append(f"analysis_passes={bool(analysis_passes)}")  # Snakemake parses True/False only
    if overrides:
        cmd += ["--config", *overrides]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    text = proc.stdout + "\n" + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"snakemake dry run failed ({' '.join(cmd[3:])}):\n{text[-3000:]}")
    return parse_dry_run(text, local_rules())
