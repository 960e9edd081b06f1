"""Encoders: a processed document in the form its output format stores, made where the document was processed.

Worker processes encode what they send back, for every format: one string pickles in a fraction of the time
a graph of blocks and segments takes, and the parent, which has one core's share of the machine too, then
only writes it (a Parquet row travels as its JSONL line; the sink builds the columns). The runner moves
`Encoded` items and knows nothing of formats; `pipeline.sinks` stores them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.document import Document, Status

# Line breaks that `str.splitlines` honours and `json.dumps(ensure_ascii=False)` leaves raw (it escapes those
# below U+0020): escaped, a record stays on one line for every line-based reader.
_RAW_LINE_BREAKS = re.compile("[\x85\u2028\u2029]")
_HEADING_MARKS = {"title": "# ", "heading": "## ", "list_item": "- ", "quote": "> "}
# `json.dumps(record, ensure_ascii=False)`, built once; a record is a tree (no cycles to look for).
_TO_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


@dataclass(frozen=True, slots=True)
class Encoded:
    """One processed document as its output format stores it, with its id and outcome (for stats, file names
    and `--fail-fast`). `data` is None when the format stores nothing for the document: Markdown and text
    outputs write a file for `ok` documents only (the others are listed in the output's index). `separated`
    is the text `languages.policy: separate` took out of the main text, per language, for the sibling files of
    Markdown and text outputs (`<name>.de.md`); None for the formats whose record holds it (JSONL, Parquet)."""

    id: str
    status: Status
    stage: str | None
    reason: str | None
    data: str | None
    separated: dict[str, str] | None = None


def json_line(doc: Document) -> str:
    """The document's JSONL record on one line, without its newline."""
    line = _TO_JSON(doc.to_json())
    # Three substring tests cost ~0.5 µs on an 8 KB record; the regex alone scans it in ~400 µs.
    if "\x85" in line or "\u2028" in line or "\u2029" in line:
        return _RAW_LINE_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
    return line


def markdown(doc: Document) -> str | None:
    """The kept blocks as Markdown (title and headings, list items and quotes marked); None unless `ok`."""
    if doc.status != "ok":
        return None
    lines = [_HEADING_MARKS.get(b.kind, "") + text for b in doc.blocks
             if b.duplicate_of is None and (text := b.main_text())]
    return "\n\n".join(lines) + "\n"


def plain_text(doc: Document) -> str | None:
    """The headline (the `title` block, which `Document.text` leaves out), then the clean main text; None
    unless `ok`."""
    if doc.status != "ok":
        return None
    title = next((b.main_text() for b in doc.blocks if b.kind == "title" and b.duplicate_of is None), "")
    return "\n\n".join(part for part in (title, doc.text) if part) + "\n"


# A Parquet row travels as its JSONL record: a string pickles fastest, and the sink makes the columns.
ENCODERS: dict[str, Callable[[Document], str | None]] = {
    "jsonl": json_line, "parquet": json_line, "md": markdown, "txt": plain_text}


# Formats that store the main text only: the separated text goes to a sibling file per language.
_SIBLING_FORMATS = frozenset({"md", "txt"})


def separated_files(doc: Document) -> dict[str, str] | None:
    """The contents of an `ok` document's sibling files, per language; None when nothing was separated."""
    if doc.status != "ok":
        return None
    return {lang: f"{text}\n" for lang, text in doc.separated_text().items()} or None


def encode(docs: list[Document], fmt: str) -> list[Encoded]:
    """What a worker sends back for `docs` in the output format `fmt` (`run.format`)."""
    encoder = ENCODERS[fmt]
    if fmt in _SIBLING_FORMATS:
        return [Encoded(d.id, d.status, d.stage, d.reason, encoder(d), separated_files(d)) for d in docs]
    return [Encoded(d.id, d.status, d.stage, d.reason, encoder(d)) for d in docs]
