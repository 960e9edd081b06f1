"""Run a pipeline on Ray Data: on this machine, or on a Ray cluster, with the same config.

Two entry points, both needing the `ray` extra (`pip install 'tamis[ray]'`):

- `run(config, inputs)` is `tamis run --executor ray`. With a directory output in JSONL or Parquet
  (`-o out/`), the cluster does everything: the driver lists the input files as the local reader does, Ray
  Data's read tasks (a `Datasource` over `pipeline.readers`, so HTML, text, JSONL, Parquet, compressed files
  and WARC read as they do locally) read them in parallel and stream the documents in blocks to a pool of
  actors, and a Ray Data datasink writes the records as shards (`out/part-*.jsonl` or `out/part-*.parquet`,
  in no particular order); the run's stats are added up from what the actors and read tasks report. With a
  file or standard output, or with `--ordered`, the run is the local runner's, ordered: the driver reads the
  inputs, Ray actors process the batches (a few per actor in flight, so the input is never all in memory)
  and the driver writes the one output in input order, the slower path. `ray.init()` connects to the cluster
  named by `RAY_ADDRESS`, or starts a local instance.
- `map_dataset(ds, config)` applies the pipeline to your own `ray.data.Dataset` (e.g. from
  `ray.data.read_json("s3://bucket/articles/")`) and returns a dataset you can filter and write.

Each actor builds one `pipeline.runner.Pipeline` and sets it up once, so models load once per actor, not
per batch. Before that, it checks that it sees what the driver's stages read from their machine (`_Models`:
the translation packages): a node that cannot read them would leave passages untranslated where a local run
translates them, so it stops the run naming the directory. Stages that compare documents with each other
only see the documents of their own actor. Input files must be readable at the same path on every node (a
shared file system).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import pickle
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import columns, encoders, readers, runner, sinks
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.errors import InputError, SetupError, TamisError
from pipeline.runner import Pipeline, batches, resolve_jobs
from pipeline.stats import RunStats

if TYPE_CHECKING:
    import pyarrow
    import ray.data

_DOCUMENT = "document"  # a pickled Document on the way in; on the way out, its `encoders.Encoded`
_STATS = "stats"  # the pickled stage stats of one batch, on its first row only
SHARD_FORMATS = ("jsonl", "parquet")  # what Ray Data writes as shards into a directory output
IN_FLIGHT = 2  # batches per actor on the ordered path: one running, one waiting, none idle


def run(config: PipelineConfig, inputs: list[str], *, resume: bool = False,
        on_batch: Callable[[RunStats], None] | None = None) -> RunStats:
    """`pipeline.runner.run` with the batches processed on Ray; shards for a directory output."""
    ray, _ = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init()
    try:
        if sharded(config) and (resume or config.run.fail_fast):
            option = "--resume" if resume else "--fail-fast"
            raise InputError(f"{config.run.output}: {option} needs the one ordered output (-o FILE, or "
                             "--ordered); shards are written in no order")
        _check_nodes(ray, config)
        if sharded(config):
            return _run_sharded(config, inputs)
        return runner.run(config, inputs, resume=resume, on_batch=on_batch, stream=process_stream)
    except _ray_errors(ray) as exc:
        cause = _cause(exc)
        if cause is exc:
            raise
        raise cause from exc
    finally:
        if started_here:
            ray.shutdown()


def sharded(config: PipelineConfig) -> bool:
    """Whether Ray Data writes the output itself, as shards: JSONL or Parquet into a directory (`-o out/`),
    unless `run.ordered` asks for the local runner's output."""
    output = config.run.output
    return not config.run.ordered and config.run.format in SHARD_FORMATS and output != sinks.STDOUT \
        and (output.endswith("/") or Path(output).is_dir())


def _run_sharded(config: PipelineConfig, inputs: list[str]) -> RunStats:
    """Read, clean and write on the cluster; the driver lists the input files and adds up the stats."""
    ray, data = _import_ray()
    if config.run.format == "parquet":
        columns.import_pyarrow()
    readers.check_inputs(inputs)
    reader = readers.Reader(inputs, config.run.glob, config.run.max_bytes)
    entries = list(_entries(reader, inputs))
    if not entries:
        raise InputError(f"no input document in {', '.join(inputs)}")
    out = Path(config.run.output)
    sinks.check_not_an_input(out, inputs)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("part-*")):
        raise InputError(f"{out}: holds shards of an earlier run; give an empty directory")
    started = time.perf_counter()
    tally = ray.remote(num_cpus=0)(_Tally).remote()
    source = _InputFiles(entries, config.run.glob, config.run.max_bytes, config.run.batch_size, tally)
    cleaned = data.read_datasource(source).map_batches(
        _ShardActor, fn_constructor_args=(config, _Models.seen(config)), batch_format="pyarrow",
        batch_size=config.run.batch_size, compute=_actors(ray, config.run.jobs), num_cpus=1)
    shards = _Shards(str(out), config.run.format)
    cleaned.write_datasink(shards)
    stats: RunStats = shards.stats
    stats.skipped = reader.skipped
    _add_skipped(stats.skipped, ray.get(tally.total.remote()))
    ray.kill(tally)
    stats.seconds = time.perf_counter() - started
    path = sinks.stats_path(str(out), config.run.stats)
    if path is not None:
        sinks.write_atomically(path, stats.to_text())
    return stats


Entry = tuple[str, str] | Document  # a file to read (path, name below its input), or a directory's error record


def _entries(reader: readers.Reader, inputs: list[str]) -> Iterator[Entry]:
    """The input files to read, and an error record where a directory cannot be read, in the local reader's
    order; the files left out are counted in `reader.skipped` as locally."""
    for item in inputs:
        if item == "-":
            raise InputError("standard input cannot be read by Ray's read tasks: save it to a file, or write "
                             "one ordered output (-o FILE, or --ordered)")
        path = Path(item)
        for entry in reader.listing(path) if path.is_dir() else [(path, path.name)]:
            yield entry if isinstance(entry, Document) else (str(entry[0]), entry[1])


def _read(entries: list[Entry], glob: str, max_bytes: int | None, size: int, tally: Any) -> Iterator[Any]:
    """A Ray read task: the documents of its files as the local reader reads them, in blocks of `size`
    pickled documents, so a large file streams; what it leaves out (a WARC record that is not a page) goes
    to the run's tally."""
    import pyarrow
    import ray

    reader = readers.Reader([], glob, max_bytes)
    docs = (doc for entry in entries
            for doc in ([entry] if isinstance(entry, Document) else reader.file(Path(entry[0]), entry[1])))
    for batch in batches(docs, size):
        yield pyarrow.table({_DOCUMENT: [pickle.dumps(d) for d in batch]})
    if reader.skipped.count:
        ray.get(tally.add.remote(reader.skipped))


class _InputFiles:
    """Ray Data datasource: the input files, split into contiguous groups of about equal size, one read
    task each, run in parallel wherever Ray places them."""

    def __new__(cls, entries: list[Entry], glob: str, max_bytes: int | None, size: int, tally: Any) -> Any:
        _, data = _import_ray()
        from ray.data.block import BlockMetadata

        def weight(entry: Entry) -> int:
            try:
                return 1 if isinstance(entry, Document) else max(1, os.stat(entry[0]).st_size)
            except OSError:
                return 1  # the read task records why it cannot be read

        weights = [weight(e) for e in entries]  # bytes on disk: the estimate Ray Data sizes its reads by

        class InputFiles(data.Datasource):  # type: ignore[name-defined,misc]
            def get_name(self) -> str:
                return "TamisInputs"

            def estimate_inmemory_data_size(self) -> int:
                return sum(weights)

            def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                               data_context: Any = None) -> list[Any]:
                total = self.estimate_inmemory_data_size()
                tasks: list[tuple[list[Entry], int]] = []
                group: list[Entry] = []
                filled = start = 0
                share = total / max(1, min(parallelism, len(entries)))
                for entry, bytes_ in zip(entries, weights, strict=True):
                    group.append(entry)
                    filled += bytes_
                    if filled >= share * (len(tasks) + 1):
                        tasks.append((group, filled - start))
                        group, start = [], filled
                if group:
                    tasks.append((group, filled - start))
                return [data.ReadTask(
                    lambda g=g: _read(g, glob, max_bytes, size, tally),
                    BlockMetadata(num_rows=None, size_bytes=group_bytes, exec_stats=None,
                                  input_files=tuple(e[0] for e in g if not isinstance(e, Document))))
                    for g, group_bytes in tasks]

        return InputFiles()


class _Tally:
    """A Ray actor that adds up what read tasks left out, for the run's stats."""

    def __init__(self) -> None:
        self.skipped = readers.Skipped()

    def add(self, skipped: readers.Skipped) -> None:
        _add_skipped(self.skipped, skipped)

    def total(self) -> readers.Skipped:
        return self.skipped


def _add_skipped(into: readers.Skipped, other: readers.Skipped) -> None:
    into.count += other.count
    into.reasons.update(other.reasons)
    into.first += other.first[:max(0, readers.SKIPPED_NAMES - len(into.first))]


class _Shards:
    """Ray Data datasink: each write task writes its records to one shard, `part-*.jsonl` (records as
    lines) or `part-*.parquet` (rows with `pipeline.columns`' schema), through a temporary name renamed when
    whole, and returns the stats of what it wrote, which the driver adds up."""

    def __new__(cls, path: str, fmt: str) -> Any:
        _, data = _import_ray()

        class Shards(data.Datasink):  # type: ignore[name-defined,misc]
            def __init__(self, folder: str) -> None:
                self.folder = folder
                self.stats = RunStats()

            def write(self, blocks: Iterable[Any], ctx: Any) -> RunStats:
                stats = RunStats()
                lines: list[str] = []
                for block in blocks:
                    found = block.to_pydict()
                    for blob in found[_STATS]:
                        if blob:
                            stats.merge_stages(pickle.loads(blob))
                    for status, line in zip(found["status"], found["line"], strict=True):
                        stats.count(status)
                        lines.append(line)
                if lines:
                    name = Path(self.folder) / f"part-{ctx.task_idx:05d}-{uuid.uuid4().hex[:8]}.{fmt}"
                    if fmt == "parquet":
                        _write_parquet(name, lines)
                    else:
                        sinks.write_atomically(name, "".join(line + "\n" for line in lines))
                return stats

            def on_write_complete(self, write_result: Any) -> None:
                for part in write_result.write_returns:
                    self.stats.merge(part)

        return Shards(path)


def _write_parquet(path: Path, lines: list[str]) -> None:
    """One Parquet shard of these records, in row groups of `columns.ROW_GROUP`, renamed into place whole."""
    pyarrow = columns.import_pyarrow()
    schema = columns.schema()
    part = Path(f"{path}.part")
    with pyarrow.parquet.ParquetWriter(part, schema) as writer:
        for start in range(0, len(lines), columns.ROW_GROUP):
            rows = [columns.row(line) for line in lines[start : start + columns.ROW_GROUP]]
            writer.write_table(pyarrow.Table.from_pylist(rows, schema=schema))
    os.replace(part, path)


def process_stream(config: PipelineConfig, docs: Iterable[Document]) -> Iterator[runner.Processed]:
    """Processed documents in input order, each batch with the stage stats it produced (the contract of
    `pipeline.runner.process_stream`), from a pool of Ray actors: batch i goes to actor i mod n (an actor
    runs its calls in order), with at most `IN_FLIGHT` per actor, so the driver holds a few batches at a
    time whatever the input size. Needs `ray.init()` to have been called."""
    ray, _ = _import_ray()
    actor = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_BatchActor)  # over the nodes, as Ray Data does
    models = _Models.seen(config)
    size = _pool_size(ray, config.run.jobs, reserve=False)
    pool: list[Any] = []
    pending: collections.deque[Any] = collections.deque()
    try:
        for number, batch in enumerate(batches(docs, config.run.batch_size)):
            if len(pool) < size:
                pool.append(actor.remote(config, models))
            pending.append(pool[number % len(pool)].process.remote(pickle.dumps(batch)))
            if len(pending) >= IN_FLIGHT * len(pool):
                yield pickle.loads(ray.get(pending.popleft()))
        while pending:
            yield pickle.loads(ray.get(pending.popleft()))
    finally:
        for handle in pool:
            ray.kill(handle)


def map_dataset(ds: ray.data.Dataset, config: PipelineConfig) -> ray.data.Dataset:
    """Apply the pipeline of `config` to `ds` with `map_batches`.

    Rows are what tamis reads from a JSONL line: `html` or `text`, an optional `id` (else the SHA-1 of the
    row), other fields kept in the document's `extra` (null fields are left out: Arrow gives a field that
    some rows lack as null); a tamis output record is taken as it is. Each
    output row has `id`, `status`, `lang`, `text` (the clean main text) and `record`, the full tamis
    record as a JSON string (`Document.from_json(json.loads(row["record"]))` gives the document back).
    `run.batch_size` sets the batch size and `run.jobs` the number of actors (0: one per cluster CPU).
    Order is kept only if you set `DataContext.get_current().execution_options.preserve_order`.

        import ray.data
        from pipeline import load_config
        from pipeline.ray_executor import map_dataset

        clean = map_dataset(ray.data.read_json("s3://bucket/articles/"), load_config("config.yaml"))
        clean.filter(lambda row: row["status"] == "ok").write_json("s3://bucket/clean/")
    """
    ray, _ = _import_ray()
    return ds.map_batches(_RecordActor, fn_constructor_args=(config, _Models.seen(config)), batch_format="pyarrow",
                          batch_size=config.run.batch_size, compute=_actors(ray, config.run.jobs), num_cpus=1)


@dataclass(frozen=True)
class _Models:
    """What the driver's stages will read from its machine when they set up, per stage instance: the stages
    that say so (`machine_inputs()`, e.g. `translate`: its models directory and the packages there)."""

    seen_here: dict[str, tuple[str, frozenset[str]]]

    @classmethod
    def seen(cls, config: PipelineConfig) -> _Models:
        return cls(_machine_inputs(config))

    def check(self, config: PipelineConfig) -> None:
        """Raise `SetupError` where this node lacks something the driver has: its documents would come out
        otherwise than a local run's (passages left untranslated)."""
        here = _machine_inputs(config)
        for instance, (driver_where, driver_has) in self.seen_here.items():
            where, has = here[instance]
            missing = sorted(driver_has - has)
            if missing:
                raise SetupError(
                    f"{instance}: on Ray node {_node()}, {where} lacks {', '.join(missing)}, which the driver has "
                    f"({driver_where}): make them readable on every node, at a shared path or through the job's "
                    "runtime_env (README: Running on Ray)")


def _machine_inputs(config: PipelineConfig) -> dict[str, tuple[str, frozenset[str]]]:
    """(where, what) each stage instance that tells (`machine_inputs()`) will read on this machine; building
    a stage is cheap, and loads nothing."""
    found = {}
    for spec in config.stages:
        told = spec.cls(spec.config).machine_inputs()
        if told is not None:
            where, items = told
            found[spec.instance] = (where, frozenset(items))
    return found


def _check_nodes(ray: Any, config: PipelineConfig) -> None:
    """Before the first document, a task on each node of the cluster checks that it sees the driver's
    translation models (`_Models.check`), so a node that cannot stops the run with its own message. Actors
    check again when they start (a node may join later), but Ray Data keeps only the text of their error."""
    models = _Models.seen(config)
    if not models.seen_here:
        return
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    check = ray.remote(num_cpus=0)(_check_models)
    nodes = [node["NodeID"] for node in ray.nodes() if node["Alive"] and node["Resources"].get("CPU")]
    ray.get([check.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote(config, models)
             for node in nodes])


def _check_models(config: PipelineConfig, models: _Models) -> None:
    models.check(config)


def _node() -> str:
    import ray

    return str(ray.get_runtime_context().get_node_id())


class _PipelineActor:
    """A Ray actor: one pipeline, set up once, applied to each batch it is given. A failure to set up is
    raised by the first batch, not by the constructor: Ray keeps only the text of a constructor's error,
    while a task's error reaches the driver as it was raised (`_cause`)."""

    def __init__(self, config: PipelineConfig, models: _Models) -> None:
        self.format = config.run.format
        self.pipeline = Pipeline.from_config(config)
        self.failed: Exception | None = None
        try:
            models.check(config)
            self.pipeline.setup()
        except Exception as exc:
            self.failed = exc

    def process_docs(self, docs: list[Document]) -> list[Document]:
        if self.failed is not None:
            raise self.failed
        return self.pipeline.process(docs)

    def __call__(self, batch: pyarrow.Table) -> dict[str, list[Any]]:
        return self.columns(self.process_docs([self.document(row) for row in batch.to_pylist()]))

    def document(self, row: dict[str, Any]) -> Document:
        raise NotImplementedError

    def columns(self, docs: list[Document]) -> dict[str, list[Any]]:
        raise NotImplementedError

    def stats(self, docs: list[Document]) -> list[bytes]:
        """The batch's stage stats, pickled on the first row only."""
        return [pickle.dumps(self.pipeline.take_stats())] + [b""] * (len(docs) - 1)


class _BatchActor(_PipelineActor):
    """A pickled batch of documents in; out, the pickled `runner.Processed` of it, for the ordered path."""

    def process(self, batch: bytes) -> bytes:
        docs = self.process_docs(pickle.loads(batch))
        return pickle.dumps((encoders.encode(docs, self.format), self.pipeline.take_stats()))


class _RecordActor(_PipelineActor):
    """Input records in, output records out, for `map_dataset`."""

    def document(self, row: dict[str, Any]) -> Document:
        # Arrow gives a field missing from some rows as null in those rows: drop nulls, as if missing.
        # Dates read by Arrow come back as datetime objects: `default=str` writes them as text again.
        present = {k: v for k, v in row.items() if v is not None}
        if "id" not in present:
            present["id"] = hashlib.sha1(json.dumps(present, sort_keys=True, default=str).encode()).hexdigest()
        record = json.loads(json.dumps(present, default=str))
        return readers.from_record(record, present["id"], "ray.data")

    def columns(self, docs: list[Document]) -> dict[str, list[Any]]:
        self.pipeline.take_stats()  # not reported here; dropping them keeps the actor's memory flat
        return {
            "id": [d.id for d in docs],
            "status": [d.status for d in docs],
            "lang": [d.lang for d in docs],
            "text": [d.text for d in docs],
            "record": [encoders.json_line(d) for d in docs],
        }


class _ShardActor(_PipelineActor):
    """Pickled documents in; records out (JSONL lines), with their status and the batch's stage stats."""

    def document(self, row: dict[str, Any]) -> Document:
        doc: Document = pickle.loads(row[_DOCUMENT])
        return doc

    def columns(self, docs: list[Document]) -> dict[str, list[Any]]:
        return {"status": [d.status for d in docs], "line": [encoders.json_line(d) for d in docs],
                _STATS: self.stats(docs)}


def _pool_size(ray: Any, jobs: int, *, reserve: bool) -> int:
    """`run.jobs` actors; 0 means one per CPU of the Ray cluster, but one when `reserve`: Ray Data's read
    and write tasks need a CPU of their own, and a pool that holds every CPU starves them, so a dataset read
    with `read_json` never reaches the actors (on a 2-CPU machine the run hangs)."""
    if jobs:
        return jobs
    cpus = int(ray.cluster_resources().get("CPU", 0)) or resolve_jobs(0)
    return max(1, cpus - 1) if reserve else cpus


def _actors(ray: Any, jobs: int) -> Any:
    """A Ray Data pool of actors that leaves a CPU to the read and write tasks (`_pool_size`)."""
    return ray.data.ActorPoolStrategy(size=_pool_size(ray, jobs, reserve=True))


def _ray_errors(ray: Any) -> tuple[type[BaseException], ...]:
    return (ray.exceptions.RayError,)


def _cause(exc: BaseException) -> BaseException:
    """The tamis error (a stage that cannot set up, a node without models) that a Ray error wraps, so the
    CLI reports it as it would locally (exit 2, its message); else the Ray error itself."""
    import ray

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ray.exceptions.RayTaskError):  # also an instance of its cause's class: unwrap
            current = current.cause
        elif isinstance(current, TamisError):
            return current
        else:
            current = current.__cause__
    return exc


def _import_ray() -> tuple[Any, Any]:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise SetupError(f"the ray executor needs Ray Data: pip install 'tamis[ray]' ({exc})") from exc
    return ray, ray.data
