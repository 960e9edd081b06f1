"""Run stages over a stream of documents: batching, error isolation, limits, stats and worker processes.

The data flow of a run is `readers.read` → `Pipeline.process` per batch → `encoders.encode` (in the worker) →
a `sinks.Sink` (in the parent). Each batch passes every
stage in order; a document that is filtered or fails skips the stages after, but still reaches the output,
so every input document yields exactly one record. With `jobs > 1`, batches go to worker processes (each
sets its stages up once) and come back in input order, so the output equals that of `jobs = 1`.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import config as config_module
from pipeline import encoders, readers, sinks
from pipeline.config import PipelineConfig, RunConfig, StageSpec
from pipeline.document import Document
from pipeline.errors import ConfigError, DocumentFailed, WriteError
from pipeline.stage import Stage
from pipeline.stats import RunStats, StageStats

log = logging.getLogger(__name__)
WARNING_COUNTER = "warning:"  # a stage counts `warning:<message>`; the run logs each message once


class DocumentTimeout(BaseException):
    """Raised inside a stage when a document overruns `run.timeout`. A `BaseException`, like
    `KeyboardInterrupt`: libraries that guard their own work with `except Exception` (lxml, trafilatura)
    would otherwise swallow it and run on for minutes."""


@dataclass(frozen=True)
class _Limits:
    timeout: float | None = None
    fail_fast: bool = False


class Pipeline:
    """Stages ready to process batches. Build it from a config, or from stage objects in library use.

    Each stage instance gets its instance name (`names`, from the config's `pipeline:` list) as its `name`
    before `setup()`, so the removals, changes, warnings, filters and errors it records say which instance
    made them, as the stats do. A document skips the instances listed in its `done` (run already).
    """

    def __init__(self, stages: list[Stage[Any]], *, names: list[str] | None = None,
                 timeout: float | None = None, fail_fast: bool = False) -> None:
        self.stages = stages
        self.names = names or [s.name for s in stages]
        if len(self.names) != len(stages):
            raise ValueError(f"{len(self.names)} names for {len(stages)} stages")
        for stage, name in zip(stages, self.names, strict=True):
            stage.name = name
        self.limits = _Limits(timeout=timeout, fail_fast=fail_fast)
        self.stats: dict[str, StageStats] = {n: StageStats() for n in self.names}
        self._ready = False

    @classmethod
    def from_config(cls, config: PipelineConfig) -> Pipeline:
        stages = [spec.cls(spec.config) for spec in config.stages]
        return cls(stages, names=[s.instance for s in config.stages],
                   timeout=config.run.timeout, fail_fast=config.run.fail_fast)

    def setup(self) -> None:
        if not self._ready:
            for stage in self.stages:
                stage.setup()
            self._ready = True

    def close(self) -> None:
        for stage in self.stages:
            stage.close()
        self._ready = False

    def process(self, docs: list[Document]) -> list[Document]:
        """Every stage over the batch; the result has one document per input, in order."""
        self.setup()
        docs = list(docs)
        for name, stage in zip(self.names, self.stages, strict=True):
            live = [i for i, d in enumerate(docs) if d.status == "ok" and name not in d.done]
            if not live:
                continue
            stats = self.stats[name]
            stats.docs_in += len(live)
            started = time.perf_counter()
            results = self._run_stage(name, stage, [docs[i] for i in live])
            stats.seconds += time.perf_counter() - started
            for i, doc in zip(live, results, strict=True):
                docs[i] = doc
                if doc.status == "ok":
                    stats.docs_out += 1
                elif doc.status == "filtered":
                    stats.filtered_by_reason[doc.reason or "unspecified"] += 1
                else:
                    stats.errors += 1
                    continue
                doc.done.append(name)
            stats.counters.update(stage.counters)
            stage.counters.clear()
        return docs

    def _run_stage(self, name: str, stage: Stage[Any], docs: list[Document]) -> list[Document]:
        if len(docs) > 1 and type(stage).process_batch is not Stage.process_batch:
            return self._run_batch(name, stage, docs)
        with _alarm(self.limits.timeout) as limited:  # one timer for the loop, each document its own limit
            return [self._run_one(name, stage, doc, limited) for doc in docs]

    def _run_batch(self, name: str, stage: Stage[Any], docs: list[Document]) -> list[Document]:
        """`process_batch` over copies of `docs` within one document's time limit: a batch normally takes a
        small part of it, and one bad document can use up no more than that. When the call fails or runs
        out, each half of the batch is run again the same way, down to single documents, which get the
        limit to themselves: the halves that succeed keep their results, so the documents beside a bad one
        are not all run again from zero, and a bad document costs about `timeout` × (1 + log2 batch)."""
        try:
            with deadline(self.limits.timeout):
                results = stage.process_batch([doc.copy() for doc in docs])
            if len(results) != len(docs):
                raise RuntimeError(f"process_batch returned {len(results)} documents for {len(docs)}")
            return results
        except DocumentTimeout:
            pass
        except Exception:
            if self.limits.fail_fast:
                raise
        half = len(docs) // 2
        return self._run_stage(name, stage, docs[:half]) + self._run_stage(name, stage, docs[half:])

    def _run_one(self, name: str, stage: Stage[Any], doc: Document, limited: bool) -> Document:
        try:
            if limited:
                _start(self.limits.timeout)
            try:
                return stage.process(doc)
            finally:
                if limited:
                    _stop()
        except DocumentTimeout:
            return doc.failed(name, f"timed out after {self.limits.timeout:g} s (run.timeout)")
        except Exception as exc:
            if self.limits.fail_fast:
                raise
            return doc.failed(name, f"{type(exc).__name__}: {exc}")

    def take_stats(self) -> dict[str, StageStats]:
        stats, self.stats = self.stats, {n: StageStats() for n in self.names}
        return stats

    def run(self, inputs: list[str], output: str = "-", *, resume: bool = False, **options: Any) -> RunStats:
        """The run `tamis run` makes, with these stages: read `inputs`, write `output`, the stats beside it;
        `options` are `run:` options (`format`, `jobs`, `batch_size`, ...), validated as in YAML. With
        `jobs` other than 1, each worker process builds the stages again from their classes and configs,
        so a stage class must be importable there (defined in a module, or in a script run as `__main__`)."""
        problems: list[str] = []
        settings = {"timeout": self.limits.timeout, "fail_fast": self.limits.fail_fast, **options, "output": output}
        run_config = config_module.build(RunConfig, {k: v for k, v in settings.items() if v is not None}, "run",
                                         problems)
        if problems:
            raise ConfigError(problems, "Pipeline.run")
        specs = tuple(StageSpec(instance=name, stage=stage.name, cls=type(stage), config=stage.config)
                      for name, stage in zip(self.names, self.stages, strict=True))
        return run(PipelineConfig(stages=specs, run=run_config, source="Pipeline.run"), inputs, resume=resume)


# Stages allocate millions of short-lived objects that reference counting frees, nearly none in a cycle: at
# the default pace (a young collection every 700 allocations net of frees) the cycle collector found nothing
# to collect over a whole corpus and took 0.1 ms a document, 3 % of the text path. While documents are
# processed (`process_stream`, a worker's loop) it runs this many times less often. Ending the run after each
# batch would not do: the young generation then holds the batch's documents, and each such collection costs
# more.
COLLECT_LESS = 20
_collecting = 0  # streams running (threads); the first to start and the last to end set the pace
_collecting_lock = threading.Lock()
_default_threshold = gc.get_threshold()


@contextmanager
def collecting_less() -> Iterator[None]:
    """The cycle collector at `COLLECT_LESS` times its young-generation pace within the block."""
    global _collecting, _default_threshold
    with _collecting_lock:
        if _collecting == 0:
            _default_threshold = gc.get_threshold()
            gc.set_threshold(_default_threshold[0] * COLLECT_LESS, *_default_threshold[1:])
        _collecting += 1
    try:
        yield
    finally:
        with _collecting_lock:
            _collecting -= 1
            if _collecting == 0:
                gc.set_threshold(*_default_threshold)


# Once expired, the alarm fires again at this interval until the block ends: a library that catches even
# `BaseException` and goes on gets the exception again.
REARM = 0.5
_watched: Any = None


def watch(value: Any) -> None:
    """Publish the end of every `deadline` (on the monotonic clock, 0 outside one) in `value.value`: a worker
    process shares it with the parent, which stops a worker stuck past its budget in code where no signal
    handler runs."""
    global _watched
    _watched = value


_armed = False
_expires = 0.0  # when the limit of the block that runs ends, on the monotonic clock


def _expire(signum: int, frame: Any) -> None:
    if not _armed:  # between two blocks, or an alarm already on its way when the block ended
        return
    left = _expires - time.monotonic()
    if left > 0:  # the timer was set for an earlier document of the loop: aim it at this one's end
        signal.setitimer(signal.ITIMER_REAL, max(left, _MIN_DELAY), REARM)
        return
    raise DocumentTimeout


_MIN_DELAY = 0.001  # setitimer reads 0 as "off"


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise `DocumentTimeout` in the block after `seconds`, and again every `REARM` seconds until the
    block ends (main thread only: signals need it)."""
    with _alarm(seconds) as limited:
        if not limited:
            yield
            return
        _start(seconds)
        try:
            yield
        finally:
            _stop()


@contextmanager
def _alarm(seconds: float | None) -> Iterator[bool]:
    """The timer behind a run of limited blocks (`_start`, `_stop`): armed once for them all, since arming it
    and reading the handler cost more than most stages spend on a document (~10 µs); when it fires before
    the block that runs has used its `seconds`, the handler aims it at that block's end. Yields whether
    blocks may be limited (main thread only, and `seconds` set). The handler stays installed after the
    run when the one before was the default; a handler of someone else's is put back."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.getsignal(signal.SIGALRM)
    if previous is not _expire:
        signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, REARM)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if previous not in (_expire, signal.SIG_DFL, None):
            signal.signal(signal.SIGALRM, previous)


def _start(seconds: float | None) -> None:
    """A limited block begins: it may run `seconds` (within an `_alarm`)."""
    global _armed, _expires
    _expires = time.monotonic() + (seconds or 0.0)
    _armed = True
    if _watched is not None:
        _watched.value = _expires


def _stop() -> None:
    global _armed
    _armed = False
    if _watched is not None:
        _watched.value = 0.0


def batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


Processed = tuple[list[encoders.Encoded], dict[str, StageStats]]


def process_stream(config: PipelineConfig, docs: Iterable[Document], jobs: int = 1) -> Iterator[Processed]:
    """Processed batches in input order, encoded for `run.format`, each with the stage stats it produced.
    With `jobs > 1` the batches go to worker processes (`pipeline.workers`), which encode what they send back."""
    if jobs > 1:
        from pipeline import workers  # it imports this module

        yield from workers.process_stream(config, docs, jobs)
        return
    pipe = Pipeline.from_config(config)
    try:
        with collecting_less():
            for batch in batches(docs, config.run.batch_size):
                yield encoders.encode(pipe.process(batch), config.run.format), pipe.take_stats()
    finally:
        pipe.close()


def resolve_jobs(jobs: int) -> int:
    """`run.jobs`, with 0 meaning every core this process may use."""
    if jobs > 0:
        return jobs
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


Stream = Callable[[PipelineConfig, Iterable[Document]], Iterator[Processed]]


def local_stream(config: PipelineConfig, docs: Iterable[Document]) -> Iterator[Processed]:
    """`process_stream` on `run.jobs` local processes."""
    return process_stream(config, docs, resolve_jobs(config.run.jobs))


def run(config: PipelineConfig, inputs: list[str], *, resume: bool = False,
        on_batch: Callable[[RunStats], None] | None = None, stream: Stream = local_stream) -> RunStats:
    """Read `inputs`, process them with `stream` (local processes, or `pipeline.ray_executor`), write
    `config.run.output` through its `sinks.Sink`, and the stats beside it; return the run's stats.

    The output is checked and opened before any document is read, but replaced only once the run has
    records to put there (`pipeline.sinks`). With `resume`, the documents the output already holds are
    skipped: the manifest beside it proves the inputs and the config unchanged, so they are the first ones
    read. `run.fail_fast` is applied here, on the records in input order, so a run stops at the first failed
    document whatever failed (a stage, the time limit, reading) and whichever executor ran it: the records
    before it are kept and `DocumentFailed` is raised.
    """
    readers.check_inputs(inputs)
    reader = readers.Reader(inputs, config.run.glob, config.run.max_bytes)
    sink = sinks.open_sink(config, inputs, resume=resume, reader=reader)
    try:
        docs: Iterator[Document] = reader.documents()  # no document at all: InputError (exit 2)
    except BaseException:
        sink.close(keep=False)
        raise
    stats = sink.previous
    stats.skipped = reader.skipped
    warned: set[tuple[str, str]] = set()
    started = time.perf_counter() - stats.seconds
    for _ in range(sink.done):
        if next(docs, None) is None:
            break
    # The stream records every failure, so that the first one in input order is found here, and no worker
    # raises past the records already processed.
    stream_config = dataclasses.replace(config, run=dataclasses.replace(config.run, fail_fast=False))
    processed = stream(stream_config, docs)
    started_up, error = False, False  # until a first batch is back, the stages may still fail to set up
    try:
        for out, stage_stats in processed:
            started_up = True
            failure = next((e for e in out if e.status == "error"), None) if config.run.fail_fast else None
            kept = out[:out.index(failure)] if failure is not None else out
            sink.write(kept)
            for item in kept:
                stats.count(item.status)
            stats.merge_stages(stage_stats)
            _log_new_warnings(stage_stats, warned)
            stats.seconds = time.perf_counter() - started
            if failure is not None:
                raise DocumentFailed(failure.id, failure.stage or "unknown", failure.reason or "")
            if on_batch is not None:
                on_batch(stats)
        started_up = True  # an empty input is a finished run too
    except BaseException:
        error = True
        raise
    finally:
        close = getattr(processed, "close", None)
        if close is not None:
            close()  # stops the workers of an unfinished stream
        stats.seconds = time.perf_counter() - started
        if sink.close(keep=started_up) and sink.stats_file:
            _write_stats(sink.stats_file, stats, report=not error)
    return stats


def _write_stats(path: str, stats: RunStats, *, report: bool) -> None:
    """Stats beside the output; a failure to write them is reported unless the run already ends on an error."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        sinks.write_atomically(path, stats.to_text())
    except OSError as exc:
        if report:
            raise WriteError(f"{path}: cannot write the stats: {exc.strerror}") from None


def _log_new_warnings(stage_stats: dict[str, StageStats], warned: set[tuple[str, str]]) -> None:
    """Log each stage's `warning:` counters the first time any worker reports them: once per run."""
    for name, stage in stage_stats.items():
        for key in stage.counters:
            if key.startswith(WARNING_COUNTER) and (name, key) not in warned:
                warned.add((name, key))
                log.warning("%s: %s", name, key.removeprefix(WARNING_COUNTER))
