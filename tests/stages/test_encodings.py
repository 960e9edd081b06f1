"""The generated encoding corpus: every seed article, encoded in each supported encoding and damaged into
each mojibake variant, comes out of decode → extract → repair → normalise → dedupe exactly as its clean
UTF-8 form does."""

from __future__ import annotations

import codecs
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  registers the sloppy-windows-1252 codec that real mojibake comes from
import pytest

from pipeline.document import Document
from pipeline.runner import Pipeline
from stages.decode import Decode, DecodeConfig
from stages.dedupe import Dedupe, DedupeConfig
from stages.extract import Extract
from stages.normalise import Normalise, NormaliseConfig
from stages.repair import Repair, RepairConfig

ARTICLES = sorted((Path(__file__).parents[2] / "fixtures" / "articles").glob("*.txt"))
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "iso-8859-15")
# Text a single-byte encoding cannot hold is spelled the way a writer using that encoding would spell it.
_SPELLING = {"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "•": "*", "–": "-", "—": "-", "…": "...",
             "œ": "oe", "Œ": "OE", "€": "EUR", "×": "x"}


def _respell(error: UnicodeEncodeError) -> tuple[str, int]:
    bad = error.object[error.start:error.end]
    return "".join(_SPELLING[c] for c in bad), error.end


codecs.register_error("tamis-respell", _respell)


def _mojibake(text: str, wrong: str, times: int) -> bytes:
    """`text` as UTF-8 that was read `times` times as `wrong` and saved as UTF-8 again."""
    for _ in range(times):
        text = text.encode("utf-8").decode(wrong)
    return text.encode("utf-8")


def _variants(text: str) -> list[tuple[str, bytes, bytes]]:
    """(name, bytes, the clean UTF-8 bytes it must be read as)."""
    out = []
    for encoding in ENCODINGS:
        data = text.encode(encoding, errors="tamis-respell")
        out.append((encoding, data, data.decode(encoding).encode("utf-8")))
    clean = text.encode("utf-8")
    for wrong in ("sloppy-windows-1252", "latin-1"):
        for times in (1, 2):
            out.append((f"{wrong}×{times}", _mojibake(text, wrong, times), clean))
    return out


CASES = [pytest.param(data, clean, id=f"{path.name[:3]}-{name}")
         for path in ARTICLES for name, data, clean in _variants(path.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    pipe = Pipeline([Decode(DecodeConfig()), Extract(Extract.Config()), Repair(RepairConfig()),
                     Normalise(NormaliseConfig()), Dedupe(DedupeConfig())], fail_fast=True)
    pipe.setup()
    return pipe


def _run(pipe: Pipeline, data: bytes) -> tuple[bytes, list[tuple[str, str, int]], list[tuple[str, str]]]:
    [doc] = pipe.process([Document(id="t", source="t.txt", content_type="text/plain", raw=data)])
    assert doc.status == "ok", doc.reason
    blocks = [(b.kind, b.text, b.index) for b in doc.blocks]
    removed = [(r.rule, r.text) for r in doc.removed]
    return doc.text.encode("utf-8"), blocks, removed


def test_corpus_covers_every_seed_and_variant() -> None:
    assert len(ARTICLES) >= 5
    assert len(CASES) == len(ARTICLES) * (len(ENCODINGS) + 4)


@pytest.mark.parametrize(("data", "clean"), CASES)
def test_variant_reads_as_clean_utf8(pipeline: Pipeline, data: bytes, clean: bytes) -> None:
    assert _run(pipeline, data) == _run(pipeline, clean)
