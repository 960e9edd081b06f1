"""Pathological inputs, each with its exact outcome: one clear record, never a crash or a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import Document, load_config, readers
from pipeline.runner import Pipeline
from tests.conftest import ROOT, jsonl, tamis


@pytest.fixture(scope="module")
def pipe() -> Pipeline:
    p = Pipeline.from_config(load_config(ROOT / "config.yaml"))
    yield p
    p.close()


def outcome(pipe: Pipeline, raw: bytes, content_type: str = readers.UNKNOWN) -> tuple[str, str | None, str | None]:
    [doc] = pipe.process([Document(id="x", source="t", content_type=content_type, raw=raw)])
    return doc.status, doc.stage, doc.reason


def test_a_50_mb_single_line_is_refused_by_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as out:
        out.write(b"a" * (50 * 1024 * 1024))
    [doc] = readers.read([str(big)], max_bytes=load_config(ROOT / "config.yaml").run.max_bytes)
    assert (doc.status, doc.stage, doc.reason) == (
        "error", "read", "document is 52428800 bytes, over the limit run.max_bytes=20000000")
    assert doc.raw is None


def test_html_nested_10000_deep_is_filtered_without_crashing(pipe: Pipeline) -> None:
    html = "<html><body>" + "<div>" * 10_000 + "<p>Un paragraphe tout au fond de la page.</p>" + "</div>" * 10_000
    assert outcome(pipe, html.encode(), "text/html") == ("filtered", "extract", "no main text")


@pytest.mark.parametrize(("raw", "kind"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
    (b"PK\x03\x04\x14\x00\x00\x00", "zip archive"),
])
def test_binary_files_are_unsupported_content(pipe: Pipeline, raw: bytes, kind: str) -> None:
    assert outcome(pipe, raw) == ("filtered", "decode", f"unsupported content: {kind}")


@pytest.mark.parametrize("raw", [b"", b"  \n\t\n\xc2\xa0\n"])
def test_an_empty_file_is_filtered(pipe: Pipeline, raw: bytes) -> None:
    assert outcome(pipe, raw) == ("filtered", "extract", "empty document")


def test_a_file_of_only_boilerplate_is_filtered_with_its_removals(pipe: Pipeline) -> None:
    raw = "PUBLICITÉ\n\nPartager sur Facebook\n\nLaisser un commentaire\n".encode()
    [doc] = pipe.process([Document(id="x", source="t", raw=raw)])
    assert (doc.status, doc.stage, doc.reason) == ("filtered", "boilerplate", "only boilerplate")
    assert [r.text for r in doc.removed] == ["PUBLICITÉ", "Partager sur Facebook", "Laisser un commentaire"]


def test_invalid_utf8_and_non_json_lines_in_jsonl_are_error_records_and_the_rest_is_processed(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"text": "Premier article, en bon ordre."}\n{"text": "caf\xe9"}\n{oops\n'
                       b'{"text": "Dernier article, en bon ordre."}\n')
    done = tamis("run", str(source), "--jobs", "1")
    assert done.returncode == 1
    assert [(r["status"], r.get("reason")) for r in jsonl(done.stdout)] == [
        ("ok", None),
        ("error", "line 2: not valid UTF-8 (invalid continuation byte at byte 13)"),
        ("error", "line 3: not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
        ("ok", None),
    ]
