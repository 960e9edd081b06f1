"""Errors that stop a run: before any document (exit code 2), or while writing or at a failure (exit 3, 1).

Problems with one document never raise past the runner: they become that document's `error` record.
"""

from __future__ import annotations


class TamisError(Exception):
    """Base of errors reported to the user as a message, without a traceback."""


class ConfigError(TamisError):
    """Every problem found in a configuration, each prefixed with its path (`stages.x.option: ...`)."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class RegistryError(TamisError):
    """An unknown or duplicated stage name."""


class SetupError(TamisError):
    """A stage cannot start: a missing optional dependency or model, with the command that fixes it."""


class InputError(TamisError):
    """An input path that does not exist or cannot be read."""


class OutputError(TamisError):
    """An output that cannot be used, found before any document is processed; the output is left as it was."""


class WriteError(Exception):
    """The output failed during the run (disk full, I/O error). The output keeps whole records only, so
    `--resume` completes it once the cause is fixed (exit code 3)."""


class DocumentFailed(Exception):
    """With `run.fail_fast`, the first document that failed: its id, the stage and the message (exit code 1).

    Built from its three fields only, so it pickles: a worker process can raise it and the parent gets it
    unchanged."""

    def __init__(self, doc_id: str, stage: str, message: str) -> None:
        super().__init__(doc_id, stage, message)
        self.doc_id, self.stage, self.message = doc_id, stage, message

    def __str__(self) -> str:
        return f"{self.doc_id} failed in {self.stage}: {self.message}"
