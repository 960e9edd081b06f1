"""Reading pages from a WARC against reading the same pages from files, and warcio against fastwarc.

    python bench/warc.py [HTML_DIR ...]      # e.g. /work/shared/eval/html/*/html

The corpus is the bundled fixtures (fixtures/html pages; fixtures/articles as text/plain responses, which
the reader counts as skipped, as it would in a real crawl) plus every `*.html` / `*.html.gz` page of each
HTML_DIR. They are written once, in a temporary directory, as `.warc.gz`, as an uncompressed `.warc`, and as
one `.html` file per page. Each is read with `pipeline.readers` (documents out, nothing processed), repeated
for at least two seconds of CPU time (`time.process_time`, which a busy shared machine disturbs less than
wall-clock time); printed in pages per second, with the ratio WARC / files. The raw libraries are timed on
the same `.warc.gz` (iterate, read each response payload) to show what the reader adds and to compare them.
"""

from __future__ import annotations

import gzip
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pipeline import readers

ROOT = Path(__file__).resolve().parent.parent


def corpus(dirs: list[Path]) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(HTML pages, plain-text articles) as (name, bytes)."""
    pages = [(p.name, p.read_bytes()) for p in sorted((ROOT / "fixtures/html").glob("*.html"))]
    for folder in dirs:
        for path in sorted(folder.iterdir()):
            if path.name.endswith(".html.gz"):
                pages.append((path.name[: -len(".gz")], gzip.decompress(path.read_bytes())))
            elif path.suffix == ".html":
                pages.append((path.name, path.read_bytes()))
    articles = [(p.name, p.read_bytes()) for p in sorted((ROOT / "fixtures/articles").glob("*.txt"))]
    return pages, articles


def write_warc(path: Path, pages: list[tuple[str, bytes]], articles: list[tuple[str, bytes]], gz: bool) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gz)
        for items, content_type in ((pages, "text/html"), (articles, "text/plain; charset=utf-8")):
            for name, body in items:
                headers = StatusAndHeaders("200 OK", [("Content-Type", content_type)], protocol="HTTP/1.1")
                writer.write_record(writer.create_warc_record(f"https://bench.test/{name}", "response",
                                                              payload=io.BytesIO(body), http_headers=headers))


def rate(read: Callable[[], int], seconds: float = 2.0) -> float:
    """Pages per CPU second of `read` (which returns how many pages it read), repeated for `seconds`."""
    read()  # warm the page cache and imports
    done, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        done += read()
    return done / (time.process_time() - started)


def with_readers(path: Path) -> Callable[[], int]:
    return lambda: sum(1 for doc in readers.read([str(path)]) if doc.status == "ok")


def with_warcio(path: Path) -> Callable[[], int]:
    from warcio.archiveiterator import ArchiveIterator

    def read() -> int:
        n = 0
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and record.http_headers.get_header("Content-Type") == "text/html":
                    record.content_stream().read()
                    n += 1
        return n

    return read


def with_fastwarc(path: Path) -> Callable[[], int] | None:
    try:
        from fastwarc.warc import ArchiveIterator, WarcRecordType
    except ImportError:
        return None

    def read() -> int:
        n = 0
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                if record.http_content_type == "text/html":
                    record.reader.read()
                    n += 1
        return n

    return read


def main(dirs: list[Path]) -> None:
    pages, articles = corpus(dirs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        warc_gz, warc_plain, files = work / "pages.warc.gz", work / "pages.warc", work / "files"
        write_warc(warc_gz, pages, articles, gz=True)
        write_warc(warc_plain, pages, articles, gz=False)
        files.mkdir()
        for i, (name, body) in enumerate(pages):
            (files / f"{i:05d}_{name}").write_bytes(body)
        megabytes = sum(len(b) for _, b in pages) / 1e6
        print(f"{len(pages)} HTML pages ({megabytes:.1f} MB) and {len(articles)} text/plain responses (skipped)")
        from_files = rate(with_readers(files))
        rows = [("readers: .html files", from_files),
                ("readers: .warc.gz", rate(with_readers(warc_gz))),
                ("readers: .warc", rate(with_readers(warc_plain))),
                ("warcio alone: .warc.gz", rate(with_warcio(warc_gz)))]
        fast = with_fastwarc(warc_gz)
        if fast is not None:
            rows.append(("fastwarc alone: .warc.gz", rate(fast)))
        for label, pages_per_second in rows:
            print(f"  {label:<26} {pages_per_second:9.0f} pages/s   {pages_per_second / from_files:5.2f}x files")


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]])
