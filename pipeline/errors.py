"""Errors that stop a run before or outside document processing (exit code 2).

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
