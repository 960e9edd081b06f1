"""Third-party stages, installed through the `tamis.stages` entry point group (see the dist-info beside)."""

import time
from dataclasses import dataclass

from pipeline import Document, NoConfig, Stage
from stages.detectors import Detector, Guess


@dataclass(frozen=True, kw_only=True)
class FailOnConfig:
    marker: str = "FAIL"


class FailOn(Stage[FailOnConfig]):
    """failon: raises on documents whose text contains `marker`; tags the others."""

    name = "failon"
    requires = ("blocks",)

    def process(self, doc: Document) -> Document:
        if self.config.marker in doc.text:
            raise ValueError(f"found {self.config.marker!r}")
        doc.extra["failon"] = "passed"
        return doc


@dataclass(frozen=True, kw_only=True)
class SlowConfig:
    seconds: float = 0.01


class Slow(Stage[SlowConfig]):
    """slow: sleeps `seconds` per document, so a test can interrupt a run midway."""

    name = "slow"

    def process(self, doc: Document) -> Document:
        time.sleep(self.config.seconds)
        return doc


class Node(Stage[NoConfig]):
    """node: stamps the Ray node that processed the document in `extra["node"]` ("local" outside Ray), so a
    test can see which nodes of a cluster did the work."""

    name = "node"

    def process(self, doc: Document) -> Document:
        import ray

        doc.extra["node"] = ray.get_runtime_context().get_node_id() if ray.is_initialized() else "local"
        return doc


class Constant(Detector):
    """constant: a detector plugin that calls every text its set's first language."""

    name = "constant"

    def detect(self, text: str) -> Guess:
        return Guess(probs={lang: float(i == 0) for i, lang in enumerate(self.languages)})
