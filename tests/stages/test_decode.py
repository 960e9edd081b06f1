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
