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
            "--set", "slow.seconds=0.05", "--set", "run.batch_size=2"]
    env = {"PYTHONPATH": str(PLUGIN_DIR)}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
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


def test_resume_cuts_a_torn_last_line(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_input(source)
    assert tamis("run", str(source), "-o", str(out), "--jobs", "1").returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:10]) + lines[10][:25], encoding="utf-8")
    assert tamis("run", str(source), "-o", str(out), "--jobs", "1", "--resume").returncode == 0
    assert out.read_text(encoding="utf-8").splitlines(keepends=True) == lines
