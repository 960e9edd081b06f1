"""Worker processes: a worker that dies is replaced and its batch run again, twice and its documents are
error records; the run ends on its own, and `--resume` completes a cut output. Workers start lazily."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import config as config_module
from pipeline.document import Document
from pipeline.workers import _Pool, process_stream
from tests.conftest import PLUGIN_DIR, jsonl, tamis

N = 24
KILL_AT = 13  # in the fourth batch of four
ENV = {"PYTHONPATH": str(PLUGIN_DIR)}


def write_input(path: Path) -> None:
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"Document {i}." + (" KILL" if i == KILL_AT else "")})
                            + "\n" for i in range(N)))


def kill_run(source: Path, out: Path, *extra: str) -> list[str]:
    return ["run", str(source), "-o", str(out), "--jobs", "2", "--set", "pipeline=[decode, extract, killer]",
            "--set", "run.batch_size=4", *extra]


def test_a_worker_killed_once_is_replaced_and_its_batch_run_again(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    flag = tmp_path / "killed-once"
    done = tamis(*kill_run(source, out, "--set", f"killer.once_file={flag}"), env=ENV, timeout=90)
    assert done.returncode == 0, done.stderr
    assert flag.exists()
    assert [(r["id"], r["status"]) for r in jsonl(out)] == [(f"d{i}", "ok") for i in range(N)]


def test_a_document_that_kills_its_worker_twice_is_an_error_record_and_resume_completes_a_cut_output(
        tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    done = tamis(*kill_run(source, out), env=ENV, timeout=90)
    assert done.returncode == 1, done.stderr
    records = jsonl(out)
    assert [r["id"] for r in records] == [f"d{i}" for i in range(N)]
    failed = [(r["id"], r["stage"], r["reason"]) for r in records if r["status"] != "ok"]
    assert failed == [("d13", "worker", "the worker process died twice on this document (killed by SIGKILL, e.g. "
                       "by the out-of-memory killer; killed by SIGKILL, e.g. by the out-of-memory killer)")]

    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:30], encoding="utf-8")  # a run cut mid-line
    resumed = tamis(*kill_run(source, out), "--resume", env=ENV, timeout=90)
    assert resumed.returncode == 1, resumed.stderr
    assert out.read_text(encoding="utf-8").splitlines(keepends=True) == lines

def test_a_worker_stuck_where_no_signal_reaches_is_stopped_by_the_parent(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    done = tamis(*kill_run(source, out, "--set", "killer.hang=true", "--set", "run.timeout=1"), env=ENV, timeout=90)
    assert done.returncode == 1, done.stderr
    failed = [(r["id"], r["reason"]) for r in jsonl(out) if r["status"] != "ok"]
    stopped = "a stage ran 5 s past run.timeout and was stopped"
    assert failed == [("d13", f"the worker process died twice on this document ({stopped}; {stopped})")]
    assert len(jsonl(out)) == N


def test_one_batch_starts_no_worker_and_two_start_two(monkeypatch) -> None:
    config = config_module.load(None, ["pipeline=[decode, extract]", "run.batch_size=4"])
    started: list[int] = []
    original = _Pool._dispatch

    def counting(self: _Pool, todo: object) -> None:
        original(self, todo)  # type: ignore[arg-type]
        started.append(len(self.workers))

    monkeypatch.setattr(_Pool, "_dispatch", counting)
    docs = [Document(id=str(i), source="t", raw=b"Un texte.") for i in range(4)]
    assert [len(out) for out, _ in process_stream(config, docs, jobs=8)] == [4]
    assert started == []
    docs = [Document(id=str(i), source="t", raw=b"Un texte.") for i in range(8)]
    assert [len(out) for out, _ in process_stream(config, docs, jobs=8)] == [4, 4]
    assert max(started) == 2
