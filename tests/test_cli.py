"""The command line: exit codes, validate, stages, explain, and a fast --help."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import cli
from tests.conftest import ARTICLES, FIXTURES, jsonl, tamis


def test_validate_reports_located_errors_and_exits_2() -> None:
    done = tamis("validate", "-c", "fixtures/configs/bad.yaml")
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert lines[0] == ("tamis: fixtures/configs/bad.yaml: stages.extractt: not in pipeline "
                        "(pipeline: decode, extract, nope)")
    assert "fixtures/configs/bad.yaml: run.jobs: expected an integer from 0 to 1024, got -1" in lines
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


def test_explain_shows_each_document() -> None:
    done = tamis("explain", str(FIXTURES / "articles" / "002_508add9b65c0fc47.txt"))
    assert done.returncode == 0
    assert done.stdout.decode().startswith("== 002_508add9b65c0fc47.txt  [ok]")


def test_no_config_is_read_unless_asked(tmp_path: Path) -> None:
    """An unrelated config.yaml in the working directory is not tamis's: only `-c` reads a config."""
    (tmp_path / "config.yaml").write_text("database: {host: localhost}\npipeline: [nope]\n")
    article = ARTICLES / "002_508add9b65c0fc47.txt"
    done = tamis("validate", cwd=tmp_path)
    assert (done.returncode, done.stdout.decode(), done.stderr) == (
        0, "<defaults>: ok: decode → extract → repair → boilerplate → normalise → dedupe → languages → translate\n",
        b"")
    done = tamis("run", str(article), "--jobs", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r["status"] for r in jsonl(done.stdout)] == ["ok"]


def test_validate_sets_the_stages_up_as_run_would(tmp_path: Path) -> None:
    """What `run` would stop on before the first document, `validate` reports: exit 2, one line each."""
    done = tamis("validate", "--set", "languages.detector=lingua", "--set", "languages.languages=[fr, xx]",
                 "--set", "translate.on_missing=error", "--set", f"translate.models_dir={tmp_path}")
    lines = done.stderr.decode().splitlines()
    assert (done.returncode, done.stdout) == (2, b"")
    assert lines[0] == ("tamis: <defaults>: stages.languages: detector 'lingua' needs the lingua extra: "
                        "pip install 'tamis[lingua]'")
    assert lines[1].startswith("<defaults>: stages.translate: ") and len(lines) == 2
    assert "no model" in lines[1]
    done = tamis("validate", "--set", "languages.languages=[fr, xx]")
    assert (done.returncode, done.stderr.decode()) == (
        2, "tamis: <defaults>: stages.languages: py3langid does not know language(s) xx\n")


def test_every_positional_argument_has_help() -> None:
    undocumented = []
    pending = [("tamis", cli._parser())]
    while pending:
        name, parser = pending.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending += [(f"{name} {sub}", p) for sub, p in action.choices.items()]
            elif not action.option_strings and not action.help:
                undocumented.append(f"{name} {action.dest}")
    assert undocumented == []
