"""The registry: built-in and third-party stages alike through the `tamis.stages` entry-point group, and
detectors through `tamis.detectors`; the core (`pipeline/`) knows no stage."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import distribution
from pathlib import Path

import pytest

from pipeline import Document, Stage, config, registry
from pipeline.errors import RegistryError
from stages import detectors
from tests.conftest import FIXTURES, ROOT, jsonl, tamis


def _tamis_entry_points(group: str) -> dict[str, str]:
    return {ep.name: ep.value for ep in distribution("tamis").entry_points if ep.group == group}


def test_builtin_stages_are_entry_points_of_tamis_named_as_their_module() -> None:
    builtin = _tamis_entry_points("tamis.stages")
    assert sorted(builtin) == sorted(config.default_pipeline())
    for name, target in builtin.items():
        module, _, _ = target.partition(":")
        assert module in (f"stages.{name}", f"stages.{name}.stage")  # a module, or a package's stage module
        assert registry.get(name).name == name
        assert registry.available()[name] == target


def test_the_default_pipeline_is_written_in_one_place() -> None:
    """Only pipeline/defaults.yaml lists the stages in order; no Python module holds a second list."""
    order = ", ".join(config.default_pipeline())
    holders = [str(path.relative_to(ROOT)) for path in [*ROOT.glob("pipeline/*"), *ROOT.glob("stages/*.py")]
               if path.is_file() and order in path.read_text(encoding="utf-8", errors="replace")]
    assert holders == ["pipeline/defaults.yaml"]


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(RegistryError, match=r"unknown stage 'nope'; available: boilerplate, decode, "):
        registry.get("nope")


def test_the_core_imports_nothing_from_stages() -> None:
    """No module under pipeline/ imports `stages` (at the top or inside a function)."""
    offenders = []
    for path in sorted((ROOT / "pipeline").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}:{node.lineno} {n}" for n in names if n == "stages" or n.startswith("stages.")]
    assert offenders == []


def test_importing_the_cli_imports_no_heavy_library() -> None:
    code = ("import sys, pipeline.cli, pipeline.registry; pipeline.registry.available(); "
            "heavy = {'trafilatura', 'ftfy', 'langdetect', 'py3langid', 'ctranslate2', 'torch', 'ray', 'regex', "
            "'argostranslate', 'sentencepiece', 'numpy', 'stages'}; print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


@dataclass(frozen=True, kw_only=True)
class _EchoConfig:
    word: str = "x"


def test_a_stage_states_its_config_type_once() -> None:
    """`Stage[EchoConfig]` is the whole declaration: `Config` is derived from the generic argument."""

    class Echo(Stage[_EchoConfig]):
        name = "echo"

        def process(self, doc: Document) -> Document:
            return doc

    assert Echo.Config is _EchoConfig
    for name in config.default_pipeline():
        cls = registry.get(name)
        body = ast.parse(inspect.getsource(cls)).body[0]
        assert isinstance(body, ast.ClassDef)
        assert not [n for n in body.body if isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "Config" for t in n.targets)], name
        assert cls.Config.__name__ == f"{name.capitalize()}Config"


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


def _evil(tmp_path: Path, group: str, line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dist = tmp_path / "evil-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\n{line}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.available.cache_clear()
    detectors.available.cache_clear()


def test_a_plugin_cannot_take_a_builtin_name(plugin_path: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _evil(tmp_path, "tamis.stages", "decode = evil:Decode", monkeypatch)
    twice = ("stage name 'decode' is registered twice: evil:Decode (distribution evil) and stages.decode:Decode "
             "(distribution tamis), in entry-point group 'tamis.stages'")
    with pytest.raises(RegistryError, match=f"^{twice}$".replace("(", r"\(").replace(")", r"\)")):
        registry.available()


def test_detectors_are_registered_like_stages(plugin_path: Path) -> None:
    detectors.available.cache_clear()
    try:
        assert _tamis_entry_points("tamis.detectors") == {
            "py3langid": "stages.langid_batch:Py3langid", "langdetect": "stages.detectors:Langdetect",
            "lingua": "stages.detectors:Lingua"}
        assert sorted(detectors.DETECTORS) == ["constant", "langdetect", "lingua", "py3langid"]
        loaded = config.load(None, ["languages.detector=constant"])
        stage = next(s for s in loaded.stages if s.instance == "languages")
        assert stage.config.detector == "constant"
        assert detectors.DETECTORS["constant"](("fr", "de")).detect("Guten Tag").lang == "fr"
    finally:
        detectors.available.cache_clear()


def test_an_unknown_detector_is_a_config_error() -> None:
    with pytest.raises(config.ConfigError) as caught:
        config.load(None, ["languages.detector=nope"])
    assert caught.value.problems == ["stages.languages.detector: expected one of the registered detectors (tamis "
                                     "registers py3langid, langdetect, lingua), got 'nope'"]


def test_tamis_help_imports_no_more_than_the_cli_needs() -> None:
    """`tamis --help` is the first thing a user runs, and every worker imports `pipeline`: importing the
    package must not import its config loader, runner, readers and sinks (YAML, hashlib, email ...) before
    a command asks for them."""
    code = ("import sys\nfrom pipeline import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m in {'yaml', 'pipeline.config', 'pipeline.runner', "
            "'pipeline.readers', 'pipeline.sinks', 'pipeline.document'}), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stderr.strip() == "[]"


def test_every_public_name_of_the_package_is_its_module_s_object() -> None:
    """The package imports its names when first used: each one of `__all__` must still be found, and be
    the very object of the module that defines it."""
    import importlib

    import pipeline

    found = {name: getattr(pipeline, name) for name in pipeline.__all__}
    homes = {name: getattr(importlib.import_module(module), attribute)
             for name, (module, attribute) in pipeline._EXPORTS.items()}
    assert sorted(pipeline.__all__) == sorted(homes) and all(found[n] is homes[n] for n in found)
    assert found["load_config"] is importlib.import_module("pipeline.config").load
