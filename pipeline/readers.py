"""Streaming input: files, directories, stdin, FIFOs, compressed files, JSONL, WARC and Parquet in, one
`Document` per input document.

Readers never hold more than one document (one file, one JSONL line, one WARC record, one Parquet row batch)
in memory. A name's suffix is a claim that the content can overrule (`pipeline.sniff`): the reader follows
the content and warns on the record. Bytes are not decoded here: `raw` goes to the `decode` stage. Whatever
cannot be read becomes an `error` record at its place in the stream, and what is deliberately left out (a
file with an unknown suffix, a WARC record that is not an HTML page) is counted in `Reader.skipped`, so no
input vanishes without a word.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import io
import itertools
import json
import lzma
import math
import os
import re
import stat
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pipeline import records, sniff, warc
from pipeline.document import Document, Metadata, StageWarning
from pipeline.errors import InputError

UNKNOWN = "application/octet-stream"
READ_STAGE = "read"
CONTENT_TYPES = {"html": "text/html", "text": "text/plain", "binary": UNKNOWN}
METADATA_FIELDS = ("title", "author", "date", "site", "url")  # taken from a JSONL record or its `metadata`
SKIPPED_NAMES = 10  # how many skipped names stats and the summary show
_SKIP_CHUNK = 1 << 20
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(slots=True)
class Skipped:
    """Inputs left out on purpose: how many, why, and the first few names."""

    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first: list[str] = field(default_factory=list)

    def add(self, name: str, reason: str) -> None:
        self.count += 1
        self.reasons[reason] += 1
        if len(self.first) < SKIPPED_NAMES:
            self.first.append(f"{name} ({reason})")

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "reasons": dict(sorted(self.reasons.items())), "first": self.first}


class Reader:
    """Documents from each input in order: a file (or FIFO, `/dev/stdin`, `/dev/fd/N`), a directory (files
    matching `glob` with a known suffix, sorted), or `-` for standard input. Iterate it once; `skipped`
    counts what was left out so far."""

    def __init__(self, inputs: Iterable[str], glob: str = "**/*", max_bytes: int | None = None) -> None:
        self.inputs = list(inputs)
        self.glob = glob
        self.max_bytes = max_bytes
        self.skipped = Skipped()
        self._found: dict[Path, list[tuple[Path, os.stat_result | None]]] = {}

    def __iter__(self) -> Iterator[Document]:
        for item in self.inputs:
            if item == "-":
                yield from self._stream(sys.stdin.buffer, "stdin", "<stdin>", None, named=False)
                continue
            path = Path(item)
            if path.is_dir():
                yield from self._directory(path)
            elif path.exists():
                yield from self.file(path, path.name)
            else:
                raise InputError(f"{item}: no such file or directory")

    def documents(self) -> Iterator[Document]:
        """The documents, checked to be at least one: raises `InputError` (exit 2) before any output
        when the inputs hold none."""
        stream = iter(self)
        first = next(stream, None)
        if first is None:
            left_out = f": {self.skipped.count} skipped, e.g. {', '.join(self.skipped.first[:3])}" \
                if self.skipped.count else ""
            raise InputError(f"no input document in {', '.join(self.inputs)}{left_out}")
        return itertools.chain([first], stream)

    def _directory(self, root: Path) -> Iterator[Document]:
        for item in self.listing(root):
            if isinstance(item, Document):
                yield item
            else:
                yield from self.file(*item)

    def found(self, root: Path) -> list[tuple[Path, os.stat_result | None]]:
        """The paths `glob` matches below directory `root`, in reading order, each with its `stat` (links
        followed; None when it fails): looked up once per reader, so that the run's manifest
        (`pipeline.manifest`) records the files and stats this reader reads, without a second look. `listing`
        takes it."""
        if root not in self._found:
            self._found[root] = [(path, _stat(path)) for path in sorted(root.glob(self.glob), key=path_order)]
        return self._found[root]

    def listing(self, root: Path) -> Iterator[tuple[Path, str] | Document]:
        """The files of directory `root` to read, as `(path, relative name)` in reading order, and an error
        record in the place of each directory that cannot be read. Files left out are counted in `skipped`.
        Executors that read files elsewhere (Ray's read tasks) list them here, so they read what this does."""
        failed: list[Path] = []
        for _ in os.walk(root, onerror=lambda exc: failed.append(Path(exc.filename))):
            pass
        found = self.found(root)
        del self._found[root]  # taken once: a reader done with a directory holds no list of its files
        unreadable = set(failed)
        if unreadable:
            listed = {path for path, _ in found}
            found = sorted([*found, *((path, None) for path in unreadable - listed)], key=lambda f: path_order(f[0]))
        depth = len(root.parts)  # a glob's paths start with the root's parts: the rest is the relative name
        for path, status in found:
            rel = "/".join(path.parts[depth:])
            if path in unreadable:
                doc_id, warnings = _clean(rel)
                yield _error(doc_id, _clean(str(path))[0], warnings, "directory cannot be read (permission denied "
                             "or gone): its files are not read")
                continue
            if status is None:  # pathlib's `exists` tells a broken link from an error to raise
                self.skipped.add(_clean(rel)[0], "not a regular file" if path.exists() else "broken link")
                continue
            mode = status.st_mode  # one `stat` for what `is_dir` and `is_file` asked one each
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                self.skipped.add(_clean(rel)[0], "not a regular file")
            elif sniff.parse_name(path.name)[0] is None:
                self.skipped.add(_clean(rel)[0], "unknown suffix")
            else:
                yield path, rel

    def file(self, path: Path, rel: str) -> Iterator[Document]:
        """The documents of one file, `rel` naming it (its path below the input directory)."""
        doc_id, id_warnings = _clean(rel)
        source, _ = _clean(str(path))
        try:
            # Unbuffered: the head is read in one call, and what follows it goes through `_replay`'s buffer.
            stream = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below, after the generator is done with it
        except OSError as exc:
            yield _error(doc_id, source, id_warnings, f"cannot open: {exc.strerror or exc}")
            return
        with stream:
            info = os.fstat(stream.fileno())
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            yield from self._stream(stream, doc_id, source, path, id_warnings=id_warnings, size=size)

    def _stream(self, raw: IO[bytes], doc_id: str, source: str, path: Path | None, *, named: bool = True,
                id_warnings: list[StageWarning] | None = None, size: int | None = None) -> Iterator[Document]:
        """One input's documents: decompress by magic number, sniff the content, read it as what it is."""
        warnings = list(id_warnings or [])
        claimed, claimed_compression = sniff.parse_name(path.name) if path is not None and named else (None, None)
        try:
            head = _read_upto(raw, sniff.HEAD_BYTES)
            # An input shorter than the head ends there (`_read_upto` stops short only at the end): a single
            # document is then `head` itself, not read again through the replay.
            whole = _whole(head)
            compression = sniff.compression(head)
            stream: IO[bytes] = _replay(head, raw) if whole is None else io.BytesIO(head)
            if named and compression != claimed_compression:
                warnings.append(_compression_warning(compression, claimed_compression))
            if compression == "gzip" and _inflate_start(head).startswith(b"WARC/"):
                # warcio inflates a .warc.gz record by record itself, a third faster than one GzipFile over all
                head, whole = _inflate_start(head), None
            elif compression is not None:
                stream = _decompress(stream, compression)
                size = None
                head = _read_upto(stream, sniff.HEAD_BYTES)
                whole = _whole(head)
                stream = _replay(head, stream) if whole is None else io.BytesIO(head)
            if head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"{") and b"\n" not in head:
                # Sniffing JSONL needs the whole first line: read it again through the replay, then replay it.
                head = stream.readline(-1 if self.max_bytes is None else max(self.max_bytes + 1, len(head)))
                stream, whole = _replay(head, stream), None
            kind = sniff.sniff(head, claimed)
            if claimed is not None and kind != claimed:
                warnings.append(StageWarning(stage=READ_STAGE, message=f"content is {sniff.LABELS[kind]}, not the "
                                             f"{sniff.LABELS[claimed]} its name says: read as {sniff.LABELS[kind]}"))
            if kind == "jsonl":
                yield from _read_jsonl(stream, source, Path(doc_id).name, self.max_bytes, warnings)
            elif kind == "warc":
                for page in warc.documents(stream, source, self.max_bytes, warnings, self.skipped.add):
                    yield self._within_limit(page)
            elif kind == "parquet":
                yield from self._parquet(path if compression is None else None, doc_id, source, warnings)
            else:
                yield self._single(stream, doc_id, source, kind, size, warnings, whole)
        except _read_errors() as exc:
            yield _error(doc_id, source, warnings, f"read failed: {type(exc).__name__}: {exc}")

    def _single(self, stream: IO[bytes], doc_id: str, source: str, kind: sniff.Kind,
                size: int | None, warnings: list[StageWarning], whole: bytes | None) -> Document:
        """The document of one input; `whole` is all of its bytes when they were read already."""
        content_type = CONTENT_TYPES.get(kind, UNKNOWN)
        limit = self.max_bytes
        if limit is not None and size is not None and size > limit:
            return _oversize(doc_id, source, content_type, size, limit, warnings)
        if whole is not None:
            data = whole if limit is None else whole[: limit + 1]
        else:
            data = stream.read() if limit is None else stream.read(limit + 1)
        return self._within_limit(Document(id=doc_id, source=source, content_type=content_type, raw=data,
                                           warnings=warnings))

    def _within_limit(self, doc: Document) -> Document:
        """`doc`, or its error record when its bytes (read up to `max_bytes + 1`) are over the limit."""
        if self.max_bytes is not None and doc.raw is not None and len(doc.raw) > self.max_bytes:
            return doc.failed(READ_STAGE, f"document is over the limit run.max_bytes={self.max_bytes}")
        return doc

    def _parquet(self, path: Path | None, doc_id: str, source: str,
                 warnings: list[StageWarning]) -> Iterator[Document]:
        from pipeline import parquet

        if path is None or not path.is_file():
            yield _error(doc_id, source, warnings, "Parquet is read from its footer: give it as an "
                         "uncompressed regular file")
            return
        name = Path(doc_id).name
        for number, row in parquet.rows(path):
            # Arrow strings are valid UTF-8: no lone surrogates to look for.
            yield from_record(row, f"{name}:{number}", source, f"row {number}", warnings=warnings,
                              check_surrogates=False)


def read(inputs: Iterable[str], glob: str = "**/*", max_bytes: int | None = None) -> Iterator[Document]:
    """The documents of `inputs` (see `Reader`), for library use that needs no skip count."""
    return iter(Reader(inputs, glob, max_bytes))


def path_order(path: Path) -> tuple[str, ...]:
    """The order of `Path`'s `<` (parts compared in turn, case-folded where the file system folds case) as a
    sort key: tuples compare in C, where `Path.__lt__` made sorting a directory cost as much as its `stat`s."""
    return path.parts if _CASE_KEPT else tuple(os.path.normcase(part) for part in path.parts)


_CASE_KEPT = os.path.normcase("A") == "A"


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def check_inputs(inputs: Iterable[str]) -> None:
    """Fail before the run starts when an input path does not exist."""
    for item in inputs:
        if item != "-" and not Path(item).exists():
            raise InputError(f"{item}: no such file or directory")


def from_record(record: dict[str, Any], doc_id: str, source: str, where: str = "record",
                *, check_surrogates: bool = True, warnings: list[StageWarning] | None = None) -> Document:
    """A document from an input record, or from a tamis output record, which is read back as it was if it
    satisfies the schema. An input record has `html` or `text` (both: `html` is extracted, `text` is kept
    in `extra`), an optional `id`, metadata (`url`, `title`, `date`, `author`, `site`, or a `metadata`
    object), `lang`; other fields are kept in `extra`. `where` locates problems in messages."""
    if records.is_tamis_record(record):
        problem = records.schema_problem(record)
        if problem is None:
            return Document.from_json(record)
        return Document(id=doc_id, source=source).failed(READ_STAGE, f"{where}: not a valid tamis record ({problem})")
    doc_warnings = list(warnings or [])
    if check_surrogates:
        record, lone = _replace_lone_surrogates(record)
        if lone:
            doc_warnings.append(StageWarning(stage=READ_STAGE, message=f"{where}: {lone} lone surrogate escapes "
                                             "replaced by U+FFFD"))
    html, text = record.get("html"), record.get("text")
    metadata, extra = _metadata(record, doc_warnings, where)
    if isinstance(html, str) and "text" in record:
        extra["text"] = text
    given_id = record.get("id")
    doc = Document(id=doc_id if given_id is None else given_id if isinstance(given_id, str) else json.dumps(given_id),
                   source=source, metadata=metadata, extra=extra, warnings=doc_warnings)
    if isinstance(record.get("lang"), str):
        doc.lang = record["lang"]
    if isinstance(html, str):
        doc.content_type, doc.html = "text/html", html
        return doc
    if isinstance(text, str):
        doc.content_type, doc.plain_text = "text/plain", text
        return doc
    return doc.failed(READ_STAGE, f"{where}: record has no string field 'html' or 'text'")


def _metadata(record: dict[str, Any], warnings: list[StageWarning], where: str) -> tuple[Metadata, dict[str, Any]]:
    """Metadata fields of a record (top level first, then its `metadata` object); what is not a string
    metadata field stays in `extra`, with a warning when a metadata name held something else."""
    extra = {k: v for k, v in record.items() if k not in ("id", "html", "text", "lang", "metadata", *METADATA_FIELDS)}
    found: dict[str, str] = {}
    nested = record.get("metadata")
    if isinstance(nested, dict):
        rest = {}
        for key, value in nested.items():
            if key in METADATA_FIELDS and isinstance(value, str):
                found[key] = value
            else:
                rest[key] = value
        if rest:
            extra["metadata"] = rest
    elif "metadata" in record:
        extra["metadata"] = nested
    for key in (*METADATA_FIELDS, "lang"):
        if key not in record:
            continue
        if isinstance(record[key], str):
            if key != "lang":
                found[key] = record[key]
        else:
            extra[key] = record[key]
            warnings.append(StageWarning(stage=READ_STAGE, message=f"{where}: field {key!r} is not a string: "
                                         "kept in extra"))
    return Metadata(**found), extra


def from_line(line: bytes, number: int, doc_id: str, source: str,
              warnings: list[StageWarning] | None = None) -> Document:
    """A document from one JSONL line; a line that is not a JSON object is an error record naming it."""
    where = f"line {number}"
    try:
        record = json.loads(line.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError as exc:
        problem = f"not valid UTF-8 ({exc.reason} at byte {exc.start})"
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON ({exc.msg} at column {exc.colno})"
    except ValueError as exc:  # valid JSON that Python refuses, e.g. an integer of more than 4300 digits
        problem = f"JSON that cannot be read here ({exc})"
    except RecursionError:
        problem = "JSON nested too deeply to read"
    else:
        if isinstance(record, dict):
            try:
                # Lone surrogates can only come from `\\ud8xx`-style escapes: skip the walk when the line has none.
                return from_record(record, doc_id, source, where, warnings=warnings,
                                   check_surrogates=bool(_SURROGATE_ESCAPE.search(line)))
            except RecursionError:
                problem = "JSON nested too deeply to read"
        else:
            problem = f"expected a JSON object, got {type(record).__name__}"
    return Document(id=doc_id, source=source, warnings=list(warnings or [])).failed(READ_STAGE, f"{where}: {problem}")


def _refuse_constant(name: str) -> Any:
    """Python's `json` reads `NaN` and `Infinity`, which are not JSON: written back, no record would be."""
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    """A JSON number too large for a float (`1e999`) would be written back as `Infinity`, which is not JSON."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text[:20]} is out of a float's range")
    return value


def _read_jsonl(stream: IO[bytes], source: str, name: str, max_bytes: int | None,
                warnings: list[StageWarning]) -> Iterator[Document]:
    """One document per non-blank line. A line over `max_bytes` is refused after reading at most
    `max_bytes` of it: the rest is skipped in chunks up to the next newline."""
    limit = -1 if max_bytes is None else max_bytes + 1
    for number in itertools.count(1):
        line = stream.readline(limit)
        if not line:
            return
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8):]
        doc_id = f"{name}:{number}"
        body = line.rstrip(b"\r\n")
        if max_bytes is not None and len(body) > max_bytes:
            size = len(body)
            while not line.endswith(b"\n"):
                line = stream.readline(_SKIP_CHUNK)
                size += len(line.rstrip(b"\r\n"))
                if not line:
                    break
            yield _oversize(doc_id, source, UNKNOWN, size, max_bytes, warnings)
            continue
        if body.strip():
            yield from_line(body, number, doc_id, source, warnings)


def _replace_lone_surrogates(value: Any) -> tuple[Any, int]:
    """JSON may escape half a surrogate pair (`"\\ud800"`), which no UTF-8 output can hold."""
    if isinstance(value, str):
        return records.SURROGATE.subn("\ufffd", value)
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


def _clean(name: str) -> tuple[str, list[StageWarning]]:
    """A file name as valid UTF-8: bytes that are not UTF-8 (kept by the OS as surrogate escapes) are
    written as `\\xff`, with a warning."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode("utf-8", errors="backslashreplace")
        return shown, [StageWarning(stage=READ_STAGE, message=f"file name is not valid UTF-8: shown as {shown!r}")]
    return name, []


def _error(doc_id: str, source: str, warnings: list[StageWarning], message: str) -> Document:
    return Document(id=doc_id, source=source, warnings=list(warnings)).failed(READ_STAGE, message)


def _oversize(doc_id: str, source: str, content_type: str, size: int, max_bytes: int,
              warnings: list[StageWarning]) -> Document:
    doc = Document(id=doc_id, source=source, content_type=content_type, warnings=list(warnings))
    return doc.failed(READ_STAGE, f"document is {size} bytes, over the limit run.max_bytes={max_bytes}")


def _compression_warning(found: str | None, named: str | None) -> StageWarning:
    if found is None:
        message = f"named as {named}-compressed but it is not: read as it is"
    else:
        message = f"content is {found}-compressed" + (f", not {named} as its name says" if named else "") \
                  + ": decompressed"
    return StageWarning(stage=READ_STAGE, message=message)


def _read_upto(stream: IO[bytes], n: int) -> bytes:
    """Up to `n` bytes: pipes and decompressors may return fewer per call."""
    parts: list[bytes] = []
    left = n
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _whole(head: bytes) -> bytes | None:
    """`head` when it is the whole input (shorter than a full head), else None."""
    return head if len(head) < sniff.HEAD_BYTES else None


class _Replay(io.RawIOBase):
    """A stream whose first bytes were already read to look at them: they come first again."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _replay(head: bytes, rest: IO[bytes]) -> IO[bytes]:
    return io.BufferedReader(_Replay(head, rest), buffer_size=sniff.HEAD_BYTES)


def _inflate_start(head: bytes) -> bytes:
    """The start of what the gzip data `head` holds, as far as `head` goes."""
    try:
        return zlib.decompressobj(wbits=31).decompress(head, sniff.HEAD_BYTES)
    except zlib.error:
        return b""


def _decompress(stream: IO[bytes], compression: str) -> IO[bytes]:
    if compression == "gzip":
        return io.BufferedReader(gzip.GzipFile(fileobj=stream))  # several members (a .warc.gz) read as one
    if compression == "bzip2":
        return bz2.BZ2File(stream)
    if compression == "xz":
        return lzma.LZMAFile(stream)
    try:
        import zstandard
    except ImportError:
        raise sniff.FormatError("zstd-compressed input needs zstandard: pip install 'tamis[zstd]'") from None
    return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(stream), buffer_size=sniff.HEAD_BYTES)


def _read_errors() -> tuple[type[BaseException], ...]:
    """What reading a file may raise: I/O and decompression errors (zstandard's own when it is there)."""
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, lzma.LZMAError, zlib.error, sniff.FormatError)
    zstandard = sys.modules.get("zstandard")
    return (*errors, zstandard.ZstdError) if zstandard is not None else errors
