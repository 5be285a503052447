"""Where a dataset's rows come from: a pinned Hugging Face revision, or a local mirror of it.

A *source spec* is one mapping from ``config/datasets.yaml``:

    {hf: "open-r1/OpenR1-Math-220k", config: "default", split: "train", revision: "<commit sha>"}
    {path: "resources/raw/openr1_default"}                 # a snapshot written by download_source
    {path: "mirror/MATH/train", format: "math_tree"}       # MATH's per-problem JSON tree
    {path: "bench/aime24.jsonl", revision: "qwen25-math@a45202b"}   # any local file; revision = a label

Local formats: ``.parquet``; ``.jsonl``; ``.json`` (a list of objects); ``.arrow`` (Arrow IPC, what
``datasets`` writes); a ``save_to_disk`` directory; a directory of parquet/jsonl shards (``glob``
picks them, e.g. an HF repo mirror's ``extended/*.parquet``); MATH's ``<subject>/<n>.json`` tree.

Compute nodes often have no internet, so the workflow snapshots each HF source once on the login
node with :func:`download_source` (a Snakemake ``localrule``) and every builder reads the snapshot.
Rows are streamed in batches with only the columns a builder asks for: OpenR1's generations are
gigabytes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from rlvr_repro.data.errors import DataError
from rlvr_repro.data.builder_io import read_jsonl
from rlvr_repro.io import sha256_file, write_json

SNAPSHOT_MARKER = "source.json"
HF_KEYS = {"hf", "config", "split", "revision", "data_files"}
PATH_KEYS = {"path", "format", "split", "glob", "revision"}  # revision: a label for a local mirror
LOCAL_FORMATS = ("parquet", "jsonl", "json", "arrow", "disk", "shards", "math_tree")
_BATCH = 1024


@dataclass
class Source:
    """Rows of one source, streamed; ``info`` goes into the manifest verbatim."""

    dataset: str
    info: dict
    columns: list[str]
    num_rows: int
    _batches: Callable[[list[str] | None], Iterator[list[dict]]] = field(repr=False)

    def rows(self, columns: list[str] | None = None, *, progress: bool = True,
             desc: str | None = None) -> Iterator[tuple[int, dict]]:
        """``(row_index, row)`` pairs; ``columns`` limits what is read (all when None)."""
        if columns is not None:
            missing = [c for c in columns if c not in self.columns]
            if missing:
                raise DataError(self.dataset, f"source {self.info.get('location')} lacks column(s) "
                                              f"{missing}; it has {sorted(self.columns)}", field=missing[0])
        bar = tqdm(total=self.num_rows, desc=desc or f"{self.dataset}: read", unit="row",
                   disable=not progress, leave=False)
        index = 0
        for batch in self._batches(columns):
            for row in batch:
                yield index, row
                index += 1
            bar.update(len(batch))
        bar.close()

    @property
    def revision(self) -> str | None:
        return self.info.get("revision")


def validate_spec(spec: dict, *, dataset: str, source: str = "source") -> str:
    """``"hf"`` or ``"path"`` (what will be read); raises naming the dataset and the bad key.

    A spec may carry both: ``path`` is then an offline mirror (or snapshot) of the ``hf`` source and
    is what gets read, while the hf fields stay in the manifest as provenance. This lets a cluster
    or local config point a paper-scale source at a mirror by adding one key.
    """
    if not isinstance(spec, dict):
        raise DataError(dataset, f"{source}: a source spec must be a mapping, got {type(spec).__name__}",
                        field=source)
    has_hf, has_path = bool(spec.get("hf")), bool(spec.get("path"))
    if not (has_hf or has_path):
        raise DataError(dataset, f"{source}: give 'hf' or 'path' (got keys {sorted(spec)})", field=source)
    allowed = (HF_KEYS if has_hf else set()) | (PATH_KEYS if has_path else set()) | {"hf", "path"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise DataError(dataset, f"{source}: unknown key(s) {unknown}; allowed: {sorted(allowed)}",
                        field=f"{source}.{unknown[0]}")
    if has_hf:
        for key in ("split", "revision"):
            if not spec.get(key):
                raise DataError(dataset, f"{source}: an hf source needs '{key}'", field=f"{source}.{key}")
    fmt = spec.get("format")
    if fmt is not None and fmt not in LOCAL_FORMATS:
        raise DataError(dataset, f"{source}: format {fmt!r} is not one of {LOCAL_FORMATS}",
                        field=f"{source}.format")
    return "path" if has_path else "hf"


def needs_download(spec: dict) -> bool:
    """True for a source that is read from the Hub (no local ``path``): a download localrule's job."""
    return not spec.get("path") and bool(spec.get("hf"))


def with_snapshot(spec: dict, snapshot_dir: Path | str | None) -> dict:
    """``spec`` reading from ``snapshot_dir`` (written by :func:`download_source`) when given."""
    if snapshot_dir is None or not needs_download(spec):
        return spec
    return {**spec, "path": str(snapshot_dir)}


def load_source(spec: dict, *, dataset: str, source: str = "source") -> Source:
    """Open a source spec (see module docstring) for streaming."""
    kind = validate_spec(spec, dataset=dataset, source=source)
    if kind == "hf":
        return _load_hf(spec, dataset)
    return _load_path(spec, dataset, source)


# ----------------------------------------------------------------------------------------------
# Hugging Face

def _load_hf(spec: dict, dataset: str) -> Source:
    import datasets

    ds = datasets.load_dataset(spec["hf"], spec.get("config"), split=spec["split"],
                               revision=spec["revision"], data_files=spec.get("data_files"))
    info = {"kind": "hf", "location": spec["hf"], "config": spec.get("config"), "split": spec["split"],
            "revision": spec["revision"], "pinned": _is_commit(spec["revision"])}
    return _from_hf_dataset(ds, dataset, info)


def _from_hf_dataset(ds, dataset: str, info: dict) -> Source:
    def batches(columns):
        view = ds.select_columns(columns) if columns is not None else ds
        for batch in view.iter(batch_size=_BATCH):
            keys = list(batch)
            n = len(batch[keys[0]]) if keys else 0
            yield [{k: batch[k][i] for k in keys} for i in range(n)]

    return Source(dataset, info, list(ds.column_names), len(ds), batches)


def _is_commit(revision: str | None) -> bool:
    return bool(revision) and re.fullmatch(r"[0-9a-f]{40}", revision) is not None


def download_source(spec: dict, out_dir: Path, *, dataset: str = "download") -> dict:
    """Snapshot a pinned HF source to ``out_dir`` (``save_to_disk`` + ``source.json``).

    Runs on a machine with internet (a Snakemake ``localrule``); builders then read
    ``{path: out_dir}`` offline. ``source.json`` records the spec and the commit the revision
    resolved to, and :func:`load_source` carries it into the manifest.
    """
    import datasets

    if validate_spec(spec, dataset=dataset) != "hf":
        raise DataError(dataset, "download_source needs an hf source", field="hf")
    out_dir = Path(out_dir)
    ds = datasets.load_dataset(spec["hf"], spec.get("config"), split=spec["split"],
                               revision=spec["revision"], data_files=spec.get("data_files"))
    tmp = out_dir.with_name(out_dir.name + ".partial")
    if tmp.exists():
        import shutil
        shutil.rmtree(tmp)
    ds.save_to_disk(str(tmp))
    meta = {"kind": "hf", "location": spec["hf"], "config": spec.get("config"), "split": spec["split"],
            "revision": spec["revision"], "resolved_revision": _resolve_commit(spec),
            "pinned": _is_commit(spec["revision"]), "num_rows": len(ds)}
    write_json(tmp / SNAPSHOT_MARKER, meta, sort_keys=True)
    if out_dir.exists():
        import shutil
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    return meta


def _resolve_commit(spec: dict) -> str | None:
    if _is_commit(spec["revision"]):
        return spec["revision"]
    try:
        from huggingface_hub import HfApi
        return HfApi().dataset_info(spec["hf"], revision=spec["revision"]).sha
    except Exception:  # noqa: BLE001 - recording the commit is best effort; the spec is kept anyway
        return None


# ----------------------------------------------------------------------------------------------
# Local paths

def _load_path(spec: dict, dataset: str, source: str) -> Source:
    path = Path(spec["path"])
    if not path.exists():
        raise DataError(dataset, f"{source}: local path {path} does not exist", field=f"{source}.path")
    fmt = spec.get("format") or _guess_format(path)
    info = {"kind": "path", "location": str(path), "format": fmt, "split": spec.get("split"),
            "revision": spec.get("revision")}
    if spec.get("hf"):
        info["mirror_of"] = {k: spec.get(k) for k in ("hf", "config", "split", "revision")}
        info["revision"] = info["revision"] or spec.get("revision")
    if fmt == "disk":
        return _load_disk(path, spec, dataset, info)
    if fmt == "math_tree":
        root = path / spec["split"] if spec.get("split") and (path / spec["split"]).is_dir() else path
        files = sorted(root.glob("*/*.json"), key=lambda p: (p.parent.name, _numeric_stem(p)))
        if not files:
            raise DataError(dataset, f"{source}: no <subject>/<n>.json files under {root}", field=f"{source}.path")
        info["sha256"] = _tree_hash(files, root)
        prefix = root.name
        rows = []
        for f in files:
            row = _read_json_file(f, dataset)
            if not isinstance(row, dict):
                raise DataError(dataset, f"{f} is not a JSON object", row=str(f))
            row.setdefault("unique_id", f"{prefix}/{f.parent.name}/{f.name}")
            rows.append(row)
        return _from_rows(rows, dataset, info)
    if fmt == "shards":
        files = sorted(path.glob(spec.get("glob") or "*.parquet"))
        if not files:
            raise DataError(dataset, f"{source}: no files match {spec.get('glob') or '*.parquet'} under {path}",
                            field=f"{source}.glob")
        info["sha256"] = _tree_hash(files, path)
        return _concat([_load_file(f, _guess_format(f), dataset, dict(info)) for f in files], dataset, info)
    info["sha256"] = sha256_file(path)
    return _load_file(path, fmt, dataset, info)


def _guess_format(path: Path) -> str:
    if path.is_dir():
        if (path / "state.json").exists() or (path / "dataset_dict.json").exists() or (path / SNAPSHOT_MARKER).exists():
            return "disk"
        if any(path.glob("*/*.json")) or any(path.glob("*/*/*.json")):  # <subject>/<n>.json, maybe under <split>/
            return "math_tree"
        return "shards"
    suffix = path.suffix.lower()
    return {".parquet": "parquet", ".jsonl": "jsonl", ".json": "json", ".arrow": "arrow"}.get(suffix, "jsonl")


def _load_file(path: Path, fmt: str, dataset: str, info: dict) -> Source:
    if fmt == "parquet":
        pf = pq.ParquetFile(path)

        def batches(columns):
            for b in pf.iter_batches(batch_size=_BATCH, columns=columns):
                yield b.to_pylist()

        return Source(dataset, info, list(pf.schema_arrow.names), pf.metadata.num_rows, batches)
    if fmt == "arrow":
        table = _read_arrow(path)
        return _from_table(table, dataset, info)
    if fmt == "jsonl":
        return _from_rows(read_jsonl(path, dataset=dataset), dataset, info)
    if fmt == "json":
        rows = _read_json_file(path, dataset)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataError(dataset, f"{path}: expected a JSON list of objects")
        return _from_rows(rows, dataset, info)
    raise DataError(dataset, f"{path}: unsupported format {fmt!r}", field="format")


def _load_disk(path: Path, spec: dict, dataset: str, info: dict) -> Source:
    import datasets

    marker = path / SNAPSHOT_MARKER
    if marker.exists():
        meta = json.loads(marker.read_text())
        # the commit the snapshot really holds beats the (possibly symbolic) revision in the spec
        info.update({"snapshot_of": meta.get("location"), "config": meta.get("config"),
                     "revision": meta.get("resolved_revision") or info.get("revision") or meta.get("revision"),
                     "pinned": meta.get("pinned")})
    ds = datasets.load_from_disk(str(path))
    if isinstance(ds, datasets.DatasetDict):
        split = spec.get("split")
        if split not in ds:
            raise DataError(dataset, f"{path} holds splits {sorted(ds)}; name one with 'split'", field="split")
        ds = ds[split]
    return _from_hf_dataset(ds, dataset, info)


def _read_arrow(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        try:
            return pa.ipc.open_stream(source).read_all()
        except pa.ArrowInvalid:
            source.seek(0)
            return pa.ipc.open_file(source).read_all()


def _from_table(table: pa.Table, dataset: str, info: dict) -> Source:
    def batches(columns):
        view = table.select(columns) if columns is not None else table
        for b in view.to_batches(max_chunksize=_BATCH):
            yield b.to_pylist()

    return Source(dataset, info, list(table.column_names), table.num_rows, batches)


def _from_rows(rows: list[dict], dataset: str, info: dict) -> Source:
    columns: list[str] = []
    seen = set()
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                columns.append(k)

    def batches(cols):
        for i in range(0, len(rows), _BATCH):
            chunk = rows[i:i + _BATCH]
            yield chunk if cols is None else [{c: r.get(c) for c in cols if c in r} for r in chunk]

    return Source(dataset, info, columns, len(rows), batches)


def _concat(parts: list[Source], dataset: str, info: dict) -> Source:
    columns = parts[0].columns

    def batches(cols):
        for part in parts:
            yield from part._batches(cols)

    return Source(dataset, info, columns, sum(p.num_rows for p in parts), batches)


def _read_json_file(path: Path, dataset: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(dataset, f"{path} is not valid JSON ({err.msg}, line {err.lineno})", row=str(path)) from err


def _numeric_stem(path: Path):
    return (0, int(path.stem), "") if path.stem.isdigit() else (1, 0, path.stem)


def _tree_hash(files: list[Path], root: Path) -> str:
    """sha256 over (relative path, file sha256) of every file: one hash for a directory source."""
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(root)}\t{sha256_file(f)}\n".encode())
    return h.hexdigest()
