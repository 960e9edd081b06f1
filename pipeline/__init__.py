"""tamis: clean scraped multilingual news articles.

The public library API. A custom pipeline is a list of stages:

    from pipeline import Pipeline, load_config
    pipe = Pipeline.from_config(load_config("config.yaml"))
    clean = pipe.process(docs)                            # documents in hand
    stats = pipe.run(["articles/"], "clean.jsonl", jobs=2)  # the run `tamis run` makes
"""

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
