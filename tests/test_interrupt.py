"""An interrupted run leaves valid JSONL, and `--resume` completes it without duplicates or losses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PLUGIN_DIR, ROOT, jsonl, tamis

N = 60


def write_input(path: Path) -> None:
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": f"Document {i}."}) + "\n" for i in range(N)))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_keeps_whole_records_and_resume_completes_it(tmp_path: Path, sig: int) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    args = ["run", str(source), "-o", str(out), "--jobs", "1", "--set", "pipeline=[decode, extract, slow]",
            "--set", "slow.seconds=0.1", "--set", "run.batch_size=2"]  # 6 s: time to interrupt it on a busy machine
    env = {"PYTHONPATH": str(PLUGIN_DIR)}
    # A shell's background job starts with SIGINT ignored, and Python then leaves it so: the run gets the
    # default disposition back, as from a terminal, whoever started the tests.
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    part = tmp_path / "out.jsonl.part"  # a new output is written beside its place, and moved there at the end
    while (not part.exists() or part.stat().st_size == 0) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    partial = out.read_text(encoding="utf-8")
    assert partial.endswith("\n")
    written = [json.loads(line) for line in partial.splitlines()]
    assert 0 < len(written) < N

    done = tamis(*args, "--resume", env=env)
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in jsonl(out)] == [f"d{i}" for i in range(N)]
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert (stats["documents"], stats["ok"], stats["stages"]["decode"]["in"]) == (N, N, N)


def test_resume_cuts_a_torn_last_line(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    assert tamis("run", str(source), "-o", str(out), "--jobs", "1").returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:25], encoding="utf-8")
    assert tamis("run", str(source), "-o", str(out), "--jobs", "1", "--resume").returncode == 0
    assert out.read_text(encoding="utf-8").splitlines(keepends=True) == lines


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fail_fast_stops_at_the_first_failure_and_keeps_the_records_before_it(tmp_path: Path, jobs: str) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps({"id": f"d{i}", "text": "FAIL" if i == 7 else f"Document {i}."}) + "\n"
                              for i in range(20)))
    done = tamis("run", str(source), "-o", str(out), "--fail-fast", "--jobs", jobs, "--set", "run.batch_size=2",
                 "--set", "pipeline=[decode, extract, failon]", env={"PYTHONPATH": str(PLUGIN_DIR)})
    assert done.returncode == 1
    assert done.stderr.decode() == ("tamis: stopped at the first failure (--fail-fast): d7 failed in failon: "
                                    "ValueError: found 'FAIL'\n")
    assert [r["id"] for r in jsonl(out)] == [f"d{i}" for i in range(7)]
    assert json.loads((tmp_path / "out.stats.json").read_text())["documents"] == 7


def test_fail_fast_stops_at_a_read_error(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"id": "a", "text": "Un."}\nnot json\n{"id": "c", "text": "Trois."}\n')
    done = tamis("run", str(source), "-o", str(out), "--fail-fast", "--jobs", "1")
    assert done.returncode == 1
    assert done.stderr.decode() == ("tamis: stopped at the first failure (--fail-fast): in.jsonl:2 failed in read: "
                                    "line 2: not valid JSON (Expecting value at column 1)\n")
    assert [r["id"] for r in jsonl(out)] == ["a"]


def test_fail_fast_stops_at_a_timeout_and_still_writes_the_stats(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    done = tamis("run", str(source), "-o", str(out), "--fail-fast", "--jobs", "2", "--set", "run.timeout=0.2",
                 "--set", "pipeline=[decode, extract, slow]", "--set", "slow.seconds=5",
                 env={"PYTHONPATH": str(PLUGIN_DIR)})
    assert done.returncode == 1
    assert done.stderr.decode() == ("tamis: stopped at the first failure (--fail-fast): d0 failed in slow: "
                                    "timed out after 0.2 s (run.timeout)\n")
    assert out.read_text() == ""
    assert json.loads((tmp_path / "out.stats.json").read_text())["documents"] == 0


def test_resume_refuses_an_output_made_from_standard_input(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert tamis("run", "-", "-o", str(out), "--jobs", "1", stdin=b'{"text": "Un."}\n').returncode == 0
    done = tamis("run", "-", "-o", str(out), "--jobs", "1", "--resume", stdin=b'{"text": "Un."}\n')
    assert done.returncode == 2
    assert done.stderr.decode() == ("tamis: --resume: - cannot be read again to check that it is unchanged "
                                    "(standard input or a pipe); run again without --resume\n")
