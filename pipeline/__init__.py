"""tamis: clean scraped multilingual news articles.

The public library API. A custom pipeline is a list of stages:

    from pipeline import Pipeline, load_config
    pipe = Pipeline.from_config(load_config("config.yaml"))
    clean = pipe.process(docs)                            # documents in hand
    stats = pipe.run(["articles/"], "clean.jsonl", jobs=2)  # the run `tamis run` makes

Each name is imported when it is first used (PEP 562): every `tamis` command and every worker process
imports this package, and `tamis --help` should not pay for the config loader, the runner, YAML and the
readers and sinks it never calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig, RunConfig
    from pipeline.config import load as load_config
    from pipeline.document import Block, Change, Document, Metadata, Removal, Segment, StageWarning, Translation
    from pipeline.errors import DocumentFailed, WriteError
    from pipeline.runner import Pipeline, run
    from pipeline.stage import NoConfig, Stage
    from pipeline.stats import RunStats

__all__ = [
    "Block", "Change", "Document", "DocumentFailed", "Metadata", "NoConfig", "Pipeline", "PipelineConfig",
    "Removal", "RunConfig", "RunStats", "Segment", "Stage", "StageWarning", "Translation", "WriteError",
    "load_config", "run",
]
# Where each public name lives, and under which name there.
_EXPORTS = {
    "PipelineConfig": ("pipeline.config", "PipelineConfig"), "RunConfig": ("pipeline.config", "RunConfig"),
    "load_config": ("pipeline.config", "load"),
    **{name: ("pipeline.document", name) for name in
       ("Block", "Change", "Document", "Metadata", "Removal", "Segment", "StageWarning", "Translation")},
    "DocumentFailed": ("pipeline.errors", "DocumentFailed"), "WriteError": ("pipeline.errors", "WriteError"),
    "Pipeline": ("pipeline.runner", "Pipeline"), "run": ("pipeline.runner", "run"),
    "NoConfig": ("pipeline.stage", "NoConfig"), "Stage": ("pipeline.stage", "Stage"),
    "RunStats": ("pipeline.stats", "RunStats"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
