"""decode: input bytes → text, with the encoding recorded in `metadata.encoding`.

Order of evidence: a byte-order mark, then (HTML) a declared charset, then strict UTF-8, then detection
(charset_normalizer), then `fallback_encoding`. Binary formats (images, PDF, archives) are filtered with
reason `unsupported content`. HTML goes to `html`, anything else to `plain_text`.

YAML: `decode: {fallback_encoding: cp1252, detect: true}`
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from pipeline.document import Document
from pipeline.stage import Stage

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "zip archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"RIFF", "RIFF media"),
    (b"\x7fELF", "executable"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|p|div|article|section|h[1-6]|main|span|table|ul|br)\b",
                         re.IGNORECASE | re.DOTALL)
# Browsers read these labels as windows-1252 (WHATWG Encoding Standard); so do we.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1"}


@dataclass(frozen=True, kw_only=True)
class DecodeConfig:
    fallback_encoding: str = "cp1252"
    detect: bool = True

    def __post_init__(self) -> None:
        try:
            codecs.lookup(self.fallback_encoding)
        except LookupError:
            raise ValueError(f"fallback_encoding: unknown encoding {self.fallback_encoding!r}") from None


class Decode(Stage[DecodeConfig]):
    name = "decode"
    Config = DecodeConfig
    provides = ("decoded",)

    def process(self, doc: Document) -> Document:
        if doc.raw is None:
            return doc
        raw = doc.raw
        kind = next((label for magic, label in _MAGIC if raw.startswith(magic)), None)
        if kind is not None:
            return doc.filtered(self.name, f"unsupported content: {kind}")
        text, encoding = self.decode(raw, doc.content_type == "text/html")
        if "\x00" in text:
            return doc.filtered(self.name, "unsupported content: binary data")
        is_html = doc.content_type == "text/html" or (doc.content_type != "text/plain" and bool(_HTML_START.match(text[:2048])))
        doc.raw = None
        doc.metadata.encoding = encoding
        if is_html:
            doc.content_type, doc.html = "text/html", text
        else:
            doc.content_type, doc.plain_text = "text/plain", text
        self.counters[f"encoding:{encoding}"] += 1
        return doc

    def decode(self, raw: bytes, html: bool) -> tuple[str, str]:
        for bom, encoding in _BOMS:
            if raw.startswith(bom):
                return raw.decode(encoding, errors="replace"), encoding
        if html or raw[:1024].lstrip().startswith(b"<"):
            declared = _META_CHARSET.search(raw[:4096])
            if declared:
                label = declared.group(1).decode("ascii").lower()
                encoding = "cp1252" if label in _WINDOWS_1252_LABELS else label
                try:
                    return raw.decode(encoding), codecs.lookup(encoding).name
                except (LookupError, UnicodeDecodeError):
                    pass
        try:
            return raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        if self.config.detect:
            from charset_normalizer import from_bytes

            best = from_bytes(raw).best()
            if best is not None and best.encoding:
                return str(best), best.encoding
        return raw.decode(self.config.fallback_encoding, errors="replace"), self.config.fallback_encoding
