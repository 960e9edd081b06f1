"""Third-party stages, installed through the `tamis.stages` entry point group (see the dist-info beside)."""

import itertools
import os
import signal
import time
from dataclasses import dataclass

from pipeline import Document, Stage


@dataclass(frozen=True, kw_only=True)
class FailOnConfig:
    marker: str = "FAIL"


class FailOn(Stage[FailOnConfig]):
    """failon: raises on documents whose text contains `marker`; tags the others."""

    name = "failon"
    Config = FailOnConfig
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
    Config = SlowConfig

    def process(self, doc: Document) -> Document:
        time.sleep(self.config.seconds)
        return doc


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
    Config = KillerConfig
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
