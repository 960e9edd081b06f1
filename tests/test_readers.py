"""Reading inputs: directories, compression, sniffing, JSONL fields and bad lines, stdin, skipped files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline import config, readers
from pipeline.document import Document, Metadata
from pipeline.manifest import Manifest
from tests.conftest import ARTICLES, ROOT, jsonl, tamis


def test_directory_is_read_in_sorted_order_with_relative_ids(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.html").write_bytes(b"<p>x</p>")
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "notes.bin").write_bytes(b"\x00")  # unknown suffix: not taken from a directory
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.content_type, d.raw) for d in docs] == [
        ("a.txt", "text/plain", b"a"), ("b/x.html", "text/html", b"<p>x</p>")]


def test_a_directory_is_read_in_path_order_and_the_manifest_lists_it_so(tmp_path: Path) -> None:
    """Paths compare part by part (`a/b.txt` before `a-b.txt`), not as strings, where `/` sorts after `-`."""
    (tmp_path / "a").mkdir()
    for name in ("a/b.txt", "a-b.txt", "a.txt", "a/a b.txt"):
        (tmp_path / name).write_bytes(name.encode())
    order = ["a/a b.txt", "a/b.txt", "a-b.txt", "a.txt"]
    assert [d.id for d in readers.read([str(tmp_path)])] == order
    cfg = config.load(None, [f"run.output={tmp_path.parent / 'out.jsonl'}"])
    assert list(Manifest.of(cfg, [str(tmp_path)]).files) == order


def test_the_manifest_and_the_reader_of_a_run_list_a_directory_once(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest records the files the run's reader then reads, from one glob and one `stat` per file."""
    for name in ("b.txt", "a.txt", "c.bin"):
        (tmp_path / name).write_bytes(name.encode())
    cfg = config.load(None, [f"run.output={tmp_path.parent / 'out.jsonl'}"])
    alone = Manifest.of(cfg, [str(tmp_path)])
    globs: list[str] = []
    real_glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: globs.append(pattern) or real_glob(self, pattern))
    reader = readers.Reader([str(tmp_path)], cfg.run.glob)
    assert Manifest.of(cfg, [str(tmp_path)], reader) == alone
    assert list(alone.files) == ["a.txt", "b.txt", "c.bin"]  # every regular file: a new one changes the run
    assert [d.id for d in reader.documents()] == ["a.txt", "b.txt"]
    assert globs == ["**/*"]


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
    assert docs[0].plain_text == "Bonjour." and docs[0].metadata.url == "u" and docs[0].extra == {}
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


@pytest.mark.parametrize("size", [0, 1, 65_535, 65_536, 65_537, 200_000])
@pytest.mark.parametrize("compress", [False, True])
def test_a_document_is_read_whole_whether_it_fits_in_the_sniffed_head_or_not(tmp_path: Path, size: int,
                                                                            compress: bool) -> None:
    data = bytes(range(32, 127)) * (size // 95) + b"x" * (size % 95)
    (tmp_path / "a.txt.gz" if compress else tmp_path / "a.txt").write_bytes(gzip.compress(data) if compress else data)
    [doc] = readers.read([str(tmp_path)])
    assert (doc.status, doc.raw) == ("ok", data)
    [limited] = readers.read([str(tmp_path)], max_bytes=max(size - 1, 1))
    assert limited.status == ("error" if size > 1 else "ok")


def test_a_missing_input_is_a_usage_error() -> None:
    done = tamis("run", "does/not/exist")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "tamis: does/not/exist: no such file or directory"


# --- Compression: read as the format inside ---------------------------------------------------------------

PAGE = b"<!DOCTYPE html><html><body><article><p>Un article de presse.</p></article></body></html>"


def _compress(data: bytes, method: str) -> bytes:
    import bz2
    import gzip
    import lzma

    if method == "zst":
        zstandard = pytest.importorskip("zstandard")
        return bytes(zstandard.ZstdCompressor().compress(data))
    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[method](data)


@pytest.mark.parametrize("method", ["gz", "bz2", "xz", "zst"])
def test_compressed_files_in_a_directory_read_as_the_format_inside(tmp_path: Path, method: str) -> None:
    (tmp_path / f"page.html.{method}").write_bytes(_compress(PAGE, method))
    (tmp_path / f"notes.txt.{method}").write_bytes(_compress(b"Une note.", method))
    (tmp_path / f"dump.jsonl.{method}").write_bytes(_compress(b'{"id": "r1", "text": "Texte."}\n', method))
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.content_type, d.raw, d.plain_text, d.warnings) for d in docs] == [
        ("r1", "text/plain", None, "Texte.", []),
        (f"notes.txt.{method}", "text/plain", b"Une note.", None, []),
        (f"page.html.{method}", "text/html", PAGE, None, []),
    ]


def test_content_compressed_without_saying_so_is_decompressed_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(gzip.compress(PAGE))  # wget keeps a gzip Content-Encoding as is
    [doc] = readers.read([str(tmp_path)])
    assert (doc.content_type, doc.raw) == ("text/html", PAGE)
    assert [w.message for w in doc.warnings] == ["content is gzip-compressed: decompressed"]


def test_a_corrupt_compressed_file_is_an_error_record(tmp_path: Path) -> None:
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(PAGE)[:30])
    [doc] = readers.read([str(tmp_path)])
    assert (doc.id, doc.status, doc.stage) == ("page.html.gz", "error", "read")
    assert doc.reason == "read failed: EOFError: Compressed file ended before the end-of-stream marker was reached"


def test_a_compressed_document_over_max_bytes_is_refused_without_inflating_it(tmp_path: Path) -> None:
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * 5_000_000))
    [doc] = readers.read([str(tmp_path)], max_bytes=1000)
    assert (doc.status, doc.reason) == ("error", "document is over the limit run.max_bytes=1000")


# --- Skipped inputs and empty runs ------------------------------------------------------------------------

def test_skipped_files_are_counted_with_their_names_and_reasons(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"Un texte.")
    (tmp_path / "notes.bin").write_bytes(b"\x00")
    (tmp_path / "data.csv").write_bytes(b"a,b")
    (tmp_path / "dangling.html").symlink_to(tmp_path / "gone.html")
    reader = readers.Reader([str(tmp_path)])
    assert [d.id for d in reader] == ["a.txt"]
    assert reader.skipped.to_json() == {
        "count": 3, "reasons": {"broken link": 1, "unknown suffix": 2},
        "first": ["dangling.html (broken link)", "data.csv (unknown suffix)", "notes.bin (unknown suffix)"]}


def test_skipped_files_are_reported_in_stats_json_and_the_summary(tmp_path: Path) -> None:
    from pipeline import load_config
    from pipeline.runner import run

    source = tmp_path / "in"
    source.mkdir()
    (source / "a.txt").write_text("Un article de presse, avec une phrase entière.", encoding="utf-8")
    (source / "notes.bin").write_bytes(b"\x00")
    out = tmp_path / "out" / "clean.jsonl"
    stats = run(load_config(ROOT / "config.yaml", [f"run.output={out}", "run.jobs=1"]), [str(source)])
    written = json.loads((out.parent / "clean.stats.json").read_text(encoding="utf-8"))
    assert written["skipped"] == {"count": 1, "reasons": {"unknown suffix": 1}, "first": ["notes.bin (unknown suffix)"]}
    assert stats.summary().splitlines()[1] == "skipped 1 inputs: notes.bin (unknown suffix)"


def test_no_input_document_at_all_is_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "notes.bin").write_bytes(b"\x00")
    out = tmp_path / "out.jsonl"
    done = tamis("run", str(source), "-o", str(out), "--jobs", "1")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == (f"tamis: no input document in {source}: 1 skipped, e.g. "
                                            "notes.bin (unknown suffix)")
    assert not out.exists()
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert tamis("run", str(empty), "--jobs", "1").returncode == 2


# --- Sniffing: the content wins over the suffix -----------------------------------------------------------

def test_an_html_page_saved_as_txt_is_read_as_html_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_bytes(b"\n  <!doctype html>\n<html><head><title>T</title></head><body></body></html>")
    [doc] = readers.read([str(tmp_path)])
    assert doc.content_type == "text/html"
    assert [(w.stage, w.message) for w in doc.warnings] == [
        ("read", "content is HTML, not the plain text its name says: read as HTML")]


def test_an_article_saved_as_html_without_markup_is_text_and_is_kept(tmp_path: Path) -> None:
    article = "Titre de l'article\n\nLe premier paragraphe de l'article, assez long pour compter.\n"
    (tmp_path / "article.html").write_text(article, encoding="utf-8")
    done = tamis("run", str(tmp_path), "--jobs", "1")
    [record] = jsonl(done.stdout)
    assert (record["status"], record["content_type"]) == ("ok", "text/plain")
    assert "Le premier paragraphe de l'article" in record["text"]
    assert [w["message"] for w in record["warnings"]] == [
        "content is plain text, not the HTML its name says: read as plain text"]


def test_html_with_a_few_tags_keeps_its_html_suffix_and_markup_free_txt_stays_text(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(b"Titre\n<p>Paragraphe</p>")
    (tmp_path / "b.txt").write_bytes(b"Il a \xc3\xa9crit : x < y et <3.")
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.content_type, d.warnings) for d in docs] == [("text/html", []), ("text/plain", [])]


def test_jsonl_saved_as_txt_is_read_as_jsonl(tmp_path: Path) -> None:
    (tmp_path / "dump.txt").write_bytes(b'{"id": "a", "text": "Un."}\n{"id": "b", "text": "Deux."}\n')
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.plain_text) for d in docs] == [("a", "Un."), ("b", "Deux.")]
    assert docs[0].warnings[0].message == "content is JSONL, not the plain text its name says: read as JSONL"


def test_a_jsonl_file_with_a_utf8_bom_reads_normally(tmp_path: Path) -> None:
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"id": "a", "text": "Un."}\n{"id": "b", "text": "Deux."}\n')
    docs = list(readers.read([str(tmp_path)]))
    assert [(d.id, d.status, d.plain_text, d.warnings) for d in docs] == [
        ("a", "ok", "Un.", []), ("b", "ok", "Deux.", [])]


def test_plain_text_on_stdin_starting_with_a_brace_is_one_text_document() -> None:
    text = "{Note de la rédaction} Ce texte commence par une accolade.\n\nEt continue ici.\n"
    done = tamis("run", "-", "--jobs", "1", stdin=text.encode())
    [record] = jsonl(done.stdout)
    assert (record["id"], record["status"], record["content_type"]) == ("stdin", "ok", "text/plain")
    assert record["text"] == "{Note de la rédaction} Ce texte commence par une accolade.\n\nEt continue ici."


def test_an_html_page_on_stdin_and_a_gzip_stream_on_stdin() -> None:
    [page] = jsonl(tamis("run", "-", "--jobs", "1", stdin=PAGE).stdout)
    [zipped] = jsonl(tamis("run", "-", "--jobs", "1", stdin=gzip.compress(PAGE)).stdout)
    assert page["content_type"] == zipped["content_type"] == "text/html"
    assert page["text"] == zipped["text"] == "Un article de presse."
    assert zipped["warnings"] == []  # stdin has no name that could disagree


def test_binary_content_with_a_text_suffix_is_filtered_as_unsupported(tmp_path: Path) -> None:
    (tmp_path / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    done = tamis("run", str(tmp_path), "--jobs", "1")
    [record] = jsonl(done.stdout)
    assert (record["status"], record["reason"]) == ("filtered", "unsupported content: PNG image")
    assert record["warnings"][0]["message"] == "content is binary data, not the plain text its name says: read as " \
                                               "binary data"


# --- JSONL fields ------------------------------------------------------------------------------------------

def test_jsonl_metadata_fields_and_a_metadata_object_become_metadata(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": "Un.", "url": "https://ex.test/a", "title": "Titre", "date": "2024-05-01",
             "lang": "fr", "section": "monde"},
            {"id": "b", "html": "<p>Deux.</p>", "metadata": {"author": "A. Auteur", "site": "Ex", "tags": ["x"]}},
            {"id": "c", "text": "Trois.", "date": 20240501},
            {"id": None, "text": "Quatre."}, {"id": 5, "text": "Cinq."}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    a, b, c, d, e = readers.read([str(path)])
    assert (d.id, e.id) == ("in.jsonl:4", "5")
    assert (a.metadata, a.lang, a.extra) == (
        Metadata(title="Titre", date="2024-05-01", url="https://ex.test/a"), "fr", {"section": "monde"})
    assert (b.metadata, b.extra) == (Metadata(author="A. Auteur", site="Ex"), {"metadata": {"tags": ["x"]}})
    assert (c.metadata, c.extra, [w.message for w in c.warnings]) == (
        Metadata(), {"date": 20240501}, ["line 3: field 'date' is not a string: kept in extra"])


def test_a_record_with_text_and_html_extracts_the_html_and_keeps_the_text() -> None:
    page = "Le texte de la page, en HTML, avec une phrase entière qui compte."
    record = {"id": "a", "html": f"<html><body><article><p>{page}</p></article></body></html>",
              "text": "Le texte fourni."}
    done = tamis("run", "-", "--jobs", "1", stdin=json.dumps(record).encode() + b"\n")
    [out] = jsonl(done.stdout)
    assert (out["content_type"], out["text"], out["extra"]) == (
        "text/html", page, {"text": "Le texte fourni."})


def test_record_metadata_reaches_the_output_and_extraction_does_not_overwrite_it() -> None:
    record = {"id": "a", "url": "https://ex.test/a", "title": "Titre donné",
              "html": "<html><head><title>Autre titre</title></head><body><article><p>Le texte de la page, avec une "
                      "phrase entière qui compte.</p></article></body></html>"}
    done = tamis("run", "-", "--jobs", "1", stdin=json.dumps(record).encode() + b"\n")
    [out] = jsonl(done.stdout)
    assert (out["metadata"]["url"], out["metadata"]["title"]) == ("https://ex.test/a", "Titre donné")
