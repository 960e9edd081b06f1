"""The runner: one record per input, error isolation, limits, batching fallback, and `--jobs`."""

from __future__ import annotations

import dataclasses
import gc
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from pipeline import Document, Stage
from pipeline import config as config_module
from pipeline.config import StageSpec
from pipeline.encoders import Encoded
from pipeline.errors import ConfigError
from pipeline.runner import COLLECT_LESS, Pipeline, process_stream
from pipeline.stage import NoConfig
from stages.decode import Decode, DecodeConfig
from stages.extract import Extract
from tests.conftest import ARTICLES, jsonl, tamis


def docs_of(*texts: str) -> list[Document]:
    return [Document(id=str(i), source="t", raw=t.encode()) for i, t in enumerate(texts)]


@dataclass(frozen=True, kw_only=True)
class TrapConfig:
    word: str = "boom"
    sleep: float = 0.0


class Trap(Stage[TrapConfig]):
    name = "trap"

    def process(self, doc: Document) -> Document:
        if self.config.word in doc.text:
            if self.config.sleep:
                time.sleep(self.config.sleep)
            raise RuntimeError(f"{self.config.word} in {doc.id}")
        self.counters["passed"] += 1
        return doc


class Gate(Stage):
    name = "gate"

    def process(self, doc: Document) -> Document:
        return doc.filtered(self.name, "too short") if len(doc.text) < 5 else doc


class BatchTrap(Trap):
    name = "batchtrap"

    def process_batch(self, docs: list[Document]) -> list[Document]:
        if any(self.config.word in d.text for d in docs):
            raise RuntimeError("batch failed")
        return docs


def pipe(*extra: Stage, **kw: object) -> Pipeline:
    return Pipeline([Decode(DecodeConfig()), Extract(None), *extra], **kw)  # type: ignore[arg-type]


def test_a_failing_document_becomes_an_error_record_and_the_others_go_on() -> None:
    p = pipe(Trap(TrapConfig()))
    out = p.process(docs_of("un texte", "boom here", "un autre"))
    assert [d.status for d in out] == ["ok", "error", "ok"]
    assert (out[1].stage, out[1].reason) == ("trap", "RuntimeError: boom in 1")
    stats = p.take_stats()["trap"]
    assert (stats.docs_in, stats.docs_out, stats.errors, stats.counters["passed"]) == (3, 2, 1, 2)


def test_filtered_documents_skip_later_stages_but_are_kept() -> None:
    p = pipe(Gate(None), Trap(TrapConfig(word="x")))  # type: ignore[arg-type]
    out = p.process(docs_of("x", "assez long"))
    assert [(d.status, d.reason) for d in out] == [("filtered", "too short"), ("ok", None)]
    assert p.take_stats()["gate"].filtered_by_reason == {"too short": 1}


def test_a_failing_batch_is_retried_document_by_document() -> None:
    out = pipe(BatchTrap(TrapConfig())).process(docs_of("a", "boom", "c"))
    assert [d.status for d in out] == ["ok", "error", "ok"]


def test_fail_fast_raises() -> None:
    with pytest.raises(RuntimeError, match="boom in 0"):
        pipe(Trap(TrapConfig()), fail_fast=True).process(docs_of("boom"))


def test_a_document_over_the_time_limit_becomes_an_error_record() -> None:
    out = pipe(Trap(TrapConfig(sleep=5)), timeout=0.2).process(docs_of("boom", "fine"))
    assert [d.status for d in out] == ["error", "ok"]
    assert out[0].reason == "timed out after 0.2 s (run.timeout)"


@dataclass(frozen=True, kw_only=True)
class NapConfig:
    seconds: float = 0.0


class Nap(Stage[NapConfig]):
    name = "nap"

    def process(self, doc: Document) -> Document:
        time.sleep(self.config.seconds * (10 if "long" in doc.text else 1))
        return doc


def test_every_document_of_a_loop_has_the_whole_time_limit() -> None:
    # One timer serves the loop: the third document starts after the limit has passed since the first one
    # started, and still gets all of it; the long one runs out, and the one after it is untouched.
    out = pipe(Nap(NapConfig(seconds=0.12)), timeout=0.3).process(docs_of("a", "b", "c", "d", "long", "e"))
    assert [d.status for d in out] == ["ok", "ok", "ok", "ok", "error", "ok"]
    assert out[4].reason == "timed out after 0.3 s (run.timeout)"


def test_jobs_two_gives_the_same_output_as_jobs_one(tmp_path) -> None:
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    args = ("run", str(ARTICLES), "--set", "run.batch_size=2")
    assert tamis(*args, "--jobs", "1", "-o", str(one)).returncode == 0
    assert tamis(*args, "--jobs", "2", "-o", str(two)).returncode == 0
    assert one.read_bytes() == two.read_bytes()
    assert len(jsonl(one)) == 5


def test_process_stream_keeps_input_order_across_workers() -> None:
    cfg = config_module.load(None, ["pipeline=[decode, extract]", "run.batch_size=1"])
    docs = docs_of(*[f"document {i}" for i in range(7)])
    out = [d.id for batch, _ in process_stream(cfg, docs, jobs=2) for d in batch]
    assert out == [str(i) for i in range(7)]


@pytest.mark.parametrize(("fmt", "data"), [
    ("jsonl", lambda r: json.loads(r)["text"]), ("md", str.strip), ("txt", str.strip)])
def test_workers_send_every_format_encoded(fmt: str, data: Callable[[str], str]) -> None:
    cfg = config_module.load(None, ["pipeline=[decode, extract]", "run.batch_size=2", f"run.format={fmt}"])
    out = [e for batch, _ in process_stream(cfg, docs_of("un", "deux", "trois"), jobs=2) for e in batch]
    assert all(type(e) is Encoded for e in out)
    assert [(e.id, e.status, data(e.data or "")) for e in out] == [("0", "ok", "un"), ("1", "ok", "deux"),
                                                                   ("2", "ok", "trois")]


def test_pipeline_run_is_the_cli_run_for_stages_built_in_python(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    stats = pipe(Gate(None)).run([str(ARTICLES)], str(out), jobs=1, batch_size=2)  # type: ignore[arg-type]
    assert (stats.documents, stats.ok) == (5, 5)
    assert [r["id"] for r in jsonl(out)] == sorted(p.name for p in ARTICLES.iterdir())
    assert json.loads((tmp_path / "out.stats.json").read_text())["stages"]["gate"]["in"] == 5


def test_pipeline_run_validates_its_options_as_yaml_does(tmp_path) -> None:
    with pytest.raises(ConfigError) as caught:
        pipe().run([str(ARTICLES)], str(tmp_path / "out.jsonl"), format="xml", jobs=-1)
    assert caught.value.problems == ["run.format: expected one of 'jsonl', 'txt', 'md', 'parquet', got 'xml'",
                                     "run.jobs: expected an integer from 0 to 1024, got -1"]
    assert list(tmp_path.iterdir()) == []


class Pace(Stage):
    """Counts the cycle collector's young-generation threshold it runs under."""

    name = "pace"

    def process(self, doc: Document) -> Document:
        self.counters[f"threshold:{gc.get_threshold()[0]}"] += 1
        if "boom" in doc.text:
            raise RuntimeError("boom")
        return doc


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_cycle_collector_runs_less_often_while_a_stream_runs_and_as_before_after(jobs: int) -> None:
    loaded = config_module.load(None, ["pipeline=[decode, extract]", "run.batch_size=2", "run.fail_fast=true"])
    spec = StageSpec(instance="pace", stage="pace", cls=Pace, config=NoConfig())
    cfg = dataclasses.replace(loaded, stages=(*loaded.stages, spec))
    before = gc.get_threshold()
    counters = [stats["pace"].counters for _, stats in process_stream(cfg, docs_of("un", "deux", "trois"), jobs=jobs)]
    assert sum(counters, start=type(counters[0])()) == {f"threshold:{before[0] * COLLECT_LESS}": 3}
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError, match="boom"):  # a stream that stops on an error puts the pace back too
        list(process_stream(cfg, docs_of("un", "boom"), jobs=jobs))
    assert gc.get_threshold() == before
