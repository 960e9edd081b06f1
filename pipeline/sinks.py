"""Streaming output: JSONL on a stream or in a file, or one file per document (txt, md).

JSONL goes out in whole lines, so an interrupted run leaves a valid file that `--resume` completes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pipeline.document import Document, Status
from pipeline.errors import InputError


@dataclass(frozen=True, slots=True)
class Record:
    """A processed document already rendered as its JSONL line. Worker processes send these back instead
    of documents: one string pickles in a fraction of the time a graph of blocks and segments takes, and
    the parent, which has one core's share of the machine too, then only writes it."""

    id: str
    status: Status
    line: str

    @classmethod
    def of(cls, doc: Document) -> Record:
        return cls(doc.id, doc.status, json_line(doc))


def json_line(doc: Document) -> str:
    """The document's JSONL line, without its newline."""
    return json.dumps(doc.to_json(), ensure_ascii=False)


def for_output(docs: list[Document], fmt: str) -> list[Document] | list[Record]:
    """What a worker sends back to the writer: rendered `Record`s for JSONL, else the documents (the
    other formats render each document to its own file)."""
    return [Record.of(doc) for doc in docs] if fmt == "jsonl" else docs


class Writer:
    """Writes records in input order. JSONL records go out whole: one `write` per batch, then a flush,
    so an interrupted run leaves only complete lines."""

    def __init__(self, output: str, fmt: str, *, append: bool = False) -> None:
        self.output = output
        self.format = fmt
        self._stream: IO[str] | None = None
        if fmt == "jsonl":
            if output == "-":
                self._stream = sys.stdout
            else:
                Path(output).parent.mkdir(parents=True, exist_ok=True)
                self._stream = open(output, "a" if append else "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        else:
            if output == "-":
                raise InputError(f"run.format={fmt} writes one file per document: set run.output to a directory")
            Path(output).mkdir(parents=True, exist_ok=True)

    def write(self, docs: list[Document] | list[Record]) -> None:
        if self._stream is not None:
            self._stream.write("".join((d.line if isinstance(d, Record) else json_line(d)) + "\n" for d in docs))
            self._stream.flush()
            return
        for doc in docs:
            if isinstance(doc, Record):
                raise TypeError("a rendered Record can only go to a JSONL output")
            if doc.status == "ok":
                name = _safe_name(doc.id) + "." + self.format
                (Path(self.output) / name).write_text(render(doc, self.format), encoding="utf-8")

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stdout:
            self._stream.close()


def render(doc: Document, fmt: str) -> str:
    """A document as plain text or Markdown (headings and list items marked)."""
    if fmt == "txt":
        return doc.text + "\n"
    lines: list[str] = []
    for block in doc.blocks:
        text = block.main_text()
        if block.duplicate_of is not None or not text:
            continue
        prefix = {"title": "# ", "heading": "## ", "list_item": "- ", "quote": "> "}.get(block.kind, "")
        lines.append(prefix + text)
    return "\n\n".join(lines) + "\n"


def _safe_name(doc_id: str) -> str:
    stem = doc_id.rsplit(".", 1)[0] if "/" not in doc_id.rsplit(".", 1)[-1] else doc_id
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)[:200] or "document"


def read_records(path: str) -> Iterator[dict[str, Any]]:
    """Whole JSON lines of a tamis output file; a torn last line (an interrupted run) is ignored."""
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if line.endswith("\n"):
                yield json.loads(line)


def truncate_partial_line(path: str) -> None:
    """Cut a torn last line off `path`, so appending after it keeps the file valid JSONL."""
    with open(path, "rb+") as stream:
        data = stream.read()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            stream.truncate(end)
            os.fsync(stream.fileno())
