"""What a run reads, kept beside its output so that `--resume` continues exactly that run or refuses.

Resuming skips as many documents as the output already holds, which is right only if the inputs list the
same documents in the same order and the configuration would make the same records. The manifest records
each input file (path, size, modification time: a changed file changes one of them, as `make` and rsync
assume) and a digest of what decides the records (the stages and their options, `run.format`, `run.glob`,
`run.max_bytes`). Standard input and pipes cannot be checked again, so an output made from them cannot be resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline import readers
from pipeline.config import PipelineConfig
from pipeline.errors import OutputError

STDIN = "-"
_SHOWN = 3  # differences named in a refusal; the rest are counted


@dataclass(frozen=True)
class Manifest:
    """`files` maps each input file, by the name a message gives it, to `[size, mtime_ns]` (None for stdin).
    `siblings` names the files a one-document output wrote beside its own (`one.de.md`), so that the next run
    to that name removes those it does not write again, and only those."""

    config: str
    files: dict[str, list[int] | None]
    siblings: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: PipelineConfig, inputs: list[str], reader: readers.Reader | None = None) -> Manifest:
        """The manifest of a run of `config` over `inputs`; the files of a directory as `reader` finds them
        (`Reader.found`: the run's reader, which then reads what is recorded here without listing it again)."""
        if reader is None or reader.glob != config.run.glob:
            reader = readers.Reader(inputs, config.run.glob)
        files: dict[str, list[int] | None] = {}
        for item in inputs:
            if item == STDIN:
                files[STDIN] = None
                continue
            path = Path(item)
            if path.is_dir():
                depth = len(path.parts)  # a glob's paths start with the folder's parts: the rest is the relative name
                for file, stamp in _file_stamps(reader.found(path)):
                    files["/".join(file.parts[depth:]) if len(inputs) == 1 else str(file)] = stamp
            else:
                files[item] = _stamp(path)
        return cls(config=_digest(config), files=files)

    def to_text(self) -> str:
        # ASCII: a file name that is not UTF-8 holds lone surrogates, which JSON escapes and UTF-8 cannot hold.
        data: dict[str, object] = {"config": self.config, "files": self.files}
        if self.siblings:
            data["siblings"] = list(self.siblings)
        return json.dumps(data) + "\n"

    @classmethod
    def read(cls, path: str | Path) -> Manifest:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(config=str(data["config"]), files=dict(data["files"]),
                       siblings=tuple(str(name) for name in data.get("siblings", ())))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"--resume: {path}: not a readable tamis manifest ({exc}); "
                              f"run again without --resume") from None

    def unchecked(self) -> str | None:
        """The first input that cannot be read twice (standard input, a pipe), or None."""
        return next((name for name, stamp in self.files.items() if stamp is None), None)

    def changes_since(self, before: Manifest) -> list[str]:
        """What differs from the run that wrote `before`, one short phrase each; empty when resuming is safe."""
        found: list[str] = []
        if self.config != before.config:
            found.append("the configuration changed (stages, their options, run.format, run.glob or run.max_bytes)")
        for name, stamp in self.files.items():
            if name not in before.files:
                found.append(f"{name} was added")
            elif before.files[name] != stamp:
                found.append(f"{name} changed (size or modification time)")
        found += [f"{name} was removed" for name in before.files if name not in self.files]
        if len(found) > _SHOWN:
            found = [*found[:_SHOWN], f"and {len(found) - _SHOWN} more"]
        return found


def _file_stamps(found: list[tuple[Path, os.stat_result | None]]) -> Iterator[tuple[Path, list[int] | None]]:
    """The regular files among the `found` paths (each with its `stat`, links followed, None where it failed),
    each with its `_stamp`."""
    for path, status in found:
        if status is None:
            if path.is_file():  # pathlib's `is_file` tells what is not there from an error to raise
                yield path, _stamp(path)
            continue
        if stat.S_ISREG(status.st_mode):
            yield path, [status.st_size, status.st_mtime_ns]


def _stamp(path: Path) -> list[int] | None:
    """Size and modification time of a regular file; None for what cannot be read twice (a pipe, a device)."""
    try:
        status = path.stat()
    except OSError:
        return [-1, -1]  # unreadable now: differs from any stamp it had when it was read
    return [status.st_size, status.st_mtime_ns] if stat.S_ISREG(status.st_mode) else None


def _digest(config: PipelineConfig) -> str:
    """The stage configs are frozen dataclasses of plain values, so their `repr` is stable across runs."""
    decisive = [[s.instance, s.stage, repr(s.config)] for s in config.stages]
    run = config.run
    text = json.dumps([decisive, run.format, run.glob, run.max_bytes], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:16]

