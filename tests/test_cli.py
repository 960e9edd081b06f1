"""The command line: exit codes, validate, stages, explain, and a fast --help."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ARTICLES, FIXTURES, jsonl, tamis


def test_validate_reports_located_errors_and_exits_2() -> None:
    done = tamis("validate", "-c", "fixtures/configs/bad.yaml")
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert lines[0] == ("tamis: fixtures/configs/bad.yaml: stages.extractt: not in pipeline "
                        "(pipeline: decode, extract, nope)")
    assert "fixtures/configs/bad.yaml: run.jobs: expected a non-negative integer, got -1" in lines
    assert len(lines) == 7
    assert done.stdout == b""


def test_a_bad_config_processes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    done = tamis("run", str(ARTICLES), "-c", "fixtures/configs/bad.yaml", "-o", str(out))
    assert done.returncode == 2 and not out.exists()


def test_validate_ok() -> None:
    done = tamis("validate", "-c", "fixtures/configs/minimal.yaml")
    assert (done.returncode, done.stdout.decode()) == (0, "fixtures/configs/minimal.yaml: ok: decode → extract\n")


def test_run_writes_jsonl_and_stats(tmp_path: Path) -> None:
    out = tmp_path / "o" / "clean.jsonl"
    done = tamis("run", str(ARTICLES), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert [r["id"] for r in jsonl(out)] == sorted(p.name for p in ARTICLES.iterdir())
    stats = (out.parent / "clean.stats.json").read_text()
    assert '"documents": 5' in stats and '"decode": {' in stats
    assert done.stderr == b""  # no progress bar or summary when not on a terminal


def test_usage_error_exits_2() -> None:
    assert tamis("run").returncode == 2
    assert tamis("frobnicate").returncode == 2


def test_stages_lists_each_stage_with_options_and_defaults() -> None:
    done = tamis("stages", "decode")
    text = done.stdout.decode()
    assert done.returncode == 0
    assert text.splitlines()[0] == "decode  (stages.decode:Decode)"
    assert "    - fallback_encoding: str = 'cp1252'" in text


def test_explain_shows_each_document() -> None:
    done = tamis("explain", str(FIXTURES / "articles" / "002_508add9b65c0fc47.txt"))
    assert done.returncode == 0
    assert done.stdout.decode().startswith("== 002_508add9b65c0fc47.txt  [ok]")
