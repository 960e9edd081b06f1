"""Offline translation models: Argos Translate packages, installed, listed, removed and downloaded.

A package (`.argosmodel`) is a zip of one directory holding `metadata.json`, a CTranslate2 model in
`model/` and a tokenizer: `sentencepiece.model`, or `bpe.model` (subword-nmt codes, applied after Moses
tokenisation). Packages live in one directory, resolved as the `translate` stage resolves it: its
`models_dir` if given, else `ARGOS_PACKAGES_DIR` (the environment, then Argos's `settings.json`), else
Argos's default `$XDG_DATA_HOME/argos-translate/packages`, so tamis and argostranslate share installed models.

argostranslate is not needed: tamis reads `metadata.json` itself, installs by a checked zip extraction and
reads the Argos package index (a JSON list) itself. Only `download` touches the network. `install` checks
the whole archive (member paths and types, CRCs, size, layout, metadata, language codes) before anything
is written, extracts into a temporary directory beside the target, and renames it into place when complete:
no half-installed package is ever listed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import SetupError, TamisError

MAX_UNPACKED_BYTES = 2 * 1024**3  # real packages unpack to 100–400 MB; anything far larger is not a model
MAX_METADATA_BYTES = 1_000_000
NETWORK_TIMEOUT = 30.0
ARGOS_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
TOKENIZERS = ("sentencepiece.model", "bpe.model")  # in Argos's order of preference
_DIR_ENV, _INDEX_ENV = "ARGOS_PACKAGES_DIR", "ARGOS_PACKAGE_INDEX"
_DRIVE = re.compile(r"[A-Za-z]:")
# Argos codes: ISO 639-1/2/3, optionally a region or script ("pt_BR", "zh-Hant"). Nothing else reaches a path.
_CODE = re.compile(r"[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8})?")
_TOP = re.compile(r"[\w][\w.+-]*")


@dataclass(frozen=True)
class Model:
    """An installed translation package. `code` is `<source>_<target>`, as Argos names its packages;
    `tokenizer` is the file the package tokenises with (`sentencepiece.model` or `bpe.model`)."""

    source: str
    target: str
    version: str
    path: Path
    target_prefix: str = ""
    tokenizer: str = "sentencepiece.model"

    @property
    def code(self) -> str:
        return f"{self.source}_{self.target}"

    @property
    def label(self) -> str:
        """Code and version, as recorded in each translation's provenance: `de_en@1.9`."""
        return f"{self.code}@{self.version}"


def models_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where packages are installed: `override` (the stage's `models_dir`), else `ARGOS_PACKAGES_DIR`
    from the environment or Argos's `settings.json`, else Argos's default directory. Read on every call,
    because argostranslate reads it once, when first imported."""
    if override is not None:
        return Path(override).expanduser()
    configured = _argos_setting(_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return _argos_home("XDG_DATA_HOME", Path(".local") / "share") / "packages"


def installed(directory: str | os.PathLike[str] | None = None) -> list[Model]:
    """Translation packages installed in the models directory, by code then version. A directory whose
    metadata cannot be read, or that has no model or tokenizer, is not a package and is not listed."""
    root = models_dir(directory)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or not (path / "metadata.json").is_file():
            continue  # dot names: install's temporary directories
        try:
            metadata = _metadata(path / "metadata.json", (path / "metadata.json").read_bytes())
        except (SetupError, OSError):
            continue
        tokenizer = next((t for t in TOKENIZERS if (path / t).is_file()), None)
        if tokenizer is None or not (path / "model" / "model.bin").is_file():
            continue
        found.append(Model(source=metadata["from_code"], target=metadata["to_code"],
                           version=str(metadata.get("package_version") or "?"), path=path,
                           target_prefix=str(metadata.get("target_prefix") or ""), tokenizer=tokenizer))
    return sorted(found, key=lambda m: (m.code, _version_key(m.version)))


def install_hint(source: str, target: str) -> str:
    """The commands that provide a `source` → `target` model, direct or through English."""
    direct = f"`tamis models download {source} {target}`"
    if "en" in (source, target):
        return direct
    return f"{direct} (or, to pivot through English, `tamis models download {source} en` and " \
           f"`tamis models download en {target}`)"


def install(path: str | os.PathLike[str], *, directory: str | os.PathLike[str] | None = None,
            max_bytes: int = MAX_UNPACKED_BYTES) -> str:
    """Check the archive at `path` completely, extract it beside its place and move it there whole."""
    root = models_dir(directory)
    top, metadata = _check_archive(Path(path), max_bytes)
    source, target = metadata["from_code"], metadata["to_code"]
    clash = [m for m in installed(root) if m.code == f"{source}_{target}"]
    if (root / top).exists() or clash:
        where = clash[0].path if clash else root / top
        raise TamisError(f"{path}: a {source}_{target} model is already installed at {where}; "
                         f"`tamis models remove {source}_{target}` first")
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".installing-", dir=root))  # same file system: the rename is atomic
    try:
        with zipfile.ZipFile(path) as zf:
            zf.extractall(work)
        os.rename(work / top, root / top)
    except OSError as exc:
        raise TamisError(f"{path}: could not install into {root}: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return f"installed {source}_{target}@{metadata.get('package_version', '?')} in {root / top}"


def list_models(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """The models directory, then one line per installed package: code@version, languages, directory."""
    root = models_dir(directory)
    models = installed(root)
    if not models:
        return [f"no translation models in {root}; with internet: `tamis models download de fr`, "
                f"else `tamis models install FILE.argosmodel`"]
    return [f"models directory: {root}"] + [f"{m.label:<16} {m.source} → {m.target}  {m.path}" for m in models]


def remove(code: str, *, directory: str | os.PathLike[str] | None = None) -> str:
    """Uninstall the package(s) named `code` (`de_en`) or by directory name."""
    root = models_dir(directory)
    models = installed(root)
    chosen = [m for m in models if code in (m.code, m.path.name)]
    if not chosen:
        have = ", ".join(m.code for m in models) or "none"
        raise TamisError(f"no model {code!r} in {root} (installed: {have})")
    for model in chosen:
        shutil.rmtree(model.path)
    return "removed " + ", ".join(f"{m.label} ({m.path})" for m in chosen)


def package_index() -> str:
    """The Argos package index's URL: `ARGOS_PACKAGE_INDEX` (environment, then Argos's settings.json)
    + `index.json`, as argostranslate builds it."""
    return str(_argos_setting(_INDEX_ENV) or ARGOS_INDEX) + "index.json"


def download(source: str, target: str, *, directory: str | os.PathLike[str] | None = None,
             index: str | None = None) -> str:
    """Fetch the newest `source` → `target` package listed in the Argos index (`index`, a URL, default
    `package_index()`), then `install` it."""
    url = index or package_index()
    try:
        entries = json.loads(_fetch(url, 50_000_000))
    except (ValueError, RecursionError) as exc:
        raise TamisError(f"the Argos package index at {url} is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise TamisError(f"the Argos package index at {url} is not a JSON list")
    entries = [e for e in entries if isinstance(e, dict) and e.get("type", "translate") == "translate"
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


def _argos_home(variable: str, default: Path) -> Path:
    """An Argos base directory (`$XDG_…/argos-translate`), as argostranslate.settings computes it."""
    home = Path(os.environ["SNAP_USER_DATA"]) if "SNAP" in os.environ else Path.home()
    return Path(os.environ.get(variable) or home / default) / "argos-translate"


def _argos_setting(key: str) -> str | None:
    """An Argos setting: the environment first, then Argos's `settings.json`, as argostranslate reads it."""
    if os.environ.get(key):
        return os.environ[key]
    path = _argos_home("XDG_CONFIG_HOME", Path(".config")) / "settings.json"
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    value = settings.get(key) if isinstance(settings, dict) else None
    return value if isinstance(value, str) and value else None


def _check_archive(path: Path, max_bytes: int) -> tuple[str, dict[str, Any]]:
    """The archive's top-level directory and metadata, or `SetupError` saying why it is refused. Every
    member is read (CRC-checked) here, so extraction cannot fail half-way on a bad member."""
    if not path.is_file():
        raise SetupError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise SetupError(f"{path}: not an Argos package (a .argosmodel file is a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            top = _check_members(path, members, max_bytes)
            names = {info.filename.rstrip("/") for info in members}
            missing = [need for need in ("metadata.json", "model/model.bin") if f"{top}/{need}" not in names]
            if missing or not any(f"{top}/{t}" in names for t in TOKENIZERS):
                need = missing[0] if missing else " or ".join(TOKENIZERS)
                raise SetupError(f"{path}: not a usable Argos package: no {need} (tamis needs a CTranslate2 "
                                 f"model and a SentencePiece or BPE tokenizer)")
            info = zf.getinfo(f"{top}/metadata.json")
            if info.file_size > MAX_METADATA_BYTES:
                raise SetupError(f"{path}: refused: metadata.json is {info.file_size:,} bytes")
            metadata = _metadata(path, zf.read(info))
            bad = zf.testzip()
            if bad is not None:
                raise SetupError(f"{path}: refused: member {bad!r} is corrupt (bad CRC)")
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise SetupError(f"{path}: refused: a damaged or truncated archive ({exc})") from None
    return top, metadata


def _check_members(path: Path, members: list[zipfile.ZipInfo], max_bytes: int) -> str:
    """The one top-level directory of the members, after refusing any member that could write outside
    it or is not a plain file or directory."""
    for info in members:
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts:
            raise SetupError(f"{path}: refused: member {name!r} would be written outside the models directory")
        kind = stat.S_IFMT(info.external_attr >> 16)
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise SetupError(f"{path}: refused: member {name!r} is not a plain file or directory (a link?)")
    tops = sorted({re.split(r"[\\/]", info.filename)[0] for info in members})
    if len(tops) != 1:
        raise SetupError(f"{path}: refused: an Argos package holds one top-level directory, found {tops[:5]}")
    if not _TOP.fullmatch(tops[0]):
        raise SetupError(f"{path}: refused: the top-level directory {tops[0]!r} is not a package name")
    unpacked = sum(info.file_size for info in members)
    if unpacked > max_bytes:
        raise SetupError(f"{path}: refused: unpacks to {unpacked:,} bytes, over the {max_bytes:,}-byte limit")
    return tops[0]


def _metadata(where: Path, data: bytes) -> dict[str, Any]:
    """A translation package's metadata, checked: language codes that are codes, never paths."""
    try:
        metadata = json.loads(data)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise SetupError(f"{where}: metadata.json is not valid JSON: {reason}") from None
    if not isinstance(metadata, dict) or metadata.get("type", "translate") != "translate" or not all(
            isinstance(metadata.get(k), str) and metadata[k] for k in ("from_code", "to_code")):
        raise SetupError(f"{where}: metadata.json does not describe a translation package (from_code, to_code)")
    for key in ("from_code", "to_code"):
        if not _CODE.fullmatch(metadata[key]):
            raise SetupError(f"{where}: refused: metadata.json {key} {metadata[key][:40]!r} is not a language code")
    if not isinstance(metadata.get("target_prefix", ""), str):
        raise SetupError(f"{where}: metadata.json target_prefix is not a string")
    return metadata


def _fetch(url: str, limit: int) -> bytes:
    """The body at `url`, failing at once and clearly when the network is out of reach."""
    request = urllib.request.Request(url, headers={"User-Agent": "tamis"})
    try:
        with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:
            data: bytes = response.read(limit + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TamisError(f"cannot download {url} ({reason}). Without internet, fetch the .argosmodel file on a "
                         f"connected machine and run `tamis models install FILE.argosmodel`") from None
    if len(data) > limit:
        raise TamisError(f"{url}: larger than {limit:,} bytes; refused")
    return data


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))
