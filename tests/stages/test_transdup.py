"""Translation duplicates without a model (`languages`), on real PUD translation pairs, and the chrF measure."""

from __future__ import annotations

import json

import pytest

from pipeline.document import Block, Document
from stages.languages import Languages, LanguagesConfig
from stages.transdup import best_chrf, chrf
from tests.conftest import ROOT

PUD = [json.loads(line) for line in (ROOT / "fixtures" / "transdup" / "pud_pairs.jsonl").read_text(
    encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def marked() -> dict[str, list[tuple[int, int]]]:
    """Per fixture document, the (block, duplicate_of) pairs `languages` marks, blocks read from the text only."""
    stage = Languages(LanguagesConfig())
    stage.setup()
    docs = [Document(id=c["id"], source="pud", blocks=[Block(kind="paragraph", text=p["text"], index=i)
                                                       for i, p in enumerate(c["paragraphs"])]) for c in PUD]
    return {doc.id: [(b.index, b.duplicate_of) for b in doc.blocks if b.duplicate_of is not None]
            for doc in stage.process_batch(docs)}


def test_only_foreign_paragraphs_that_translate_are_marked_and_each_with_its_original(
        marked: dict[str, list[tuple[int, int]]]) -> None:
    for case in PUD:
        [foreign] = [i for i, p in enumerate(case["paragraphs"]) if p["role"] == "foreign"]
        allowed = [] if case["original"] is None else [(foreign, case["original"])]
        assert set(marked[case["id"]]) <= set(allowed), case["id"]


def test_the_documents_found_on_the_fixture(marked: dict[str, list[tuple[int, int]]]) -> None:
    """A regression pin: which of the 12 positives of the fixture the rules find (adjacent, partial and far)."""
    found = sorted((c["id"], c["kind"]) for c in PUD if marked[c["id"]])
    assert found == FOUND


FOUND = [("td-0004", "pos_partial"), ("td-0019", "pos_en"), ("td-0024", "pos_de"), ("td-0030", "pos_far"),
         ("td-0040", "pos_far")]


def test_chrf() -> None:
    assert chrf("le chat dort", "le chat dort") == 1.0
    assert chrf("abc", "xyz") == 0.0
    assert 0.0 < chrf("le chat dort", "le chien dort") < 1.0
    partial = "Le chat dort."
    assert best_chrf(partial, "Il pleut depuis lundi. Le chat dort. Rien ne bouge.") == 1.0
