"""tamis: clean scraped multilingual news articles.

The public library API. A custom pipeline is a list of stages:

    from pipeline import Pipeline, load_config
    pipe = Pipeline.from_config(load_config("config.yaml"))
    clean = pipe.process(docs)
"""

from pipeline.config import PipelineConfig, RunConfig
from pipeline.config import load as load_config
from pipeline.document import Block, Change, Document, Metadata, Removal, Segment, StageWarning, Translation
from pipeline.runner import Pipeline, run
from pipeline.stage import NoConfig, Stage

__all__ = [
    "Block", "Change", "Document", "Metadata", "NoConfig", "Pipeline", "PipelineConfig", "Removal",
    "RunConfig", "Segment", "Stage", "StageWarning", "Translation", "load_config", "run",
]
