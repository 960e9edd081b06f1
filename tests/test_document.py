"""The document model: lossless JSON round trip, schema, and how the clean text is rendered."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Literal

import jsonschema

from pipeline.document import (
    Block,
    Change,
    Document,
    Metadata,
    Removal,
    Segment,
    Separated,
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


def filled(cls: type[Any]) -> Any:
    """An instance of a document class with every field set to a value other than its default and None, read
    from the type hints: a field added later is set too, so the tests below fail until it is written and copied."""
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: _value(hints[f.name], f.name) for f in dataclasses.fields(cls)})


def _value(hint: Any, name: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _value(next(a for a in args if a is not type(None)), name)
    if origin is Literal:
        return args[-1]  # the last: never a field's default
    if origin is list:
        return [_value(args[0], name)]
    if origin is dict:
        return {"key": [1, "two"]}
    if dataclasses.is_dataclass(hint):
        return filled(hint)
    return {str: f"<{name}>", int: 7, float: 0.25, bytes: b"raw"}[hint]


def test_to_json_writes_every_field_of_every_class_in_order() -> None:
    doc = filled(Document)
    doc.blocks[0].segments[0].action = "separate"
    record = doc.to_json()
    block = record["blocks"][0]
    assert list(block) == [f.name for f in dataclasses.fields(Block)]
    assert list(block["segments"][0]) == [f.name for f in dataclasses.fields(Segment)]
    assert list(block["segments"][0]["translation"]) == [f.name for f in dataclasses.fields(Translation)]
    assert list(record["metadata"]) == [f.name for f in dataclasses.fields(Metadata)]
    assert list(record["separated"][0]) == [f.name for f in dataclasses.fields(Separated)]
    for name, cls in (("removed", Removal), ("changes", Change), ("warnings", StageWarning)):
        assert list(record[name][0]) == [f.name for f in dataclasses.fields(cls)]
    assert list(record) == ["id", "source", "status", "stage", "reason", "text", "lang", "content_type", "metadata",
                            "blocks", "separated", "removed", "changes", "warnings", "html", "plain_text", "extra",
                            "done"]
    assert {f.name for f in dataclasses.fields(Document)} - set(record) == {"raw"}  # bytes are never written


def test_to_json_leaves_out_the_fields_that_are_none() -> None:
    block = Block(kind="paragraph", text="Un.", index=4, segments=[Segment(start=0, end=3, lang="fr")])
    doc = Document(id="a", source="b", blocks=[block], removed=[Removal(stage="s", rule="r", reason="why", text="t")],
                   changes=[Change(stage="s", rule="r", detail="d")])
    record = doc.to_json()
    assert record["blocks"] == [{"kind": "paragraph", "text": "Un.", "index": 4, "segments": [
        {"start": 0, "end": 3, "lang": "fr", "confidence": 0.0, "action": "keep"}]}]
    assert record["metadata"] == {}
    assert record["removed"] == [{"stage": "s", "rule": "r", "reason": "why", "text": "t"}]
    assert record["changes"] == [{"stage": "s", "rule": "r", "detail": "d"}]
    assert list(record) == ["id", "source", "status", "text", "lang", "content_type", "metadata", "blocks", "removed",
                            "changes", "warnings", "done"]


def test_copy_has_every_field_and_new_containers() -> None:
    doc = filled(Document)
    copy = doc.copy()
    assert copy == doc and copy.raw == b"raw"
    block, segment = copy.blocks[0], copy.blocks[0].segments[0]
    assert segment.translation is not None and doc.blocks[0].segments[0].translation is not None
    for new, old in ((copy.blocks, doc.blocks), (block, doc.blocks[0]), (block.segments, doc.blocks[0].segments),
                     (segment, doc.blocks[0].segments[0]), (segment.translation, doc.blocks[0].segments[0].translation),
                     (segment.translation.pivot, doc.blocks[0].segments[0].translation.pivot),
                     (copy.metadata, doc.metadata), (copy.removed, doc.removed), (copy.changes, doc.changes),
                     (copy.warnings, doc.warnings), (copy.extra, doc.extra), (copy.done, doc.done)):
        assert new is not old
    block.text, segment.lang, copy.metadata.title = "changed", "xx", "changed"
    copy.removed.append(copy.removed[0])
    assert doc == filled(Document)  # the original is untouched
