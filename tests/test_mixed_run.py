"""End to end: `tamis run` over a folder of everything a scraped-news user has."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import ARTICLES, FIXTURES, jsonl, tamis
from tests.warcs import Capture, write_warc

pytest.importorskip("warcio")


def test_a_mixed_folder_yields_one_record_per_document_and_reports_what_it_skipped(tmp_path: Path) -> None:
    source = tmp_path / "scrape"
    source.mkdir()
    page = (FIXTURES / "html" / "mieter_de.html").read_bytes()
    articles = sorted(ARTICLES.iterdir())
    (source / "a_page.html").write_bytes(page)
    (source / "b_page.html.gz").write_bytes(gzip.compress(page))
    (source / "c_article.txt").write_bytes(articles[0].read_bytes())
    rows = [{"id": f"dump-{i}", "text": p.read_text(encoding="utf-8"), "url": f"https://ex.test/{i}"}
            for i, p in enumerate(articles[1:3])]
    dump = "".join(json.dumps(row) + "\n" for row in rows)
    (source / "d_dump.jsonl.gz").write_bytes(gzip.compress(dump.encode()))
    write_warc(source / "e_crawl.warc.gz", [
        Capture("https://news.test/mieter", page, content_type="text/html; charset=iso-8859-1"),
        Capture("https://news.test/logo.png", b"\x89PNG", content_type="image/png")])
    (source / "f_notes.docx").write_bytes(b"PK\x03\x04")
    (source / "g_saved_page.txt").write_bytes(page)
    out = tmp_path / "out" / "clean.jsonl"
    done = tamis("run", str(source), "-o", str(out), "--jobs", "1")
    assert done.returncode == 0, done.stderr
    records = jsonl(out)
    assert [(r["id"], r["status"], r["content_type"]) for r in records] == [
        ("a_page.html", "ok", "text/html"),
        ("b_page.html.gz", "ok", "text/html"),
        ("c_article.txt", "ok", "text/plain"),
        ("dump-0", "ok", "text/plain"),
        ("dump-1", "ok", "text/plain"),
        ("https://news.test/mieter", "ok", "text/html"),
        ("g_saved_page.txt", "ok", "text/html"),
    ]
    assert len({r["text"] for r in records if r["content_type"] == "text/html"}) == 1  # one page, four ways in
    assert records[3]["metadata"]["url"] == "https://ex.test/0"
    assert records[5]["metadata"]["url"] == "https://news.test/mieter"
    assert records[6]["warnings"][0]["message"] == "content is HTML, not the plain text its name says: read as HTML"
    stats = json.loads((out.parent / "clean.stats.json").read_text(encoding="utf-8"))
    assert (stats["documents"], stats["skipped"]["count"]) == (7, 2)
    assert stats["skipped"]["first"] == [
        f"{source}/e_crawl.warc.gz: https://news.test/logo.png (image/png) (WARC record not an HTML page)",
        "f_notes.docx (unknown suffix)"]
