"""`--resume` continues exactly what a run was doing, or refuses and says what changed."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from pipeline import sinks
from tests.conftest import ARTICLES, tamis

FAST = ("--jobs", "1", "--set", "pipeline=[decode, extract]")


def write_texts(folder: Path, names: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(f"Texte {name}.")


def test_resume_without_an_output_is_an_error() -> None:
    done = tamis("run", str(ARTICLES), "--resume", *FAST)
    assert done.returncode == 2
    assert done.stderr.decode() == "tamis: --resume completes an output file: give it with -o\n"
    assert done.stdout == b""


@pytest.mark.parametrize(("change", "message"), [
    ("add", "0.txt was added"),
    ("modify", "b.txt changed (size or modification time)"),
    ("remove", "c.txt was removed"),
    ("config", "the configuration changed (stages, their options, run.format, run.glob or run.max_bytes)"),
])
def test_resume_refuses_when_the_inputs_or_the_config_changed(tmp_path: Path, change: str, message: str) -> None:
    source, out = tmp_path / "in", tmp_path / "out.jsonl"
    write_texts(source, ["a.txt", "b.txt", "c.txt"])
    assert tamis("run", str(source), "-o", str(out), *FAST).returncode == 0
    before = out.read_bytes()
    args = [*FAST]
    if change == "add":
        (source / "0.txt").write_text("Nouveau.")
    elif change == "modify":
        (source / "b.txt").write_text("Texte b, plus long.")
    elif change == "remove":
        (source / "c.txt").unlink()
    else:
        args = ["--jobs", "1", "--set", "pipeline=[decode, extract, repair]"]
    done = tamis("run", str(source), "-o", str(out), "--resume", *args)
    assert done.returncode == 2
    assert done.stderr.decode() == (f"tamis: --resume: {out} was written from other inputs or another config: "
                                    f"{message}; run again without --resume\n")
    assert out.read_bytes() == before


def test_resume_of_a_complete_output_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    assert tamis("run", str(ARTICLES), "-o", str(out), *FAST).returncode == 0
    before = out.read_bytes()
    assert tamis("run", str(ARTICLES), "-o", str(out), "--resume", *FAST).returncode == 0
    assert out.read_bytes() == before
    assert json.loads((tmp_path / "out.stats.json").read_text())["documents"] == 5


def test_resume_completes_a_directory_output(tmp_path: Path) -> None:
    full, cut = tmp_path / "full", tmp_path / "cut"
    for out in (full, cut):
        assert tamis("run", str(ARTICLES), "--format", "md", "-o", str(out), *FAST).returncode == 0
    index = (cut / "index.jsonl").read_text().splitlines(keepends=True)
    (cut / "index.jsonl").write_text("".join(index[:2]) + index[2][:10])  # torn, as after a crash
    for record in map(json.loads, index[2:]):
        (cut / record["file"]).unlink()
    done = tamis("run", str(ARTICLES), "--format", "md", "-o", str(cut), "--resume", *FAST)
    assert done.returncode == 0, done.stderr
    assert {p.name: p.read_bytes() for p in cut.iterdir() if p.suffix == ".md"} == \
        {p.name: p.read_bytes() for p in full.iterdir() if p.suffix == ".md"}
    assert (cut / "index.jsonl").read_bytes() == (full / "index.jsonl").read_bytes()
    assert json.loads((cut / "stats.json").read_text())["documents"] == 5


@pytest.mark.parametrize(("bad", "problem"), [("\n", "is blank"), ('{"id": "x", "stat\n', "is not a tamis record")])
def test_resume_names_a_blank_or_corrupt_line_in_the_middle(tmp_path: Path, bad: str, problem: str) -> None:
    out = tmp_path / "out.jsonl"
    assert tamis("run", str(ARTICLES), "-o", str(out), *FAST).returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(lines[:2]) + bad + "".join(lines[2:3]), encoding="utf-8")
    done = tamis("run", str(ARTICLES), "-o", str(out), "--resume", *FAST)
    assert done.returncode == 2
    assert done.stderr.decode() == f"tamis: --resume: {out}: line 3 {problem}; run again without --resume\n"


def test_a_torn_last_line_is_cut_without_reading_the_file_into_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = b'{"id": "x", "source": "s", "status": "ok"}\n'
    path.write_bytes(line * 500_000 + b'{"id": "torn", "sou')
    tracemalloc.start()
    sinks.cut_torn_line(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert path.stat().st_size == len(line) * 500_000
    assert peak < 1_000_000


def test_a_file_name_that_is_not_utf8_is_written_and_resumed(tmp_path: Path) -> None:
    source, out = tmp_path / "in", tmp_path / "out.jsonl"
    source.mkdir()
    (source / "a.txt").write_text("Texte a.")
    with open(bytes(source) + b"/\xff.txt", "wb") as stream:
        stream.write(b"Texte ff.")
    assert tamis("run", str(source), "-o", str(out), *FAST).returncode == 0
    before = out.read_bytes()
    before.decode("utf-8")  # valid UTF-8: the name's stray byte is an escape
    assert len(before.splitlines()) == 2
    done = tamis("run", str(source), "-o", str(out), "--resume", *FAST)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == before
