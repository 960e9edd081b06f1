"""The document that flows through a pipeline, and its stable JSON form.

Every stage receives a `Document` and returns one. A stage never loses what it changes: removals go to
`removed`, in-place repairs to `changes`, translations keep their original in the segment. The JSON form
(`to_json` / `from_json`) is lossless, so a JSONL file written by tamis can be read back and run again; it is
described by `pipeline/document.schema.json`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["title", "heading", "paragraph", "list_item", "caption", "quote"]
Status = Literal["ok", "filtered", "error"]
SegmentAction = Literal["keep", "translate", "drop", "separate"]
_SPACES = re.compile(r" {2,}")


@dataclass(slots=True, kw_only=True)
class Translation:
    """A segment's translation. `package` names the Argos package(s) used, `pivot` the language path."""

    text: str
    source: str
    target: str
    package: str | None = None
    pivot: list[str] = field(default_factory=list)
    status: Literal["ok", "no-model"] = "ok"


@dataclass(slots=True, kw_only=True)
class Segment:
    """A run of one language inside a block; `start`/`end` are `str` offsets into the block text."""

    start: int
    end: int
    lang: str
    confidence: float = 0.0
    action: SegmentAction = "keep"
    translation: Translation | None = None


@dataclass(slots=True, kw_only=True)
class Block:
    """One unit of text. `index` is the block's position when it was extracted: it stays fixed while
    other blocks are removed, and the pieces of a split block share it, so removals and duplicates can
    point at it."""

    kind: BlockKind
    text: str
    index: int
    lang: str | None = None
    confidence: float | None = None
    segments: list[Segment] = field(default_factory=list)
    duplicate_of: int | None = None

    def main_text(self) -> str:
        """The block as it reads in the clean document: translations in, dropped and separated out."""
        if not self.segments:
            return self.text
        if not any(seg.action in ("drop", "separate") or seg.translation is not None for seg in self.segments):
            joined = self.text  # every segment reads as written: the parts would join back into the text
        else:
            joined = self._edited()
        return (_SPACES.sub(" ", joined) if "  " in joined else joined).strip()

    def _edited(self) -> str:
        """The block text with each segment's translation in, and dropped or separated ones out."""
        parts: list[str] = []
        cursor = 0
        for seg in self.segments:
            parts.append(self.text[cursor : seg.start])
            piece = self.text[seg.start : seg.end]
            if seg.action in ("drop", "separate"):
                piece = ""
            elif seg.translation is not None and seg.translation.status == "ok":
                piece = seg.translation.text
            parts.append(piece)
            cursor = seg.end
        parts.append(self.text[cursor:])
        return "".join(parts)


@dataclass(slots=True, kw_only=True)
class Separated:
    """A segment a `separate` policy keeps out of the main text: its language, its text and where it is
    (`block` is the `Block.index`, `start`/`end` offsets into that block's text)."""

    lang: str
    text: str
    block: int
    start: int
    end: int


@dataclass(slots=True, kw_only=True)
class Removal:
    """Text a stage took out, with the rule that matched and why. `block` is the `Block.index` it came
    from (None for text removed before blocks existed), `line` the line within that block."""

    stage: str
    rule: str
    reason: str
    text: str
    block: int | None = None
    line: int | None = None


@dataclass(slots=True, kw_only=True)
class Change:
    """An in-place repair (encoding fix, normalisation) that altered text without removing it."""

    stage: str
    rule: str
    detail: str
    block: int | None = None


@dataclass(slots=True, kw_only=True)
class StageWarning:
    stage: str
    message: str


@dataclass(slots=True, kw_only=True)
class Metadata:
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site: str | None = None
    url: str | None = None
    encoding: str | None = None


@dataclass(slots=True, kw_only=True)
class Document:
    """A document and everything done to it.

    Before extraction the text waits in `html` or `plain_text` (and before decoding, as bytes in `raw`,
    which is never serialised); `extract` turns it into `blocks`. `status` is `ok`, `filtered` (with
    `reason` and the `stage` that filtered) or `error` (with the `stage` and the message in `reason`).
    `extra` carries the input record's other fields through unchanged. `done` names the stage instances that
    have processed the document, in order: it is the document's stage of life, the one thing the runner
    checks to skip work already done (a tamis record read back and run again passes through unchanged).
    """

    id: str
    source: str
    content_type: str = "text/plain"
    raw: bytes | None = None
    html: str | None = None
    plain_text: str | None = None
    blocks: list[Block] = field(default_factory=list)
    lang: str | None = None
    metadata: Metadata = field(default_factory=Metadata)
    removed: list[Removal] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    warnings: list[StageWarning] = field(default_factory=list)
    status: Status = "ok"
    stage: str | None = None
    reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The clean main text: kept blocks, translated where a translation exists, one blank line apart.
        The `title` block is the headline, not body text (as in an article body or trafilatura's text): it
        stays in `blocks` and `metadata.title`, and Markdown output shows it as `# Title`."""
        parts = (b.main_text() for b in self.blocks if b.duplicate_of is None and b.kind != "title")
        return "\n\n".join(p for p in parts if p)

    @property
    def separated(self) -> list[Separated]:
        """Segments marked `separate`, in block order: derived from the blocks, so it never drifts from them."""
        return [Separated(lang=s.lang, text=b.text[s.start : s.end], block=b.index, start=s.start, end=s.end)
                for b in self.blocks for s in b.segments if s.action == "separate"]

    def separated_text(self) -> dict[str, str]:
        """The separated text per language, one paragraph per block (what a `<id>.<lang>.md` sibling holds)."""
        blocks: dict[str, dict[int, list[str]]] = {}
        for piece in self.separated:
            blocks.setdefault(piece.lang, {}).setdefault(piece.block, []).append(" ".join(piece.text.split()))
        return {lang: "\n\n".join(" ".join(parts) for parts in by_block.values()) for lang, by_block in blocks.items()}

    def filtered(self, stage: str, reason: str) -> Document:
        return dataclasses.replace(self, status="filtered", stage=stage, reason=reason)

    def failed(self, stage: str, message: str) -> Document:
        return dataclasses.replace(self, status="error", stage=stage, reason=message, raw=None)

    def copy(self) -> Document:
        """A copy that a stage may change in place without touching this document: the blocks, segments,
        translations, metadata and lists are new objects. Strings are shared, and so are the entries of
        `removed`, `changes` and `warnings`: stages append records, they never edit one."""
        new = object.__new__(Document)
        new.id, new.source, new.content_type, new.raw, new.html, new.plain_text = \
            self.id, self.source, self.content_type, self.raw, self.html, self.plain_text
        new.blocks, new.lang = [_block_copy(b) for b in self.blocks], self.lang
        new.metadata = _metadata_copy(self.metadata)
        new.removed, new.changes, new.warnings = list(self.removed), list(self.changes), list(self.warnings)
        new.status, new.stage, new.reason = self.status, self.stage, self.reason
        new.extra, new.done = dict(self.extra), list(self.done)
        return new

    def to_json(self) -> dict[str, Any]:
        """The stable JSON form: `text` is the clean main text, the rest is the full record."""
        record: dict[str, Any] = {"id": self.id, "source": self.source, "status": self.status}
        if self.status != "ok":
            record["stage"] = self.stage
            record["reason"] = self.reason
        record["text"] = self.text
        record["lang"] = self.lang
        record["content_type"] = self.content_type
        record["metadata"] = _metadata_json(self.metadata)
        record["blocks"] = [_block_json(b) for b in self.blocks]
        if separated := self.separated:
            record["separated"] = [_separated_json(x) for x in separated]
        record["removed"] = [_removal_json(x) for x in self.removed]
        record["changes"] = [_change_json(x) for x in self.changes]
        record["warnings"] = [_warning_json(x) for x in self.warnings]
        if self.html is not None:
            record["html"] = self.html
        if self.plain_text is not None:
            record["plain_text"] = self.plain_text
        if self.extra:
            record["extra"] = self.extra
        record["done"] = list(self.done)
        return record

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Document:
        """Inverse of `to_json`. `text` is derived from the blocks, so it is not read back."""
        return cls(
            id=record["id"],
            source=record["source"],
            content_type=record.get("content_type", "text/plain"),
            html=record.get("html"),
            plain_text=record.get("plain_text"),
            blocks=[_block_from_json(b) for b in record.get("blocks", [])],
            lang=record.get("lang"),
            metadata=Metadata(**record.get("metadata", {})),
            removed=[Removal(**r) for r in record.get("removed", [])],
            changes=[Change(**c) for c in record.get("changes", [])],
            warnings=[StageWarning(**w) for w in record.get("warnings", [])],
            status=record.get("status", "ok"),
            stage=record.get("stage"),
            reason=record.get("reason"),
            extra=record.get("extra", {}),
            done=list(record.get("done", [])),
        )


# The JSON form and the copies name each field once, written out: a loop over `__slots__` with `getattr`
# cost three times as much, and writing or copying records is the runner's work around every stage.
# tests/test_document.py checks that every field of every class is written and copied.


def _block_json(b: Block) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": b.kind, "text": b.text, "index": b.index}
    if b.lang is not None:
        out["lang"] = b.lang
    if b.confidence is not None:
        out["confidence"] = b.confidence
    out["segments"] = [_segment_json(s) for s in b.segments]
    if b.duplicate_of is not None:
        out["duplicate_of"] = b.duplicate_of
    return out


def _segment_json(s: Segment) -> dict[str, Any]:
    out: dict[str, Any] = {"start": s.start, "end": s.end, "lang": s.lang, "confidence": s.confidence,
                           "action": s.action}
    if s.translation is not None:
        out["translation"] = _translation_json(s.translation)
    return out


def _translation_json(t: Translation) -> dict[str, Any]:
    out: dict[str, Any] = {"text": t.text, "source": t.source, "target": t.target}
    if t.package is not None:
        out["package"] = t.package
    out["pivot"] = t.pivot
    out["status"] = t.status
    return out


def _separated_json(x: Separated) -> dict[str, Any]:
    return {"lang": x.lang, "text": x.text, "block": x.block, "start": x.start, "end": x.end}


def _removal_json(r: Removal) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": r.stage, "rule": r.rule, "reason": r.reason, "text": r.text}
    if r.block is not None:
        out["block"] = r.block
    if r.line is not None:
        out["line"] = r.line
    return out


def _change_json(c: Change) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": c.stage, "rule": c.rule, "detail": c.detail}
    if c.block is not None:
        out["block"] = c.block
    return out


def _warning_json(w: StageWarning) -> dict[str, Any]:
    return {"stage": w.stage, "message": w.message}


def _metadata_json(m: Metadata) -> dict[str, Any]:
    """The fields that are set: a record leaves out what no stage found."""
    fields = (("title", m.title), ("author", m.author), ("date", m.date), ("site", m.site), ("url", m.url),
              ("encoding", m.encoding))
    return {name: value for name, value in fields if value is not None}


def _block_copy(b: Block) -> Block:
    new = object.__new__(Block)
    new.kind, new.text, new.index, new.lang, new.confidence, new.duplicate_of = \
        b.kind, b.text, b.index, b.lang, b.confidence, b.duplicate_of
    new.segments = [_segment_copy(s) for s in b.segments] if b.segments else []
    return new


def _segment_copy(s: Segment) -> Segment:
    new = object.__new__(Segment)
    new.start, new.end, new.lang, new.confidence, new.action = s.start, s.end, s.lang, s.confidence, s.action
    new.translation = None if s.translation is None else _translation_copy(s.translation)
    return new


def _translation_copy(t: Translation) -> Translation:
    new = object.__new__(Translation)
    new.text, new.source, new.target, new.package, new.pivot, new.status = \
        t.text, t.source, t.target, t.package, list(t.pivot), t.status
    return new


def _metadata_copy(m: Metadata) -> Metadata:
    new = object.__new__(Metadata)
    new.title, new.author, new.date, new.site, new.url, new.encoding = \
        m.title, m.author, m.date, m.site, m.url, m.encoding
    return new


def _block_from_json(d: dict[str, Any]) -> Block:
    segments = [
        Segment(**{**s, "translation": Translation(**s["translation"]) if s.get("translation") else None})
        for s in d.get("segments", [])
    ]
    return Block(**{**d, "segments": segments})
