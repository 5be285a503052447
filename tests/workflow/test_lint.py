"""`snakemake --lint` is clean on the default config (the snakemake-workflows catalog requires it), and the
rule files are snakefmt-formatted."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_snakemake_lint_reports_nothing():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    # Snakemake exits 1 when it prints lints; each group of them starts with "Lints for".
    assert proc.returncode == 0 and "Lints for" not in out, out[-4000:]
    assert "Congratulations, your workflow is in a good condition" in out, out[-2000:]


def test_rule_files_are_snakefmt_formatted():
    """`snakefmt --check` (the project's [tool.snakefmt] in pyproject.toml) leaves every rule file as is."""
    pytest.importorskip("snakefmt")
    proc = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/rules"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
