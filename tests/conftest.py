"""Shared test helpers: paths, and a way to run the CLI in-process or as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ARTICLES = FIXTURES / "articles"
PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"


def tamis(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
          cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    """`tamis ARGS` as a real process (`python -m pipeline`), as a user would run it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "pipeline", *args], input=stdin, capture_output=True,
                          env=full_env, cwd=cwd, timeout=timeout, check=False)


def jsonl(data: bytes | str | Path) -> list[dict[str, Any]]:
    text = data.read_text(encoding="utf-8") if isinstance(data, Path) else data
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def plugin_path(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the test plugin distribution (a real dist-info with a `tamis.stages` entry point) on the path."""
    from pipeline import registry

    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    registry.available.cache_clear()
    yield PLUGIN_DIR
    registry.available.cache_clear()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite fixtures/golden/ from the current output (review the diff before committing)")
