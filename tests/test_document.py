"""The document model: lossless JSON round trip, schema, and how the clean text is rendered."""

from __future__ import annotations

import json

import jsonschema

from pipeline.document import (
    Block,
    Change,
    Document,
    Metadata,
    Removal,
    Segment,
    StageWarning,
    Translation,
)
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "pipeline" / "document.schema.json").read_text(encoding="utf-8"))


def rich_document() -> Document:
    text = "Le texte. Der Satz ist deutsch. Fin."
    return Document(
        id="a/1.txt",
        source="in/a/1.txt",
        content_type="text/plain",
        blocks=[
            Block(kind="title", text="Titre", index=0, lang="fr", confidence=0.99),
            Block(kind="paragraph", text=text, index=2, lang="fr", confidence=0.9, segments=[
                Segment(start=0, end=9, lang="fr", confidence=0.99),
                Segment(start=10, end=31, lang="de", confidence=0.97, action="translate",
                        translation=Translation(text="La phrase est allemande.", source="de", target="fr",
                                                package="de_en-1.0+en_fr-1.1", pivot=["de", "en", "fr"])),
                Segment(start=32, end=36, lang="fr", confidence=0.5),
            ]),
            Block(kind="paragraph", text="Der Text.", index=3, lang="de", duplicate_of=2),
        ],
        lang="fr",
        metadata=Metadata(title="Titre", author="Jean Delaunay", encoding="cp1252"),
        removed=[Removal(stage="boilerplate", rule="fr.ad-label", reason="ad label", text="PUBLICITÉ",
                         block=1, line=0)],
        changes=[Change(stage="repair", rule="ftfy.fix_encoding", detail="sloppy-windows-1252 → utf-8", block=2)],
        warnings=[StageWarning(stage="translate", message="no model for de→fr")],
        extra={"url": "https://example.org/a", "n": [1, 2]},
    )


def test_json_round_trip_is_lossless() -> None:
    doc = rich_document()
    record = json.loads(json.dumps(doc.to_json(), ensure_ascii=False))
    assert Document.from_json(record) == doc
    assert Document.from_json(record).to_json() == record


def test_output_record_follows_the_schema() -> None:
    jsonschema.validate(rich_document().to_json(), SCHEMA)
    failed = Document(id="x", source="y").failed("decode", "ValueError: boom")
    jsonschema.validate(failed.to_json(), SCHEMA)
    assert failed.to_json()["stage"] == "decode" and failed.to_json()["reason"] == "ValueError: boom"


def test_text_carries_translations_and_leaves_out_duplicates() -> None:
    assert rich_document().text == "Le texte. La phrase est allemande. Fin."  # the title block is not body text


def test_dropped_and_separated_segments_leave_no_double_space() -> None:
    block = Block(kind="paragraph", text="Un. Zwei. Trois.", index=0, segments=[
        Segment(start=0, end=3, lang="fr"), Segment(start=4, end=9, lang="de", action="drop"),
        Segment(start=10, end=16, lang="fr")])
    assert block.main_text() == "Un. Trois."
    block.segments[1].action = "separate"
    assert block.main_text() == "Un. Trois."


def test_segments_kept_as_written_give_the_text_with_single_spaces() -> None:
    """Segments that all read as written join back into the block text; its double spaces go as in any other
    block with segments (a block without segments is its text as it is)."""
    segments = [Segment(start=0, end=4, lang="fr"), Segment(start=6, end=16, lang="de", action="translate")]
    block = Block(kind="paragraph", text="Un.  Zwei Satz. ", index=0, segments=segments)
    assert block.main_text() == "Un. Zwei Satz."
    assert Block(kind="paragraph", text="Un.  Deux.", index=0).main_text() == "Un.  Deux."


def test_untranslated_segment_keeps_its_original() -> None:
    block = Block(kind="paragraph", text="Ein Satz.", index=0, segments=[
        Segment(start=0, end=9, lang="de", action="translate",
                translation=Translation(text="Ein Satz.", source="de", target="fr", status="no-model"))])
    assert block.main_text() == "Ein Satz."
