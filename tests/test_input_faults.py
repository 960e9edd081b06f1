"""Hostile and odd inputs end as records or clear messages: bad file names, JSON Python refuses,
record-shaped lines, unreadable paths, FIFOs and process substitution, lines over `run.max_bytes`."""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from pipeline import readers
from pipeline.document import Document
from tests.conftest import ARTICLES, ROOT, jsonl, tamis


def record_line(**fields: Any) -> bytes:
    return json.dumps(fields).encode() + b"\n"


def tamis_record() -> dict[str, Any]:
    """A valid tamis output record, as `tamis run` writes it."""
    doc = Document(id="a", source="s", plain_text=None)
    return doc.to_json() | {"blocks": [{"kind": "paragraph", "text": "Un.", "index": 0, "segments": []}], "text": "Un."}


# --- File names -------------------------------------------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_escaped_with_a_warning(tmp_path: Path) -> None:
    name = os.fsdecode(b"b\xff\xfe.txt")
    (tmp_path / name).write_text("Un article de presse, avec une phrase entière.", encoding="utf-8")
    [doc] = readers.read([str(tmp_path)])
    assert (doc.id, doc.source) == ("b\\xff\\xfe.txt", f"{tmp_path}/b\\xff\\xfe.txt")
    assert [w.message for w in doc.warnings] == ["file name is not valid UTF-8: shown as 'b\\\\xff\\\\xfe.txt'"]
    done = tamis("run", str(tmp_path), "--jobs", "1")
    assert done.returncode == 0
    [record] = jsonl(done.stdout)  # valid UTF-8 on stdout
    assert record["id"] == "b\\xff\\xfe.txt"


# --- JSON that Python's json refuses ----------------------------------------------------------------------

@pytest.mark.parametrize(("line", "reason"), [
    # The parenthesis is CPython's own message, whose wording changes between versions.
    (b'{"text": "x", "n": ' + b"1" * 5000 + b"}", "line 1: JSON that cannot be read here (Exceeds the limit (4300"),
    (b'{"text": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "line 1: JSON nested too deeply to read"),
    # Python reads these as floats no JSON output may hold: written back, the record would not be JSON.
    (b'{"text": "x", "n": NaN}', "line 1: JSON that cannot be read here (NaN is not a JSON number)"),
    (b'{"text": "x", "n": [-Infinity]}', "line 1: JSON that cannot be read here (-Infinity is not a JSON number)"),
    (b'{"text": "x", "n": 1e999}', "line 1: JSON that cannot be read here (1e999 is out of a float's range)"),
])
def test_valid_json_that_python_refuses_is_one_error_record(tmp_path: Path, line: bytes, reason: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(line + b"\n" + record_line(text="Suivant."))
    docs = list(readers.read([str(path)]))
    assert [(d.id, d.status) for d in docs] == [("in.jsonl:1", "error"), ("in.jsonl:2", "ok")]
    assert docs[0].reason is not None and docs[0].reason.startswith(reason)


# --- Lines shaped like tamis records ----------------------------------------------------------------------

def test_a_valid_tamis_record_reads_back_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(json.dumps(tamis_record()).encode() + b"\n")
    [doc] = readers.read([str(path)])
    assert doc.to_json() == tamis_record()


@pytest.mark.parametrize(("change", "problem"), [
    ({"blocks": "not a list"}, "record.blocks: expected array, got string"),
    ({"blocks": [{"kind": "paragraph", "text": 3, "index": 0, "segments": []}]},
     "record.blocks[0].text: expected string, got integer"),
    ({"blocks": [{"kind": "banner", "text": "x", "index": 0, "segments": []}]},
     'record.blocks[0].kind: "banner" is not one of title, heading, paragraph, list_item, caption, quote'),
    ({"status": "done"}, 'record.status: "done" is not one of ok, filtered, error'),
    ({"id": "\ud800"}, "record.id: lone surrogate in text"),
    ({"extra": {"k": ["\udfff"]}}, "record.extra.k[0]: lone surrogate in text"),
    ({"removed": [{"stage": "x"}]}, "record.removed[0]: missing rule, reason, text"),
    ({"metadata": {"url": 5}}, "record.metadata.url: expected string, got integer"),
])
def test_a_tamis_shaped_record_that_breaks_the_schema_is_a_clean_error_record(
        tmp_path: Path, change: dict[str, Any], problem: str) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(json.dumps(tamis_record() | change).encode() + b"\n")
    [doc] = readers.read([str(path)])
    assert (doc.id, doc.status, doc.stage, doc.reason) == (
        "out.jsonl:1", "error", "read", f"line 1: not a valid tamis record ({problem})")


def test_a_cms_row_with_its_own_status_and_blocks_is_an_ordinary_input_record(tmp_path: Path) -> None:
    row = {"id": "cms-7", "status": "published", "text": "Un article du CMS.",
           "blocks": [{"type": "paragraph", "data": {"text": "Un article du CMS."}}]}
    path = tmp_path / "cms.jsonl"
    path.write_bytes(json.dumps(row).encode() + b"\n")
    [doc] = readers.read([str(path)])
    assert (doc.id, doc.status, doc.plain_text) == ("cms-7", "ok", "Un article du CMS.")
    assert doc.extra == {"status": "published", "blocks": row["blocks"]}


# --- Unreadable paths, FIFOs, /dev/stdin, process substitution ---------------------------------------------

def test_an_unreadable_file_is_an_error_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_bytes(b"Lisible.")
    (tmp_path / "secret.txt").write_bytes(b"Illisible.")
    real_open = builtins.open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith("secret.txt"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.status, d.reason) for d in docs] == [
        ("a.txt", "ok", None), ("secret.txt", "error", "cannot open: Permission denied")]


@pytest.mark.skipif(sys.version_info[:2] not in ((3, 11), (3, 12)), reason="simulated through os.scandir, "
                    "which pathlib's glob calls only on 3.11 and 3.12 (root reads any directory: no chmod)")
def test_an_unreadable_directory_is_an_error_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_bytes(b"Lisible.")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.txt").write_bytes(b"Derriere une porte.")
    real_scandir = os.scandir

    def guarded(path: Any = ".") -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", guarded)
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.status, d.reason) for d in docs] == [
        ("a.txt", "ok", None),
        ("locked", "error", "directory cannot be read (permission denied or gone): its files are not read")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_a_chmod_000_file_is_an_error_record(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_bytes(b"x")
    (tmp_path / "secret.txt").chmod(0)
    [doc] = readers.read([str(tmp_path)])
    assert (doc.status, doc.reason) == ("error", "cannot open: Permission denied")


def test_a_fifo_argument_is_read_and_a_fifo_in_a_directory_is_skipped(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(b"Par un tube.")

    writer = threading.Thread(target=feed)
    writer.start()
    [doc] = readers.read([str(fifo)])
    writer.join()
    assert (doc.id, doc.raw) == ("pipe.txt", b"Par un tube.")
    reader = readers.Reader([str(tmp_path)])
    assert list(reader) == []
    assert reader.skipped.first == ["pipe.txt (not a regular file)"]


def test_dev_stdin_and_process_substitution_as_arguments() -> None:
    lines = record_line(id="a", text="Un article par l'entrée standard, une phrase entière.")
    done = tamis("run", "/dev/stdin", "--jobs", "1", stdin=lines)
    assert [(r["id"], r["status"]) for r in jsonl(done.stdout)] == [("a", "ok")]
    article = next(ARTICLES.iterdir())
    script = f'"{sys.executable}" -m pipeline run <(cat "{article}") --jobs 1'
    sub = subprocess.run(["bash", "-c", script], capture_output=True, cwd=ROOT, timeout=120, check=False)
    assert sub.returncode == 0, sub.stderr
    [record] = jsonl(sub.stdout)
    assert record["status"] == "ok" and record["id"].isdigit()  # /dev/fd/N: the id is the descriptor's name


# --- run.max_bytes bounds memory --------------------------------------------------------------------------

def test_a_huge_jsonl_line_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    with path.open("wb") as out:
        out.write(b'{"text": "' + b"a" * 30_000_000 + b'"}\n')
        out.write(record_line(text="Suivant."))
    tracemalloc.start()
    try:
        docs = list(readers.read([str(path)], max_bytes=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(d.status, d.reason) for d in docs] == [
        ("error", "document is 30000012 bytes, over the limit run.max_bytes=1000000"), ("ok", None)]
    assert peak < 8_000_000
