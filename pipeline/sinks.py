"""Sinks store the encoded documents of a run in input order, and never leave a torn record or a truncated good file.

- JSONL to a file `OUT`: written to `OUT.part` beside it, fsynced and moved over `OUT` when the run ends, also
  when it is interrupted, stops at a failure (`--fail-fast`) or cannot write: `OUT` then holds whole records
  and `--resume` completes it. A run that ends before its first record (a setup error) or that is killed
  outright leaves the previous `OUT` as it was. With `--resume`, whole records are appended to `OUT`.
- JSONL to standard output, a pipe or a device: written as it comes.
- Markdown or text to a directory: one file per `ok` document, named after its id (a short hash of the id
  tells apart ids that would share a name), and `index.jsonl` listing every document in input order with
  its outcome and its file. The text `languages.policy: separate` took out goes to a sibling file per
  language with the same stem (`x.md`, `x.de.md`), also listed.
- Markdown or text to a name with the format's suffix (`-o one.md`): that file, for one document, and its
  siblings beside it (`one.de.md`); the manifest lists them, so the next run to that name removes those it
  does not write again.
- Parquet to a file: rows (`pipeline.columns`) to `OUT.part`, moved over `OUT` with its footer at the end.

Beside the output, named after it (`out.jsonl` → `out.stats.json` and `out.manifest.json`; in a directory
output, `stats.json` and `manifest.json`), go the run's stats and the manifest `--resume` checks
(`pipeline.manifest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, cast

from pipeline import columns
from pipeline.config import PipelineConfig
from pipeline.encoders import Encoded
from pipeline.errors import OutputError, WriteError
from pipeline.manifest import Manifest
from pipeline.readers import Reader
from pipeline.stats import RunStats

STDOUT = "-"
INDEX = "index.jsonl"
_STATUS = re.compile(rb'"status": "(ok|filtered|error)"')  # the first key of that name: to_json writes it third
_ID_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_NAME_BYTES = 150  # a file name's stem; file systems allow 255 bytes, the hash and suffix need a few
_RESUME_AGAIN = "run again without --resume"
_DESCRIPTORS = ("/dev/stdout", "/dev/stderr")


class Sink:
    """Where a run's encoded documents go. `done` documents were already in the output (`--resume`), with
    `previous` their stats; `written` counts this run's. `close(keep)` ends the output: with `keep`, it now
    holds this run's records (True is returned, and the run's stats belong beside it); else the previous
    output stays as it was."""

    stats_file: str | None = None

    def __init__(self) -> None:
        self.done = 0
        self.written = 0
        self.previous = RunStats()

    def write(self, batch: list[Encoded]) -> None:
        raise NotImplementedError

    def close(self, keep: bool) -> bool:
        raise NotImplementedError


def open_sink(config: PipelineConfig, inputs: list[str], *, resume: bool = False,
              reader: Reader | None = None) -> Sink:
    """The sink for `config.run.output` and `config.run.format`, checked before any document is processed:
    an output that is an input, a directory where a file is needed or the reverse, or that cannot be
    created raises `OutputError` and leaves everything as it was. With `resume`, the output's manifest must
    match `inputs` and `config`, and its records must be whole. The manifest lists the input directories'
    files as `reader` (the run's) finds them."""
    run = config.run
    if run.output == STDOUT or _is_device(Path(run.output)):
        if resume:
            raise OutputError("--resume completes an output file: give it with -o")
        if run.format == "parquet":
            raise OutputError("run.format=parquet writes a file: give it with -o")
        if run.format != "jsonl":
            raise OutputError(f"run.format={run.format} writes files: give a directory as --output "
                              f"(or a .{run.format} file name for one document)")
        sink: Sink = _Stream(None if run.output == STDOUT else run.output)
        sink.stats_file = run.stats
        return sink
    path = Path(run.output)
    check_not_an_input(path, inputs)
    manifest = Manifest.of(config, inputs, reader)
    if run.format == "jsonl":
        sink = _JsonlFile(path, manifest, resume, stats_path(run.output, run.stats))
    elif run.format == "parquet":
        if resume:
            raise OutputError(f"--resume: {path}: a Parquet output is written whole and cannot be resumed; "
                              f"{_RESUME_AGAIN}")
        sink = _Parquet(path, manifest, stats_path(run.output, run.stats))
    elif path.suffix == f".{run.format}" and not path.is_dir():
        sink = _OneFile(path, manifest, stats_path(run.output, run.stats))
    else:
        sink = _Directory(path, run.format, manifest, resume, run.stats)
    return sink


def stats_path(output: str, requested: str | None) -> str | None:
    """Where a run's stats go: `requested` (`run.stats`), else beside the output and named after it
    (`out.jsonl` → `out.stats.json`, a directory → `DIR/stats.json`); none for standard output or a device."""
    if requested is not None:
        return requested
    if output == STDOUT or _is_device(Path(output)):
        return None
    return str(_sidecar(Path(output), "stats"))


def _sidecar(output: Path, role: str) -> Path:
    return output / f"{role}.json" if output.is_dir() else output.with_name(f"{output.stem}.{role}.json")


def _is_device(path: Path) -> bool:
    """A character device, a pipe or a socket, or a name of a descriptor (`/dev/stdout` may stand for a
    file the shell opened): written as a stream, never replaced or resumed."""
    if str(path) in _DESCRIPTORS or str(path).startswith("/dev/fd/"):
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_not_an_input(output: Path, inputs: list[str]) -> None:
    """A run must not write over what it reads, nor read what it writes."""
    target = output.resolve()
    for item in inputs:
        if item == STDOUT:
            continue
        source = Path(item).resolve()
        if target == source:
            raise OutputError(f"{output}: the output is one of the inputs; choose another --output")
        if source.is_dir() and source in target.parents:
            raise OutputError(f"{output}: the output is inside the input directory {item}; choose another --output")
        if target in source.parents:
            raise OutputError(f"{output}: the input {item} is inside the output directory; choose another --output")


def _make_dirs(folder: Path, output: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        problem = f"{blocker} is not a directory" if blocker is not None else exc.strerror
        raise OutputError(f"{output}: cannot create the output: {problem}") from None


def _create(path: Path, output: Path, mode: str = "wb") -> BinaryIO:
    """An unbuffered file, so a failed write leaves nothing pending to flush after the cut."""
    try:
        return cast(BinaryIO, open(path, mode, buffering=0))  # noqa: SIM115 - the sink closes it
    except OSError as exc:
        raise OutputError(f"{output}: cannot create the output: {exc.strerror}") from None


def _write_all(stream: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[stream.write(view) or 0:]


def write_atomically(path: str | Path, text: str) -> None:
    """`text` into `path` through a temporary file beside it: `path` is whole or as it was."""
    part = Path(f"{path}.part")
    with open(part, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(part, path)


def cut_torn_line(path: str | Path) -> None:
    """Cut a torn last line off `path` (an interrupted write), reading backwards from the end only as far as
    the last newline, so appending after it keeps the file whole lines."""
    with open(path, "rb+") as stream:
        end = stream.seek(0, os.SEEK_END)
        keep, position = 0, end
        while position > 0:
            step = min(1 << 16, position)
            stream.seek(position - step)
            newline = stream.read(step).rfind(b"\n")
            if newline >= 0:
                keep = position - step + newline + 1
                break
            position -= step
        if keep != end:
            stream.truncate(keep)
            os.fsync(stream.fileno())


def _check_resumable(output: Path, manifest_file: Path, manifest: Manifest) -> None:
    if not manifest_file.is_file():
        raise OutputError(f"--resume: {output} has no manifest {manifest_file.name}, so its inputs cannot be "
                          f"checked; {_RESUME_AGAIN}")
    unchecked = manifest.unchecked()
    if unchecked is not None:
        raise OutputError(f"--resume: {unchecked} cannot be read again to check that it is unchanged "
                          f"(standard input or a pipe); {_RESUME_AGAIN}")
    changes = manifest.changes_since(Manifest.read(manifest_file))
    if changes:
        raise OutputError(f"--resume: {output} was written from other inputs or another config: "
                          f"{', '.join(changes)}; {_RESUME_AGAIN}")


def _previous_stats(counted: RunStats, stats_file: str | None) -> RunStats:
    """The stats file of the run being resumed when it describes the records found, else the counts alone
    (a run killed outright writes no stats)."""
    try:
        written = RunStats.from_json(json.loads(Path(stats_file).read_text(encoding="utf-8"))) if stats_file else None
    except (OSError, ValueError, KeyError, TypeError):
        written = None
    same = written is not None and (written.documents, written.ok, written.filtered, written.errors) == \
        (counted.documents, counted.ok, counted.filtered, counted.errors)
    return written if same and written is not None else counted


class _Stream(Sink):
    """JSONL on standard output (`path` None), a pipe or a device."""

    def __init__(self, path: str | None) -> None:
        super().__init__()
        self.name = path or "<stdout>"
        # Appending truncates nothing: `/dev/stdout` may be a file the shell opened with `>>`.
        self._stream: BinaryIO = sys.stdout.buffer if path is None else _create(Path(path), Path(path), "ab")

    def write(self, batch: list[Encoded]) -> None:
        try:
            self._stream.write(_lines(batch))
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise WriteError(f"{self.name}: cannot write: {exc.strerror}") from None
        self.written += len(batch)

    def close(self, keep: bool) -> bool:
        if self._stream is not sys.stdout.buffer:
            self._stream.close()
        return True


class _JsonlFile(Sink):
    def __init__(self, path: Path, manifest: Manifest, resume: bool, stats_file: str | None) -> None:
        super().__init__()
        self.path, self.stats_file = path, stats_file
        self._manifest = _sidecar(path, "manifest")
        if path.is_dir():
            raise OutputError(f"{path}: is a directory; a JSONL output is a file "
                              "(use --format md or txt for a directory)")
        if path.exists() and not os.access(path, os.W_OK):
            raise OutputError(f"{path}: is read-only")
        _make_dirs(path.parent, path)
        self._part: Path | None = None
        if resume and path.exists():
            _check_resumable(path, self._manifest, manifest)
            cut_torn_line(path)
            self.previous = _previous_stats(_count_records(path), stats_file)
            self.done = self.previous.documents
            self._stream = _create(path, path, "ab")
        else:
            self._part = Path(f"{path}.part")
            self._stream = _create(self._part, path)
            write_atomically(f"{self._manifest}.new", manifest.to_text())
        self._good = self._stream.seek(0, os.SEEK_END)

    def write(self, batch: list[Encoded]) -> None:
        data = _lines(batch)
        try:
            _write_all(self._stream, data)
        except OSError as exc:
            os.ftruncate(self._stream.fileno(), self._good)
            raise WriteError(f"{self.path}: cannot write: {exc.strerror}; it holds the first "
                             f"{self.done + self.written} records, whole: make room and complete it with --resume"
                             ) from None
        self._good += len(data)
        self.written += len(batch)

    def close(self, keep: bool) -> bool:
        try:
            os.ftruncate(self._stream.fileno(), self._good)  # an interrupted write leaves no torn line
            os.fsync(self._stream.fileno())
        except OSError as exc:
            raise WriteError(f"{self.path}: cannot write: {exc.strerror}") from None
        finally:
            self._stream.close()
        if not _commit(self._part, self._manifest, self.path, keep):
            return self._part is None
        _sync_directory(self.path.parent)
        return True


class _Parquet(Sink):
    """Rows in groups of `columns.ROW_GROUP`, to `OUT.part`, moved over `OUT` once the footer is written."""

    def __init__(self, path: Path, manifest: Manifest, stats_file: str | None) -> None:
        super().__init__()
        self.path, self.stats_file = path, stats_file
        pyarrow = columns.import_pyarrow()
        if path.is_dir():
            raise OutputError(f"{path}: is a directory; a Parquet output is a file")
        _make_dirs(path.parent, path)
        self._part = Path(f"{path}.part")
        self._manifest = _sidecar(path, "manifest")
        self._text = manifest.to_text()
        self._schema = columns.schema()
        self._table = pyarrow.Table.from_pylist
        try:
            self._writer = pyarrow.parquet.ParquetWriter(self._part, self._schema)
        except OSError as exc:
            raise OutputError(f"{path}: cannot create the output: {exc.strerror or exc}") from None
        self._rows: list[dict[str, object]] = []

    def write(self, batch: list[Encoded]) -> None:
        self._rows += [columns.row(item.data) for item in batch if item.data is not None]
        if len(self._rows) >= columns.ROW_GROUP:
            self._flush()
        self.written += len(batch)

    def _flush(self) -> None:
        try:
            self._writer.write_table(self._table(self._rows, schema=self._schema))
        except OSError as exc:
            raise WriteError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
        self._rows = []

    def close(self, keep: bool) -> bool:
        try:
            if keep and self._rows:
                self._flush()
        finally:
            self._writer.close()
        if not keep:
            self._part.unlink()
            return False
        write_atomically(self._manifest, self._text)
        os.replace(self._part, self.path)
        return True


class _OneFile(Sink):
    """`-o one.md`: the one document's file, written beside and moved into place at the end."""

    def __init__(self, path: Path, manifest: Manifest, stats_file: str | None) -> None:
        super().__init__()
        self.path, self.stats_file = path, stats_file
        _make_dirs(path.parent, path)
        self._part = Path(f"{path}.part")
        self._manifest = _sidecar(path, "manifest")
        self._refused = self._wrote = False
        self._record = manifest
        self._siblings: list[Path] = []
        self._stale = _previous_siblings(self._manifest)

    def write(self, batch: list[Encoded]) -> None:
        for item in batch:
            if item.data is None:
                continue
            if self._wrote:
                self._refused = True
                raise OutputError(f"{self.path} names one file, but the input holds more than one document: "
                                  "give a directory as --output to write one file per document")
            _write_file(self._part, item.data)
            for lang, text in (item.separated or {}).items():
                sibling = self.path.with_name(f"{self.path.stem}.{_safe_part(lang)}{self.path.suffix}")
                _write_file(Path(f"{sibling}.part"), text)
                self._siblings.append(sibling)
            self._wrote = True
        self.written += len(batch)

    def close(self, keep: bool) -> bool:
        if not keep or self._refused:
            for part in (self._part, *(Path(f"{sibling}.part") for sibling in self._siblings)):
                part.unlink(missing_ok=True)
            return False
        names = tuple(sibling.name for sibling in self._siblings)
        write_atomically(self._manifest, replace(self._record, siblings=names).to_text())
        if self._wrote:
            for sibling in self._siblings:
                os.replace(f"{sibling}.part", sibling)
            os.replace(self._part, self.path)
        for name in set(self._stale) - set(names):
            (self.path.parent / name).unlink(missing_ok=True)
        return True


def _previous_siblings(manifest: Path) -> tuple[str, ...]:
    """The sibling files the run before this one wrote beside the same one-document output; none when its
    manifest is missing or unreadable (then nothing is removed: a file tamis did not list is never deleted)."""
    if not manifest.exists():
        return ()
    try:
        return tuple(name for name in Manifest.read(manifest).siblings if Path(name).name == name)
    except OutputError:
        return ()


class _Directory(Sink):
    """One file per `ok` document and its siblings, and `index.jsonl`: one line per document (id, status, file;
    `separated`, language → sibling file, when it has some; stage and reason when not `ok`), which is also what
    `--resume` continues from."""

    def __init__(self, path: Path, fmt: str, manifest: Manifest, resume: bool, stats_file: str | None) -> None:
        super().__init__()
        self.path = path
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path}: is not a directory; --format {fmt} writes one file per document into a "
                              f"directory (or give a .{fmt} file name for one document)")
        _make_dirs(path, path)
        self.stats_file = stats_file or str(path / "stats.json")
        self.names = FileNames(fmt)
        self._manifest = path / "manifest.json"
        index = path / INDEX
        self._stale: set[str] = set()
        self._part: Path | None = None
        if resume and index.exists():
            _check_resumable(path, self._manifest, manifest)
            cut_torn_line(index)
            counted = RunStats()
            for entry in _index_entries(index):
                counted.count(entry["status"])
                for name in _entry_files(entry):
                    self.names.keep(name)
            self.previous = _previous_stats(counted, self.stats_file)
            self.done = self.previous.documents
            self._index = _create(index, path, "ab")
        else:
            if index.exists():  # files of the run this one replaces, removed once it has written its own
                self._stale = {name for e in _index_entries(index, strict=False) for name in _entry_files(e)}
            self._part = Path(f"{index}.part")
            self._index = _create(self._part, path)
            write_atomically(f"{self._manifest}.new", manifest.to_text())

    def write(self, batch: list[Encoded]) -> None:
        for item in batch:
            entry: dict[str, object] = {"id": item.id, "status": item.status, "file": None}
            if item.status != "ok":
                entry.update(stage=item.stage, reason=item.reason)
            if item.data is not None:
                separated = item.separated or {}
                name, siblings = self.names.take(item.id, list(separated))
                entry["file"] = name
                _write_file(self.path / name, item.data)
                for lang, sibling in siblings.items():
                    _write_file(self.path / sibling, separated[lang])
                if siblings:
                    entry["separated"] = siblings
            line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
            try:
                _write_all(self._index, line)
            except OSError as exc:
                raise WriteError(f"{self.path / INDEX}: cannot write: {exc.strerror}; {_STOPPED}") from None
            self.written += 1

    def close(self, keep: bool) -> bool:
        self._index.close()
        if not _commit(self._part, self._manifest, self.path / INDEX, keep):
            return self._part is None
        for name in self._stale - set(self.names.taken):
            (self.path / name).unlink(missing_ok=True)
        return True


def _commit(part: Path | None, manifest: Path, target: Path, keep: bool) -> bool:
    """End a new output written to `part`, its manifest to `manifest.new`: with `keep`, both move over
    `target` and `manifest` (True); else both are removed and what was there stays (False). None for `part`
    is an appended output (resume), already in place: nothing to move (False)."""
    if part is None:
        return False
    if not keep:
        part.unlink()
        Path(f"{manifest}.new").unlink()
        return False
    os.replace(f"{manifest}.new", manifest)
    os.replace(part, target)
    return True


_STOPPED = "the directory holds whole files for the documents its index lists: make room and complete it with --resume"


class FileNames:
    """Unique, stable file names from document ids: the id made safe for any file system, with its file
    suffix dropped (`a/index.txt` → `a_index.md`); an id whose name is taken (the same id again, or one
    that differs only in characters made safe, or in case) gets a short hash of the id and of how many
    times the name was taken, so the names depend only on the ids in input order. A document's sibling
    files (`a_index.de.md`) share its stem and are taken with it: the stem moves on while any is taken,
    so a sibling never overwrites the file of a document whose id names it (`a_index.de.txt`), nor the reverse."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.taken: list[str] = []
        self._folded: set[str] = set()

    def take(self, doc_id: str, langs: list[str] | None = None) -> tuple[str, dict[str, str]]:
        """The document's file name and its siblings' names, language → name."""
        stem = safe_stem(doc_id)
        parts = {lang: _safe_part(lang) for lang in langs or []}
        base, attempt = stem, 0
        while any(n.casefold() in self._folded for n in self._names(base, parts.values())):
            attempt += 1
            tag = hashlib.sha1(f"{doc_id}\0{attempt}".encode("utf-8", "surrogatepass")).hexdigest()[:8]
            base = f"{stem}-{tag}"
        for name in self._names(base, parts.values()):
            self.keep(name)
        return f"{base}.{self.suffix}", {lang: f"{base}.{part}.{self.suffix}" for lang, part in parts.items()}

    def _names(self, base: str, parts: Iterable[str]) -> list[str]:
        return [f"{base}.{self.suffix}", *(f"{base}.{part}.{self.suffix}" for part in parts)]

    def keep(self, name: str) -> None:
        self.taken.append(name)
        self._folded.add(name.casefold())


def safe_stem(doc_id: str) -> str:
    stem = _ID_SUFFIX.sub("", doc_id)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip("._")
    return safe.encode("utf-8")[:_NAME_BYTES].decode("utf-8", "ignore") or "document"


def _safe_part(lang: str) -> str:
    """A language code as a part of a file name (codes come from detectors, plugins among them)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in lang) or "_"


def _entry_files(entry: dict[str, Any]) -> list[str]:
    """The files an index entry lists: the document's and its siblings'."""
    return [name for name in (entry.get("file"), *(entry.get("separated") or {}).values()) if name]


def _write_file(path: Path, text: str) -> None:
    try:
        path.write_bytes(text.encode("utf-8", "backslashreplace"))
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {exc.strerror}; {_STOPPED}") from None


def _lines(batch: list[Encoded]) -> bytes:
    return "".join(f"{item.data}\n" for item in batch).encode("utf-8", "backslashreplace")


def _count_records(path: Path) -> RunStats:
    """Outcomes of the records in a JSONL output, line by line; a line that is not a record stops `--resume`."""
    counted = RunStats()
    with open(path, "rb") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                raise OutputError(f"--resume: {path}: line {number} is blank; {_RESUME_AGAIN}")
            found = _STATUS.search(line) if line.startswith(b"{") and line.rstrip().endswith(b"}") else None
            if found is None:
                raise OutputError(f"--resume: {path}: line {number} is not a tamis record; {_RESUME_AGAIN}")
            counted.count(found.group(1).decode())
    return counted


def _index_entries(index: Path, *, strict: bool = True) -> list[dict[str, Any]]:
    entries = []
    with open(index, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or entry.get("status") not in ("ok", "filtered", "error"):
                    raise ValueError("no status")
            except ValueError:
                if not strict:
                    continue
                raise OutputError(f"--resume: {index}: line {number} is not an index entry; {_RESUME_AGAIN}") from None
            entries.append(entry)
    return entries


def _sync_directory(folder: Path) -> None:
    """Make a rename durable: fsync the directory that holds the name (POSIX; a no-op where unsupported)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
