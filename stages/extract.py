"""extract: decoded text → typed blocks.

Plain text is split into paragraph blocks at blank lines (a line of only spaces, including no-break
spaces, is blank); a block keeps its lines, which `boilerplate` and `normalise` work on. HTML support is
added by the boilerplate issue.

YAML: `extract: {}`
"""

from __future__ import annotations

import re

from pipeline.document import Block, Document
from pipeline.stage import Stage

_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")


class Extract(Stage):
    name = "extract"
    requires = ("decoded",)
    provides = ("blocks",)

    def process(self, doc: Document) -> Document:
        if doc.plain_text is not None:
            doc.blocks = split_paragraphs(doc.plain_text)
            doc.plain_text = None
        return doc


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
