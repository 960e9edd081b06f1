"""dedupe: remove blocks that repeat an earlier block of the same document; the first occurrence stays.

A block repeats an earlier one when its text is identical, or (with `near: true`) when both have the same
words once case, spacing and punctuation are ignored ("Le chef, a-t-il dit" / "le chef a t il dit").
Blocks without any word (separators such as "***") are never duplicates, nor are blocks that recur by
nature rather than by copying: lines that are not prose (shell commands, code, URLs, references:
`stages.text.is_prose`) and, after HTML extraction, short lines (under 8 words, not reading as a
sentence): there, the extractor has already taken out the page's furniture, so a short line that recurs is
the article's own (a label, a list item reused as a section heading, a table cell); in a plain-text dump
short repeats are mostly furniture, and go. Repeats of the title always go. Each repeat is a `Removal` whose
rule says what was repeated — `repeated_title` (the first occurrence is the document's first block, a
title or heading block, or `metadata.title`), `repeated_paragraph`, or `near_duplicate` — and whose
reason names the kept block's `index`. With `mark_only: true` the repeats stay in `blocks` with
`duplicate_of` set (they are left out of the clean text either way). This is the one stage that removes
repeated titles (`boilerplate` marks a plain-text headline as a `title` block and leaves its repeats here).
The comparison key is `stages.text.key`. Filters nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.document import Block, Document, Removal
from pipeline.stage import Stage
from stages import text

_TITLE_KINDS = ("title", "heading")
# Words of a key that sort blocks into groups where equal keys can be (see `text.key_start`).
_KEY_START_WORDS = 3
# Under this many words, a line that does not read as a sentence is a label, not a paragraph.
_SHORT_LINE_WORDS = 8


@dataclass(frozen=True, kw_only=True)
class DedupeConfig:
    near: bool = field(default=True, metadata={
        "help": "also drop repeats differing only in case, spacing, punctuation"})
    mark_only: bool = field(default=False, metadata={
        "help": "keep repeats in blocks with duplicate_of set, instead of dropping them"})


class Dedupe(Stage[DedupeConfig]):
    name = "dedupe"
    requires = ("blocks",)

    def process(self, doc: Document) -> Document:
        exact: dict[str, Block] = {}
        # The blocks kept so far, by the start of their key (`text.key_start`) and then by their key, built
        # only when a later block starts alike: most blocks of an article start unlike any other.
        near: dict[str, _Group] = {}
        titles = {text.key(doc.metadata.title)} if doc.metadata.title else set()
        kept: list[Block] = []
        for position, block in enumerate(doc.blocks):
            start = text.key_start(block.text, _KEY_START_WORDS)
            if block.duplicate_of is not None or not start:
                kept.append(block)
                continue
            group = near.get(start)
            first = exact.get(block.text)
            key = text.key(block.text) if group is not None or first is not None else None
            is_near = first is None and self.config.near and group is not None and key in group.keyed()
            if is_near:
                assert group is not None and key is not None
                first = group.keyed()[key]
            if first is None:
                exact[block.text] = block
                if group is None:
                    group = near[start] = _Group()
                group.add(block, key)
                if position == 0 or block.kind in _TITLE_KINDS:
                    titles.add(key if key is not None else text.key(block.text))
                kept.append(block)
                continue
            assert key is not None
            title = key in titles
            if not title and _repeats_by_nature(block.text, doc.content_type == "text/html"):
                self.counters["recurring_kept"] += 1
                kept.append(block)
                continue
            doc.removed.append(self._removal(block, first, title, is_near))
            self.counters["duplicates"] += 1
            if self.config.mark_only:
                block.duplicate_of = first.index
                kept.append(block)
        doc.blocks = kept
        return doc

    def _removal(self, block: Block, first: Block, title: bool, is_near: bool) -> Removal:
        what = f"the title (block {first.index})" if title else f"block {first.index}"
        if is_near:
            rule, reason = "near_duplicate", f"same words as {what}, differing only in case, spacing or punctuation"
        else:
            rule, reason = ("repeated_title" if title else "repeated_paragraph"), f"repeats {what}"
        return Removal(stage=self.name, rule=rule, reason=reason, text=block.text, block=block.index)


class _Group:
    """Blocks kept as first occurrences whose keys start alike, and the first of them with each key (keys
    built when first asked for)."""

    def __init__(self) -> None:
        self._blocks: list[tuple[Block, str | None]] = []
        self._keyed: dict[str, Block] | None = None

    def add(self, block: Block, key: str | None) -> None:
        self._blocks.append((block, key))
        if self._keyed is not None:
            self._keyed.setdefault(key if key is not None else text.key(block.text), block)

    def keyed(self) -> dict[str, Block]:
        if self._keyed is None:
            self._keyed = {}
            for block, key in self._blocks:
                self._keyed.setdefault(key if key is not None else text.key(block.text), block)
        return self._keyed


def _repeats_by_nature(line: str, extracted: bool) -> bool:
    """Whether a repeated block is content that recurs (a command, a line of code, a label or table cell the
    article reuses) rather than a copied paragraph. Only repeats pay for these checks."""
    if not text.is_prose(line):
        return True
    return extracted and text.word_count(line) < _SHORT_LINE_WORDS and not text.reads_as_sentence(line)
