"""What an input holds, told from its first bytes: the suffix is a claim, the content decides.

A file's name says a format (`.html`, `.txt`, `.jsonl`, `.warc`, `.parquet`) and maybe a compression (`.gz`,
`.bz2`, `.xz`, `.zst`); its first bytes say what it is. When they disagree, the reader follows the content and
puts a warning on the record. Standard input has no name, so only its content speaks.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Literal

Kind = Literal["html", "text", "jsonl", "warc", "parquet", "binary"]

FORMATS: dict[str, Kind] = {
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".txt": "text", ".text": "text", ".md": "text",
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".warc": "warc",
    ".parquet": "parquet",
}
COMPRESSIONS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}
_COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
HEAD_BYTES = 65_536  # what sniffing looks at (a JSONL head is extended to its first whole line)
LABELS: dict[Kind, str] = {"html": "HTML", "text": "plain text", "jsonl": "JSONL", "warc": "WARC",
                           "parquet": "Parquet", "binary": "binary data"}

_TEXT_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# A page starts with a doctype, a comment or an element (what `decode` also takes for HTML), or names its
# root elements further down (a page saved after a line of junk).
_STARTS_AS_HTML = re.compile(
    r"\s*(<!--.*?-->\s*|<\?xml[^>]*>\s*)*<(!doctype\s+html|html|head|body|p|div|article|section|h[1-6]|main|span"
    r"|table|ul|ol|br|meta|title|header|nav|a|img|script|style|link)\b", re.IGNORECASE | re.DOTALL)
_HTML_ROOT = re.compile(r"<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)
_ANY_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*[\s/>]|<!(--|doctype)", re.IGNORECASE)


class FormatError(Exception):
    """Content that cannot be read as what it is (or needs an optional dependency that is missing): the
    input becomes an error record, the run goes on."""


def parse_name(name: str) -> tuple[Kind | None, str | None]:
    """The format and the compression a file name claims: `a.html.gz` → (`html`, `gzip`)."""
    lowered = name.lower()
    compression = next((c for suffix, c in COMPRESSIONS.items() if lowered.endswith(suffix)), None)
    if compression is not None:
        lowered = lowered[: lowered.rfind(".")]
    dot = lowered.rfind(".")
    return (FORMATS.get(lowered[dot:]) if dot >= 0 else None), compression


def compression(magic: bytes) -> str | None:
    """The compression whose magic number starts `magic`, or None."""
    return next((name for prefix, name in _COMPRESSION_MAGIC if magic.startswith(prefix)), None)


def sniff(head: bytes, claimed: Kind | None) -> Kind:
    """The kind of content that starts with `head` (decompressed). `claimed` (the suffix's word) settles
    only what the content leaves open: a `.jsonl` whose first line is broken is still JSONL, an `.html`
    file with any tag is HTML, while plain text needs no markup at all."""
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = _head_text(head)
    if "\x00" in text:
        return "binary"
    stripped = text.lstrip()
    if stripped.startswith("{") and (claimed == "jsonl" or _lines_are_objects(stripped)):
        return "jsonl"
    if _STARTS_AS_HTML.match(text) or _HTML_ROOT.search(text):
        return "html"
    if claimed == "html" and _ANY_TAG.search(text):
        return "html"
    if claimed == "jsonl" and not stripped:
        return "jsonl"  # an empty JSONL file holds no records; it is not one empty document
    return "text"


def _head_text(head: bytes) -> str:
    for bom, encoding in _TEXT_BOMS:
        if head.startswith(bom):
            # A head cut in the middle of a character must not read as binary: drop what does not decode.
            return head.decode(encoding, errors="ignore")
    return head.decode("latin-1")


def _lines_are_objects(text: str) -> bool:
    """Every whole line of the head (the first one at least) is a JSON object: plain text that starts
    with `{` is not JSONL."""
    lines = text.split("\n")
    whole = lines[:-1] or lines  # the last piece may be cut by the head's end, unless it is all there is
    found = False
    for line in whole:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            return False
        if not isinstance(value, dict):
            return False
        found = True
    return found
