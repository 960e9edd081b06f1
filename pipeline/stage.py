"""The stage contract: one typed config, one `process(doc)` method.

A stage sees documents, never files, workers or argv: the runner owns loops, batching, timing and error
isolation. Construction must be cheap (the CLI builds every stage to validate a config); models and
optional imports belong in `setup()`, which the runner calls once per worker before the first document.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pipeline.document import Document


@dataclass(frozen=True, kw_only=True)
class NoConfig:
    """Config of a stage that has no options."""


C = TypeVar("C")


class Stage(Generic[C]):
    """Base class of every stage.

    Subclasses set `name` (the registry and YAML name) on the class, state their config type once as the
    generic argument (`class Dedupe(Stage[DedupeConfig])`: a frozen keyword-only dataclass, the schema and the
    only place defaults live), which becomes `Config`, and implement `process`. A `Pipeline` sets each
    instance's `name` to its instance name in the config before `setup()` (`strip: {stage: boilerplate}` →
    `strip`), so what a stage records under `self.name` says which instance did it; `type(stage).name`
    stays the registry name. `requires` names what must be
    produced earlier in the pipeline (`decoded`, `blocks`, `segments`); `provides` what this stage adds.
    `counters` is a place for stage-specific figures; the runner adds them to `stats.json`.
    """

    name: str
    Config: ClassVar[type[Any]] = NoConfig
    requires: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            if get_origin(base) is Stage and isinstance(get_args(base)[0], type):
                cls.Config = get_args(base)[0]

    def __init__(self, config: C) -> None:
        self.config = config
        self.counters: Counter[str] = Counter()

    def setup(self) -> None:
        """Load models and optional dependencies. Raise `pipeline.errors.SetupError` naming the pip extra.

        Keep what is loaded in a module-level cache keyed by what it depends on (`functools.cache`), not only
        on the instance: instances then share it, and a worker forked from the warm server (`pipeline.warm`),
        which ran the built-in stages' setup with the default options, finds it filled."""

    def process(self, doc: Document) -> Document:
        raise NotImplementedError(f"stage {self.name!r} does not implement process()")

    def process_batch(self, docs: list[Document]) -> list[Document]:
        """Override when a stage gains from seeing many documents at once (translation)."""
        return [self.process(doc) for doc in docs]

    def close(self) -> None:
        """Release what `setup()` acquired."""

    def machine_inputs(self) -> tuple[str, list[str]] | None:
        """What `setup()` reads from the machine it runs on (models, data files): where, as a phrase for
        messages, and what it finds there; None when it reads nothing of the machine's. An executor that runs
        the stage on other machines (Ray) checks that each finds what the driver finds."""
        return None
