"""Third-party stages, installed through the `tamis.stages` entry point group (see the dist-info beside)."""

import itertools
import os
import signal
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


@dataclass(frozen=True, kw_only=True)
class KillerConfig:
    marker: str = "KILL"
    once_file: str = ""
    hang: bool = False


class Killer(Stage[KillerConfig]):
    """killer: the process running it kills itself (SIGKILL, as the out-of-memory killer does) on documents
    whose text contains `marker`; with `once_file`, only while that file does not exist (it creates it).
    With `hang`, it hangs instead, in a long loop of C code that never lets a signal handler run."""

    name = "killer"
    requires = ("blocks",)

    def process(self, doc: Document) -> Document:
        if self.config.marker in doc.text:
            if self.config.once_file:
                if os.path.exists(self.config.once_file):
                    return doc
                open(self.config.once_file, "w").close()
            if self.config.hang:
                sum(itertools.repeat(1, 10**11))
            os.kill(os.getpid(), signal.SIGKILL)
        return doc
