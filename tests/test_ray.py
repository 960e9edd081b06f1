"""The Ray executor writes what the local runner writes, on a local Ray instance started here."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import config, ray_executor, runner
from pipeline.config import PipelineConfig
from pipeline.errors import SetupError

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = ROOT / "fixtures" / "articles"


def _config(output: Path, **run: Any) -> PipelineConfig:
    """The project's default pipeline, in small batches so both actors get work. Translation is left out:
    each actor would load its models, which is slow and says nothing about the executor."""
    cfg = config.load(ROOT / "config.yaml", [f"run.output={output}", "run.batch_size=2"])
    stages = tuple(s for s in cfg.stages if s.stage != "translate")
    return dataclasses.replace(cfg, stages=stages, run=dataclasses.replace(cfg.run, **run))


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'tamis[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
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
