"""Streaming input: files, directories, stdin and JSONL in, one `Document` per input document.

Readers never hold more than one file (or one JSONL line) in memory. Bytes are not decoded here: `raw` goes to the `decode` stage. A JSONL line that cannot be read
becomes an `error` record at its place in the stream, so every input still yields exactly one record.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from pipeline.document import Document, StageWarning
from pipeline.errors import InputError

CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "text/html",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/plain",
}
JSONL_SUFFIXES = (".jsonl", ".ndjson")
UNKNOWN = "application/octet-stream"
READ_STAGE = "read"
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def read(inputs: Iterable[str], glob: str = "**/*", max_bytes: int | None = None) -> Iterator[Document]:
    """Documents from each input in order: a file, a directory (files matching `glob` with a known
    suffix, sorted), or `-` for standard input."""
    for item in inputs:
        if item == "-":
            yield from _read_stream(sys.stdin.buffer, "<stdin>", max_bytes)
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.glob(glob) if p.is_file() and _known(p))
            for file in files:
                yield from _read_file(file, file.relative_to(path).as_posix(), max_bytes)
        elif path.is_file():
            yield from _read_file(path, path.name, max_bytes)
        else:
            raise InputError(f"{item}: no such file or directory")


def check_inputs(inputs: Iterable[str]) -> None:
    """Fail before the run starts when an input path does not exist."""
    for item in inputs:
        if item != "-" and not Path(item).exists():
            raise InputError(f"{item}: no such file or directory")


def _known(path: Path) -> bool:
    return path.suffix.lower() in CONTENT_TYPES or path.suffix.lower() in JSONL_SUFFIXES


def _read_file(path: Path, doc_id: str, max_bytes: int | None) -> Iterator[Document]:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        with path.open("rb") as stream:
            yield from _read_jsonl(stream, str(path), max_bytes)
        return
    content_type = CONTENT_TYPES.get(suffix, UNKNOWN)
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        yield _oversize(doc_id, str(path), content_type, size, max_bytes)
        return
    yield Document(id=doc_id, source=str(path), content_type=content_type, raw=path.read_bytes())


def _oversize(doc_id: str, source: str, content_type: str, size: int, max_bytes: int) -> Document:
    doc = Document(id=doc_id, source=source, content_type=content_type)
    return doc.failed(READ_STAGE, f"document is {size} bytes, over the limit run.max_bytes={max_bytes}")


def _read_stream(stream: BinaryIO, source: str, max_bytes: int | None) -> Iterator[Document]:
    """Standard input: JSONL when it starts with `{`, else one document whose type `decode` sniffs."""
    head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
    if head.lstrip().startswith(b"{"):
        yield from _read_jsonl(stream, source, max_bytes)
        return
    data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        yield _oversize("stdin", source, UNKNOWN, len(data), max_bytes)
        return
    yield Document(id="stdin", source=source, content_type=UNKNOWN, raw=data)


def _read_jsonl(stream: IO[bytes], source: str, max_bytes: int | None) -> Iterator[Document]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        doc_id = f"{Path(source).name}:{number}"
        if max_bytes is not None and len(line) > max_bytes:
            yield _oversize(doc_id, source, UNKNOWN, len(line), max_bytes)
            continue
        yield _from_record(line, number, doc_id, source)


def _from_record(line: bytes, number: int, doc_id: str, source: str) -> Document:
    where = f"line {number}"
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON ({exc.msg} at column {exc.colno})"
    else:
        if isinstance(record, dict):
            # Lone surrogates can only come from `\\ud8xx`-style escapes: skip the walk when the line has none.
            return from_record(record, doc_id, source, where, check_surrogates=bool(_SURROGATE_ESCAPE.search(line)))
        problem = f"expected a JSON object, got {type(record).__name__}"
    return Document(id=doc_id, source=source).failed(READ_STAGE, f"{where}: {problem}")
def from_record(record: dict[str, Any], doc_id: str, source: str, where: str = "record",
                *, check_surrogates: bool = True) -> Document:
    """A document from an input record (`html` or `text`, optional `id`, other fields kept in `extra`), or
    from a tamis output record, which is read back as it was. `where` locates problems in messages."""
    if "blocks" in record and "status" in record:
        try:
            return Document.from_json(record)
        except (KeyError, TypeError, ValueError) as exc:
            return Document(id=doc_id, source=source).failed(READ_STAGE, f"{where}: not a valid tamis record ({exc})")
    lone = 0
    if check_surrogates:
        record, lone = _replace_lone_surrogates(record)
    extra = {k: v for k, v in record.items() if k not in ("id", "html", "text")}
    doc = Document(id=str(record.get("id", doc_id)), source=source, extra=extra)
    if lone:
        doc.warnings.append(StageWarning(stage=READ_STAGE, message=f"{where}: {lone} lone surrogate escapes "
                                         "replaced by U+FFFD"))
    if isinstance(record.get("html"), str):
        doc.content_type, doc.html = "text/html", record["html"]
        return doc
    if isinstance(record.get("text"), str):
        doc.content_type, doc.plain_text = "text/plain", record["text"]
        return doc
    return doc.failed(READ_STAGE, f"{where}: record has no string field 'html' or 'text'")


def _replace_lone_surrogates(value: Any) -> tuple[Any, int]:
    """JSON may escape half a surrogate pair (`"\\ud800"`), which no UTF-8 output can hold."""
    if isinstance(value, str):
        return _SURROGATE.subn("\ufffd", value)
    if isinstance(value, list):
        items = [_replace_lone_surrogates(v) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        total = 0
        for key, item in value.items():
            (clean_key, a), (clean_item, b) = _replace_lone_surrogates(key), _replace_lone_surrogates(item)
            out[clean_key] = clean_item
            total += a + b
        return out, total
    return value, 0
