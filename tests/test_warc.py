"""WARC input: HTML responses become documents with their URL, capture date and HTTP charset."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import load_config, readers
from pipeline.document import Metadata
from pipeline.runner import Pipeline
from tests.conftest import ROOT
from tests.warcs import Capture, write_warc

pytest.importorskip("warcio")

POLISH = "<html><body><article><p>Zażółć gęślą jaźń: pełne zdanie artykułu prasowego.</p></article></body></html>"


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_html_responses_are_documents_and_the_rest_is_counted_as_skipped(tmp_path: Path, name: str) -> None:
    path = write_warc(tmp_path / name, [
        Capture("https://news.test/a", b"<html><body><p>Un article.</p></body></html>"),
        Capture("https://news.test/logo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
        Capture("https://news.test/old", b"", status="301 Moved Permanently"),
        Capture("https://news.test/b", b"<p>Deux.</p>", content_type="application/xhtml+xml",
                date="2024-06-02T08:30:00Z"),
    ], revisits=("https://news.test/a",), gzip=name.endswith(".gz"))
    reader = readers.Reader([str(path)])
    docs = list(reader)
    assert [(d.id, d.source, d.content_type, d.raw, d.metadata.url, d.extra["warc_date"]) for d in docs] == [
        ("https://news.test/a", str(path), "text/html", b"<html><body><p>Un article.</p></body></html>",
         "https://news.test/a", "2024-05-01T10:00:00Z"),
        ("https://news.test/b", str(path), "text/html", b"<p>Deux.</p>", "https://news.test/b",
         "2024-06-02T08:30:00Z"),
    ]
    assert all(d.extra["warc_record_id"].startswith("<urn:uuid:") for d in docs)
    assert reader.skipped.to_json() == {
        "count": 3,
        "reasons": {"WARC record not an HTML page": 2, "WARC revisit record (no payload)": 1},
        "first": [f"{path}: https://news.test/logo.png (image/png) (WARC record not an HTML page)",
                  f"{path}: https://news.test/old (HTTP 301) (WARC record not an HTML page)",
                  f"{path}: https://news.test/a (WARC revisit record (no payload))"]}


def test_the_http_charset_decides_the_decoding(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "pl.warc.gz", [
        Capture("https://news.test/pl", POLISH.encode("iso-8859-2"), content_type='text/html; charset="ISO-8859-2"')])
    [doc] = readers.read([str(path)])
    assert doc.metadata == Metadata(url="https://news.test/pl", encoding="iso-8859-2")
    [out] = Pipeline.from_config(load_config(ROOT / "config.yaml")).process([doc])
    assert (out.status, out.text, out.metadata.encoding) == (
        "ok", "Zażółć gęślą jaźń: pełne zdanie artykułu prasowego.", "iso8859-2")


def test_a_wrong_http_charset_falls_back_to_the_page_evidence(tmp_path: Path) -> None:
    body = "<html><body><article><p>Un été très chaud, une phrase entière.</p></article></body></html>"
    path = write_warc(tmp_path / "bad.warc.gz", [
        Capture("https://news.test/fr", body.encode("utf-8"), content_type="text/html; charset=us-ascii-nope")])
    [out] = Pipeline.from_config(load_config(ROOT / "config.yaml")).process(list(readers.read([str(path)])))
    assert (out.text, out.metadata.encoding) == ("Un été très chaud, une phrase entière.", "utf-8")


def test_a_file_that_is_not_a_warc_despite_its_name_is_read_as_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "crawl.warc").write_bytes(b"Juste du texte.")
    [doc] = readers.read([str(tmp_path / "crawl.warc")])
    assert (doc.content_type, [w.message for w in doc.warnings]) == (
        "text/plain", ["content is plain text, not the WARC its name says: read as plain text"])


@pytest.mark.parametrize("tail", [
    b"garbage here\r\n\r\n",
    b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 500\r\n\r\nshort",  # no Target-URI: warcio crashes
])
def test_a_broken_warc_ends_with_an_error_record_after_its_good_pages(tmp_path: Path, tail: bytes) -> None:
    path = write_warc(tmp_path / "crawl.warc", [Capture("https://news.test/a", b"<p>Un.</p>")], gzip=False)
    path.write_bytes(path.read_bytes() + tail)
    docs = list(readers.read([str(path)]))
    assert [(d.id, d.status) for d in docs] == [("https://news.test/a", "ok"), ("crawl.warc", "error")]
    assert docs[1].reason is not None
    assert docs[1].reason.startswith("read failed: FormatError: WARC unreadable after record 3: ")


def test_a_page_over_max_bytes_is_an_error_record_that_keeps_its_url(tmp_path: Path) -> None:
    path = write_warc(tmp_path / "big.warc.gz", [Capture("https://news.test/big", b"<p>" + b"x" * 5000 + b"</p>"),
                                                 Capture("https://news.test/small", b"<p>Petit.</p>")])
    big, small = readers.read([str(path)], max_bytes=1000)
    assert (big.id, big.status, big.metadata.url, big.raw) == ("https://news.test/big", "error",
                                                              "https://news.test/big", None)
    assert big.reason == "document is over the limit run.max_bytes=1000"
    assert (small.status, small.raw) == ("ok", b"<p>Petit.</p>")
