"""Outputs: one file per document for md/txt, no overwriting of inputs or of a good output, stats beside the
output, line-safe JSONL, and output faults that end with a message and whole lines."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ARTICLES, PLUGIN_DIR, ROOT, jsonl, tamis

FAST = ("--jobs", "1", "--set", "pipeline=[decode, extract]")


def write_jsonl(path: Path, records: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def md_files(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.iterdir()) if p.suffix == ".md"}


def test_md_output_writes_one_file_per_document_whatever_the_ids(tmp_path: Path) -> None:
    source = tmp_path / "in"
    (source / "a").mkdir(parents=True)
    (source / "a" / "index.txt").write_text("Slash.")
    (source / "a_index.txt").write_text("Underscore.")
    write_jsonl(source / "dump.jsonl", [{"text": "No id one."}, {"text": "No id two."},
                                        {"id": "same", "text": "First same."}, {"id": "same", "text": "Second same."},
                                        {"id": "SAME", "text": "Upper same."}])
    out = tmp_path / "md"
    done = tamis("run", str(source), "--format", "md", "-o", str(out), *FAST)
    assert done.returncode == 0, done.stderr
    files = md_files(out)
    assert sorted(files.values()) == sorted(f"{t}\n" for t in ("Slash.", "Underscore.", "No id one.", "No id two.",
                                                               "First same.", "Second same.", "Upper same."))
    index = jsonl(out / "index.jsonl")
    assert [r["id"] for r in index] == ["a/index.txt", "a_index.txt", "dump.jsonl:1", "dump.jsonl:2",
                                        "same", "same", "SAME"]
    assert {r["file"] for r in index} == set(files)
    assert index[0]["file"] == "a_index.md" and index[4]["file"] == "same.md"  # the first comes first
    again = tmp_path / "again"
    assert tamis("run", str(source), "--format", "md", "-o", str(again), *FAST).returncode == 0
    assert md_files(again) == files  # the names are stable


def test_md_output_to_a_file_name_writes_that_file(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("Un article.")
    out = tmp_path / "one.md"
    done = tamis("run", str(tmp_path / "page.txt"), "--format", "md", "-o", str(out), *FAST)
    assert done.returncode == 0, done.stderr
    assert out.is_file() and out.read_text(encoding="utf-8") == "Un article.\n"


def test_md_output_to_a_file_name_with_several_documents_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "one.md"
    done = tamis("run", str(ARTICLES), "--format", "md", "-o", str(out), *FAST)
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [
        f"tamis: {out} names one file, but the input holds more than one document: "
        "give a directory as --output to write one file per document"]
    assert not out.exists()


def test_an_output_that_is_an_input_is_refused_and_left_untouched(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    write_jsonl(source, [{"id": "a", "text": "Texte."}])
    before = source.read_bytes()
    done = tamis("run", str(source), "-o", str(source), *FAST)
    assert done.returncode == 2
    assert done.stderr.decode() == f"tamis: {source}: the output is one of the inputs; choose another --output\n"
    assert source.read_bytes() == before
    inside = tmp_path / "out.jsonl"
    done = tamis("run", str(tmp_path), "-o", str(inside), *FAST)
    assert done.returncode == 2
    assert done.stderr.decode() == (f"tamis: {inside}: the output is inside the input directory {tmp_path}; "
                                    "choose another --output\n")
    assert not inside.exists()


def test_a_setup_error_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text('{"id": "old"}\n')
    (tmp_path / "models").mkdir()
    done = tamis("run", str(ARTICLES), "-o", str(out), "--jobs", "1", "--set", "translate.on_missing=error",
                 "--set", f"translate.models_dir={tmp_path / 'models'}")
    assert done.returncode == 2, done.stderr
    assert out.read_text() == '{"id": "old"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models", "out.jsonl"]


def test_a_killed_run_leaves_the_previous_output_in_place(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(source, [{"id": f"d{i}", "text": f"Document {i}."} for i in range(40)])
    out.write_text('{"id": "old"}\n')
    args = ["run", str(source), "-o", str(out), "--jobs", "1", "--set", "pipeline=[decode, extract, slow]",
            "--set", "slow.seconds=0.05", "--set", "run.batch_size=2"]
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=ROOT, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(PLUGIN_DIR)})
    part = tmp_path / "out.jsonl.part"
    deadline = time.monotonic() + 60
    while (not part.exists() or part.stat().st_size == 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert out.read_text() == '{"id": "old"}\n'


def test_the_stats_file_is_named_after_the_output(tmp_path: Path) -> None:
    for name in ("a.jsonl", "b.jsonl"):
        assert tamis("run", str(ARTICLES), "-o", str(tmp_path / name), *FAST).returncode == 0
    assert json.loads((tmp_path / "a.stats.json").read_text())["documents"] == 5
    assert json.loads((tmp_path / "b.stats.json").read_text())["documents"] == 5
    assert not (tmp_path / "stats.json").exists()
    assert tamis("run", str(ARTICLES), "--format", "txt", "-o", str(tmp_path / "txt"), *FAST).returncode == 0
    assert json.loads((tmp_path / "txt" / "stats.json").read_text())["documents"] == 5


def test_no_stats_file_for_stdout_or_a_device_unless_asked(tmp_path: Path) -> None:
    from pipeline import sinks

    assert sinks.stats_path("-", None) is None
    assert sinks.stats_path(os.devnull, None) is None
    assert sinks.stats_path(os.devnull, "s.json") == "s.json"
    done = tamis("run", str(ARTICLES), "--stats", str(tmp_path / "s.json"), *FAST)
    assert done.returncode == 0 and len(jsonl(done.stdout)) == 5
    assert json.loads((tmp_path / "s.json").read_text())["documents"] == 5


def test_jsonl_escapes_the_line_separators_that_splitlines_honours(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes('{"id": "a\u2028b", "text": "x", "note": "p\u2029q\x85r"}\n'.encode())
    done = tamis("run", str(source), *FAST)
    assert done.returncode == 0
    text = done.stdout.decode("utf-8")
    assert len(text.splitlines()) == 1
    assert "\\u2028" in text and "\\u2029" in text and "\\u0085" in text
    [record] = [json.loads(line) for line in text.splitlines()]
    assert (record["id"], record["extra"]["note"]) == ("a\u2028b", "p\u2029q\x85r")


def test_disk_full_ends_with_a_message_whole_lines_and_resume_completes(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(source, [{"id": f"d{i}", "text": f"Document number {i}."} for i in range(200)])
    args = ["run", str(source), "-o", str(out), *FAST, "--set", "run.batch_size=10"]

    def small_disk() -> None:  # writes past 16 KB fail with EFBIG, as on a full disk (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))

    full = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True,
                          preexec_fn=small_disk, timeout=120, check=False)
    assert full.returncode == 3, full.stderr
    written = out.read_text(encoding="utf-8")
    kept = len(written.splitlines())
    assert written.endswith("\n") and 0 < kept < 200
    assert full.stderr.decode().splitlines() == [
        f"tamis: {out}: cannot write: File too large; it holds the first {kept} records, whole: "
        "make room and complete it with --resume"]
    assert [r["id"] for r in jsonl(written)] == [f"d{i}" for i in range(len(written.splitlines()))]
    done = tamis(*args, "--resume")
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in jsonl(out)] == [f"d{i}" for i in range(200)]


def test_dev_full_is_a_one_line_message() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    done = tamis("run", str(ARTICLES), "-o", "/dev/full", *FAST)
    assert done.returncode == 3
    assert done.stderr.decode().splitlines() == ["tamis: /dev/full: cannot write: No space left on device"]


@pytest.mark.parametrize("case", ["directory", "parent-is-a-file", "read-only"])
def test_an_unwritable_output_is_refused_before_any_document(tmp_path: Path, case: str) -> None:
    if case == "directory":
        out = tmp_path / "out.jsonl"
        out.mkdir()
        expected = f"tamis: {out}: is a directory; a JSONL output is a file (use --format md or txt for a directory)"
    elif case == "parent-is-a-file":
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "out.jsonl"
        expected = f"tamis: {out}: cannot create the output: {tmp_path / 'file'} is not a directory"
    else:
        if os.geteuid() == 0:
            pytest.skip("root ignores file permissions")
        (tmp_path / "ro").mkdir()
        (tmp_path / "ro").chmod(0o555)
        out = tmp_path / "ro" / "out.jsonl"
        expected = f"tamis: {out}: cannot create the output: Permission denied"
    done = tamis("run", str(ARTICLES), "-o", str(out), *FAST)
    assert (done.returncode, done.stderr.decode()) == (2, expected + "\n")


def test_a_broken_pipe_on_stdout_is_a_quiet_exit(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [{"id": f"d{i}", "text": f"Document {i}. " * 20} for i in range(3000)])
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(source), *FAST], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert err == b""


def test_parquet_output_has_the_jsonl_records_as_columns(tmp_path: Path) -> None:
    parquet = pytest.importorskip("pyarrow.parquet", reason="the parquet extra is not installed")
    out, reference = tmp_path / "out.parquet", tmp_path / "out.jsonl"
    args = ("run", str(ARTICLES), "--jobs", "2", "--set", "run.batch_size=2", "--set", "translate.on_missing=keep")
    assert tamis(*args, "-o", str(reference)).returncode == 0
    done = tamis(*args, "--format", "parquet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.stats.json").read_text())["documents"] == 5

    def without_nulls(value: object) -> object:  # a JSONL record leaves out None fields; a column holds null
        if isinstance(value, dict):
            return {k: without_nulls(v) for k, v in value.items() if v is not None}
        return [without_nulls(v) for v in value] if isinstance(value, list) else value

    rows = parquet.read_table(out).to_pylist()
    assert [without_nulls(r) for r in rows] == [without_nulls(r) for r in jsonl(reference)]
    assert parquet.read_schema(out).field("blocks").type.value_type.get_field_index("segments") >= 0


def test_parquet_output_cannot_be_resumed(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    done = tamis("run", str(ARTICLES), "--format", "parquet", "-o", str(out), "--resume", *FAST)
    assert done.returncode == 2
    assert done.stderr.decode() == (f"tamis: --resume: {out}: a Parquet output is written whole and cannot be "
                                    "resumed; run again without --resume\n")


def test_dev_stdout_redirected_to_a_file_is_written_as_a_stream(tmp_path: Path) -> None:
    target = tmp_path / "shell.jsonl"
    beside = [Path("/dev/stats.json"), Path("/dev/stdout.part"), Path("/dev/stdout.stats.json")]
    already = {p for p in beside if p.exists()}
    with target.open("wb") as stdout:
        done = subprocess.run([sys.executable, "-m", "pipeline", "run", str(ARTICLES), "-o", "/dev/stdout", *FAST],
                              cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert len(jsonl(target)) == 5
    assert {p for p in beside if p.exists()} == already


def test_a_new_run_into_a_directory_replaces_the_previous_runs_files(tmp_path: Path) -> None:
    out = tmp_path / "md"
    assert tamis("run", str(ARTICLES), "--format", "md", "-o", str(out), *FAST).returncode == 0
    (out / "mine.md").write_text("not tamis's")
    first = sorted(ARTICLES.iterdir())[0]
    assert tamis("run", str(first), "--format", "md", "-o", str(out), *FAST).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{first.stem}.md", "mine.md", "index.jsonl", "manifest.json", "stats.json"])
