"""`languages.policy`: `separate` keeps a language out of the main text and on the record, `drop` removes it
with a Removal; both exactly as the README documents, on one mixed document."""

from __future__ import annotations

import json

import jsonschema

from pipeline.document import Block, Document, Removal, Separated
from stages.languages import Languages, LanguagesConfig
from tests.conftest import ROOT

FRENCH = ["Le gouvernement a présenté son plan hier soir devant les députés de l'Assemblée nationale.",
          "Les syndicats ont annoncé une grève pour la semaine prochaine dans tout le pays.",
          "Le ministre a répondu que le texte serait discuté au Sénat avant la fin du mois de juin, puis voté "
          "en seconde lecture par les deux chambres du Parlement."]
GERMAN = "Die Regierung hat am Montag neue Maßnahmen für die Wirtschaft des ganzen Landes angekündigt."
ENGLISH = "The unions said they would strike next week across the whole country if nothing changed."
MIXED = f"{FRENCH[1]} {GERMAN}"


def mixed(**policy: str) -> Document:
    stage = Languages(LanguagesConfig(policy=policy, duplicates=False))  # type: ignore[arg-type]
    stage.setup()
    texts = [FRENCH[0], GERMAN, MIXED, ENGLISH, FRENCH[2]]
    doc = Document(id="mixed", source="t", blocks=[Block(kind="paragraph", text=t, index=i)
                                                     for i, t in enumerate(texts)])
    return stage.process(doc)


def test_separate_keeps_german_out_of_the_text_and_on_the_record() -> None:
    doc = mixed(de="separate", en="keep")
    assert doc.text == "\n\n".join([FRENCH[0], FRENCH[1], ENGLISH, FRENCH[2]])
    assert doc.separated == [Separated(lang="de", text=GERMAN, block=1, start=0, end=len(GERMAN)),
                             Separated(lang="de", text=GERMAN, block=2, start=len(FRENCH[1]) + 1, end=len(MIXED))]
    assert doc.removed == []
    assert doc.separated_text() == {"de": f"{GERMAN}\n\n{GERMAN}"}
    record = doc.to_json()
    assert record["separated"] == [
        {"lang": "de", "text": GERMAN, "block": 1, "start": 0, "end": len(GERMAN)},
        {"lang": "de", "text": GERMAN, "block": 2, "start": len(FRENCH[1]) + 1, "end": len(MIXED)}]
    jsonschema.validate(record, json.loads((ROOT / "pipeline/document.schema.json").read_text(encoding="utf-8")))
    assert Document.from_json(json.loads(json.dumps(record))).separated == doc.separated


def test_drop_removes_the_segments_with_a_removal_each() -> None:
    doc = mixed(de="drop", en="drop")
    assert doc.text == "\n\n".join(FRENCH)
    assert doc.separated == []
    assert doc.removed == [
        Removal(stage="languages", rule="drop", reason="de text, and policy says de: drop", text=GERMAN, block=1),
        Removal(stage="languages", rule="drop", reason="de text, and policy says de: drop", text=GERMAN, block=2),
        Removal(stage="languages", rule="drop", reason="en text, and policy says en: drop", text=ENGLISH, block=3)]
    assert "separated" not in doc.to_json()


def test_without_a_policy_nothing_is_separated_or_removed() -> None:
    doc = mixed()
    assert (doc.separated, doc.removed) == ([], [])
    assert [s.action for b in doc.blocks for s in b.segments] == ["keep", "translate", "keep", "translate",
                                                                  "translate", "keep"]
