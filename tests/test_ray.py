"""The Ray executor writes what the local runner writes, on a local Ray instance started here."""

from __future__ import annotations

import dataclasses
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import config, ray_executor, runner
from pipeline.config import PipelineConfig
from pipeline.document import Document
from pipeline.errors import InputError, OutputError, SetupError

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "fixtures" / "articles"


def _config(output: Path | str, **run: Any) -> PipelineConfig:
    """The project's default pipeline, in small batches so both actors get work. Translation is left out:
    each actor would load its models, which is slow and says nothing about the executor."""
    cfg = config.load(ROOT / "config.yaml", [f"run.output={output}", "run.batch_size=2"])
    stages = tuple(s for s in cfg.stages if s.stage != "translate")
    return dataclasses.replace(cfg, stages=stages, run=dataclasses.replace(cfg.run, **run))


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tamis[ray]')")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_run_writes_the_local_output(ray_local: Any, tmp_path: Path) -> None:
    local = runner.run(_config(tmp_path / "local" / "out.jsonl", jobs=1), [str(ARTICLES)])
    distributed = ray_executor.run(_config(tmp_path / "ray" / "out.jsonl", jobs=2), [str(ARTICLES)])
    assert (tmp_path / "ray" / "out.jsonl").read_bytes() == (tmp_path / "local" / "out.jsonl").read_bytes()
    assert (distributed.documents, distributed.ok, distributed.errors) == (local.documents, local.ok, local.errors)
    assert {n: (s.docs_in, s.docs_out) for n, s in distributed.stages.items()} == \
        {n: (s.docs_in, s.docs_out) for n, s in local.stages.items()}
    written = json.loads((tmp_path / "ray" / "out.stats.json").read_text())
    assert written["documents"] == len(list(ARTICLES.iterdir()))


@pytest.mark.slow
def test_the_ordered_path_holds_a_few_batches_not_the_input(ray_local: Any, tmp_path: Path) -> None:
    """The driver reads on only as the actors take batches: when the first batch comes back, it has read
    `IN_FLIGHT` batches per actor, not the whole input (before, every batch was put in the object store
    before the first one ran)."""
    pulled = 0

    def docs() -> Iterator[Document]:
        nonlocal pulled
        for number in range(40):
            pulled += 1
            yield Document(id=str(number), source="test", content_type="text/plain",
                           plain_text="Une phrase assez longue pour un article de presse. " * 4)

    config = _config(tmp_path / "out.jsonl", jobs=2)  # batches of 2
    stream = ray_executor.process_stream(config, docs())
    first, _ = next(stream)
    assert pulled == ray_executor.IN_FLIGHT * 2 * 2
    assert [e.id for e in first] + [e.id for out, _ in stream for e in out] == [str(n) for n in range(40)]


@pytest.mark.slow
def test_map_dataset_gives_the_local_records(ray_local: Any, tmp_path: Path) -> None:
    rows = [{"id": p.name, "text": p.read_text(encoding="utf-8"), "url": f"https://example.org/{p.stem}"}
            for p in sorted(ARTICLES.iterdir())]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    runner.run(_config(tmp_path / "out.jsonl", jobs=1), [str(source)])
    expected = [_without_source(json.loads(line)) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    unreadable = {"id": "no-text", "body": "neither html nor text"}

    cfg = _config(tmp_path / "unused.jsonl", jobs=2)
    got = ray_executor.map_dataset(ray_local.data.from_items([*rows, unreadable]), cfg).take_all()

    by_id = {r["id"]: r for r in got}
    failed = by_id.pop("no-text")
    assert failed["status"] == "error"
    assert "no string field 'html' or 'text'" in json.loads(failed["record"])["reason"]
    assert sorted((_without_source(json.loads(r["record"])) for r in by_id.values()), key=lambda r: r["id"]) == expected
    assert [(r["id"], r["status"], r["lang"], r["text"]) for r in sorted(by_id.values(), key=lambda r: r["id"])] == \
        [(r["id"], r["status"], r["lang"], r["text"]) for r in expected]


def _without_source(record: dict[str, Any]) -> dict[str, Any]:
    """A record minus `source` (the input file for the local run, `ray.data` for a dataset)."""
    return {k: v for k, v in record.items() if k != "source"}


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(SetupError, match=r"pip install 'tamis\[ray\]'"):
        ray_executor.run(_config(tmp_path / "out.jsonl"), [str(ARTICLES)])


def _every_kind(folder: Path) -> Path:
    """An input folder with every kind the local reader takes: text files (one gzip-compressed), an HTML page,
    a JSONL file, a Parquet file, a WARC (a page, and a revisit record that is skipped), a file of unknown
    suffix (skipped)."""
    import pyarrow
    import pyarrow.parquet

    from tests.warcs import Capture, write_warc

    folder.mkdir()
    articles = sorted(ARTICLES.iterdir())
    for path in articles[:3]:
        data = path.read_bytes()
        (folder / (path.name + ".gz" if path.name.startswith("000") else path.name)).write_bytes(
            gzip.compress(data) if path.name.startswith("000") else data)
    title, *paragraphs = articles[3].read_text(encoding="utf-8").split("\n\n")
    page = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>" + \
        "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>"
    (folder / "page.html").write_text(page, encoding="utf-8")
    (folder / "more.jsonl").write_text("".join(json.dumps({"id": f"j{i}", "text": p}, ensure_ascii=False) + "\n"
                                              for i, p in enumerate(paragraphs[:2])), encoding="utf-8")
    pyarrow.parquet.write_table(pyarrow.table({"text": [articles[4].read_text(encoding="utf-8")]}),
                                folder / "rows.parquet")
    write_warc(folder / "crawl.warc.gz", [Capture("https://news.test/a", page.encode())],
               revisits=("https://news.test/a",))
    (folder / "notes.bin").write_bytes(b"\x00\x01")
    return folder


SKIPPED = ["notes.bin (unknown suffix)"]


@pytest.mark.slow
def test_a_directory_output_is_read_cleaned_and_written_by_ray(ray_local: Any, tmp_path: Path) -> None:
    """`-o out/`: Ray Data's read tasks read every kind of input as locally (what they skip is counted), the
    actors clean them, and Ray Data writes JSONL shards whose records are the local runner's."""
    source = _every_kind(tmp_path / "in")
    local = runner.run(_config(tmp_path / "local.jsonl", jobs=1), [str(source)])
    (tmp_path / "shards").mkdir()  # a directory output (or a name ending in `/`)
    distributed = ray_executor.run(_config(tmp_path / "shards", jobs=1), [str(source)])

    shards = sorted((tmp_path / "shards").glob("part-*.jsonl"))
    assert shards
    records = sorted((line for shard in shards for line in shard.read_text(encoding="utf-8").splitlines()),
                     key=lambda line: json.loads(line)["id"])
    assert records == sorted((tmp_path / "local.jsonl").read_text(encoding="utf-8").splitlines(),
                             key=lambda line: json.loads(line)["id"])
    assert local.documents == 8
    assert (distributed.documents, distributed.ok, distributed.errors) == (local.documents, local.ok, local.errors)
    assert {n: (s.docs_in, s.docs_out) for n, s in distributed.stages.items()} == \
        {n: (s.docs_in, s.docs_out) for n, s in local.stages.items()}
    # The same skips; the files the driver leaves out come before the records read tasks leave out.
    assert distributed.skipped.reasons == local.skipped.reasons
    assert sorted(distributed.skipped.first) == sorted(local.skipped.first)
    written = json.loads((tmp_path / "shards" / "stats.json").read_text())
    assert (written["documents"], written["skipped"]["count"]) == (8, 2)


@pytest.mark.slow
def test_parquet_shards_hold_the_local_rows(ray_local: Any, tmp_path: Path) -> None:
    """`-o out/ --format parquet`: Parquet shards, with the schema and rows of the local runner's one file."""
    pq = pytest.importorskip("pyarrow.parquet")
    source = _every_kind(tmp_path / "in")
    runner.run(_config(tmp_path / "local.parquet", jobs=1, format="parquet"), [str(source)])
    distributed = ray_executor.run(_config(f"{tmp_path / 'shards'}/", jobs=1, format="parquet"), [str(source)])

    shards = sorted((tmp_path / "shards").glob("part-*"))
    assert shards and all(p.suffix == ".parquet" for p in shards)
    local = pq.read_table(tmp_path / "local.parquet")
    assert all(pq.read_schema(p) == local.schema for p in shards)
    rows = sorted((row for p in shards for row in pq.read_table(p).to_pylist()), key=lambda r: r["id"])
    assert rows == sorted(local.to_pylist(), key=lambda r: r["id"])
    assert (distributed.documents, distributed.skipped.count) == (8, 2)


def test_ordered_gives_the_local_runners_output(ray_local: Any, tmp_path: Path) -> None:
    """`--ordered` asks for the local runner's output: for a directory, its refusal of a JSONL directory."""
    (tmp_path / "out").mkdir()
    with pytest.raises(OutputError, match=r"is a directory; a JSONL output is a file"):
        ray_executor.run(_config(tmp_path / "out", jobs=1, ordered=True), [str(ARTICLES)])
    assert not list((tmp_path / "out").iterdir())


def test_shards_refuse_resume_and_standard_input(ray_local: Any, tmp_path: Path) -> None:
    (tmp_path / "shards").mkdir()
    with pytest.raises(InputError, match=r"--resume needs the one ordered output"):
        ray_executor.run(_config(tmp_path / "shards", jobs=1), [str(ARTICLES)], resume=True)
    with pytest.raises(InputError, match=r"standard input cannot be read by Ray's read tasks"):
        ray_executor.run(_config(tmp_path / "shards", jobs=1), ["-"])


def test_read_tasks_take_contiguous_groups_of_files_of_about_equal_size(tmp_path: Path) -> None:
    """Ray Data asks the datasource for a number of read tasks; each gets a run of files in input order, cut
    where the bytes so far reach the next multiple of an equal share (here 400)."""
    pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tamis[ray]')")
    sizes = [300, 100, 100, 100, 300, 300]
    entries: list[ray_executor.Entry] = []
    for number, size in enumerate(sizes):
        (tmp_path / f"{number}.txt").write_bytes(b"x" * size)
        entries.append((str(tmp_path / f"{number}.txt"), f"{number}.txt"))
    source = ray_executor._InputFiles(entries, "**/*", None, 2, tally=None)
    tasks = source.get_read_tasks(3)
    assert [[Path(p).name for p in t.metadata.input_files] for t in tasks] == \
        [["0.txt", "1.txt"], ["2.txt", "3.txt", "4.txt"], ["5.txt"]]
    assert [t.metadata.size_bytes for t in tasks] == [400, 500, 300]
    assert source.estimate_inmemory_data_size() == 1200
