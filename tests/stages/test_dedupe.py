from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.document import Block, Document, Metadata
from stages.dedupe import Dedupe, DedupeConfig

CASES = yaml.safe_load((Path(__file__).parents[2] / "fixtures" / "cases" / "dedupe.yaml").read_text(encoding="utf-8"))


def _doc(blocks: list[list[str]], title: str | None = None) -> Document:
    return Document(id="d", source="case", metadata=Metadata(title=title),
                    blocks=[Block(kind=kind, text=text, index=i) for i, (kind, text) in enumerate(blocks)])  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_dedupe_case(case: dict[str, Any]) -> None:
    out = Dedupe(DedupeConfig(**case.get("config", {}))).process(_doc(case["blocks"], case.get("title")))
    assert [b.index for b in out.blocks] == case["expected"]["kept"]
    assert [[r.rule, r.block] for r in out.removed] == case["expected"]["removed"]
    assert all(r.stage == "dedupe" and r.text == case["blocks"][r.block][1] for r in out.removed)


def test_reason_names_the_kept_block() -> None:
    out = Dedupe(DedupeConfig()).process(_doc([["paragraph", "Titre"], ["paragraph", "Répété ici."],
                                               ["paragraph", "répété, ici"], ["paragraph", "Titre"]]))
    assert [r.reason for r in out.removed] == [
        "same words as block 1, differing only in case, spacing or punctuation", "repeats the title (block 0)"]


def test_mark_only_keeps_blocks_out_of_the_text() -> None:
    out = Dedupe(DedupeConfig(mark_only=True)).process(_doc([["paragraph", "Titre"], ["paragraph", "Texte."],
                                                              ["paragraph", "Texte."]]))
    assert [(b.index, b.duplicate_of) for b in out.blocks] == [(0, None), (1, None), (2, 1)]
    assert [r.rule for r in out.removed] == ["repeated_paragraph"]
    assert out.text == "Titre\n\nTexte."


def test_seed_003_title_and_paragraph_repeats_are_removed() -> None:
    from stages.extract import split_paragraphs
    from stages.normalise import Normalise, NormaliseConfig
    from stages.repair import Repair, RepairConfig

    path = next((Path(__file__).parents[2] / "fixtures" / "articles").glob("003_*.txt"))
    repair = Repair(RepairConfig())
    repair.setup()
    doc = Document(id="003", source=str(path), blocks=split_paragraphs(path.read_text(encoding="utf-8")))
    out = Dedupe(DedupeConfig()).process(Normalise(NormaliseConfig()).process(repair.process(doc)))
    assert [(r.rule, r.block) for r in out.removed] == [("repeated_paragraph", 3), ("repeated_title", 4)]
    assert len({b.text for b in out.blocks}) == len(out.blocks)
