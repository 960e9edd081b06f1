from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.document import Document
from stages.decode import Decode, DecodeConfig
from stages.extract import Extract, ExtractConfig, split_paragraphs

ROOT = Path(__file__).resolve().parents[2]
DATA = yaml.safe_load((ROOT / "fixtures/cases/extract.yaml").read_text(encoding="utf-8"))
CASES = DATA["cases"]


def extract_html(raw: bytes, **options: Any) -> Document:
    doc = Decode(DecodeConfig()).process(Document(id="p", source="p.html", content_type="text/html", raw=raw))
    return Extract(ExtractConfig(**options)).process(doc)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_plain_text_paragraphs(case: dict[str, Any]) -> None:
    blocks = split_paragraphs(case["input"])
    assert [b.text for b in blocks] == case["blocks"]
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert {b.kind for b in blocks} <= {"paragraph"}


def test_html_gives_typed_blocks_and_metadata() -> None:
    doc = extract_html((ROOT / "fixtures/html/mieter_de.html").read_bytes())
    assert doc.status == "ok" and doc.html is None
    assert doc.metadata.encoding == "cp1252"  # declared ISO-8859-1, read as browsers do
    assert (doc.metadata.title, doc.metadata.author, doc.metadata.date, doc.metadata.site) == (
        "Neue Regeln für Mieter", "Anna Schmidt", "2024-03-05", "Tageblatt Beispiel")
    kinds = [(b.kind, b.text[:25]) for b in doc.blocks]
    assert ("heading", "Was sich ändert") in kinds
    assert ("list_item", "Abrechnungen müssen inner") in kinds
    assert ("list_item", "Belege können digital ein") in kinds
    assert ("quote", "Das ist ein guter Tag für") in kinds
    last = doc.blocks[-1]
    assert last.kind == "paragraph" and last.text.endswith("Bürokratie.\nDas Gesetz tritt im Sommer in Kraft.")
    assert "Startseite" not in doc.text and "Impressum" not in doc.text
    assert [b.index for b in doc.blocks] == list(range(len(doc.blocks)))


def test_html_without_main_text_is_filtered() -> None:
    doc = extract_html(b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    assert (doc.status, doc.reason) == ("filtered", "no main text")


def test_plain_text_path_unchanged_by_html_options() -> None:
    doc = Document(id="t", source="t.txt", plain_text="Eins.\n\nZwei.")
    doc = Extract(ExtractConfig(favor="precision", comments=True)).process(doc)
    assert [b.text for b in doc.blocks] == ["Eins.", "Zwei."] and doc.plain_text is None


@pytest.mark.parametrize("case", DATA["empty"], ids=[c["id"] for c in DATA["empty"]])
def test_empty_document_is_filtered(case: dict[str, Any]) -> None:
    doc = Document(id="e", source="e", content_type=case["content_type"], raw=case["raw"].encode())
    doc = Extract(ExtractConfig()).process(Decode(DecodeConfig()).process(doc))
    assert (doc.status, doc.stage, doc.reason, doc.blocks) == ("filtered", "extract", "empty document", [])


def test_extracted_record_read_back_passes_through() -> None:
    blocks = split_paragraphs("Eins.\n\nZwei.")
    doc = Extract(ExtractConfig()).process(Document(id="r", source="r", blocks=list(blocks)))
    assert (doc.status, doc.blocks) == ("ok", blocks)
