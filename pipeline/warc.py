"""WARC input (`.warc`, `.warc.gz`): the HTML pages of a crawl, one document per HTTP response.

Read with warcio (the `warc` extra). A `response` (or `resource`) record with a 2xx status whose
`Content-Type` is HTML becomes a document: the WARC-Target-URI is its `id` and `metadata.url`, the charset
of the HTTP `Content-Type` goes to `metadata.encoding`, where `decode` takes it before the page's own
`<meta>` (as browsers do), and `WARC-Date` (the capture time, not the publication date) and
`WARC-Record-ID` go to `extra` as `warc_date` and `warc_record_id`. Other responses (images, scripts,
redirects, errors) and `revisit` records are counted as skipped; `warcinfo`, `request` and `metadata`
records describe the crawl, not documents, and are passed over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from pipeline import sniff
from pipeline.document import Document, Metadata, StageWarning

HTML_TYPES = ("text/html", "application/xhtml+xml")
DOCUMENT_RECORDS = ("response", "resource")
SKIPPED = "WARC record not an HTML page"


def documents(stream: IO[bytes], source: str, max_bytes: int | None, warnings: list[StageWarning],
              skip: Callable[[str, str], None]) -> Iterator[Document]:
    """The HTML pages of the (decompressed) WARC `stream`, each payload read up to `max_bytes + 1` bytes;
    `skip(name, reason)` hears of the other records."""
    try:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed
    except ImportError:
        raise sniff.FormatError("reading WARC needs warcio: pip install 'tamis[warc]'") from None
    records = iter(ArchiveIterator(stream))
    number = 0
    while True:
        try:
            record = next(records, None)
        except ArchiveLoadFailed as exc:
            raise sniff.FormatError(f"WARC unreadable after record {number}: {exc}") from None
        except Exception as exc:  # warcio fails on some malformed records with whatever it hits (AttributeError...)
            raise sniff.FormatError(f"WARC unreadable after record {number}: {type(exc).__name__}: {exc}") from None
        if record is None:
            return
        number += 1
        kind = record.rec_type
        uri = record.rec_headers.get_header("WARC-Target-URI") or f"{source}#{number}"
        if kind == "revisit":
            skip(f"{source}: {uri}", "WARC revisit record (no payload)")
        elif kind in DOCUMENT_RECORDS:
            doc = _page(record, uri, source, max_bytes, warnings, skip)
            if doc is not None:
                yield doc


def _page(record: Any, uri: str, source: str, max_bytes: int | None, warnings: list[StageWarning],
          skip: Callable[[str, str], None]) -> Document | None:
    headers = record.http_headers if record.rec_type == "response" else None
    if headers is not None:
        status = headers.get_statuscode() or ""
        if not status.startswith("2"):
            skip(f"{source}: {uri} (HTTP {status or 'status missing'})", SKIPPED)
            return None
        content_type = headers.get_header("Content-Type") or ""
    else:
        content_type = record.rec_headers.get_header("Content-Type") or ""
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    extra = {"warc_date": record.rec_headers.get_header("WARC-Date"),
             "warc_record_id": record.rec_headers.get_header("WARC-Record-ID")}
    metadata = Metadata(url=uri, encoding=_charset(params))
    doc = Document(id=uri, source=source, content_type="text/html", metadata=metadata,
                   extra={k: v for k, v in extra.items() if v}, warnings=list(warnings))
    try:
        body = record.content_stream()
        payload = body.read() if max_bytes is None else body.read(max_bytes + 1)  # warcio reads -1 as 0 bytes
    except Exception as exc:  # a broken chunked body or Content-Encoding, as warcio's decoders report it
        return doc.failed("read", f"WARC record payload unreadable: {type(exc).__name__}: {exc}")
    if mime not in HTML_TYPES and not (not mime and sniff.sniff(payload[: sniff.HEAD_BYTES], None) == "html"):
        skip(f"{source}: {uri} ({mime or 'no Content-Type'})", SKIPPED)
        return None
    doc.raw = payload  # up to max_bytes + 1: the reader refuses what is over the limit
    return doc


def _charset(params: str) -> str | None:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'").lower()
    return None
