"""Atomic writes, JSON/JSONL and hashes shared by every stage (rlvr_repro.io, rlvr_repro.data.builder_io)."""

import hashlib
import json

import pytest

from rlvr_repro.data.errors import DataError
from rlvr_repro.data.builder_io import read_jsonl as read_source_jsonl
from rlvr_repro.io import (JsonlError, atomic_write, dumps_row, read_jsonl, repair_torn_tail,
                           sha256_file, write_json, write_jsonl, write_text)


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = write_text(tmp_path / "sub" / "a.txt", "old\n")
    assert path.read_text() == "old\n"

    def half_then_crash(tmp):
        tmp.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        atomic_write(path, half_then_crash)
    assert path.read_text() == "old\n" and _leftovers(path.parent) == []


def test_write_json_key_order_and_bytes(tmp_path):
    obj = {"b": 1, "a": {"d": [1, 2], "c": "é"}}
    write_json(tmp_path / "i.json", obj)
    assert list(json.loads((tmp_path / "i.json").read_text())) == ["b", "a"]     # insertion order
    write_json(tmp_path / "s.json", obj, sort_keys=True)
    # the builders' manifests: the same bytes as json.dumps(sort_keys=True), non-ASCII kept
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == json.dumps(
        obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("bad, where", [
    ({"a": float("nan")}, "row.a"), ({"a": [1.0, float("inf")]}, r"row.a\[1\]"),
    ({"a": {"b": (0.0, float("-inf"))}}, r"row.a.b\[1\]"),
])
def test_non_finite_numbers_are_refused_by_name(tmp_path, bad, where):
    with pytest.raises(ValueError, match=f"{where}: non-finite number"):
        dumps_row(bad)
    with pytest.raises(ValueError, match="non-finite"):
        write_jsonl(tmp_path / "r.jsonl", [{"ok": 1}, bad])
    with pytest.raises(ValueError, match=r"j.json.*non-finite"):
        write_json(tmp_path / "j.json", bad)
    assert not (tmp_path / "r.jsonl").exists() and not (tmp_path / "j.json").exists()
    assert _leftovers(tmp_path) == []


def test_jsonl_round_trip(tmp_path):
    rows = [{"id": "1", "text": "ü\nline"}, {"id": "2", "x": [1, 2.5, None]}]
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    assert path.read_text(encoding="utf-8").count("\n") == 2
    assert read_jsonl(path) == rows


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n')
    with pytest.raises(JsonlError, match=r"b.jsonl:3: not a JSON object \(got list\)") as err:
        read_jsonl(path)
    assert isinstance(err.value, ValueError) and err.value.lineno == 3
    path.write_text('{"a": 1}\n{"a": ')                          # a torn last line is an error
    with pytest.raises(JsonlError, match=r"b.jsonl:2: not valid JSON"):
        read_jsonl(path)


def test_builders_read_jsonl_raises_their_data_error(tmp_path):
    path = tmp_path / "src.jsonl"
    path.write_text('{"a": 1}\n"text"\n')
    with pytest.raises(DataError, match=r"dataset 'd', row 1: .*src.jsonl: line 2 is not a JSON object"):
        read_source_jsonl(path, dataset="d")


@pytest.mark.parametrize("content, kept", [
    (b'{"a": 1}\n{"a": 2', b'{"a": 1}\n'), (b'{"a": 1}\n', b'{"a": 1}\n'), (b"", b""), (b'{"a"', b""),
    (b"x" * 70000 + b"\n" + b"y" * 70000, b"x" * 70000 + b"\n"),    # the newline lies chunks back
])
def test_repair_torn_tail(tmp_path, content, kept):
    path = tmp_path / "g.jsonl"
    path.write_bytes(content)
    assert repair_torn_tail(path) == len(content) - len(kept)
    assert path.read_bytes() == kept


def test_sha256_file(tmp_path):
    data = b"abc" * 500000                                       # more than one 1 MiB block
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()
