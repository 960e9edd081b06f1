"""Inputs and outputs: directories, JSONL with passthrough fields, bad lines, stdin, txt/md output."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import readers
from pipeline.document import Document
from tests.conftest import ARTICLES, jsonl, tamis


def test_directory_is_read_in_sorted_order_with_relative_ids(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.html").write_bytes(b"<p>x</p>")
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "notes.bin").write_bytes(b"\x00")  # unknown suffix: not taken from a directory
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.content_type, d.raw) for d in docs] == [
        ("a.txt", "text/plain", b"a"), ("b/x.html", "text/html", b"<p>x</p>")]


def test_jsonl_records_keep_their_fields_and_bad_lines_become_error_records(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "a", "text": "Bonjour.", "url": "u"}\n'
                     b"not json\n"
                     b'{"html": "<p>Salut</p>"}\n'
                     b'{"text": "caf\xe9"}\n'
                     b'["a list"]\n'
                     b'{"title": "no body"}\n')
    docs = list(readers.read([str(path)]))
    assert [(d.id, d.status) for d in docs] == [
        ("a", "ok"), ("in.jsonl:2", "error"), ("in.jsonl:3", "ok"), ("in.jsonl:4", "error"),
        ("in.jsonl:5", "error"), ("in.jsonl:6", "error")]
    assert docs[0].plain_text == "Bonjour." and docs[0].extra == {"url": "u"}
    assert docs[1].stage == "read" and docs[1].reason == "line 2: not valid JSON (Expecting value at column 1)"
    assert docs[2].html == "<p>Salut</p>"
    assert docs[3].reason == "line 4: not valid UTF-8 (invalid continuation byte at byte 13)"
    assert docs[4].reason == "line 5: expected a JSON object, got list"
    assert docs[5].reason == "line 6: record has no string field 'html' or 'text'"


def test_tamis_output_reads_back_and_reruns_to_the_same_records(tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl"
    assert tamis("run", str(ARTICLES), "-o", str(first), "--jobs", "1").returncode == 0
    second = tmp_path / "second.jsonl"
    assert tamis("run", str(first), "-o", str(second), "--jobs", "1").returncode == 0
    assert jsonl(first) == jsonl(second)
    assert [Document.from_json(r).to_json() for r in jsonl(first)] == jsonl(first)


def test_stdin_html_and_text() -> None:
    html = tamis("run", "-", stdin=b"<p>x</p>")
    assert html.returncode == 0
    [record] = jsonl(html.stdout)
    assert (record["id"], record["content_type"]) == ("stdin", "text/html")
    text = tamis("run", "-", stdin="Première ligne.\n\nDeuxième.".encode())
    assert jsonl(text.stdout)[0]["text"] == "Première ligne.\n\nDeuxième."


def test_stdin_jsonl_is_streamed_record_by_record() -> None:
    lines = b"".join(json.dumps({"id": str(i), "text": f"t{i}"}).encode() + b"\n" for i in range(3))
    done = tamis("run", "-", stdin=lines)
    assert [(r["id"], r["text"]) for r in jsonl(done.stdout)] == [("0", "t0"), ("1", "t1"), ("2", "t2")]


def test_txt_and_md_outputs_write_one_file_per_document(tmp_path: Path) -> None:
    for fmt in ("txt", "md"):
        out = tmp_path / fmt
        assert tamis("run", str(ARTICLES), "--format", fmt, "-o", str(out), "--jobs", "1").returncode == 0
        written = sorted(p.name for p in out.iterdir() if p.suffix == f".{fmt}")
        assert written == [f"{p.stem}.{fmt}" for p in sorted(ARTICLES.iterdir())]


def test_oversized_document_is_an_error_record_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"x" * 2000)
    [doc] = readers.read([str(tmp_path)], max_bytes=1000)
    reason = "document is 2000 bytes, over the limit run.max_bytes=1000"
    assert (doc.status, doc.stage, doc.reason) == ("error", "read", reason)


def test_a_missing_input_is_a_usage_error() -> None:
    done = tamis("run", "does/not/exist")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "tamis: does/not/exist: no such file or directory"
