"""extract: decoded text → typed blocks, and (HTML) page metadata.

A document with no text, or only whitespace, is filtered with reason `empty document`.

Plain text is split into paragraph blocks at blank lines (a line of only spaces, including no-break
spaces, is blank); a block keeps its lines, which `boilerplate` and `normalise` work on.

HTML goes through trafilatura's main-content extraction. Its XML tree keeps the structure, so each top-level
element becomes a typed block: `head` → heading, `p` → paragraph, list `item` → list_item, `quote` → quote,
tables → one paragraph per row (cells tab-separated); a `<br>` stays a line break inside the block. Title,
author, date, site name and URL go to `metadata` where they are still empty. A page where trafilatura finds
no main text is filtered with reason `no main text`. `boilerplate` runs on the blocks afterwards, because
trafilatura leaves ad labels, share-button text and captions in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pipeline.document import Block, BlockKind, Document
from pipeline.stage import Stage

_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")
_SPACE_RUNS = re.compile(r"[^\S\n\t]+")
_KINDS: dict[str, BlockKind] = {"head": "heading", "p": "paragraph", "quote": "quote", "item": "list_item"}
# Children that start a new line when they sit inside another element (a list inside a paragraph...).
_LINE_ELEMENTS = frozenset({"p", "head", "list", "item", "quote", "row", "table", "code"})
_METADATA_FIELDS = (("title", "title"), ("author", "author"), ("date", "date"), ("site", "sitename"), ("url", "url"))


@dataclass(frozen=True, kw_only=True)
class ExtractConfig:
    favor: Literal["balanced", "precision", "recall"] = field(default="balanced", metadata={
        "help": "trafilatura's trade-off on HTML"})
    comments: bool = field(default=False, metadata={
        "help": "keep the page's comment section (paragraphs after the article)"})
    tables: bool = field(default=True, metadata={"help": "keep table text (one paragraph per row)"})
    metadata: bool = field(default=True, metadata={"help": "read title, author, date, site and URL from the page"})
    fast: bool = field(default=False, metadata={
        "help": "skip trafilatura's fallback extractors: faster, a little less accurate"})


class Extract(Stage[ExtractConfig]):
    name = "extract"
    requires = ("decoded",)
    provides = ("blocks",)

    def setup(self) -> None:
        # Imported here, not at module import: trafilatura (lxml, htmldate, courlan) is heavy.
        import trafilatura  # noqa: F401

    def process(self, doc: Document) -> Document:
        text = doc.plain_text if doc.plain_text is not None else doc.html
        if text is None and doc.blocks:
            return doc  # extracted already: a tamis record read back to run again
        if not text or text.isspace():
            return doc.filtered(self.name, "empty document")
        if doc.plain_text is not None:
            doc.blocks = split_paragraphs(doc.plain_text)
            doc.plain_text = None
            return doc
        return self.extract_html(doc)

    def extract_html(self, doc: Document) -> Document:
        import trafilatura

        result = trafilatura.bare_extraction(doc.html, url=doc.metadata.url, **trafilatura_options(self.config))
        if not isinstance(result, trafilatura.settings.Document):
            return doc.filtered(self.name, "no main text")
        doc.blocks = blocks_from_tree(result.body)
        if self.config.comments and result.commentsbody is not None:
            doc.blocks += blocks_from_tree(result.commentsbody, start=len(doc.blocks))
        if not doc.blocks:
            return doc.filtered(self.name, "no main text")
        for ours, theirs in _METADATA_FIELDS:
            value = getattr(result, theirs, None)
            if value and getattr(doc.metadata, ours) is None:
                setattr(doc.metadata, ours, value if isinstance(value, str) else "; ".join(value))
        doc.html = None
        return doc


def trafilatura_options(config: ExtractConfig) -> dict[str, Any]:
    """trafilatura's keyword arguments for `config`; `bench/boilerplate.py` passes the same ones to
    `trafilatura.extract` to compare like with like. XML output keeps the structure the blocks come from."""
    return {"output_format": "xml", "fast": config.fast, "favor_precision": config.favor == "precision",
            "favor_recall": config.favor == "recall", "include_comments": config.comments,
            "include_tables": config.tables, "with_metadata": config.metadata}


def split_paragraphs(text: str) -> list[Block]:
    """Blocks of consecutive non-blank lines, each line stripped of trailing spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks: list[Block] = []
    for chunk in _BLANK_LINES.split(text):
        lines = [line.rstrip() for line in chunk.split("\n")]
        body = "\n".join(line for line in lines if line.strip())
        if body:
            blocks.append(Block(kind="paragraph", text=body, index=len(blocks)))
    return blocks


def blocks_from_tree(body: Any, start: int = 0) -> list[Block]:
    """One block per top-level element of trafilatura's XML tree (one per item of a list, one per row of a
    table); empty elements and images give none."""
    blocks: list[Block] = []
    for element in body:
        if element.tag == "list":
            parts = [("item", item) for item in element if item.tag == "item"]
        elif element.tag == "table":
            parts = [("row", row) for row in element.iter("row")]
        else:
            parts = [(element.tag, element)]
        for tag, part in parts:
            text = _clean(_element_text(part))
            if text:
                blocks.append(Block(kind=_KINDS.get(tag, "paragraph"), text=text, index=start + len(blocks)))
    return blocks


def _element_text(element: Any) -> str:
    pieces = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            pieces.append("\n")
        elif child.tag == "cell":
            pieces.append("\t" + _element_text(child))
        elif child.tag in _LINE_ELEMENTS:
            pieces.append("\n" + _element_text(child) + "\n")
        elif child.tag != "graphic":
            pieces.append(_element_text(child))
        pieces.append(child.tail or "")
    return "".join(pieces)


def _clean(text: str) -> str:
    """Spaces collapsed and lines stripped; blank lines dropped, so a block never holds a paragraph break."""
    lines = (_SPACE_RUNS.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
