"""What produced the numbers, for the report: the git commit and the versions of the packages that
compute them (training, generation, grading, aggregation). Missing pieces read "unknown" /
"not installed", never an error: a report built from a tarball still renders."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("rlvr-repro", "torch", "transformers", "verl", "vllm", "math-verify", "pandas", "numpy",
            "matplotlib", "snakemake")


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
