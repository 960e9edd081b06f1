"""Offline translation models: Argos Translate packages, installed, listed, removed and downloaded.

A package (`.argosmodel`) is a zip of one directory holding `metadata.json`, a CTranslate2 model in
`model/` and a SentencePiece model, `sentencepiece.model`. Packages live in one directory: the `translate`
stage's `models_dir` if given, else argostranslate's own (`ARGOS_PACKAGES_DIR`, else its settings.json,
else `~/.local/share/argos-translate/packages`), so tamis and argostranslate share installed models.

Only `download` touches the network; the `translate` stage reads what is installed with `installed()`.
`install` checks an archive completely (member paths, size, layout, metadata) before anything is written,
then hands it to argostranslate's installer.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import SetupError, TamisError

MAX_UNPACKED_BYTES = 2 * 1024**3  # real packages unpack to 100–400 MB; anything far larger is not a model
NETWORK_TIMEOUT = 30.0
_ENV = "ARGOS_PACKAGES_DIR"
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True)
class Model:
    """An installed translation package. `code` is `<source>_<target>`, as Argos names its packages."""

    source: str
    target: str
    version: str
    path: Path
    target_prefix: str = ""

    @property
    def code(self) -> str:
        return f"{self.source}_{self.target}"

    @property
    def label(self) -> str:
        """Code and version, as recorded in each translation's provenance: `de_en@1.9`."""
        return f"{self.code}@{self.version}"


def models_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where packages are installed: `override`, else argostranslate's packages directory.

    `ARGOS_PACKAGES_DIR` is read here, on every call, because argostranslate reads it once when first
    imported."""
    if override is not None:
        return Path(override).expanduser()
    if os.environ.get(_ENV):
        return Path(os.environ[_ENV]).expanduser()
    return Path(_argos().settings.package_data_dir)


def installed(directory: str | os.PathLike[str] | None = None) -> list[Model]:
    """Translation packages installed in the models directory, by code then version."""
    root = models_dir(directory)
    if not root.is_dir():
        return []
    package = _argos().package
    found = []
    for path in sorted(root.iterdir()):
        if not (path / "metadata.json").is_file():
            continue
        pkg = package.Package(path)
        if pkg.type == "translate" and pkg.from_code and pkg.to_code:
            found.append(Model(source=pkg.from_code, target=pkg.to_code, version=pkg.package_version or "?",
                               path=path, target_prefix=pkg.target_prefix or ""))
    return sorted(found, key=lambda m: (m.code, m.version))


def install_hint(source: str, target: str) -> str:
    """The commands that provide a `source` → `target` model, direct or through English."""
    direct = f"`tamis models download {source} {target}`"
    if "en" in (source, target):
        return direct
    return f"{direct} (or, to pivot through English, `tamis models download {source} en` and " \
           f"`tamis models download en {target}`)"


def install(path: str | os.PathLike[str], *, directory: str | os.PathLike[str] | None = None,
            max_bytes: int = MAX_UNPACKED_BYTES) -> str:
    """Check the archive at `path`, then install it with argostranslate's installer."""
    root = models_dir(directory)
    top, metadata = _check_archive(Path(path), max_bytes)
    source, target = metadata["from_code"], metadata["to_code"]
    clash = [m for m in installed(root) if m.code == f"{source}_{target}"] if root.is_dir() else []
    if (root / top).exists() or clash:
        where = clash[0].path if clash else root / top
        raise TamisError(f"{path}: a {source}_{target} model is already installed at {where}; "
                         f"`tamis models remove {source}_{target}` first")
    root.mkdir(parents=True, exist_ok=True)
    argos = _argos()
    with _argos_packages_dir(argos.settings, root):
        argos.package.install_from_path(Path(path))
    return f"installed {source}_{target}@{metadata.get('package_version', '?')} in {root / top}"


def list_models(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """One line per installed package: code@version, languages, directory."""
    root = models_dir(directory)
    models = installed(root)
    if not models:
        return [f"no translation models in {root}; with internet: `tamis models download de fr`, "
                f"else `tamis models install FILE.argosmodel`"]
    return [f"{m.label:<16} {m.source} → {m.target}  {m.path}" for m in models]


def remove(code: str, *, directory: str | os.PathLike[str] | None = None) -> str:
    """Uninstall the package(s) named `code` (`de_en`) or by directory name."""
    root = models_dir(directory)
    models = installed(root)
    chosen = [m for m in models if code in (m.code, m.path.name)]
    if not chosen:
        have = ", ".join(m.code for m in models) or "none"
        raise TamisError(f"no model {code!r} in {root} (installed: {have})")
    package = _argos().package
    for model in chosen:
        package.uninstall(package.Package(model.path))
    return "removed " + ", ".join(f"{m.label} ({m.path})" for m in chosen)


def download(source: str, target: str, *, directory: str | os.PathLike[str] | None = None) -> str:
    """Fetch the newest `source` → `target` package listed in the Argos index, then `install` it."""
    url = _argos().settings.remote_package_index
    try:
        index = json.loads(_fetch(url, 50_000_000))
    except ValueError as exc:
        raise TamisError(f"the Argos package index at {url} is not valid JSON: {exc}") from None
    entries = [e for e in index if isinstance(e, dict) and e.get("type", "translate") == "translate"
               and e.get("from_code") == source and e.get("to_code") == target]
    if not entries:
        pivot = "" if "en" in (source, target) else \
            f"; tamis pivots through English: `tamis models download {source} en` and `... en {target}`"
        raise TamisError(f"the Argos index ({url}) has no {source} → {target} package{pivot}")
    entry = max(entries, key=lambda e: _version_key(str(e.get("package_version", ""))))
    links = [link for link in entry.get("links", []) if isinstance(link, str)]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / f"translate-{source}_{target}.argosmodel"
        problems = []
        for link in links:
            try:
                archive.write_bytes(_fetch(link, MAX_UNPACKED_BYTES))
                break
            except TamisError as exc:
                problems.append(str(exc))
        else:
            reasons = "; ".join(problems) or "the index lists no link"
            raise TamisError(f"could not download the {source} → {target} package: {reasons}")
        return install(archive, directory=directory)


def _argos() -> Any:
    """argostranslate's `package` and `settings` modules (cheap: no stanza, torch or spaCy)."""
    try:
        import argostranslate.package
        import argostranslate.settings
    except ImportError as exc:
        raise SetupError(f"translation models need argostranslate ({exc}): pip install 'tamis[translate]'") from None
    return argostranslate


@contextmanager
def _argos_packages_dir(settings: Any, root: Path) -> Iterator[None]:
    """argostranslate's installer extracts into `settings.package_data_dir`, which it reads at call time
    but fixes at import; point it at `root` for the call."""
    previous = settings.package_data_dir
    settings.package_data_dir = root
    try:
        yield
    finally:
        settings.package_data_dir = previous


def _check_archive(path: Path, max_bytes: int) -> tuple[str, dict[str, Any]]:
    """The archive's top-level directory and metadata, or `SetupError` saying why it is refused."""
    if not path.is_file():
        raise SetupError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise SetupError(f"{path}: not an Argos package (a .argosmodel file is a zip archive)")
    with zipfile.ZipFile(path) as zf:
        members = zf.infolist()
        for info in members:
            parts = re.split(r"[\\/]", info.filename)
            if info.filename.startswith(("/", "\\")) or _DRIVE.match(info.filename) or ".." in parts:
                raise SetupError(f"{path}: refused: member {info.filename!r} would be written outside the "
                                 f"models directory")
        tops = sorted({re.split(r"[\\/]", info.filename)[0] for info in members})
        if len(tops) != 1 or not tops[0]:
            raise SetupError(f"{path}: refused: an Argos package holds one top-level directory, found {tops[:5]}")
        unpacked = sum(info.file_size for info in members)
        if unpacked > max_bytes:
            raise SetupError(f"{path}: refused: unpacks to {unpacked:,} bytes, over the {max_bytes:,}-byte limit")
        top = tops[0]
        names = {info.filename for info in members}
        for need in ("metadata.json", "model/model.bin", "sentencepiece.model"):
            if f"{top}/{need}" not in names:
                raise SetupError(f"{path}: not a usable Argos package: no {need} (tamis needs a CTranslate2 "
                                 f"model and a SentencePiece tokenizer)")
        try:
            metadata = json.loads(zf.read(f"{top}/metadata.json"))
        except ValueError as exc:
            raise SetupError(f"{path}: metadata.json is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("type", "translate") != "translate" or not all(
            isinstance(metadata.get(k), str) and metadata[k] for k in ("from_code", "to_code")):
        raise SetupError(f"{path}: metadata.json does not describe a translation package (from_code, to_code)")
    return top, metadata


def _fetch(url: str, limit: int) -> bytes:
    """The body at `url`, failing at once and clearly when the network is out of reach."""
    request = urllib.request.Request(url, headers={"User-Agent": "tamis"})
    try:
        with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:
            data: bytes = response.read(limit + 1)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TamisError(f"cannot download {url} ({reason}). Without internet, fetch the .argosmodel file on a "
                         f"connected machine and run `tamis models install FILE.argosmodel`") from None
    if len(data) > limit:
        raise TamisError(f"{url}: larger than {limit:,} bytes; refused")
    return data


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))
