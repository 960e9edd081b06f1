"""Warm workers (`pipeline.warm`): on Linux a worker is forked from a server that has imported the heavy
modules and filled the language model's caches, so it starts with them, frozen out of the collector's
reach; the warm-up starts no thread and
forgets the registries, so a plugin installed after it still loads in the workers; a worker has the parent's
environment of the moment; a working directory that would shadow tamis's packages makes workers spawned."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline import config as config_module
from pipeline import registry, warm
from pipeline.config import PipelineConfig, StageSpec
from pipeline.document import Document
from pipeline.runner import Pipeline
from pipeline.stage import NoConfig, Stage
from pipeline.workers import process_stream
from stages import detectors
from tests.conftest import ROOT

# What a worker would otherwise import or compute in its first second.
HEAVY = ("trafilatura", "htmldate", "lxml.html", "ftfy", "ctranslate2", "stages.languages")
CACHES = ("_automaton", "_scorer")  # the arrays `languages` scores with, derived from py3langid's model

PROBE_VARIABLE = "TAMIS_TEST_PROBE"
linux_only = pytest.mark.skipif(warm.START_METHOD != "forkserver", reason="workers are spawned off Linux")


class Probe(Stage[NoConfig]):
    """probe: counts, in its `setup()` (first in the pipeline, so before any other stage's), which heavy
    modules the worker has already imported, which language-model caches and rule automata are already
    filled, whether the collector has objects frozen (`gc.freeze`), and the value of `PROBE_VARIABLE` in its
    environment."""

    name = "probe"

    def setup(self) -> None:
        self.counters.update(f"imported {name}" for name in HEAVY if name in sys.modules)
        batch = sys.modules.get("stages.langid_batch")
        self.counters.update(f"cached {name}" for name in CACHES
                             if batch is not None and getattr(batch, name).cache_info().currsize)
        rulebook = sys.modules.get("stages.rulebook")
        self.counters.update(["cached rule automata"] if rulebook is not None
                             and rulebook._automaton.cache_info().currsize else [])
        self.counters.update(["registry read"] if registry.available.cache_info().currsize else [])
        self.counters.update(["frozen"] if gc.get_freeze_count() else [])
        self.counters.update([f"environment {os.environ[PROBE_VARIABLE]}"] if PROBE_VARIABLE in os.environ else [])

    def process(self, doc: Document) -> Document:
        return doc


def _with_probe(config: PipelineConfig) -> PipelineConfig:
    probe = StageSpec(instance="probe", stage="probe", cls=Probe, config=NoConfig())
    return PipelineConfig(stages=(probe, *config.stages), run=config.run, source=config.source)


def _two_workers(config: PipelineConfig) -> tuple[list[str], Counter[str]]:
    """Two one-document batches on two workers: each record's status, and the probe's counts."""
    docs = [Document(id=str(i), source="t", raw="Un texte en français pour les deux ouvriers.".encode())
            for i in range(2)]
    statuses: list[str] = []
    counts: Counter[str] = Counter()
    for out, stats in process_stream(config, docs, jobs=2):
        statuses += [item.status for item in out]
        if "probe" in stats:
            counts.update(stats["probe"].counters)
    return statuses, counts


@linux_only
def test_a_worker_starts_with_the_heavy_modules_imported_and_the_language_model_cached() -> None:
    assert warm.context().get_start_method() == "forkserver"
    config = _with_probe(config_module.load(None, ["pipeline=[decode, extract, languages]", "run.batch_size=1"]))
    statuses, counts = _two_workers(config)
    assert statuses == ["ok", "ok"]
    assert counts == Counter({**{f"imported {name}": 2 for name in HEAVY}, **{f"cached {name}": 2 for name in CACHES},
                              "cached rule automata": 2, "frozen": 2})


def test_a_worker_has_the_environment_of_the_parent_at_its_start_not_at_the_server_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = _with_probe(config_module.load(None, ["pipeline=[decode]", "run.batch_size=1"]))
    _two_workers(config)  # the server runs from here on
    monkeypatch.setenv(PROBE_VARIABLE, "set later")
    statuses, counts = _two_workers(config)
    assert statuses == ["ok", "ok"]
    assert counts["environment set later"] == 2


def test_the_warm_up_documents_pass_every_default_stage_and_need_no_translation() -> None:
    config = config_module.load(None)
    out = Pipeline.from_config(config).process(warm.documents())
    assert [(d.id, d.status, d.lang, d.done) for d in out] == [
        (doc_id, "ok", "fr", [spec.instance for spec in config.stages]) for doc_id in ("warm.html", "warm.txt")]
    assert [s.action for d in out for b in d.blocks for s in b.segments if s.action != "keep"] == []


@linux_only
def test_the_warm_up_starts_no_thread_warns_nothing_and_reads_no_registry() -> None:
    """Run as the forkserver runs it: in a fresh interpreter, by importing `pipeline.preload`."""
    script = """
import json, os, warnings
import numpy  # OpenBLAS's idle pool, which it resets in a forked child: the only threads allowed
before = len(os.listdir("/proc/self/task"))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import pipeline.preload
from pipeline import registry
from stages import detectors, langid_batch
print(json.dumps({"threads": len(os.listdir("/proc/self/task")) - before,
                  "warnings": [str(w.message) for w in caught if "warm-up" in str(w.message)],
                  "registries read": registry.available.cache_info().currsize
                                     + detectors.available.cache_info().currsize,
                  "model cached": langid_batch._automaton.cache_info().currsize}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"threads": 0, "warnings": [], "registries read": 0, "model cached": 1}


LATE_MODULE = '''
from pipeline import Document, NoConfig, Stage
from stages.detectors import Detector, Guess


class Late(Stage[NoConfig]):
    name = "late"

    def process(self, doc: Document) -> Document:
        doc.extra["late"] = "ran"
        return doc


class LateDetector(Detector):
    name = "latedetector"

    def detect(self, text: str) -> Guess:
        return Guess(probs={lang: float(lang == "de") for lang in self.languages})
'''


def test_a_stage_and_a_detector_installed_after_the_server_started_load_in_its_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_module.load(None, ["pipeline=[decode, extract, languages]", "run.batch_size=1"])
    assert _two_workers(config)[0] == ["ok", "ok"]  # the server runs from here on, warm
    (tmp_path / "late_plugin.py").write_text(LATE_MODULE)
    dist = tmp_path / "late_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: late-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tamis.stages]\nlate = late_plugin:Late\n\n"
                                           "[tamis.detectors]\nlatedetector = late_plugin:LateDetector\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.available.cache_clear()  # this process reads them again, as a new parent would
    detectors.available.cache_clear()
    try:
        late = config_module.load(None, ["pipeline=[decode, extract, late, languages]", "run.batch_size=1",
                                         "languages.detector=latedetector"])
        docs = [Document(id=str(i), source="t", raw="Un texte en français pour les deux ouvriers.".encode())
                for i in range(2)]
        records = [json.loads(item.data or "") for out, _ in process_stream(late, docs, jobs=2) for item in out]
        assert [(r["status"], r["extra"], r["lang"]) for r in records] == [("ok", {"late": "ran"}, "de")] * 2
    finally:
        registry.available.cache_clear()
        detectors.available.cache_clear()


SHADOWED_RUN = """
import json
from pipeline import config, warm, workers
from pipeline.document import Document
if __name__ == "__main__":
    run_config = config.load(None, ["pipeline=[decode, extract]", "run.batch_size=1"])
    docs = [Document(id=str(i), source="t", raw=b"Un texte.") for i in range(2)]
    print(json.dumps([warm.context().get_start_method()]
                     + [item.status for out, _ in workers.process_stream(run_config, docs, jobs=2) for item in out]))
"""


@linux_only
def test_workers_are_spawned_where_the_working_directory_holds_a_pipeline_package_of_its_own(tmp_path: Path) -> None:
    """A forkserver's path starts with the working directory (before Python 3.12.8 and 3.13.1): it would
    import that package instead of tamis's, and run its code."""
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "__init__.py").write_text("raise SystemExit('this is not tamis')\n")
    script = tmp_path / "bin" / "run.py"  # a script elsewhere: its own folder, not the working one, is on its path
    script.parent.mkdir()
    script.write_text(SHADOWED_RUN)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["spawn", "ok", "ok"]
    here = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert json.loads(here.stdout) == ["forkserver", "ok", "ok"], here.stderr  # tamis's own checkout is no shadow
