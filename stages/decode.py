"""decode: input bytes → text, with the encoding recorded in `metadata.encoding`.

Order of evidence: a byte-order mark (UTF-8, UTF-16, UTF-32), then a declared charset (HTML `<meta>`, XML
declaration), then strict UTF-8, then detection, then `fallback_encoding`. Detection first asks whether the
bytes read as Western European text (French, German, English) and picks the narrowest fitting code page:
`cp1252` when bytes 0x80–0x9F occur (in latin-1 they would be control characters), `iso8859-15` when a byte
that it alone reads as a letter or the euro sign (œ, Œ, €, š, ž, Ÿ) stands inside a word, else `iso8859-1`.
Other bytes go to charset_normalizer. Text that arrives already decoded (JSONL `text`/`html` fields, which
JSON defines as UTF-8) gets `utf-8`.

Binary formats (images, PDF, archives) are filtered with reason `unsupported content`, and so is text in
which control characters (NUL and other C0 controls but tab, line breaks, form feed and escape) are more
than 5 % of the characters. Rarer NULs (a line damaged in transfer) are removed, with a `Change`. HTML goes
to `html`, anything else to `plain_text`.

"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from pipeline.document import Change, Document
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
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE)
_HTML_START = re.compile(
    r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|p|div|article|section|h[1-6]|main|span|table|ul|br)\b",
    re.IGNORECASE | re.DOTALL)
# Browsers read these labels as windows-1252 (WHATWG Encoding Standard); so do we.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1"}

# Bytes 0x80-0x9F are printable only in cp1252; latin-1 and iso-8859-15 put control characters there.
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
# iso-8859-15 differs from latin-1 at eight bytes. Read as latin-1 they are symbols (¤ ¦ ¨ ¸ ¼ ½ ¾) that
# never touch a letter in real text; read as iso-8859-15 they are € and the letters Š š ž Œ œ Ÿ. 0xB4
# (´, Ž) is left out: people type ´ as an apostrophe ("l´Ukraine").
_LATIN_LETTER = rb"[A-Za-z\xc0-\xd6\xd8-\xf6\xf8-\xff]"
_ISO_8859_15_EVIDENCE = re.compile(rb"\xa4|(?<=" + _LATIN_LETTER + rb")[\xa6\xa8\xb8\xbc\xbd\xbe]"
                                   rb"|(?<![0-9])[\xa6\xa8\xb8\xbc\xbd\xbe](?=" + _LATIN_LETTER + rb")")
# A non-ASCII symbol inside a word ("Zaøó³æ": Polish cp1250 read as cp1252) means the code page is wrong.
_SYMBOL_IN_WORD = re.compile(r"(?<=[^\W\d_])(?![’‘´·\xad])[^\x00-\x7f\w\s](?=[^\W\d_])")
# \w counts vulgar fractions and superscripts as letters.
_NON_ASCII_LETTER = re.compile(r"[^\W\d_¹²³¼½¾\x00-\x7f]")
# In French, German or English accented letters are a small share of all letters; in a Cyrillic or Greek
# code page read as Western they are nearly all of them.
_MAX_ACCENTED_SHARE = 0.3
# Control characters no text uses; in binary data they are frequent, in damaged text rare.
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_MAX_CONTROL_SHARE = 0.05  # random bytes give about 10 %, UTF-16 read as UTF-8 about 50 %
# The same characters one by one: a substring search per character finds none in a clean page several
# times faster than one scan with the class, and clean pages are nearly all of them.
_BINARY_CONTROL_CHARS = tuple(c for c in map(chr, range(0x20)) if _BINARY_CONTROLS.match(c))
# Every byte but those of the characters above: what `bytes.translate` deletes to leave only them.
_NOT_BINARY_CONTROL_BYTES = bytes(b for b in range(256) if chr(b) not in _BINARY_CONTROL_CHARS)
# Codecs that read each byte 0x00-0x1F as that code point and nothing else as one (UTF-8's lead and
# continuation bytes are 0x80 and above; a replaced byte becomes U+FFFD): in their text the characters
# above are there exactly where their bytes are in the input, which one `translate` finds.
_C0_FAITHFUL = frozenset({"utf-8", "cp1252", "iso8859-1", "iso8859-15"})
_ASCII_LETTER_BYTES = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))


@dataclass(frozen=True, kw_only=True)
class DecodeConfig:
    fallback_encoding: str = field(default="cp1252", metadata={
        "help": "used when neither BOM, charset, UTF-8 nor detection decides"})
    detect: bool = field(default=True, metadata={
        "help": "Western check (cp1252 / iso8859-15 / iso8859-1), then charset_normalizer"})

    def __post_init__(self) -> None:
        try:
            codecs.lookup(self.fallback_encoding)
        except LookupError:
            raise ValueError(f"fallback_encoding: unknown encoding {self.fallback_encoding!r}") from None


class Decode(Stage[DecodeConfig]):
    name = "decode"
    provides = ("decoded",)

    def process(self, doc: Document) -> Document:
        if doc.raw is None:
            if doc.metadata.encoding is None and (doc.plain_text is not None or doc.html is not None):
                doc.metadata.encoding = "utf-8"
            return doc
        raw = doc.raw
        kind = next((label for magic, label in _MAGIC if raw.startswith(magic)), None)
        if kind is not None:
            return doc.filtered(self.name, f"unsupported content: {kind}")
        text, encoding = self.decode(raw, doc.content_type == "text/html", charset=doc.metadata.encoding)
        if _has_binary_controls(raw, text, encoding):
            if len(_BINARY_CONTROLS.findall(text)) > _MAX_CONTROL_SHARE * len(text):
                return doc.filtered(self.name, "unsupported content: binary data")
            nuls = text.count("\x00")
            if nuls:
                text = text.replace("\x00", "")
                doc.changes.append(Change(stage=self.name, rule="decode.nul", detail=f"removed {nuls} NUL characters"))
        is_html = doc.content_type == "text/html" or (
            doc.content_type != "text/plain" and bool(_HTML_START.match(text[:2048])))
        doc.raw = None
        doc.metadata.encoding = encoding
        if is_html:
            doc.content_type, doc.html = "text/html", text
        else:
            doc.content_type, doc.plain_text = "text/plain", text
        self.counters[f"encoding:{encoding}"] += 1
        return doc

    def decode(self, raw: bytes, html: bool, charset: str | None = None) -> tuple[str, str]:
        """The text and the (Python codec) name of the encoding it was read with. `charset` is a label
        from outside the bytes (an HTTP header in a WARC): like browsers, it comes right after a BOM."""
        for bom, encoding in _BOMS:
            if raw.startswith(bom):
                return raw.decode(encoding, errors="replace"), encoding
        transport = _decoded(raw, charset.encode("ascii", "replace")) if charset else None
        if transport is not None:
            return transport
        if html or raw[:1024].lstrip().startswith(b"<"):
            declared = _declared(raw)
            if declared is not None:
                return declared
        try:
            return raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        if self.config.detect:
            detected = western(raw) or _charset_normalizer(raw)
            if detected is not None:
                return detected
        fallback = self.config.fallback_encoding
        return raw.decode(fallback, errors="replace"), codecs.lookup(fallback).name


def _has_binary_controls(raw: bytes, text: str, encoding: str) -> bool:
    """Whether `text` (`raw` read as `encoding`) holds NUL or another of `_BINARY_CONTROLS`: looked for in
    the bytes when the codec keeps them faithful (`_C0_FAITHFUL`), else in the text."""
    if encoding in _C0_FAITHFUL:
        return len(raw.translate(None, _NOT_BINARY_CONTROL_BYTES)) != 0
    return "\x00" in text or any(char in text for char in _BINARY_CONTROL_CHARS)


def _declared(raw: bytes) -> tuple[str, str] | None:
    match = _DECLARED_CHARSET.search(raw[:4096])
    if match is None:
        return None
    return _decoded(raw, match.group(1) or match.group(2))


def _decoded(raw: bytes, charset: bytes) -> tuple[str, str] | None:
    label = charset.decode("ascii").lower()
    encoding = "cp1252" if label in _WINDOWS_1252_LABELS else label
    try:
        return raw.decode(encoding), codecs.lookup(encoding).name
    except (LookupError, UnicodeDecodeError):
        return None


def western(raw: bytes) -> tuple[str, str] | None:
    """`raw` read as cp1252, iso-8859-15 or latin-1 (the narrowest that fits), or None when the bytes do
    not read as Western European text in any of them."""
    if _C1_BYTES.search(raw):
        encoding = "cp1252"
    elif _ISO_8859_15_EVIDENCE.search(raw):
        encoding = "iso8859-15"
    else:
        encoding = "iso8859-1"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned in cp1252
        return None
    if _SYMBOL_IN_WORD.search(text):
        return None
    # The letters are the ASCII ones, which these code pages read from the bytes A-Z and a-z alone
    # (counted in the bytes, without a list of every letter), and the others.
    accented = len(_NON_ASCII_LETTER.findall(text))
    if accented > _MAX_ACCENTED_SHARE * (len(raw) - len(raw.translate(None, _ASCII_LETTER_BYTES)) + accented):
        return None
    return text, encoding


def _charset_normalizer(raw: bytes) -> tuple[str, str] | None:
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None or not best.encoding:
        return None
    return str(best), codecs.lookup(best.encoding).name
