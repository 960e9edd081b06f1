"""Small WARC files for tests, written with warcio as a crawler would."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Capture:
    uri: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: str = "200 OK"
    date: str = "2024-05-01T10:00:00Z"


def write_warc(path: Path, captures: list[Capture], *, revisits: tuple[str, ...] = (), gzip: bool = True) -> Path:
    """A WARC with a warcinfo record, then a request and a response per capture, then revisit records."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for capture in captures:
            request = StatusAndHeaders(f"GET {capture.uri} HTTP/1.1", [("Host", "example.test")], is_http_request=True)
            writer.write_record(writer.create_warc_record(capture.uri, "request", payload=io.BytesIO(b""),
                                                          http_headers=request))
            headers = StatusAndHeaders(capture.status, [("Content-Type", capture.content_type)], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(capture.uri, "response", payload=io.BytesIO(capture.body),
                                                          http_headers=headers,
                                                          warc_headers_dict={"WARC-Date": capture.date}))
        for uri in revisits:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_revisit_record(uri, "sha1:AAAA", uri, "2024-05-01T10:00:00Z",
                                                             http_headers=headers))
    return path
