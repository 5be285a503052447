"""A local job's log holds the run's messages, not verl's import-time noise; real warnings still show."""

import subprocess
import sys


def test_importing_the_trainer_prints_no_engine_or_platform_noise():
    code = ("import logging, warnings; logging.basicConfig(level=logging.INFO)\n"
            "import rlvr_repro.train.local\n"
            "warnings.warn('a real warning', UserWarning)\n"
            "logging.getLogger('verl.plugin.platform.platform_manager').warning('another real one')\n")
    proc = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert "engine is not available" not in out and "No supported accelerator" not in out, out[-2000:]
    assert "a real warning" in out and "another real one" in out
