"""A local job's log holds the run's messages, not verl's import-time noise; real warnings still show."""

import logging
import subprocess
import sys

from rlvr_repro import quiet


def test_importing_the_trainer_prints_no_engine_or_platform_noise():
    code = ("import logging, warnings; logging.basicConfig(level=logging.INFO)\n"
            "import rlvr_repro.train.local\n"
            "warnings.warn('a real warning', UserWarning)\n")
    proc = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert "engine is not available" not in out and "No supported accelerator" not in out, out[-2000:]
    assert "a real warning" in out


def test_the_platform_filter_drops_only_its_two_messages():
    quiet.silence_known_noise()
    quiet.silence_known_noise()  # idempotent: one filter
    logger = logging.getLogger("verl.plugin.platform.platform_manager")
    (flt,) = [f for f in logger.filters if isinstance(f, quiet._DropMessages)]

    def passes(message):
        return flt.filter(logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, (), None))

    assert not passes("No supported accelerator detected. Registered: ('nvidia',). Falling back to 'nvidia'.")
    assert not passes("Platform 'nvidia' (PlatformCUDA) is registered but not available.")
    assert passes("CUDA out of memory on device 0")
