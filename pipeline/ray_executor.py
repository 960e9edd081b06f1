"""Run a pipeline on Ray Data: on this machine, or on a Ray cluster, with the same config.

Two entry points, both needing the `ray` extra (`pip install 'tamis[ray]'`):

- `run(config, inputs)` is `tamis run --executor ray`. With a directory output in JSONL (`-o out/`), the
  cluster does everything: the driver lists the input files as the local reader does, Ray tasks read them
  in parallel (`pipeline.readers`, so compressed files, WARC and JSONL read as they do locally), a pool of
  actors cleans the documents as they stream in, and Ray Data writes the records as JSONL shards
  (`out/part-*.jsonl`, in no particular order) with the run's stats gathered from the write tasks. With a
  file or standard output, the run is the local runner's, ordered, with the batches processed on Ray: the
  driver reads the inputs and writes the one file in input order, the slower path. `ray.init()` connects to
  the cluster named by `RAY_ADDRESS`, or starts a local instance.
- `map_dataset(ds, config)` applies the pipeline to your own `ray.data.Dataset` (e.g. from
  `ray.data.read_json("s3://bucket/articles/")`) and returns a dataset you can filter and write.

Each actor builds one `pipeline.runner.Pipeline` and sets it up once, so models load once per actor, not
per batch. Stages that compare documents with each other only see the documents of their own actor. Input
files must be readable at the same path on every node (a shared file system).
"""

from __future__ import annotations

import functools
import hashlib
import json
import pickle
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import encoders, readers, runner, sinks
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.errors import InputError, SetupError
from pipeline.runner import Pipeline, batches, resolve_jobs
from pipeline.stats import RunStats, StageStats

if TYPE_CHECKING:
    import pyarrow
    import ray.data

_DOCUMENT = "document"  # a pickled Document on the way in; on the way out, its `encoders.Encoded`
_STATS = "stats"  # the pickled stage stats of one batch, on its first row only


def run(config: PipelineConfig, inputs: list[str], *, resume: bool = False,
        on_batch: Callable[[RunStats], None] | None = None) -> RunStats:
    """`pipeline.runner.run` with the batches processed on Ray; JSONL shards for a directory output."""
    ray, _ = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init()
    try:
        if sharded(config):
            if resume or config.run.fail_fast:
                option = "--resume" if resume else "--fail-fast"
                raise InputError(f"{config.run.output}: {option} needs the one ordered output (-o FILE.jsonl); "
                                 "JSONL shards are written in no order")
            return _run_sharded(config, inputs)
        return runner.run(config, inputs, resume=resume, on_batch=on_batch, stream=process_stream)
    finally:
        if started_here:
            ray.shutdown()


def sharded(config: PipelineConfig) -> bool:
    """Whether Ray Data writes the output itself, as shards: JSONL into a directory (`-o out/`)."""
    output = config.run.output
    return config.run.format == "jsonl" and output != sinks.STDOUT and (output.endswith("/") or Path(output).is_dir())


def _run_sharded(config: PipelineConfig, inputs: list[str]) -> RunStats:
    """Read, clean and write on the cluster; the driver only lists the input files and adds up the stats."""
    ray, data = _import_ray()
    readers.check_inputs(inputs)
    reader = readers.Reader(inputs, config.run.glob, config.run.max_bytes)
    rows = list(_input_rows(reader, inputs))
    if not rows:
        raise InputError(f"no input document in {', '.join(inputs)}")
    out = Path(config.run.output)
    sinks.check_not_an_input(out, inputs)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("part-*.jsonl")):
        raise InputError(f"{out}: holds shards of an earlier run; give an empty directory")
    size = config.run.batch_size
    started = time.perf_counter()
    read = functools.partial(_read_row, config.run.glob, config.run.max_bytes)
    documents = data.from_items(rows, override_num_blocks=len(rows)).flat_map(read)
    cleaned = documents.map_batches(_ShardActor, fn_constructor_args=(config,), batch_format="pyarrow",
                                    batch_size=size, compute=_actors(ray, config.run.jobs), num_cpus=1)
    shards = _JsonlShards(str(out))
    cleaned.write_datasink(shards)
    stats: RunStats = shards.stats
    stats.skipped = reader.skipped
    stats.seconds = time.perf_counter() - started
    path = sinks.stats_path(str(out), config.run.stats)
    if path is not None:
        sinks.write_atomically(path, stats.to_text())
    return stats


def _input_rows(reader: readers.Reader, inputs: list[str]) -> Iterator[dict[str, Any]]:
    """One row per input file to read (`path`, `name`), or a pickled error record (`document`) where a
    directory cannot be read, in the local reader's order."""
    for item in inputs:
        if item == "-":
            raise InputError("standard input cannot be read by Ray's read tasks: save it to a file, or write "
                             "one ordered output (-o FILE.jsonl)")
        path = Path(item)
        for entry in reader.listing(path) if path.is_dir() else [(path, path.name)]:
            if isinstance(entry, Document):
                yield {_DOCUMENT: pickle.dumps(entry), "path": "", "name": ""}
            else:
                yield {_DOCUMENT: b"", "path": str(entry[0]), "name": entry[1]}


def _read_row(glob: str, max_bytes: int | None, row: dict[str, Any]) -> list[dict[str, Any]]:
    """A Ray read task: the documents of one input file, as the local reader reads them."""
    if row[_DOCUMENT]:
        return [{_DOCUMENT: row[_DOCUMENT]}]
    docs = readers.Reader([], glob, max_bytes).file(Path(row["path"]), row["name"])
    return [{_DOCUMENT: pickle.dumps(doc)} for doc in docs]


class _JsonlShards:
    """Ray Data datasink: each write task writes its records to one `part-*.jsonl` file, through a temporary
    name renamed when whole, and returns the stats of what it wrote, which the driver adds up."""

    def __new__(cls, path: str) -> Any:
        _, data = _import_ray()

        class JsonlShards(data.Datasink):  # type: ignore[name-defined,misc]
            def __init__(self, folder: str) -> None:
                self.folder = folder
                self.stats = RunStats()

            def write(self, blocks: Iterable[Any], ctx: Any) -> RunStats:
                stats = RunStats()
                name = Path(self.folder) / f"part-{ctx.task_idx:05d}-{uuid.uuid4().hex[:8]}.jsonl"
                lines: list[str] = []
                for block in blocks:
                    columns = block.to_pydict()
                    for blob in columns[_STATS]:
                        if blob:
                            stats.merge_stages(pickle.loads(blob))
                    for status, line in zip(columns["status"], columns["line"], strict=True):
                        stats.count(status)
                        lines.append(line + "\n")
                if lines:
                    sinks.write_atomically(name, "".join(lines))
                return stats

            def on_write_complete(self, write_result: Any) -> None:
                for part in write_result.write_returns:
                    self.stats.merge(part)

        return JsonlShards(path)
def process_stream(config: PipelineConfig, docs: Iterable[Document]) -> Iterator[runner.Processed]:
    """Processed documents in input order, each chunk with the stage stats it produced (the contract of
    `pipeline.runner.process_stream`). Needs `ray.init()` to have been called."""
    ray, data = _import_ray()
    import pyarrow

    size = config.run.batch_size
    refs = [ray.put(pyarrow.table({_DOCUMENT: [pickle.dumps(d) for d in batch]})) for batch in batches(docs, size)]
    if not refs:
        return
    context = data.DataContext.get_current()
    keep_order = context.execution_options.preserve_order
    context.execution_options.preserve_order = True  # the output must be in input order
    try:
        processed = data.from_arrow_refs(refs).map_batches(
            _DocumentActor, fn_constructor_args=(config,), batch_format="pyarrow", batch_size=size,
            compute=_actors(ray, config.run.jobs), num_cpus=1)
        for batch in processed.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield _unpack(batch.to_pydict())
    finally:
        context.execution_options.preserve_order = keep_order


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
    return ds.map_batches(_RecordActor, fn_constructor_args=(config,), batch_format="pyarrow",
                          batch_size=config.run.batch_size, compute=_actors(ray, config.run.jobs), num_cpus=1)


class _PipelineActor:
    """A Ray Data actor: one pipeline, set up once, applied to each batch it is given."""

    def __init__(self, config: PipelineConfig) -> None:
        self.format = config.run.format
        self.pipeline = Pipeline.from_config(config)
        self.pipeline.setup()

    def __call__(self, batch: pyarrow.Table) -> dict[str, list[Any]]:
        docs = [self.document(row) for row in batch.to_pylist()]
        return self.columns(self.pipeline.process(docs))

    def document(self, row: dict[str, Any]) -> Document:
        raise NotImplementedError

    def columns(self, docs: list[Document]) -> dict[str, list[Any]]:
        raise NotImplementedError


class _DocumentActor(_PipelineActor):
    """Pickled documents in; out, their `encoders.Encoded` pickled, with the batch's stage stats, for `run`."""

    def document(self, row: dict[str, Any]) -> Document:
        doc: Document = pickle.loads(row[_DOCUMENT])
        return doc

    def columns(self, docs: list[Document]) -> dict[str, list[Any]]:
        return {_DOCUMENT: [pickle.dumps(d) for d in encoders.encode(docs, self.format)], _STATS: self.stats(docs)}

    def stats(self, docs: list[Document]) -> list[bytes]:
        """The batch's stage stats, pickled on the first row only."""
        return [pickle.dumps(self.pipeline.take_stats())] + [b""] * (len(docs) - 1)


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


class _ShardActor(_DocumentActor):
    """Pickled documents in; JSONL lines out, with their status and the batch's stage stats, for the shards."""

    def columns(self, docs: list[Document]) -> dict[str, list[Any]]:
        return {"status": [d.status for d in docs], "line": [encoders.json_line(d) for d in docs],
                _STATS: self.stats(docs)}


def _unpack(columns: dict[str, list[Any]]) -> runner.Processed:
    docs = [pickle.loads(d) for d in columns[_DOCUMENT]]
    merged: dict[str, StageStats] = {}
    for blob in columns[_STATS]:
        if blob:
            for name, stage_stats in pickle.loads(blob).items():
                merged.setdefault(name, StageStats()).merge(stage_stats)
    return docs, merged


def _actors(ray: Any, jobs: int) -> Any:
    """A pool of `run.jobs` actors. 0 means one per CPU of the Ray cluster but one: Ray Data's read and
    write tasks need a CPU of their own, and a pool that holds every CPU starves them, so a dataset read
    with `read_json` never reaches the actors (on a 2-CPU machine the run hangs)."""
    cpus = int(ray.cluster_resources().get("CPU", 0)) or resolve_jobs(0)
    return ray.data.ActorPoolStrategy(size=jobs or max(1, cpus - 1))


def _import_ray() -> tuple[Any, Any]:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise SetupError(f"the ray executor needs Ray Data: pip install 'tamis[ray]' ({exc})") from exc
    return ray, ray.data
