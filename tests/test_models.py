"""`tamis models`: install (refusing unsafe archives before writing anything), list, remove, download, in the
models directory the run uses; none of it needs argostranslate, and nothing here touches the network."""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.errors import SetupError, TamisError
from stages.translate import models
from tests import tinymodels


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tinymodels.build_package(tmp_path_factory.mktemp("build"), "de", "en", seed=2)


@pytest.fixture(autouse=True)
def no_argostranslate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Model management must work without argostranslate (an optional extra): make it unimportable."""
    for name in [m for m in sys.modules if m == "argostranslate" or m.startswith("argostranslate.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "argostranslate", None)  # type: ignore[arg-type]


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], list[tuple[str, bytes]]]) -> Path:
    """A copy of the archive `source` with each member replaced by what `change` returns for it."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            for new_name, data in change(name, zin.read(name)):
                zout.writestr(zipfile.ZipInfo(new_name), data)
    return target


def rename_top(top: str) -> Callable[[str, bytes], list[tuple[str, bytes]]]:
    return lambda name, data: [(top + name[name.index("/"):], data)]


def symlink(path: Path, target: Path) -> Path:
    """A copy of `path` with one more member: a symbolic link to /etc/passwd inside the package."""
    target.write_bytes(path.read_bytes())
    with zipfile.ZipFile(target, "a") as zf:
        info = zipfile.ZipInfo("translate-de_en-1_0/model/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return target


def corrupt(path: Path, target: Path) -> Path:
    """A copy of `path` with one byte of the model flipped: its CRC no longer matches."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("translate-de_en-1_0/model/model.bin")
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100
    data[offset] ^= 0xFF
    target.write_bytes(bytes(data))
    return target


def truncate(path: Path, target: Path) -> Path:
    target.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
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
    ("no-tokenizer", drop("sentencepiece.model"), "not a usable Argos package: no sentencepiece.model or bpe.model"),
    ("no-pair", metadata(to_code=None), "metadata.json does not describe a translation package"),
    ("code-path", metadata(from_code="../../x"), "refused: metadata.json from_code '../../x' is not a language code"),
    ("dot-top", rename_top("."), "refused: the top-level directory '.' is not a package name"),
    ("deep-metadata", lambda name, data: [(name, b"[" * 100_000 + b"]" * 100_000 if name.endswith("metadata.json")
                                           else data)], "metadata.json is not valid JSON: nested too deeply"),
]
DAMAGED = [("bad-crc", corrupt, "refused: member 'translate-de_en-1_0/model/model.bin' is corrupt (bad CRC)"),
           ("truncated", truncate, "not an Argos package (a .argosmodel file is a zip archive)"),
           ("symlink", symlink, "refused: member 'translate-de_en-1_0/model/link' is not a plain file or directory")]


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


@pytest.mark.parametrize(("damage", "message"), [r[1:] for r in DAMAGED], ids=[r[0] for r in DAMAGED])
def test_damaged_archives_are_refused_before_anything_is_written(
        archive: Path, tmp_path: Path, damage: Callable[[Path, Path], Path], message: str) -> None:
    bad = damage(archive, tmp_path / "bad.argosmodel")
    with pytest.raises(SetupError) as info:
        models.install(bad, directory=tmp_path / "deep" / "models")
    assert message in str(info.value)
    assert not (tmp_path / "deep").exists()


def test_an_interrupted_install_leaves_nothing_listed_and_a_good_reinstall_works(
        archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "models"
    real_extract = zipfile.ZipFile.extractall

    def full_disk(self: zipfile.ZipFile, path: object = None, *args: object, **kwargs: object) -> None:
        real_extract(self, path, members=self.namelist()[:2])  # type: ignore[arg-type]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", full_disk)
    with pytest.raises(TamisError, match="could not install into .*No space left on device"):
        models.install(archive, directory=root)
    assert list(root.iterdir()) == []
    assert models.list_models(root)[0].startswith("no translation models in")
    monkeypatch.setattr(zipfile.ZipFile, "extractall", real_extract)
    assert models.install(archive, directory=root) == f"installed de_en@1.0 in {root / 'translate-de_en-1_0'}"


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
    assert models.list_models(root) == [f"models directory: {root}",
                                        f"de_en@1.0        de → en  {root / 'translate-de_en-1_0'}"]
    assert [(m.code, m.version) for m in models.installed(root)] == [("de_en", "1.0")]
    with pytest.raises(TamisError, match="already installed .* `tamis models remove de_en` first"):
        models.install(archive, directory=root)
    assert models.remove("de_en", directory=root) == f"removed de_en@1.0 ({root / 'translate-de_en-1_0'})"
    assert list(root.iterdir()) == []
    with pytest.raises(TamisError, match=r"no model 'de_en' in .* \(installed: none\)"):
        models.remove("de_en", directory=root)


def test_the_directory_is_the_stages_then_argos_packages_dir_then_argos_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("ARGOS_PACKAGES_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "SNAP"):
        monkeypatch.delenv(name, raising=False)
    assert models.models_dir() == tmp_path / "home/.local/share/argos-translate/packages"
    settings = tmp_path / "home/.config/argos-translate/settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"ARGOS_PACKAGES_DIR": str(tmp_path / "from-settings")}))
    assert models.models_dir() == tmp_path / "from-settings"
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "from-env"))
    assert models.models_dir() == tmp_path / "from-env"
    assert models.models_dir(tmp_path / "mine") == tmp_path / "mine"


@pytest.mark.slow
def test_cli_models_use_the_configs_directory_or_models_dir(archive: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(tmp_path / "env"))
    config = tmp_path / "tamis.yaml"
    config.write_text(f"pipeline: [decode, extract, languages, translate]\n"
                      f"stages: {{translate: {{models_dir: {tmp_path / 'configured'}}}}}\n")
    assert cli.main(["models", "install", str(archive), "-c", str(config)]) == 0
    assert cli.main(["models", "-c", str(config), "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [f"models directory: {tmp_path / 'configured'}",
                       f"de_en@1.0        de → en  {tmp_path / 'configured' / 'translate-de_en-1_0'}"]
    assert cli.main(["models", "list", "--models-dir", str(tmp_path / "other")]) == 0
    assert capsys.readouterr().out.startswith(f"no translation models in {tmp_path / 'other'};")
    assert cli.main(["models", "list"]) == 0
    assert capsys.readouterr().out.startswith(f"no translation models in {tmp_path / 'env'};")
    assert cli.main(["models", "remove", "de_en", "-c", str(config)]) == 0
    assert os.listdir(tmp_path / "configured") == []


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
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", "http://127.0.0.1:9/")
    assert models.package_index() == "http://127.0.0.1:9/index.json"
    with pytest.raises(TamisError, match=r"cannot download http://127\.0\.0\.1:9/index\.json \(.*\)\. Without "
                                         r"internet, .* `tamis models install FILE\.argosmodel`"):
        models.download("de", "en", directory=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_download_installs_the_newest_listed_package(archive: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "index.json"
    old = {"from_code": "de", "to_code": "en", "package_version": "0.9", "links": ["file:///nonexistent"]}
    new = {**old, "package_version": "1.0", "links": ["file:///nonexistent", archive.as_uri()]}
    index.write_text(json.dumps([old, new]))
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", tmp_path.as_uri() + "/")
    root = tmp_path / "models"
    assert models.download("de", "en", directory=root) == f"installed de_en@1.0 in {root / 'translate-de_en-1_0'}"
    with pytest.raises(TamisError, match="has no de → fr package; tamis pivots through English"):
        models.download("de", "fr", directory=root)


@pytest.mark.slow
def test_cli_download_reads_a_local_index_without_argostranslate(archive: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    index = tmp_path / "index.json"
    index.write_text(json.dumps([{"from_code": "de", "to_code": "en", "package_version": "1.0",
                                  "links": [archive.as_uri()]}]))
    root = tmp_path / "models"
    assert cli.main(["models", "download", "de", "en", "--index", index.as_uri(), "--models-dir", str(root)]) == 0
    assert capsys.readouterr().out == f"installed de_en@1.0 in {root / 'translate-de_en-1_0'}\n"
    assert [m.label for m in models.installed(root)] == ["de_en@1.0"]
