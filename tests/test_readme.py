"""The README's custom stage and its Python run work as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline import Document
from tests.conftest import ARTICLES, ROOT, jsonl


def test_readme_custom_stage_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a stage", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    exec(blocks[0], namespace)  # noqa: S102 - our own README
    exec(blocks[1], namespace)  # noqa: S102
    pipe = namespace["pipe"]
    long = ARTICLES / "001_d65a453aca90a03a.txt"
    docs = [Document(id="short", source="t", raw=b"Trop court."),
            Document(id="long", source=str(long), raw=long.read_bytes())]
    out = pipe.process(docs)  # type: ignore[attr-defined]
    assert [(d.status, d.reason) for d in out] == [("filtered", "too short"), ("ok", None)]


def test_readme_python_run_uses_workers_and_writes_output_and_stats(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    stage = re.findall(r"```python\n(.*?)```", readme.split("## Writing a stage", 1)[1], re.DOTALL)[0]
    [example] = re.findall(r"```python\n(.*?)```", readme.split("## Running from Python", 1)[1].split("\n## ", 1)[0],
                           re.DOTALL)
    (tmp_path / "example.py").write_text(stage + "\n" + example, encoding="utf-8")
    for name in ("config.yaml", "fixtures"):  # the example's relative paths, read from here
        (tmp_path / name).symlink_to(ROOT / name)
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, timeout=300,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr.decode()
    records = jsonl(tmp_path / "out" / "long.jsonl")
    assert [r["id"] for r in records] == sorted(p.name for p in ARTICLES.iterdir())
    assert {r["status"] for r in records} == {"ok", "filtered"}
    assert all(r["reason"] == "too short" for r in records if r["status"] == "filtered")
    stats = json.loads((tmp_path / "out" / "long.stats.json").read_text())
    assert stats["stages"]["min_length"]["in"] == 5
    assert done.stdout.decode().startswith("5 documents: ")


README_JOB_ROWS = [{"id": p.name, "text": p.read_text(encoding="utf-8")} for p in sorted(ARTICLES.iterdir())]


def run_readme_ray_job(tmp_path: Path, ray_address: str) -> Any:
    """Run the README's Ray job as a user would (its own process, `RAY_ADDRESS` naming a cluster, or empty for
    a Ray of its own) on the fixture articles as JSONL in `tmp_path/articles`; return the Parquet it writes."""
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("ray")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [job] = re.findall(r"```python\n(.*?)```", readme.split("## Running on Ray", 1)[1].split("\n## ", 1)[0],
                       re.DOTALL)
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "part-0.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in README_JOB_ROWS), encoding="utf-8")
    (tmp_path / "config.yaml").symlink_to(ROOT / "config.yaml")
    (tmp_path / "job.py").write_text(job, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path, "RAY_ADDRESS": ray_address}
    done = subprocess.run([sys.executable, "job.py"], cwd=tmp_path, capture_output=True, timeout=600, check=False,
                          env=env)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return pyarrow_parquet.read_table(tmp_path / "clean")


@pytest.mark.slow
def test_readme_ray_job_reads_cleans_and_writes_parquet(tmp_path: Path) -> None:
    table = run_readme_ray_job(tmp_path, "")
    assert table.column_names == ["id", "lang", "text"]
    assert sorted(table.column("id").to_pylist()) == [r["id"] for r in README_JOB_ROWS]
    assert set(table.column("lang").to_pylist()) == {"fr"}
