"""The registry: built-ins by name, third-party stages through the `tamis.stages` entry point group."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import config, registry
from pipeline.errors import RegistryError
from stages import BUILTIN
from tests.conftest import FIXTURES, ROOT, jsonl, tamis


def test_builtin_names_are_module_stems_and_class_names() -> None:
    for name, target in BUILTIN.items():
        module, _, _ = target.partition(":")
        assert module == f"stages.{name}"
        assert registry.get(name).name == name


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(RegistryError, match=r"unknown stage 'nope'; available: boilerplate, decode, "):
        registry.get("nope")


def test_importing_the_cli_imports_no_heavy_library() -> None:
    code = ("import sys, pipeline.cli, pipeline.registry; pipeline.registry.available(); "
            "heavy = {'trafilatura', 'ftfy', 'langdetect', 'py3langid', 'ctranslate2', 'torch', 'ray', 'regex', "
            "'argostranslate', 'sentencepiece', 'numpy'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_plugin_stage_runs_from_yaml(plugin_path: Path) -> None:
    loaded = config.load(FIXTURES / "configs" / "plugin.yaml")
    assert [(s.instance, s.stage) for s in loaded.stages][-1] == ("guard", "failon")
    assert loaded.stages[-1].config.marker == "Belgique"


def test_plugin_through_the_cli_isolates_its_error(plugin_path: Path, tmp_path: Path) -> None:
    """One document of three makes the plugin raise: three records, exactly one `error`, exit code 1."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("000_78e9fdaecc2f2e94.txt", "001_d65a453aca90a03a.txt", "002_508add9b65c0fc47.txt"):
        (inputs / name).write_bytes((FIXTURES / "articles" / name).read_bytes())
    done = tamis("run", str(inputs), "-c", str(FIXTURES / "configs" / "plugin.yaml"), "--jobs", "1",
                 env={"PYTHONPATH": str(plugin_path)})
    records = jsonl(done.stdout)
    assert done.returncode == 1, done.stderr
    assert [(r["id"], r["status"]) for r in records] == [
        ("000_78e9fdaecc2f2e94.txt", "ok"), ("001_d65a453aca90a03a.txt", "error"), ("002_508add9b65c0fc47.txt", "ok")]
    assert records[1]["stage"] == "guard" and records[1]["reason"] == "ValueError: found 'Belgique'"
    assert records[0]["extra"] == {"failon": "passed"}


def test_a_plugin_cannot_take_a_builtin_name(plugin_path: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "evil-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tamis.stages]\ndecode = evil:Decode\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.available.cache_clear()
    twice = "stage name 'decode' is registered twice: stages.decode:Decode and evil:Decode"
    with pytest.raises(RegistryError, match=twice):
        registry.available()
