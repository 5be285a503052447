"""What produced the numbers, for the report: the git commit, the versions of the packages that
compute them (training, generation, grading, aggregation) and the grader of each evaluation protocol.
Missing pieces read "unknown" / "not installed", never an error: a report built from a tarball still
renders."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

# math-verify's verdicts depend on latex2sympy2_extended and the antlr4 runtime it parses with;
# the evalscope grader's on word2number.
PACKAGES = ("rlvr-repro", "torch", "transformers", "verl", "vllm", "math-verify", "latex2sympy2_extended",
            "antlr4-python3-runtime", "word2number", "pandas", "numpy", "matplotlib", "snakemake")


def git_commit(repo: str | Path) -> str:
    """``git rev-parse HEAD`` of ``repo`` (+ "-dirty" when tracked files differ), or "unknown"."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def package_versions(names=PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def protocol_graders(protocols) -> dict[str, str]:
    """``{"grader <protocol>": "<grader>: <what it is>"}`` for the report's provenance line, from the
    config's ``protocols:`` mapping (a protocol without ``grader`` uses the strict default)."""
    from rlvr_repro.evaluate.grading import DEFAULT_GRADER, GRADERS

    out = {}
    for name, spec in sorted((protocols or {}).items()):
        grader = (spec or {}).get("grader", DEFAULT_GRADER)
        out[f"grader {name}"] = f"{grader}: {GRADERS.get(grader, 'unknown grader')}"
    return out
