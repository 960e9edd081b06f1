"""`tamis models`: install (refusing unsafe archives before writing anything), list, remove, download."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import cli, models
from pipeline.errors import SetupError, TamisError
from tests import tinymodels


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tinymodels.build_package(tmp_path_factory.mktemp("build"), "de", "en", seed=2)


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], list[tuple[str, bytes]]]) -> Path:
    """A copy of the archive `source` with each member replaced by what `change` returns for it."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            for new_name, data in change(name, zin.read(name)):
                zout.writestr(zipfile.ZipInfo(new_name), data)
    return target


def add(member: str) -> Callable[[str, bytes], list[tuple[str, bytes]]]:
    return lambda name, data: [(name, data)] + ([(member, b"x")] if name.endswith("metadata.json") else [])


def drop(suffix: str) -> Callable[[str, bytes], list[tuple[str, bytes]]]:
    return lambda name, data: [] if name.endswith(suffix) else [(name, data)]


def metadata(**fields: object) -> Callable[[str, bytes], list[tuple[str, bytes]]]:
    def change(name: str, data: bytes) -> list[tuple[str, bytes]]:
        if name.endswith("metadata.json"):
            data = json.dumps({k: v for k, v in {**json.loads(data), **fields}.items() if v is not None}).encode()
        return [(name, data)]
    return change


REFUSED = [
    ("parent", add("translate-de_en-1_0/../../evil.txt"), "refused: member 'translate-de_en-1_0/../../evil.txt' "
                                                          "would be written outside the models directory"),
    ("absolute", add("/tmp/evil.txt"), "refused: member '/tmp/evil.txt' would be written outside"),
    ("two-tops", add("other/evil.txt"), "refused: an Argos package holds one top-level directory"),
    ("no-tokenizer", drop("sentencepiece.model"), "not a usable Argos package: no sentencepiece.model"),
    ("no-pair", metadata(to_code=None), "metadata.json does not describe a translation package"),
]


@pytest.mark.parametrize(("change", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_unsafe_or_unusable_archives_are_refused_before_anything_is_written(
        archive: Path, tmp_path: Path, change: Callable[[str, bytes], list[tuple[str, bytes]]], message: str) -> None:
    bad = rewrite(archive, tmp_path / "bad.argosmodel", change)
    target = tmp_path / "deep" / "models"
    with pytest.raises(SetupError) as info:
        models.install(bad, directory=target)
    assert message in str(info.value)
    assert not (tmp_path / "deep").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.argosmodel"]


def test_archives_over_the_size_limit_are_refused(archive: Path, tmp_path: Path) -> None:
    size = sum(i.file_size for i in zipfile.ZipFile(archive).infolist())
    with pytest.raises(SetupError, match=f"unpacks to {size:,} bytes, over the {size - 1:,}-byte limit"):
        models.install(archive, directory=tmp_path / "models", max_bytes=size - 1)
    assert not (tmp_path / "models").exists()


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.argosmodel").write_text("not a zip")
    with pytest.raises(SetupError, match="not an Argos package"):
        models.install(tmp_path / "x.argosmodel", directory=tmp_path / "models")


@pytest.mark.slow
def test_install_list_remove(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "models"
    assert models.install(archive, directory=root) == f"installed de_en@1.0 in {root / 'translate-de_en-1_0'}"
    assert models.list_models(root) == [f"de_en@1.0        de → en  {root / 'translate-de_en-1_0'}"]
    assert [(m.code, m.version) for m in models.installed(root)] == [("de_en", "1.0")]
    with pytest.raises(TamisError, match="already installed .* `tamis models remove de_en` first"):
        models.install(archive, directory=root)
    assert models.remove("de_en", directory=root) == f"removed de_en@1.0 ({root / 'translate-de_en-1_0'})"
    assert list(root.iterdir()) == []
    with pytest.raises(TamisError, match=r"no model 'de_en' in .* \(installed: none\)"):
        models.remove("de_en", directory=root)


def test_the_argos_environment_variable_chooses_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path))
    assert models.models_dir() == tmp_path
    assert models.models_dir(tmp_path / "mine") == tmp_path / "mine"
    assert cli.main(["models", "list"]) == 0
    assert capsys.readouterr().out.startswith(f"no translation models in {tmp_path};")


def test_cli_reports_a_refused_archive_with_exit_code_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "models"))
    assert cli.main(["models", "install", str(tmp_path / "missing.argosmodel")]) == 2
    assert capsys.readouterr().err == f"tamis: {tmp_path / 'missing.argosmodel'}: no such file\n"


def test_download_fails_at_once_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argostranslate.settings

    monkeypatch.setattr(argostranslate.settings, "remote_package_index", "http://127.0.0.1:9/index.json")
    with pytest.raises(TamisError, match=r"cannot download http://127\.0\.0\.1:9/index\.json \(.*\)\. Without "
                                         r"internet, .* `tamis models install FILE\.argosmodel`"):
        models.download("de", "en", directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_download_installs_the_newest_listed_package(archive: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import argostranslate.settings

    index = tmp_path / "index.json"
    old = {"from_code": "de", "to_code": "en", "package_version": "0.9", "links": ["file:///nonexistent"]}
    new = {**old, "package_version": "1.0", "links": ["file:///nonexistent", archive.as_uri()]}
    index.write_text(json.dumps([old, new]))
    monkeypatch.setattr(argostranslate.settings, "remote_package_index", index.as_uri())
    root = tmp_path / "models"
    assert models.download("de", "en", directory=root) == f"installed de_en@1.0 in {root / 'translate-de_en-1_0'}"
    with pytest.raises(TamisError, match="has no de → fr package; tamis pivots through English"):
        models.download("de", "fr", directory=root)
