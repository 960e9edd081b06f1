from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.document import Document
from stages.decode import Decode, DecodeConfig

CASES = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "cases" / "decode.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_decode_case(case: dict[str, Any]) -> None:
    raw = bytes.fromhex(case["hex"]) if "hex" in case else case["input"].encode(case["encode"])
    doc = Document(id=case["id"], source="case", content_type=case.get("content_type", "text/plain"), raw=raw)
    out = Decode(DecodeConfig(**case.get("config", {}))).process(doc)
    expected = case["expected"]
    if "filtered" in expected:
        assert (out.status, out.reason) == ("filtered", expected["filtered"])
        return
    assert out.status == "ok"
    assert (out.html if out.content_type == "text/html" else out.plain_text) == expected["text"]
    assert out.metadata.encoding == expected["encoding"]
    assert out.raw is None


def test_text_from_jsonl_is_utf8() -> None:
    doc = Document(id="j", source="in.jsonl", plain_text="Déjà décodé")
    out = Decode(DecodeConfig()).process(doc)
    assert (out.plain_text, out.metadata.encoding) == ("Déjà décodé", "utf-8")


def test_unknown_fallback_encoding_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="fallback_encoding: unknown encoding 'klingon'"):
        DecodeConfig(fallback_encoding="klingon")


def test_rare_nul_bytes_are_removed_with_a_change() -> None:
    raw = "Une ligne abî\0\0mée par le transfert, puis\0 la suite de l’article, qui reste lisible.".encode()
    out = Decode(DecodeConfig()).process(Document(id="n", source="n.txt", raw=raw))
    assert out.status == "ok"
    assert out.plain_text == "Une ligne abîmée par le transfert, puis la suite de l’article, qui reste lisible."
    assert [(c.stage, c.rule, c.detail) for c in out.changes] == [("decode", "decode.nul", "removed 3 NUL characters")]


@pytest.mark.parametrize("code", range(0x20))
def test_each_control_character_counts_as_binary_or_not(code: int) -> None:
    """A page where one control character is a tenth of the text is binary data exactly when that character
    is one no text uses (tab, line breaks, form feed and escape are text)."""
    raw = ("Un texte ordinaire" + chr(code)).encode("utf-8") * 50
    out = Decode(DecodeConfig()).process(Document(id="c", source="c.txt", content_type="text/plain", raw=raw))
    binary = code not in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B)
    assert (out.status == "filtered") == binary
    if binary:
        assert out.reason == "unsupported content: binary data"


def test_binary_controls_are_found_in_the_bytes_as_in_the_text() -> None:
    """For the codecs in `_C0_FAITHFUL` the check reads the bytes; it finds what a search of the text read
    from them (strictly, or with replacement marks) finds: every byte alone, and random byte strings."""
    import random

    from stages.decode import _C0_FAITHFUL, _has_binary_controls

    rng = random.Random(7)
    samples = [bytes([b]) for b in range(256)] + [b"caf\xc3\xa9\x00", b"\xe2\x80\x0b", b"\xc3\x01"]
    samples += [bytes(rng.choice(range(256)) if rng.random() < 0.3 else rng.choice(b"ab \x00\x07\x1b\x80\xc3\xa9")
                      for _ in range(rng.randrange(12))) for _ in range(5000)]
    for codec in _C0_FAITHFUL:
        for raw in samples:
            text = raw.decode(codec, errors="replace")
            assert _has_binary_controls(raw, text, codec) == _has_binary_controls(raw, text, "text"), (codec, raw)


def test_western_letters_are_the_ascii_letter_bytes_and_the_accented_letters() -> None:
    """`western` counts the letters of its code pages as the bytes A-Z, a-z plus the non-ASCII letters: for
    every byte each code page reads as a letter, exactly one of the two counts it."""
    import re

    from stages.decode import _ASCII_LETTER_BYTES, _NON_ASCII_LETTER

    letter = re.compile(r"[^\W\d_¹²³¼½¾]")
    for codec in ("cp1252", "iso8859-15", "iso8859-1"):
        for byte in range(256):
            char = bytes([byte]).decode(codec, errors="replace")
            counted = (byte in _ASCII_LETTER_BYTES) + (_NON_ASCII_LETTER.fullmatch(char) is not None)
            assert counted == (letter.fullmatch(char) is not None), (codec, byte)
