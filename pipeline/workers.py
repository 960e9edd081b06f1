"""Worker processes for `run.jobs > 1`: batches out, processed batches back in input order, whatever a
worker does.

Each worker is a process of its own (forked from the warm forkserver of `pipeline.warm` on Linux, so it
starts with the imports and models in place; spawned elsewhere) with its own pipe that holds one batch at a
time, so the parent always knows which batch a worker is running. That is why this is not
`multiprocessing.Pool`, which cannot see a worker die (its task is lost and the run waits forever), nor
`concurrent.futures.ProcessPoolExecutor`, where one dead worker breaks the pool and fails every batch in
flight without saying which one killed it.

- A worker that dies (SIGKILL, the OOM killer, a crash in C code) is replaced and its batch run again on
  fresh workers, one document per task; a document that kills a worker again is an error record (the
  others of its batch come back processed).
- A worker whose stage call overruns its `run.timeout` budget by `GRACE` seconds (stuck in C code, where
  the timeout exception cannot be raised) is killed, which counts as a death. Workers publish the end of
  the current budget in shared memory (`runner.watch`); the parent checks it at least every second.
- Workers start lazily, one when a batch waits and none is free, so a run never starts more workers than
  it has batches; a run of a single batch is processed in this process (starting a worker costs more).
- A setup error, or a stage's exception under `run.fail_fast`, is raised again in the parent unchanged.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from pipeline import encoders, runner, warm
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.runner import Pipeline, Processed, batches
from pipeline.stats import StageStats

# Seconds a stage call may run past its budget before its worker is killed: the timeout exception normally
# ends it within `runner.REARM` of the budget.
GRACE = 5.0
WORKER_STAGE = "worker"
_POLL = 1.0


def process_stream(config: PipelineConfig, docs: Iterable[Document], jobs: int) -> Iterator[Processed]:
    """`runner.process_stream` on up to `jobs` worker processes."""
    source = batches(docs, config.run.batch_size)
    first = next(source, None)
    if first is None:
        return
    second = next(source, None)
    if second is None:
        yield from runner.process_stream(config, first, jobs=1)
        return
    pool = _Pool(config, jobs)
    try:
        yield from pool.run(_chain(first, second, source))
    finally:
        pool.close()


def _chain(first: list[Document], second: list[Document], rest: Iterator[list[Document]]) -> Iterator[list[Document]]:
    yield first
    yield second
    yield from rest


@dataclass
class _Task:
    number: int
    batch: list[Document]
    deaths: list[str] = field(default_factory=list)
    split: _Split | None = None  # set on the one-document pieces of a batch that killed its worker
    piece: int = 0


@dataclass
class _Split:
    """A batch that killed its worker, run again one document per task so that only a document that kills
    a worker on its own is lost."""

    pieces: list[Processed | None]

    def result(self) -> Processed | None:
        if any(p is None for p in self.pieces):
            return None
        out: list[Any] = []
        stats: dict[str, StageStats] = {}
        for piece in self.pieces:
            assert piece is not None
            out.extend(piece[0])
            for name, stage in piece[1].items():
                stats.setdefault(name, StageStats()).merge(stage)
        return out, stats


class _Worker:
    def __init__(self, ctx: Any, config: PipelineConfig) -> None:
        self.conn, child = ctx.Pipe()
        self.expires = ctx.RawValue("d", 0.0)  # monotonic end of the current stage call's budget, 0 if none
        self.process = ctx.Process(target=_main, args=(child, config, self.expires, dict(os.environ)), daemon=True)
        self.process.start()
        child.close()
        self.task: _Task | None = None

    def overdue(self, now: float) -> bool:
        expires = float(self.expires.value)
        return bool(expires) and now > expires + GRACE

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.process.kill()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class _Pool:
    def __init__(self, config: PipelineConfig, jobs: int) -> None:
        self.config = config
        self.jobs = jobs
        self.ctx = warm.context()
        self.workers: list[_Worker] = []

    def run(self, source: Iterator[list[Document]]) -> Iterator[Processed]:
        todo: deque[_Task] = deque()  # batches waiting for a worker; a batch to run again goes first
        finished: dict[int, Processed] = {}
        read = emitted = 0
        window = 2 * self.jobs  # batches read but not yet yielded: a bounded window keeps memory flat
        exhausted = False
        while True:
            while not exhausted and read - emitted < window:
                batch = next(source, None)
                if batch is None:
                    exhausted = True
                else:
                    todo.append(_Task(read, batch))
                    read += 1
            self._dispatch(todo)
            while emitted in finished:
                yield finished.pop(emitted)
                emitted += 1
            if exhausted and emitted == read:
                return
            self._collect(todo, finished)

    def _dispatch(self, todo: deque[_Task]) -> None:
        while todo:
            idle = next((w for w in self.workers if w.task is None), None)
            if idle is None:
                if len(self.workers) >= self.jobs:
                    return
                idle = _Worker(self.ctx, self.config)
                self.workers.append(idle)
            task = todo.popleft()
            idle.task = task
            with contextlib.suppress(OSError):  # a dead worker: `_collect` sees it and runs the batch again
                idle.conn.send((task.number, task.batch))

    def _collect(self, todo: deque[_Task], finished: dict[int, Processed]) -> None:
        """Wait (at most `_POLL` seconds) for results or deaths of busy workers and take them in."""
        busy = [w for w in self.workers if w.task is not None]
        wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=_POLL)
        now = time.monotonic()
        for worker in busy:
            task = worker.task
            assert task is not None
            message: Any = None
            if worker.conn.poll():
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    message = None
            if message is not None:
                kind, payload = message
                if kind == "raised":
                    raise payload
                worker.task = None
                self._finish(task, payload, finished)
            elif not worker.process.is_alive():
                self._bury(worker, todo, finished, _death(worker.process.exitcode))
            elif worker.overdue(now):
                self._bury(worker, todo, finished, f"a stage ran {GRACE:g} s past run.timeout and was stopped")

    def _bury(self, worker: _Worker, todo: deque[_Task], finished: dict[int, Processed], why: str) -> None:
        task = worker.task
        assert task is not None
        worker.stop(kill=True)
        self.workers.remove(worker)
        task.deaths.append(why)
        if len(task.deaths) < 2:
            if len(task.batch) == 1:
                todo.appendleft(task)
                return
            split = _Split([None] * len(task.batch))
            todo.extendleft(reversed([_Task(task.number, [doc], list(task.deaths), split, i)
                                      for i, doc in enumerate(task.batch)]))
            return
        message = f"the worker process died twice on this document ({'; '.join(task.deaths)})"
        failed = [doc.failed(WORKER_STAGE, message) for doc in task.batch]
        self._finish(task, (encoders.encode(failed, self.config.run.format), {}), finished)

    @staticmethod
    def _finish(task: _Task, result: Processed, finished: dict[int, Processed]) -> None:
        if task.split is None:
            finished[task.number] = result
            return
        task.split.pieces[task.piece] = result
        whole = task.split.result()
        if whole is not None:
            finished[task.number] = whole

    def close(self) -> None:
        for worker in self.workers:
            worker.stop(kill=worker.task is not None)
        self.workers.clear()


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}" + (", e.g. by the out-of-memory killer" if name == "SIGKILL" else "")
    return f"exited with status {exitcode}"


def _main(conn: Connection, config: PipelineConfig, expires: Any, environ: dict[str, str]) -> None:
    """A worker: set the stages up once, then process the batches the parent sends until it sends None.
    `environ` is the parent's environment now: a process forked from the forkserver has the one the parent
    had when the server started."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides how an interrupted run ends
    if environ != os.environ:
        os.environ.clear()
        os.environ.update(environ)
    runner.watch(expires)
    try:
        pipe = Pipeline.from_config(config)
        pipe.setup()
    except Exception as exc:
        conn.send(("raised", _picklable(exc)))
        return
    fmt = config.run.format
    try:
        with runner.collecting_less():
            while (task := conn.recv()) is not None:
                _, batch = task
                try:
                    out = encoders.encode(pipe.process(batch), fmt)
                except Exception as exc:  # `run.fail_fast`: the parent raises the stage's failure as it is
                    conn.send(("raised", _picklable(exc)))
                    return
                conn.send(("done", (out, pipe.take_stats())))
    except EOFError:
        pass  # the parent has gone
    finally:
        pipe.close()


def _picklable(exc: Exception) -> Exception:
    """`exc`, or a `RuntimeError` with its text when it cannot travel to the parent."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc
